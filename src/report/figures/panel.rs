//! Panels: a titled chart with axes in the house style, and the line and scatter panels the
//! gasoline figures are made of.

use plotters::prelude::*;

use super::axis::*;
use super::style::*;
use super::{CountrySeries, FigureError};

pub(super) const DEFAULT_RIGHT_MARGIN: u32 = 20;

/// Everything needed to set up one titled chart with axes.
pub(super) struct Panel<'s> {
    pub(super) title: &'s str,
    pub(super) x_desc: &'s str,
    pub(super) y_desc: &'s str,
    pub(super) x: Axis,
    pub(super) y: Axis,
    /// Vertical grid lines at the x ticks (off for categorical x axes, where they would run
    /// through the data).
    pub(super) x_grid: bool,
    pub(super) y_grid: bool,
    /// Space right of the plot, for annotations placed outside the data.
    pub(super) right_margin: u32,
}

/// Builds a chart in `area` with the house style (caption, light grid, fixed-precision tick
/// labels) and draws its axes.
pub(super) fn build_chart<'a, 'b>(
    area: &'a Area<'b>,
    panel: &Panel<'_>,
) -> Result<Chart<'a, 'b>, FigureError> {
    // Bottom: tick labels, then the axis description. Left: tick labels (right-aligned against
    // the axis), then the rotated description.
    let x_area = 24 + if panel.x_desc.is_empty() { 0 } else { 24 };
    let y_area = (panel.y.max_label_chars() as f64 * CHAR_W).ceil() as u32
        + 14
        + if panel.y_desc.is_empty() { 0 } else { 26 };
    let mut chart = ChartBuilder::on(area)
        .caption(panel.title, title_font())
        .margin_top(8)
        .margin_bottom(6)
        .margin_left(8)
        .margin_right(panel.right_margin)
        .x_label_area_size(x_area)
        .y_label_area_size(y_area)
        .build_cartesian_2d(panel.x.clone(), panel.y.clone())?;

    let mut mesh = chart.configure_mesh();
    mesh.bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(AXIS)
        .label_style(tick_font())
        .axis_desc_style(desc_font());
    if !panel.x_desc.is_empty() {
        mesh.x_desc(panel.x_desc);
    }
    if !panel.y_desc.is_empty() {
        mesh.y_desc(panel.y_desc);
    }
    if !panel.x_grid {
        mesh.disable_x_mesh();
    }
    if !panel.y_grid {
        mesh.disable_y_mesh();
    }
    mesh.draw()?;
    Ok(chart)
}

/// Splits parallel x/y slices into maximal runs of finite points, so a line is broken at a
/// missing value instead of being drawn through it.
pub(super) fn finite_runs(xs: &[f64], ys: &[f64]) -> Vec<Vec<(f64, f64)>> {
    let mut runs = Vec::new();
    let mut current = Vec::new();
    for (&x, &y) in xs.iter().zip(ys) {
        if x.is_finite() && y.is_finite() {
            current.push((x, y));
        } else if !current.is_empty() {
            runs.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

pub(super) fn check_series(series: &[CountrySeries]) -> Result<(), FigureError> {
    for s in series {
        let n = s.year.len();
        if s.car_per_cap.len() != n || s.income_per_cap.len() != n || s.gas_price.len() != n {
            return Err(FigureError::InvalidInput(format!(
                "country {:?}: year, car_per_cap, income_per_cap and gas_price have lengths \
                 {}, {}, {}, {}",
                s.country,
                n,
                s.car_per_cap.len(),
                s.income_per_cap.len(),
                s.gas_price.len()
            )));
        }
    }
    Ok(())
}

/// The trajectory panel shared by [`trajectories`] and [`covariates`]: log cars per capita
/// against year, one light line per country.
pub(super) fn draw_trajectory_panel(
    area: &Area<'_>,
    series: &[CountrySeries],
) -> Result<(), FigureError> {
    let (w, h) = area.dim_in_pixel();
    let panel = Panel {
        title: "Variation at baseline and over time",
        x_desc: "Year",
        y_desc: "Cars per capita (log scale)",
        x: Axis::fitted(
            series.iter().flat_map(|s| s.year.iter().copied()),
            ticks_for(w, 80),
        ),
        y: Axis::fitted(
            series.iter().flat_map(|s| s.car_per_cap.iter().copied()),
            ticks_for(h, 45),
        ),
        x_grid: true,
        y_grid: true,
        right_margin: DEFAULT_RIGHT_MARGIN,
    };
    let mut chart = build_chart(area, &panel)?;
    for s in series {
        for run in finite_runs(&s.year, &s.car_per_cap) {
            chart.draw_series(LineSeries::new(run, LINE_BLUE.stroke_width(2)))?;
        }
    }
    Ok(())
}

/// A scatter panel: one semi-transparent dot per finite point (overlaps stay visible).
pub(super) fn draw_scatter_panel(
    area: &Area<'_>,
    points: &[(f64, f64)],
    title: &str,
    x_desc: &str,
    y_desc: &str,
) -> Result<(), FigureError> {
    let (w, h) = area.dim_in_pixel();
    let panel = Panel {
        title,
        x_desc,
        y_desc,
        x: Axis::fitted(points.iter().map(|p| p.0), ticks_for(w, 75)),
        y: Axis::fitted(points.iter().map(|p| p.1), ticks_for(h, 45)),
        x_grid: true,
        y_grid: true,
        right_margin: DEFAULT_RIGHT_MARGIN,
    };
    let mut chart = build_chart(area, &panel)?;
    chart.draw_series(
        points
            .iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .map(|&p| Circle::new(p, 3, POINT_BLUE.mix(0.6).filled())),
    )?;
    Ok(())
}
