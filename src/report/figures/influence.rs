//! The leave-one-out influence figure: for each country left out, the refitted estimates of
//! two quantities, side by side, against dashed lines at the full-data estimates.

use plotters::prelude::*;

use super::axis::*;
use super::caterpillar::{CATERPILLAR_CHROME_PX, MAX_ROW_LABEL_CHARS, ROW_PX};
use super::panel::*;
use super::style::*;
use super::FigureError;

/// One quantity of the influence figure: its label, the refitted value per row and the
/// full-data value.
#[derive(Debug, Clone, PartialEq)]
pub struct InfluencePanel<'a> {
    /// Panel title, e.g. "σ_b² without the country".
    pub title: &'a str,
    /// Refitted values, one per row label.
    pub values: &'a [f64],
    /// The estimate with every row included.
    pub full: f64,
}

/// Influence dot chart (800 wide, 22 px per row): rows are the labels (the left-out units),
/// sorted by the first panel's values (stable, smallest at the bottom); each panel shows one dot
/// per row and a dashed line at its full-data value.
pub fn influence(
    labels: &[String],
    panels: [InfluencePanel<'_>; 2],
) -> Result<String, FigureError> {
    let n = labels.len();
    if panels.iter().any(|p| p.values.len() != n) {
        return Err(FigureError::InvalidInput(format!(
            "influence: {n} labels but {} and {} values",
            panels[0].values.len(),
            panels[1].values.len()
        )));
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| panels[0].values[a].total_cmp(&panels[0].values[b]));
    let sorted: Vec<String> = order.iter().map(|&i| labels[i].clone()).collect();
    let rows = u32::try_from(n.max(1)).unwrap_or(u32::MAX);
    let height = CATERPILLAR_CHROME_PX.saturating_add(ROW_PX.saturating_mul(rows));
    render((800, height), |root| {
        let (left, right) = root.split_horizontally(430);
        for (area, panel, show_labels) in [(&left, &panels[0], true), (&right, &panels[1], false)] {
            let extent = padded(
                finite_extent(panel.values.iter().copied().chain([panel.full])),
                0.06,
            );
            let y = if show_labels {
                Axis::categorical(&sorted, MAX_ROW_LABEL_CHARS)
            } else {
                Axis::categorical(&vec![String::new(); n], 1)
            };
            let spec = Panel {
                title: panel.title,
                x_desc: "",
                y_desc: "",
                x: Axis::numeric(extent, 6),
                y,
                x_grid: true,
                y_grid: true,
                right_margin: DEFAULT_RIGHT_MARGIN,
            };
            let mut chart = build_chart(area, &spec)?;
            chart.draw_series(DashedLineSeries::new(
                [(panel.full, spec.y.lo), (panel.full, spec.y.hi)],
                6,
                4,
                TRUTH.stroke_width(2),
            ))?;
            for (row, &i) in order.iter().enumerate() {
                let v = panel.values[i];
                if v.is_finite() {
                    chart.draw_series(std::iter::once(Circle::new(
                        (v, row as f64),
                        5,
                        POINT_BLUE.filled(),
                    )))?;
                }
            }
        }
        Ok(())
    })
}
