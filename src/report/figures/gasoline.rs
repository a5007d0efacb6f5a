//! Figures 1–3: the gasoline panel (trajectories, between/within association, covariates).

use super::panel::*;
use super::style::*;
use super::{CountrySeries, FigureError};

/// Figure 1 (800×400): log cars per capita against year, one line per country.
pub fn trajectories(series: &[CountrySeries]) -> Result<String, FigureError> {
    check_series(series)?;
    render((800, 400), |root| draw_trajectory_panel(root, series))
}

/// Figure 2 (800×400): two scatter panels side by side. Left, "Variation between": country means
/// of log cars per capita (x) against country means of log income per capita (y), one point per
/// country. Right, "Variation within": the deviations of each observation from its country's
/// means, in the same order.
pub fn between_within(
    between: &[(f64, f64)],
    within: &[(f64, f64)],
) -> Result<String, FigureError> {
    render((800, 400), |root| {
        let (left, right) = root.split_horizontally(400);
        draw_scatter_panel(
            &left,
            between,
            "Variation between",
            "Mean cars per capita (log scale)",
            "Mean income per capita (log scale)",
        )?;
        draw_scatter_panel(
            &right,
            within,
            "Variation within",
            "Change in cars per capita (log scale)",
            "Change in income per capita (log scale)",
        )
    })
}

/// Figure 3 (800×600): the trajectory panel of [`trajectories`] across the top; below it, log cars
/// per capita against log income per capita, and against the log real gasoline price.
pub fn covariates(series: &[CountrySeries]) -> Result<String, FigureError> {
    check_series(series)?;
    let pairs = |x: fn(&CountrySeries) -> &[f64]| -> Vec<(f64, f64)> {
        series
            .iter()
            .flat_map(|s| x(s).iter().copied().zip(s.car_per_cap.iter().copied()))
            .collect()
    };
    let by_income = pairs(|s| &s.income_per_cap);
    let by_price = pairs(|s| &s.gas_price);
    render((800, 600), |root| {
        let (top, bottom) = root.split_vertically(300);
        draw_trajectory_panel(&top, series)?;
        let (left, right) = bottom.split_horizontally(400);
        draw_scatter_panel(
            &left,
            &by_income,
            "Cars and income",
            "Income per capita (log scale)",
            "Cars per capita (log scale)",
        )?;
        // The original figure labelled this axis as income; it is the gasoline price.
        draw_scatter_panel(
            &right,
            &by_price,
            "Cars and gasoline price",
            "Real gasoline price (log scale)",
            "Cars per capita (log scale)",
        )
    })
}
