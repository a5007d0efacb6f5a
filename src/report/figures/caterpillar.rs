//! The caterpillar plot: conditional modes with intervals, sorted.

use plotters::prelude::*;

use super::axis::*;
use super::panel::*;
use super::style::*;
use super::FigureError;

/// Pixel height of one caterpillar row, and of everything that is not rows (title, x axis,
/// margins).
pub(super) const ROW_PX: u32 = 22;
pub(super) const CATERPILLAR_CHROME_PX: u32 = 110;
/// Longest row label kept whole; longer ones are cut with an ellipsis.
pub(super) const MAX_ROW_LABEL_CHARS: usize = 40;

/// Caterpillar plot (800 wide, 22 px per row): one horizontal interval `lower..upper` with a dot
/// at `estimate` per row, rows sorted by estimate (stable, smallest at the bottom) and labelled on
/// the left axis. A vertical reference line marks 0 when 0 is near the data (it is left out when
/// including it would squash the intervals into a corner).
pub fn caterpillar(
    labels: &[String],
    estimate: &[f64],
    lower: &[f64],
    upper: &[f64],
    x_label: &str,
) -> Result<String, FigureError> {
    let n = labels.len();
    if estimate.len() != n || lower.len() != n || upper.len() != n {
        return Err(FigureError::InvalidInput(format!(
            "caterpillar: labels, estimate, lower and upper have lengths {}, {}, {}, {}",
            n,
            estimate.len(),
            lower.len(),
            upper.len()
        )));
    }
    let mut order: Vec<usize> = (0..n).collect();
    // total_cmp orders NaN last instead of panicking; sort_by is stable so ties keep input order.
    order.sort_by(|&a, &b| estimate[a].total_cmp(&estimate[b]));
    let sorted_labels: Vec<String> = order.iter().map(|&i| labels[i].clone()).collect();

    let values = || estimate.iter().chain(lower).chain(upper).copied();
    let data = finite_extent(values());
    let show_zero = match data {
        None => true,
        Some((lo, hi)) => {
            let reach = 0.5 * (hi - lo).max(f64::MIN_POSITIVE);
            lo - reach <= 0.0 && 0.0 <= hi + reach
        }
    };
    let x_extent = padded(
        finite_extent(values().chain(show_zero.then_some(0.0))),
        0.04,
    );
    let rows = u32::try_from(n.max(1)).unwrap_or(u32::MAX);
    let height = CATERPILLAR_CHROME_PX.saturating_add(ROW_PX.saturating_mul(rows));
    let panel = Panel {
        title: "Estimates with intervals, sorted by estimate",
        x_desc: x_label,
        y_desc: "",
        x: Axis::numeric(x_extent, 10),
        y: Axis::categorical(&sorted_labels, MAX_ROW_LABEL_CHARS),
        x_grid: true,
        y_grid: true,
        right_margin: DEFAULT_RIGHT_MARGIN,
    };

    render((800, height), |root| {
        let mut chart = build_chart(root, &panel)?;
        if show_zero {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(0.0, panel.y.lo), (0.0, panel.y.hi)],
                MUTED.stroke_width(1),
            )))?;
        }
        for (row, &i) in order.iter().enumerate() {
            let y = row as f64;
            if lower[i].is_finite() && upper[i].is_finite() {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(lower[i], y), (upper[i], y)],
                    LINE_BLUE.stroke_width(3),
                )))?;
            }
            if estimate[i].is_finite() {
                chart.draw_series(std::iter::once(Circle::new(
                    (estimate[i], y),
                    4,
                    POINT_BLUE.filled(),
                )))?;
            }
        }
        Ok(())
    })
}
