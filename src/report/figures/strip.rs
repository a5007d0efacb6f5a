//! The simulation study's strip plots: jittered estimates, box summaries and the truth.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::*;
use super::panel::*;
use super::style::*;
use super::FigureError;

/// Horizontal spread of the jittered points, as a fraction of one group's slot.
pub(super) const JITTER_WIDTH: f64 = 0.5;
/// Box width as a fraction of one group's slot.
pub(super) const BOX_WIDTH: f64 = 0.55;

/// Deterministic jitter in [-0.5, 0.5): the golden-ratio (Weyl) sequence, which spreads any
/// number of consecutive points evenly without a random generator.
pub(super) fn jitter(index: usize) -> f64 {
    const PHI_FRAC: f64 = 0.618_033_988_749_894_9;
    ((index as f64 + 1.0) * PHI_FRAC).fract() - 0.5
}

/// The p-quantile of sorted data by linear interpolation between order statistics (R's default,
/// type 7).
pub(super) fn quantile_sorted(sorted: &[f64], p: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// Strip plot of simulation results (800×400): one slot per named group (estimator) with its
/// values as deterministically jittered dots and a box from the lower to the upper quartile with
/// a line at the median; a dashed horizontal line marks the true value when given. Non-finite
/// values are left out.
pub fn simulation_strip(
    groups: &[(String, Vec<f64>)],
    truth: Option<f64>,
    title: &str,
    y_label: &str,
) -> Result<String, FigureError> {
    let truth = truth.filter(|t| t.is_finite());
    let names: Vec<String> = groups.iter().map(|g| g.0.clone()).collect();
    // Cut names to the width of their slot so neighbouring labels never overlap.
    let plot_px = 800.0 - 150.0;
    let slot_chars = (plot_px / names.len().max(1) as f64 / CHAR_W).floor() as usize;
    let values = groups.iter().flat_map(|g| g.1.iter().copied()).chain(truth);
    let panel = Panel {
        title,
        x_desc: "",
        y_desc: y_label,
        x: Axis::categorical(&names, slot_chars.clamp(3, 40)),
        y: Axis::fitted(values, 8),
        x_grid: false,
        y_grid: true,
        // Room for the "true value" label at the end of its line, clear of the data.
        right_margin: if truth.is_some() {
            80
        } else {
            DEFAULT_RIGHT_MARGIN
        },
    };

    render((800, 400), |root| {
        let mut chart = build_chart(root, &panel)?;
        if let Some(t) = truth {
            chart.draw_series(DashedLineSeries::new(
                [(panel.x.lo, t), (panel.x.hi, t)],
                8,
                6,
                TRUTH.stroke_width(2),
            ))?;
            // Drawn on the root in absolute pixels, in the right margin beyond the plot.
            let (px, py) = chart.backend_coord(&(panel.x.hi, t));
            root.draw_text(
                "true value",
                &tick_font()
                    .color(&TRUTH)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
                (px + 6, py),
            )?;
        }
        for (slot, (_, vals)) in groups.iter().enumerate() {
            let centre = slot as f64;
            let finite: Vec<f64> = vals.iter().copied().filter(|v| v.is_finite()).collect();
            chart.draw_series(finite.iter().enumerate().map(|(i, &v)| {
                Circle::new(
                    (centre + JITTER_WIDTH * jitter(i), v),
                    2,
                    POINT_BLUE.mix(0.45).filled(),
                )
            }))?;

            let mut sorted = finite;
            sorted.sort_by(f64::total_cmp);
            let quartiles = [0.25, 0.5, 0.75].map(|p| quantile_sorted(&sorted, p));
            if let [Some(q1), Some(median), Some(q3)] = quartiles {
                let (x0, x1) = (centre - BOX_WIDTH / 2.0, centre + BOX_WIDTH / 2.0);
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x0, q1), (x1, q3)],
                    INK.stroke_width(1),
                )))?;
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(x0, median), (x1, median)],
                    INK.stroke_width(3),
                )))?;
            }
        }
        Ok(())
    })
}
