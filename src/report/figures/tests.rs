//! Tests of the figures: deterministic bytes, canvas sizes, labels, validation.

use super::axis::*;
use super::caterpillar::*;
use super::posterior::*;
use super::sparsity::*;
use super::strip::*;
use super::*;
use crate::report::format::format_fixed;

/// Fake gasoline-panel data shaped like the real one (18 countries, 1960–1978), from a
/// deterministic formula so the tests need no files.
fn fake_panel(countries: usize) -> Vec<CountrySeries> {
    (0..countries)
        .map(|k| {
            let kf = k as f64;
            let year: Vec<f64> = (1960..=1978).map(f64::from).collect();
            let t = |y: f64| (y - 1960.0) / 18.0;
            CountrySeries {
                country: format!("COUNTRY{k}"),
                car_per_cap: year
                    .iter()
                    .map(|&y| -11.0 + 0.5 * (kf * 0.7).sin() + 2.2 * t(y) - 0.4 * t(y) * t(y))
                    .collect(),
                income_per_cap: year
                    .iter()
                    .map(|&y| -6.3 + 0.25 * (kf * 1.3).cos() + 0.5 * t(y))
                    .collect(),
                gas_price: year
                    .iter()
                    .map(|&y| -0.4 + 0.6 * (kf * 0.9).sin() + 0.1 * (6.0 * t(y) + kf).sin())
                    .collect(),
                year,
            }
        })
        .collect()
}

