//! The profiled objectives against θ = σ_b/σ, with their minima marked.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::*;
use super::panel::*;
use super::style::*;
use super::FigureError;
use crate::report::format::format_fixed;

/// Profiled objective (800×400): the objective against one variance parameter (`x_label`, e.g.
/// "σ_b" or "θ"), each curve profiled over the other parameter, for the published and the
/// corrected computation. The curves are plotted as given (any shift to a zero minimum is the
/// caller's); each curve's minimum is marked with a dot and its abscissa.
pub fn deviance_profile(
    published: &[(f64, f64)],
    corrected: &[(f64, f64)],
    published_min: (f64, f64),
    corrected_min: (f64, f64),
    x_label: &str,
) -> Result<String, FigureError> {
    let all_points = || {
        published
            .iter()
            .chain(corrected)
            .chain([&published_min, &corrected_min])
    };
    let x_extent = padded(finite_extent(all_points().map(|p| p.0)), 0.03);
    // Extra room above the data for the legend and below for the minimum labels.
    let y_extent = finite_extent(all_points().map(|p| p.1)).map(|(lo, hi)| {
        let (lo, hi) = widen_degenerate(lo, hi);
        let span = hi - lo;
        (lo - 0.16 * span, hi + 0.06 * span)
    });
    let x_axis = Axis::numeric(x_extent, 10);
    let title = if x_label.is_empty() {
        "Profiled objective".to_string()
    } else {
        format!("Profiled objective against {x_label}")
    };
    let panel = Panel {
        title: &title,
        x_desc: x_label,
        y_desc: "Profiled objective",
        x: x_axis,
        y: Axis::numeric(y_extent.unwrap_or((0.0, 1.0)), 7),
        x_grid: true,
        y_grid: true,
        right_margin: DEFAULT_RIGHT_MARGIN,
    };
    // Minimum labels carry one more decimal than the x ticks, so two nearby minima stay
    // distinguishable.
    let min_decimals = panel
        .x
        .labels
        .first()
        .and_then(|l| l.split('.').nth(1))
        .map_or(0, str::len)
        + 1;

    render((800, 400), |root| {
        let mut chart = build_chart(root, &panel)?;
        let curves = [
            ("as published", published, published_min, PUBLISHED, true),
            ("corrected", corrected, corrected_min, CORRECTED, false),
        ];
        for (name, curve, _, colour, dashed) in curves {
            let xs: Vec<f64> = curve.iter().map(|p| p.0).collect();
            let ys: Vec<f64> = curve.iter().map(|p| p.1).collect();
            let style = colour.stroke_width(2);
            let mut labelled = false;
            for run in finite_runs(&xs, &ys) {
                let drawn = if dashed {
                    chart.draw_series(DashedLineSeries::new(run, 8, 5, style))?
                } else {
                    chart.draw_series(LineSeries::new(run, style))?
                };
                // One legend entry per curve, however many pieces it was drawn in.
                if !labelled {
                    labelled = true;
                    // The sample is three 24-px-wide segments: touching for a solid curve, with
                    // gaps for a dashed one.
                    let (pitch, len) = if dashed { (9, 6) } else { (8, 8) };
                    drawn.label(name).legend(move |(x, y)| {
                        let segment = |i: i32| {
                            PathElement::new(vec![(pitch * i, 0), (pitch * i + len, 0)], style)
                        };
                        EmptyElement::at((x, y)) + segment(0) + segment(1) + segment(2)
                    });
                }
            }
        }

        // Minimum markers with their abscissa. The left-hand minimum's label goes to its left
        // and the other's to its right, at different heights, so they cannot collide even
        // when the minima coincide. A label that would leave the plot (a minimum on the
        // boundary, common for a variance at zero) goes to the other side instead.
        let (x_pixels, _) = chart.plotting_area().get_pixel_range();
        let mut minima: Vec<((f64, f64), RGBColor)> =
            [(published_min, PUBLISHED), (corrected_min, CORRECTED)]
                .into_iter()
                .filter(|((x, y), _)| x.is_finite() && y.is_finite())
                .collect();
        minima.sort_by(|a, b| a.0 .0.total_cmp(&b.0 .0));
        for (i, &((x, y), colour)) in minima.iter().enumerate() {
            chart.draw_series(std::iter::once(Circle::new((x, y), 5, colour.filled())))?;
            let text = format!("min {}", format_fixed(x, min_decimals));
            let (px, py) = chart.backend_coord(&(x, y));
            let text_w = (text.chars().count() as f64 * CHAR_W).ceil() as i32;
            let fits_left = px - 8 - text_w >= x_pixels.start;
            let fits_right = px + 8 + text_w <= x_pixels.end;
            let to_left = if i == 0 {
                fits_left || !fits_right
            } else {
                !fits_right && fits_left
            };
            let (h_pos, dx) = if to_left {
                (HPos::Right, -8)
            } else {
                (HPos::Left, 8)
            };
            let dy = if i == 0 { 6 } else { 22 };
            root.draw_text(
                &text,
                &tick_font().color(&colour).pos(Pos::new(h_pos, VPos::Top)),
                (px + dx, py + dy),
            )?;
        }

        if !published.is_empty() || !corrected.is_empty() {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperMiddle)
                .background_style(WHITE.mix(0.9))
                .border_style(GRID)
                .label_font(tick_font())
                .draw()?;
        }
        Ok(())
    })
}
