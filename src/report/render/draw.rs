//! Draws every figure of the report from the panel and the results, by file name.

use std::collections::BTreeMap;

use super::ReportError;
use crate::io::GasolinePanel;
use crate::report::figures::{self, CountrySeries, FigureError};
use crate::report::results::Results;

pub(super) fn draw_figures(
    panel: &GasolinePanel,
    results: &Results,
) -> Result<BTreeMap<String, String>, ReportError> {
    let series: Vec<CountrySeries> = (0..panel.countries.len())
        .map(|c| {
            let rows: Vec<usize> = panel.rows_of(c).collect();
            let pick = |v: &[f64]| rows.iter().map(|&i| v[i]).collect::<Vec<f64>>();
            CountrySeries {
                country: panel.countries[c].clone(),
                year: pick(&panel.year),
                car_per_cap: pick(&panel.lcarpcap),
                income_per_cap: pick(&panel.lincomep),
                gas_price: pick(&panel.lrpmg),
            }
        })
        .collect();
    let between: Vec<(f64, f64)> = panel
        .country_means
        .iter()
        .map(|m| (m.lcarpcap, m.lincomep))
        .collect();
    let figure = |name: &'static str, svg: Result<String, FigureError>| {
        svg.map(|s| (name.to_owned(), s))
            .map_err(|source| ReportError::Figure { name, source })
    };
    let audit = &results.audit;
    let effects = &results.engine[0].country_effects;
    let z = 1.959_963_984_540_054;
    let study = &results.study;
    let strip = |component: usize| -> Vec<(String, Vec<f64>)> {
        study
            .estimators
            .iter()
            .map(|e| {
                (
                    e.estimator.clone(),
                    e.estimates.iter().map(|v| v[component]).collect(),
                )
            })
            .collect()
    };
    let fig = &results.figures;
    Ok(BTreeMap::from([
        figure("fig1.svg", figures::trajectories(&series))?,
        figure("fig2.svg", figures::between_within(&between, &panel.within))?,
        figure("fig3.svg", figures::covariates(&series))?,
        figure(
            "profile.svg",
            figures::deviance_profile(
                &audit.profile.published,
                &audit.profile.corrected,
                (audit.theta_published, 0.0),
                (audit.theta_corrected, 0.0),
                "θ = σ_b / σ",
            ),
        )?,
        figure(
            "caterpillar.svg",
            figures::caterpillar(
                &effects
                    .iter()
                    .map(|e| e.country.clone())
                    .collect::<Vec<_>>(),
                &effects.iter().map(|e| e.mode).collect::<Vec<_>>(),
                &effects
                    .iter()
                    .map(|e| e.mode - z * e.conditional_sd)
                    .collect::<Vec<_>>(),
                &effects
                    .iter()
                    .map(|e| e.mode + z * e.conditional_sd)
                    .collect::<Vec<_>>(),
                "Country intercept b̂ (log cars per capita), 95% interval",
            ),
        )?,
        figure(
            "sparsity-z.svg",
            figures::sparsity(
                &format!(
                    "Z: {} observations × {} countries",
                    panel.nrows(),
                    panel.countries.len()
                ),
                panel.nrows(),
                panel.countries.len(),
                &fig.z_pattern,
                400,
                560,
            ),
        )?,
        figure(
            "sparsity-l.svg",
            figures::sparsity(
                "Cholesky factor of the penalised system (u, β)",
                fig.factor_order,
                fig.factor_order,
                &fig.factor_pattern,
                400,
                440,
            ),
        )?,
        figure(
            "study-sigma2.svg",
            figures::simulation_strip(
                &strip(0),
                Some(study.truth[0]),
                "Residual variance σ² over the replicates",
                "σ² estimate",
            ),
        )?,
        figure(
            "study-sigma-b2.svg",
            figures::simulation_strip(
                &strip(1),
                Some(study.truth[1]),
                "Group variance σ_b² over the replicates",
                "σ_b² estimate",
            ),
        )?,
        figure("sparsity-z-slopes.svg", {
            let slopes = &results.random_slopes;
            figures::sparsity(
                &format!(
                    "Z with a Time slope: {} observations × {} columns",
                    slopes.z_shape.0, slopes.z_shape.1
                ),
                slopes.z_shape.0,
                slopes.z_shape.1,
                &slopes.z_pattern,
                400,
                560,
            )
        })?,
        figure("posterior.svg", {
            let post = &results.bayes;
            let (ml, reml) = (&results.engine[0], &results.engine[1]);
            let median = |name: &str| post.parameter(name).map_or(f64::NAN, |p| p.median);
            figures::posterior([
                figures::PosteriorPanel {
                    title: "Residual variance σ²",
                    x_label: "σ²",
                    draws: &post.variance_draws.sigma2,
                    ml: ml.sigma2,
                    reml: reml.sigma2,
                    median: median(crate::report::bayes::SIGMA2),
                },
                figures::PosteriorPanel {
                    title: "Country variance σ_b²",
                    x_label: "σ_b²",
                    draws: &post.variance_draws.sigma_b2,
                    ml: ml.sigma_b2,
                    reml: reml.sigma_b2,
                    median: median(crate::report::bayes::SIGMA_B2),
                },
            ])
        })?,
        figure("influence.svg", {
            let refits = &results.influence.refits;
            let labels: Vec<String> = refits.iter().map(|r| r.country.clone()).collect();
            let sigma_b2: Vec<f64> = refits.iter().map(|r| r.engine.sigma_b2).collect();
            let slope: Vec<f64> = refits.iter().map(|r| r.engine.beta[2]).collect();
            let ml = &results.engine[0];
            figures::influence(
                &labels,
                [
                    figures::InfluencePanel {
                        title: "σ_b² without the country",
                        values: &sigma_b2,
                        full: ml.sigma_b2,
                    },
                    figures::InfluencePanel {
                        title: "LIncomeP slope without it",
                        values: &slope,
                        full: ml.beta[2].estimate,
                    },
                ],
            )
        })?,
    ]))
}