fn assert_svg(svg: &str, width: u32, height: u32, texts: &[&str]) {
    assert!(
        svg.starts_with("<svg"),
        "not an SVG: {}",
        &svg[..svg.len().min(80)]
    );
    assert!(
        svg.contains(&format!(r#"width="{width}" height="{height}""#)),
        "wrong size, header: {}",
        &svg[..svg.len().min(200)]
    );
    assert!(svg.trim_end().ends_with("</svg>"));
    for text in texts {
        if text.starts_with('<') {
            assert!(svg.contains(text), "missing element {text:?}");
        } else {
            assert!(has_text(svg, text), "missing text {text:?}");
        }
    }
}

/// True when some `<text>` element reads exactly `text` (the backend writes the content on
/// a line of its own), with `σ_b` written as a subscript.
fn has_text(svg: &str, text: &str) -> bool {
    let text = super::style::with_subscripts(text);
    svg.lines().any(|line| line == text)
}

#[test]
fn sigma_b_is_a_real_subscript() {
    let svg = simulation_strip(
        &[("a".into(), vec![1.0, 2.0])],
        None,
        "σ_b² by estimator",
        "σ_b",
    )
    .unwrap();
    assert!(!svg.contains("σ_b"), "literal σ_b left in the SVG");
    assert!(
        svg.contains("σ<tspan baseline-shift=\"sub\" font-size=\"75%\">b</tspan>² by estimator")
    );
}

#[test]
fn trajectories_draws_titled_lines_deterministically() {
    let panel = fake_panel(4);
    let svg = trajectories(&panel).unwrap();
    assert_svg(
        &svg,
        800,
        400,
        &[
            "Variation at baseline and over time",
            "Year",
            "Cars per capita (log scale)",
            "1966",
            "<polyline",
        ],
    );
    assert_eq!(svg, trajectories(&panel).unwrap());
}

#[test]
fn trajectories_rejects_ragged_series_and_accepts_empty() {
    let mut panel = fake_panel(1);
    panel[0].gas_price.pop();
    assert!(matches!(
        trajectories(&panel),
        Err(FigureError::InvalidInput(_))
    ));
    assert_svg(
        &trajectories(&[]).unwrap(),
        800,
        400,
        &["Variation at baseline and over time"],
    );
    let empty_country = CountrySeries {
        country: "X".into(),
        ..Default::default()
    };
    assert!(trajectories(&[empty_country]).is_ok());
}

#[test]
fn between_within_has_both_panels() {
    let between = [(-10.2, -6.1), (-9.8, -5.9), (-10.5, -6.3)];
    let within = [(-0.3, -0.1), (0.0, 0.02), (0.4, 0.15)];
    let svg = between_within(&between, &within).unwrap();
    assert_svg(
        &svg,
        800,
        400,
        &[
            "Variation between",
            "Variation within",
            "Mean cars per capita (log scale)",
            "Mean income per capita (log scale)",
            "Change in cars per capita (log scale)",
            "Change in income per capita (log scale)",
            "<circle",
        ],
    );
    assert_eq!(svg, between_within(&between, &within).unwrap());
    assert!(between_within(&[], &[]).is_ok());
    // A single point is a zero-width range on both axes.
    assert!(between_within(&[(1.0, 1.0)], &[(0.0, 0.0)]).is_ok());
}

#[test]
fn covariates_labels_the_price_axis_correctly() {
    let panel = fake_panel(3);
    let svg = covariates(&panel).unwrap();
    assert_svg(
        &svg,
        800,
        600,
        &[
            "Variation at baseline and over time",
            "Income per capita (log scale)",
            "Real gasoline price (log scale)",
            "Cars per capita (log scale)",
        ],
    );
    assert_eq!(svg, covariates(&panel).unwrap());
    assert!(covariates(&[]).is_ok());
}

fn parabola(centre: f64, scale: f64) -> Vec<(f64, f64)> {
    (0..=60)
        .map(|i| {
            let x = i as f64 * 0.02;
            (x, scale * (x - centre) * (x - centre))
        })
        .collect()
}

#[test]
fn deviance_profile_marks_minima_and_names_curves() {
    let published = parabola(0.35, 40.0);
    let corrected = parabola(0.55, 30.0);
    let svg = deviance_profile(&published, &corrected, (0.35, 0.0), (0.55, 0.0), "σ_b").unwrap();
    assert_svg(
        &svg,
        800,
        400,
        &[
            "Profiled objective against σ_b",
            "as published",
            "corrected",
            "min 0.35",
            "min 0.55",
        ],
    );
    assert_eq!(
        svg,
        deviance_profile(&published, &corrected, (0.35, 0.0), (0.55, 0.0), "σ_b").unwrap()
    );
    assert!(deviance_profile(&[], &[], (f64::NAN, f64::NAN), (0.0, 0.0), "").is_ok());
    assert!(deviance_profile(&[(1.0, 2.0)], &[(1.0, 2.0)], (1.0, 2.0), (1.0, 2.0), "θ").is_ok());
}

#[test]
fn caterpillar_sorts_rows_and_sizes_canvas() {
    let labels: Vec<String> = ["AUSTRIA", "BELGIUM", "CANADA"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let est = [0.3, -0.2, 0.1];
    let lo = [0.1, -0.5, -0.1];
    let hi = [0.5, 0.1, 0.3];
    let svg = caterpillar(&labels, &est, &lo, &hi, "Random intercept").unwrap();
    let height = CATERPILLAR_CHROME_PX + 3 * ROW_PX;
    assert_svg(
        &svg,
        800,
        height,
        &["AUSTRIA", "BELGIUM", "CANADA", "Random intercept"],
    );
    // Rows are sorted by estimate with the smallest at the bottom, so the y coordinates of the
    // labels decrease from BELGIUM (-0.2) through CANADA to AUSTRIA (0.3).
    let lines: Vec<&str> = svg.lines().collect();
    let label_y = |name: &str| -> i32 {
        let at = lines.iter().position(|l| *l == name).unwrap();
        let y = lines[at - 1].split(" y=\"").nth(1).unwrap();
        y[..y.find('"').unwrap()].parse().unwrap()
    };
    assert!(label_y("BELGIUM") > label_y("CANADA"));
    assert!(label_y("CANADA") > label_y("AUSTRIA"));
    assert_eq!(
        svg,
        caterpillar(&labels, &est, &lo, &hi, "Random intercept").unwrap()
    );

    assert!(matches!(
        caterpillar(&labels, &est[..2], &lo, &hi, "x"),
        Err(FigureError::InvalidInput(_))
    ));
    assert!(caterpillar(&[], &[], &[], &[], "").is_ok());
    assert!(caterpillar(&labels[..1], &[f64::NAN], &[f64::NAN], &[1.0], "x").is_ok());
}

#[test]
fn sparsity_draws_marks_and_validates() {
    let nonzeros = [(0, 0), (1, 1), (2, 2), (2, 0)];
    let svg = sparsity("Pattern of L", 3, 3, &nonzeros, 400, 400).unwrap();
    assert_svg(
        &svg,
        400,
        400,
        &[
            "Pattern of L",
            "Row",
            "Column",
            "3 × 3, 4 structural nonzeros",
        ],
    );
    assert_eq!(
        svg,
        sparsity("Pattern of L", 3, 3, &nonzeros, 400, 400).unwrap()
    );
    assert!(matches!(
        sparsity("t", 3, 3, &[(3, 0)], 400, 400),
        Err(FigureError::InvalidInput(_))
    ));
    assert!(matches!(
        sparsity("t", 3, 3, &[], 0, 400),
        Err(FigureError::InvalidInput(_))
    ));
    assert!(sparsity("empty", 0, 0, &[], 300, 300).is_ok());
    assert!(sparsity("no nonzeros", 5, 7, &[], 300, 300).is_ok());
}

#[test]
fn sparsity_marks_row_zero_at_the_top() {
    let marks = spy_marks(4, 4, &[(0, 3)], 400, 400);
    assert_eq!(marks.block, (1, 1));
    assert_eq!(marks.rects.len(), 1);
    let r = marks.rects[0];
    assert!(r.r0 > 0.0 && r.r1 < 1.0 && r.c0 > 3.0 && r.c1 < 4.0);
}

/// Deterministic pseudo-random nonzeros (a 64-bit LCG) for the size tests.
fn lcg_pattern(nrows: usize, ncols: usize, count: usize) -> Vec<(usize, usize)> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize
    };
    (0..count)
        .map(|_| (next() % nrows, next() % ncols))
        .collect()
}

#[test]
fn sparsity_output_stays_small() {
    const LIMIT: usize = 2_000_000;
    // The real uses: a 342×18 random-effects model matrix and an 18×18 factor.
    let z: Vec<(usize, usize)> = (0..342).map(|i| (i, i / 19)).collect();
    let svg = sparsity("Z", 342, 18, &z, 400, 700).unwrap();
    assert!(svg.len() < LIMIT, "{} bytes", svg.len());
    let l: Vec<(usize, usize)> = (0..18).flat_map(|j| (j..18).map(move |i| (i, j))).collect();
    assert!(sparsity("L", 18, 18, &l, 500, 500).unwrap().len() < LIMIT);
    // A large random pattern forces aggregation and coarsening.
    let big = lcg_pattern(5000, 5000, 100_000);
    let svg = sparsity("big", 5000, 5000, &big, 700, 700).unwrap();
    assert!(svg.len() < LIMIT, "{} bytes", svg.len());
    assert!(svg.contains("each mark is a block"));
    // The worst case for runs: a full checkerboard at pixel resolution.
    let checker: Vec<(usize, usize)> = (0..600)
        .flat_map(|i| {
            (0..600)
                .filter(move |j| (i + j) % 2 == 0)
                .map(move |j| (i, j))
        })
        .collect();
    let svg = sparsity("checker", 600, 600, &checker, 800, 800).unwrap();
    assert!(svg.len() < LIMIT, "{} bytes", svg.len());
}

#[test]
fn simulation_strip_draws_boxes_points_and_truth() {
    let groups = vec![
        ("ML".to_string(), vec![0.9, 1.0, 1.1, 1.2, 0.8]),
        ("REML".to_string(), vec![1.0, 1.05, 0.95, 1.1]),
    ];
    let svg = simulation_strip(&groups, Some(1.0), "Estimates of σ_b", "σ_b estimate").unwrap();
    assert_svg(
        &svg,
        800,
        400,
        &[
            "Estimates of σ_b",
            "σ_b estimate",
            "ML",
            "REML",
            "true value",
            "<rect",
        ],
    );
    assert_eq!(
        svg,
        simulation_strip(&groups, Some(1.0), "Estimates of σ_b", "σ_b estimate").unwrap()
    );
    assert!(simulation_strip(&[], None, "empty", "y").is_ok());
    assert!(simulation_strip(&[("a".into(), vec![])], Some(f64::NAN), "t", "y").is_ok());
    assert!(simulation_strip(&[("a".into(), vec![2.0, 2.0])], None, "t", "y").is_ok());
}

#[test]
fn jitter_is_spread_and_bounded() {
    let js: Vec<f64> = (0..100).map(jitter).collect();
    assert!(js.iter().all(|j| (-0.5..0.5).contains(j)));
    assert!(js.iter().any(|&j| j < -0.4) && js.iter().any(|&j| j > 0.4));
}

#[test]
fn ticks_use_nice_steps_and_fixed_precision() {
    let (ticks, decimals) = nice_ticks(1959.3, 1978.7, 9);
    assert_eq!(ticks, vec![1960.0, 1965.0, 1970.0, 1975.0]);
    assert_eq!(decimals, 0);
    let axis = Axis::numeric((-0.43, 0.61), 8);
    assert_eq!(axis.labels, ["-0.4", "-0.2", "0.0", "0.2", "0.4", "0.6"]);
    assert_eq!(format_fixed(-0.0001, 2), "0.00");
    assert_eq!(format_fixed(-1.5, 1), "-1.5");
    // Degenerate and empty ranges are widened, not mapped to zero width.
    let single = Axis::fitted([3.0], 6);
    assert!(single.hi > single.lo && !single.ticks.is_empty());
    let empty = Axis::fitted(std::iter::empty(), 6);
    assert_eq!((empty.lo, empty.hi), (0.0, 1.0));
    assert!(nice_ticks(1.0, 1.0, 5).0.is_empty());
}

#[test]
fn quantiles_match_type_seven() {
    let v = [1.0, 2.0, 3.0, 4.0];
    assert_eq!(quantile_sorted(&v, 0.25), Some(1.75));
    assert_eq!(quantile_sorted(&v, 0.5), Some(2.5));
    assert_eq!(quantile_sorted(&[], 0.5), None);
    assert_eq!(quantile_sorted(&[7.0], 0.75), Some(7.0));
}

/// Deterministic skewed "draws" (a Weyl sequence pushed through an inverse-gamma-like map), so
/// the posterior figure test needs no sampler.
fn fake_draws(n: usize, scale: f64) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let u = 0.001 + 0.998 * (0.5 + jitter(i));
            scale / (-(1.0 - u).ln() + 0.5)
        })
        .collect()
}

