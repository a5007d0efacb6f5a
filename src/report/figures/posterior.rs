//! The posterior of the two variances: side-by-side histograms of the pooled draws with the ML
//! and REML estimates and the posterior median marked.

use plotters::prelude::*;

use super::axis::*;
use super::panel::*;
use super::style::*;
use super::FigureError;

/// Bars per histogram, whatever the number of draws.
pub(super) const POSTERIOR_BINS: usize = 40;
/// Fraction of the draws left off the axis on each side. The posterior of σ_b² (18 groups) has
/// a long right tail: the largest of 8,000 draws is about ten times the median, and a histogram
/// over the full range would squeeze the bulk into a few bars.
pub(super) const TAIL_TRIM: f64 = 0.005;

/// One variance of the posterior figure: its draws and the three estimates to mark.
#[derive(Debug, Clone, PartialEq)]
pub struct PosteriorPanel<'a> {
    /// Panel title, e.g. "Residual variance σ²".
    pub title: &'a str,
    /// Label under the x axis, e.g. "σ²".
    pub x_label: &'a str,
    /// Kept draws of all chains, pooled.
    pub draws: &'a [f64],
    /// The ML estimate.
    pub ml: f64,
    /// The REML estimate.
    pub reml: f64,
    /// The posterior median.
    pub median: f64,
}

/// The histogram of the finite draws between their `TAIL_TRIM` and 1 − `TAIL_TRIM` quantiles
/// (type 7) in `POSTERIOR_BINS` equal-width bins, as (bin start, bin end, density). Densities are
/// relative to all finite draws, so the bars are the posterior density wherever they are drawn
/// (they integrate to 1 − 2·`TAIL_TRIM`, less with ties at the cut points). No finite draws give
/// no bins; equal draws give bins over 1% of their magnitude (or 1 at zero) around them.
pub(super) fn histogram(draws: &[f64]) -> Vec<(f64, f64, f64)> {
    let mut sorted: Vec<f64> = draws.iter().copied().filter(|x| x.is_finite()).collect();
    if sorted.is_empty() {
        return Vec::new();
    }
    sorted.sort_by(f64::total_cmp);
    let quantile = |p: f64| {
        let h = (sorted.len() - 1) as f64 * p;
        let i = h.floor() as usize;
        let j = (i + 1).min(sorted.len() - 1);
        sorted[i] + (h - i as f64) * (sorted[j] - sorted[i])
    };
    let (lo, hi) = widen_degenerate(quantile(TAIL_TRIM), quantile(1.0 - TAIL_TRIM));
    let width = (hi - lo) / POSTERIOR_BINS as f64;
    let mut counts = [0usize; POSTERIOR_BINS];
    for &x in sorted.iter().filter(|&&x| lo <= x && x <= hi) {
        let bin = ((x - lo) / width).floor() as usize;
        counts[bin.min(POSTERIOR_BINS - 1)] += 1;
    }
    let total = sorted.len() as f64;
    counts
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let start = lo + i as f64 * width;
            (start, start + width, c as f64 / (total * width))
        })
        .collect()
}

/// Posterior histograms (800×400): one panel per variance, side by side, each a histogram of
/// the pooled draws as a density in 40 bars over the central 99% of the draws (the x-axis label
/// says so), with vertical lines at the ML estimate (dashed), the REML estimate (dotted) and the
/// posterior median (solid). The legend is in the right-hand panel. Non-finite draws and marks
/// are left out.
pub fn posterior(panels: [PosteriorPanel<'_>; 2]) -> Result<String, FigureError> {
    render((800, 400), |root| {
        let (left, right) = root.split_horizontally(400);
        for (area, panel, legend) in [(&left, &panels[0], false), (&right, &panels[1], true)] {
            draw_posterior_panel(area, panel, legend)?;
        }
        Ok(())
    })
}

/// Width of a legend sample in pixels.
const LEGEND_SAMPLE_PX: i32 = 22;

/// Dash `k` (0..4) of a legend sample for a line with `dashes` = (dash, gap) in pixels, or solid
/// for `None`, as (start, end) offsets: the line's own rhythm over `LEGEND_SAMPLE_PX`. A sample
/// with fewer than four dashes repeats its last one.
fn legend_dash(dashes: Option<(u32, u32)>, k: i32) -> (i32, i32) {
    let Some((dash, gap)) = dashes else {
        return (0, LEGEND_SAMPLE_PX);
    };
    let dash = i32::try_from(dash).unwrap_or(LEGEND_SAMPLE_PX).max(1);
    let pitch = dash + i32::try_from(gap).unwrap_or(0);
    let count = (LEGEND_SAMPLE_PX + pitch - 1) / pitch;
    let start = k.min(count - 1) * pitch;
    (start, (start + dash).min(LEGEND_SAMPLE_PX))
}

fn draw_posterior_panel(
    area: &Area<'_>,
    panel: &PosteriorPanel<'_>,
    legend: bool,
) -> Result<(), FigureError> {
    let bars = histogram(panel.draws);
    let marks = [panel.ml, panel.reml, panel.median];
    let x_extent = padded(
        finite_extent(
            bars.iter()
                .flat_map(|b| [b.0, b.1])
                .chain(marks.iter().copied()),
        ),
        0.03,
    );
    // Room above the tallest bar for the legend.
    let top = bars.iter().map(|b| b.2).fold(0.0, f64::max);
    let top = if top > 0.0 { top * 1.3 } else { 1.0 };
    let (w, h) = area.dim_in_pixel();
    let central = 100.0 * (1.0 - 2.0 * TAIL_TRIM);
    let x_desc = format!("{} (central {central:.0}% of draws)", panel.x_label);
    let spec = Panel {
        title: panel.title,
        x_desc: &x_desc,
        y_desc: "Posterior density",
        x: Axis::numeric(x_extent, ticks_for(w.saturating_sub(90), 70)),
        y: Axis::numeric((0.0, top), ticks_for(h.saturating_sub(90), 45)),
        x_grid: false,
        y_grid: true,
        right_margin: DEFAULT_RIGHT_MARGIN,
    };
    let mut chart = build_chart(area, &spec)?;
    chart.draw_series(
        bars.iter()
            .filter(|b| b.2 > 0.0)
            .map(|&(x0, x1, d)| Rectangle::new([(x0, 0.0), (x1, d)], LINE_BLUE.mix(0.55).filled())),
    )?;

    let (y0, y1) = (spec.y.lo, spec.y.hi);
    let lines = [
        ("ML", panel.ml, TRUTH, Some((8, 5))),
        ("REML", panel.reml, SPY_INK, Some((3, 3))),
        ("posterior median", panel.median, INK, None),
    ];
    for (name, x, colour, dashes) in lines {
        if !x.is_finite() {
            continue;
        }
        let style = colour.stroke_width(2);
        let points = [(x, y0), (x, y1)];
        let drawn = match dashes {
            Some((size, spacing)) => {
                chart.draw_series(DashedLineSeries::new(points, size, spacing, style))?
            }
            None => chart.draw_series(LineSeries::new(points, style))?,
        };
        if legend {
            drawn.label(name).legend(move |(x, y)| {
                let segment = |k: i32| {
                    let (start, end) = legend_dash(dashes, k);
                    PathElement::new(vec![(start, 0), (end, 0)], style)
                };
                EmptyElement::at((x, y)) + segment(0) + segment(1) + segment(2) + segment(3)
            });
        }
    }
    if legend {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(GRID)
            .label_font(tick_font())
            .draw()?;
    }
    Ok(())
}