#[test]
fn posterior_draws_two_histograms_with_marks_and_a_legend() {
    let sigma2 = fake_draws(2000, 0.02);
    let sigma_b2 = fake_draws(2000, 1.2);
    let panels = || {
        [
            PosteriorPanel {
                title: "Residual variance σ²",
                x_label: "σ²",
                draws: &sigma2,
                ml: 0.029,
                reml: 0.0292,
                median: 0.0295,
            },
            PosteriorPanel {
                title: "Between-country variance σ_b²",
                x_label: "σ_b²",
                draws: &sigma_b2,
                ml: 1.63,
                reml: 1.74,
                median: 1.9,
            },
        ]
    };
    let svg = posterior(panels()).unwrap();
    assert_svg(
        &svg,
        800,
        400,
        &[
            "Residual variance σ²",
            "Between-country variance σ_b²",
            "σ² (central 99% of draws)",
            "σ_b² (central 99% of draws)",
            "Posterior density",
            "ML",
            "REML",
            "posterior median",
            "<rect",
        ],
    );
    // One legend, in the right-hand panel.
    assert_eq!(svg.lines().filter(|l| *l == "posterior median").count(), 1);
    assert_eq!(svg, posterior(panels()).unwrap());

    // Empty, constant and non-finite inputs still draw.
    let empty = PosteriorPanel {
        title: "empty",
        x_label: "x",
        draws: &[],
        ml: f64::NAN,
        reml: f64::NAN,
        median: f64::NAN,
    };
    assert!(posterior([empty.clone(), empty.clone()]).is_ok());
    let constant = PosteriorPanel {
        draws: &[2.0, 2.0, f64::INFINITY],
        ml: 2.0,
        ..empty.clone()
    };
    assert!(posterior([constant, empty]).is_ok());
}

#[test]
fn posterior_histogram_is_a_density_over_the_central_draws() {
    let draws = fake_draws(4000, 1.0);
    let bars = histogram(&draws);
    assert_eq!(bars.len(), POSTERIOR_BINS);
    let mass: f64 = bars.iter().map(|(a, b, d)| (b - a) * d).sum();
    assert!((mass - (1.0 - 2.0 * TAIL_TRIM)).abs() < 2e-3, "mass {mass}");
    let mut sorted = draws.clone();
    sorted.sort_by(f64::total_cmp);
    assert!(bars[0].0 > sorted[0] && bars[POSTERIOR_BINS - 1].1 < sorted[3999]);
    assert!(bars.windows(2).all(|w| (w[0].1 - w[1].0).abs() < 1e-12));
    assert!(histogram(&[f64::NAN]).is_empty());
    let single = histogram(&[3.0]);
    let single_mass: f64 = single.iter().map(|(a, b, d)| (b - a) * d).sum();
    assert!((single_mass - 1.0).abs() < 1e-12);
}
