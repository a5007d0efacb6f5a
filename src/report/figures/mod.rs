//! The report's figures, each drawn as a self-contained SVG string with `plotters`.
//!
//! This module owns everything visual: panel layout, axis ranges and tick labels, colours and
//! fonts. It takes plain numbers (already computed by the data and model modules) and returns SVG
//! text; it never reads files or fits models. Three figures reproduce the blog post's exploratory
//! plots of the gasoline panel ([`trajectories`], [`between_within`], [`covariates`]); the others
//! show model output ([`deviance_profile`], [`caterpillar`], [`sparsity`], [`simulation_strip`]).
//!
//! Rendering is deterministic: the same input gives the same bytes. The SVG backend writes no ids
//! or timestamps, no hash-ordered container is iterated while drawing, and the jitter of
//! [`simulation_strip`] is a fixed low-discrepancy sequence rather than a random generator.
//!
//! Text is measured with plotters' naive font metrics (no system fonts are needed), so label areas
//! are sized here from character counts with a generous per-character width.

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// One country's time series in the gasoline panel. All quantities except `year` are natural
/// logs (`LCarPCap`, `LIncomeP`, `LRPMG`); the four vectors are parallel.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CountrySeries {
    /// Country name.
    pub country: String,
    /// Calendar year (1960..1978 in the data).
    pub year: Vec<f64>,
    /// Log cars per capita (`LCarPCap`).
    pub car_per_cap: Vec<f64>,
    /// Log real income per capita (`LIncomeP`).
    pub income_per_cap: Vec<f64>,
    /// Log real gasoline price (`LRPMG`).
    pub gas_price: Vec<f64>,
}

/// Why a figure could not be drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FigureError {
    /// The plotting library failed (its error rendered as text, since its error type is generic
    /// over the backend).
    #[error("drawing the figure failed: {0}")]
    Drawing(String),
    /// The input cannot describe a figure (mismatched lengths, out-of-range indices, a canvas
    /// too small to hold the axes).
    #[error("invalid figure input: {0}")]
    InvalidInput(String),
}

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for FigureError {
    fn from(err: DrawingAreaErrorKind<E>) -> Self {
        FigureError::Drawing(err.to_string())
    }
}

// ---------------------------------------------------------------------------------------------
// Style
// ---------------------------------------------------------------------------------------------

const FONT: &str = "sans-serif";
/// Plotters divides font sizes by 1.24 when writing SVG, so these are ~16, ~13 and ~11 px.
const TITLE_SIZE: f64 = 20.0;
const DESC_SIZE: f64 = 16.0;
const TICK_SIZE: f64 = 14.0;
/// Pixel width budgeted per tick-label character. Deliberately wider than the average glyph of
/// common sans-serif fonts (digits are ~0.64 em ≈ 7 px at 11 px) so labels are never clipped
/// whichever font the viewer substitutes.
const CHAR_W: f64 = 7.5;

const INK: RGBColor = RGBColor(51, 51, 51);
const AXIS: RGBColor = RGBColor(110, 110, 110);
const GRID: RGBColor = RGBColor(234, 234, 234);
const MUTED: RGBColor = RGBColor(120, 120, 120);
/// A light blue in the spirit of the original figure's `lightblue`, but dark enough to read as a
/// thin line on white.
const LINE_BLUE: RGBColor = RGBColor(107, 174, 214);
const POINT_BLUE: RGBColor = RGBColor(49, 115, 178);
const PUBLISHED: RGBColor = RGBColor(221, 132, 82);
const CORRECTED: RGBColor = RGBColor(76, 114, 176);
const TRUTH: RGBColor = RGBColor(196, 78, 82);
const SPY_INK: RGBColor = RGBColor(31, 58, 95);

fn title_font() -> TextStyle<'static> {
    (FONT, TITLE_SIZE).into_font().color(&INK)
}

fn desc_font() -> TextStyle<'static> {
    (FONT, DESC_SIZE).into_font().color(&INK)
}

fn tick_font() -> TextStyle<'static> {
    (FONT, TICK_SIZE).into_font().color(&INK)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<Axis, Axis>>;

/// Draws into a fresh white SVG canvas and returns its text.
fn render(
    size: (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> Result<(), FigureError>,
) -> Result<String, FigureError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        // The backend only closes the <svg> element when presented (or dropped); presenting
        // explicitly surfaces any error instead of losing it in Drop.
        root.present()?;
    }
    Ok(svg)
}

// ---------------------------------------------------------------------------------------------
// Axes: ranges, ticks and their labels
// ---------------------------------------------------------------------------------------------

/// One axis: the plotted range plus the exact tick positions and their label texts. It is itself
/// the plotters coordinate (see the `Ranged` impl below): plotters asks it for its ticks and for
/// their labels, so every axis keeps the one fixed precision chosen here, and categorical axes
/// can show names.
#[derive(Debug, Clone)]
struct Axis {
    lo: f64,
    hi: f64,
    ticks: Vec<f64>,
    labels: Vec<String>,
}

impl Axis {
    /// A numeric axis over `extent` (already padded), with at most `max_ticks` "nice" ticks
    /// (1, 2 or 5 times a power of ten) labelled at the precision that step needs.
    fn numeric(extent: (f64, f64), max_ticks: usize) -> Axis {
        let (lo, hi) = widen_degenerate(extent.0, extent.1);
        let (ticks, decimals) = nice_ticks(lo, hi, max_ticks);
        let labels = ticks.iter().map(|&t| format_fixed(t, decimals)).collect();
        Axis {
            lo,
            hi,
            ticks,
            labels,
        }
    }

    /// A numeric axis fitted to `values` (non-finite ones ignored) with a small margin so that
    /// markers at the extremes are not cut by the frame.
    fn fitted(values: impl IntoIterator<Item = f64>, max_ticks: usize) -> Axis {
        Axis::numeric(padded(finite_extent(values), 0.04), max_ticks)
    }

    /// A categorical axis with one slot per name at positions 0, 1, ..., n-1.
    fn categorical(names: &[String], max_chars: usize) -> Axis {
        let n = names.len().max(1) as f64;
        Axis {
            lo: -0.5,
            hi: n - 0.5,
            ticks: (0..names.len()).map(|i| i as f64).collect(),
            labels: names.iter().map(|s| truncate(s, max_chars)).collect(),
        }
    }

    /// The label of the tick nearest `v`. Plotters only asks about the ticks it was given, so
    /// this is an exact lookup in practice.
    fn label_at(&self, v: f64) -> String {
        self.ticks
            .iter()
            .zip(&self.labels)
            .min_by(|a, b| (a.0 - v).abs().total_cmp(&(b.0 - v).abs()))
            .map(|(_, label)| label.clone())
            .unwrap_or_default()
    }

    fn max_label_chars(&self) -> usize {
        self.labels
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(1)
    }
}

impl Ranged for Axis {
    // Labels come from `ValueFormatter::format_ext` below, not from `Debug`.
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    /// Linear map onto the pixel range; the range is never degenerate (see `widen_degenerate`).
    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let fraction = (value - self.lo) / (self.hi - self.lo);
        let pixels = f64::from(limit.1 - limit.0) * fraction;
        // Clamp far outside the canvas instead of letting `as` saturate to i32::MAX, which
        // would overflow the backend's integer arithmetic.
        limit.0 + pixels.clamp(-1e6, 1e6).round() as i32
    }

    /// The bold (labelled) key points are the ticks; there are no light grid lines.
    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Axis {
    fn format(value: &f64) -> String {
        // Only reached through `format_ext`'s default, which is overridden; kept total anyway.
        value.to_string()
    }

    fn format_ext(&self, value: &f64) -> String {
        self.label_at(*value)
    }
}

/// Smallest and largest finite value, if any.
fn finite_extent(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// Pads an extent by `frac` of its width on each side; no data gives the unit interval so that
/// an empty plot still has valid axes.
fn padded(extent: Option<(f64, f64)>, frac: f64) -> (f64, f64) {
    match extent {
        None => (0.0, 1.0),
        Some((lo, hi)) => {
            let (lo, hi) = widen_degenerate(lo, hi);
            let pad = (hi - lo) * frac;
            (lo - pad, hi + pad)
        }
    }
}

/// A zero-width (or numerically zero-width) range cannot be mapped to pixels; widen it around
/// its centre by 1% of the magnitude, or by 1 around zero.
fn widen_degenerate(lo: f64, hi: f64) -> (f64, f64) {
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
    let centre = 0.5 * (lo + hi);
    if hi - lo > 1e-9 * centre.abs().max(1e-300) {
        return (lo, hi);
    }
    let half = if centre == 0.0 {
        1.0
    } else {
        centre.abs() * 0.01
    };
    (centre - half, centre + half)
}

/// Ticks at multiples of the finest step in {1, 2, 5} × 10^k that gives at most `max_ticks`
/// ticks inside `[lo, hi]`, and the number of decimals that step needs.
fn nice_ticks(lo: f64, hi: f64, max_ticks: usize) -> (Vec<f64>, usize) {
    let max_ticks = max_ticks.max(2) as f64;
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return (Vec::new(), 0);
    }
    let top = span.log10().floor() as i32 + 1;
    let mut best: Option<(f64, i32)> = None;
    'search: for exp in (top - 18..=top).rev() {
        for mult in [5.0, 2.0, 1.0] {
            let step = mult * 10f64.powi(exp);
            let count = (hi / step).floor() - (lo / step).ceil() + 1.0;
            if count > max_ticks {
                break 'search;
            }
            best = Some((step, exp));
        }
    }
    let Some((step, exp)) = best else {
        return (Vec::new(), 0);
    };
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    // Multiplying an integer by the step (rather than accumulating) keeps 0 exactly 0.
    let ticks = (first..=last).map(|k| k as f64 * step).collect();
    (ticks, exp.min(0).unsigned_abs() as usize)
}

/// Fixed-precision formatting that never prints "-0" or "-0.00".
fn format_fixed(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    }
}

/// Shortens a label to at most `max_chars` characters, marking the cut with an ellipsis.
fn truncate(label: &str, max_chars: usize) -> String {
    let max_chars = max_chars.max(2);
    if label.chars().count() <= max_chars {
        label.to_string()
    } else {
        let mut s: String = label.chars().take(max_chars - 1).collect();
        s.push('…');
        s
    }
}

/// How many ticks fit along `pixels` with at least `spacing` pixels between them.
fn ticks_for(pixels: u32, spacing: u32) -> usize {
    (pixels / spacing.max(1)).max(2) as usize
}

// ---------------------------------------------------------------------------------------------
// Panels
// ---------------------------------------------------------------------------------------------

const DEFAULT_RIGHT_MARGIN: u32 = 20;

/// Everything needed to set up one titled chart with axes.
struct Panel<'s> {
    title: &'s str,
    x_desc: &'s str,
    y_desc: &'s str,
    x: Axis,
    y: Axis,
    /// Vertical grid lines at the x ticks (off for categorical x axes, where they would run
    /// through the data).
    x_grid: bool,
    y_grid: bool,
    /// Space right of the plot, for annotations placed outside the data.
    right_margin: u32,
}

/// Builds a chart in `area` with the house style (caption, light grid, fixed-precision tick
/// labels) and draws its axes.
fn build_chart<'a, 'b>(
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
fn finite_runs(xs: &[f64], ys: &[f64]) -> Vec<Vec<(f64, f64)>> {
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

fn check_series(series: &[CountrySeries]) -> Result<(), FigureError> {
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
fn draw_trajectory_panel(area: &Area<'_>, series: &[CountrySeries]) -> Result<(), FigureError> {
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
fn draw_scatter_panel(
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

// ---------------------------------------------------------------------------------------------
// Figures 1–3: the gasoline panel
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Figure 4: deviance profiles
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Figure 5: caterpillar plot
// ---------------------------------------------------------------------------------------------

/// Pixel height of one caterpillar row, and of everything that is not rows (title, x axis,
/// margins).
const ROW_PX: u32 = 22;
const CATERPILLAR_CHROME_PX: u32 = 110;
/// Longest row label kept whole; longer ones are cut with an ellipsis.
const MAX_ROW_LABEL_CHARS: usize = 40;

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

// ---------------------------------------------------------------------------------------------
// Figure 6: sparsity pattern
// ---------------------------------------------------------------------------------------------

/// Most rectangles a spy plot may contain. One `<rect>` is about 90 bytes of SVG, so this keeps
/// the file well under 2 MB whatever the pattern.
const MAX_SPY_RECTS: usize = 15_000;
/// Cells at least this many pixels wide are drawn one by one with a small gap, so neighbouring
/// nonzeros of a small matrix stay distinguishable.
const SPY_GAP_MIN_PX: f64 = 5.0;
/// The plot keeps square cells unless that would make it thinner (or flatter) than this fraction
/// of the space available; a 342×18 pattern is then stretched sideways rather than drawn as a
/// sliver.
const SPY_MIN_FILL: f64 = 0.35;

/// Spy plot of a sparse pattern (`width`×`height`): a dark mark for each structural nonzero
/// `(row, column)` (0-based), row 0 at the top; tick labels show 1-based indices as in R's
/// `Matrix::image`. When the matrix has more rows or columns than the plot has pixels, nonzeros
/// are aggregated into pixel-sized blocks (a block is marked if any entry in it is nonzero), and
/// blocks are made coarser still if needed to keep the SVG small; a note under the plot states
/// the block size.
pub fn sparsity(
    title: &str,
    nrows: usize,
    ncols: usize,
    nonzeros: &[(usize, usize)],
    width: u32,
    height: u32,
) -> Result<String, FigureError> {
    if !(200..=10_000).contains(&width) || !(200..=10_000).contains(&height) {
        return Err(FigureError::InvalidInput(format!(
            "sparsity: canvas {width}×{height} must be between 200 and 10000 px on each side"
        )));
    }
    if let Some(&(r, c)) = nonzeros.iter().find(|&&(r, c)| r >= nrows || c >= ncols) {
        return Err(FigureError::InvalidInput(format!(
            "sparsity: nonzero ({r}, {c}) outside a {nrows}×{ncols} matrix"
        )));
    }

    // Layout in pixels: title, column axis on top, row axis on the left, a note at the bottom.
    // Space the plot does not fill (it keeps square cells) is split evenly around it.
    let title_h = 34u32;
    let top_axis_h = 44u32;
    let note_h = 26u32;
    let left_pad = 8u32;
    let right_pad = 16u32;
    let row_digits = nrows.max(1).to_string().len() as f64;
    let left_axis_w = (row_digits * CHAR_W).ceil() as u32 + 14 + 26;
    let avail_w = width
        .saturating_sub(left_pad + left_axis_w + right_pad)
        .max(1) as f64;
    let avail_h = height.saturating_sub(title_h + top_axis_h + note_h).max(1) as f64;
    let (rows_f, cols_f) = (nrows.max(1) as f64, ncols.max(1) as f64);
    let cell = (avail_w / cols_f).min(avail_h / rows_f);
    let plot_w = (cell * cols_f)
        .max(SPY_MIN_FILL * avail_w)
        .min(avail_w)
        .round() as u32;
    let plot_h = (cell * rows_f)
        .max(SPY_MIN_FILL * avail_h)
        .min(avail_h)
        .round() as u32;
    let slack_w = (avail_w as u32).saturating_sub(plot_w);
    let slack_h = (avail_h as u32).saturating_sub(plot_h);
    let plot_left = left_pad + slack_w / 2 + left_axis_w;
    let plot_top = title_h + slack_h / 2 + top_axis_h;

    // Index ticks (1-based) placed at cell centres: round multiples, plus the first and last
    // index where they do not crowd a neighbour (a narrow axis may have no multiple at all).
    let index_ticks = |n: usize, pixels: u32| -> Vec<usize> {
        if n == 0 {
            return Vec::new();
        }
        let (nice, _) = nice_ticks(1.0, n as f64, ticks_for(pixels, 45));
        let mut ticks: Vec<usize> = nice
            .into_iter()
            .filter(|&t| t >= 1.0 && t.fract() == 0.0)
            .map(|t| t as usize)
            .collect();
        let min_gap = (30.0 * n as f64 / f64::from(pixels.max(1))).ceil() as usize;
        if ticks.first().is_none_or(|&t| t > min_gap.max(1)) {
            ticks.insert(0, 1);
        }
        if ticks.last().is_some_and(|&t| t < n && n - t >= min_gap) {
            ticks.push(n);
        }
        ticks
    };
    let col_ticks = index_ticks(ncols, plot_w);
    let row_ticks = index_ticks(nrows, plot_h);
    let x_axis = Axis {
        lo: 0.0,
        hi: cols_f,
        ticks: col_ticks.iter().map(|&t| t as f64 - 0.5).collect(),
        labels: col_ticks.iter().map(|t| t.to_string()).collect(),
    };
    let y_axis = Axis {
        lo: 0.0,
        hi: rows_f,
        ticks: row_ticks.iter().map(|&t| rows_f - t as f64 + 0.5).collect(),
        labels: row_ticks.iter().map(|t| t.to_string()).collect(),
    };

    let marks = spy_marks(nrows, ncols, nonzeros, plot_w, plot_h);
    let mut note = format!(
        "{nrows} × {ncols}, {} structural nonzero{}",
        nonzeros.len(),
        if nonzeros.len() == 1 { "" } else { "s" }
    );
    if marks.block != (1, 1) {
        note.push_str(&format!(
            "; each mark is a block of up to {} × {} entries",
            marks.block.0, marks.block.1
        ));
    }

    render((width, height), |root| {
        root.draw_text(
            title,
            &title_font().pos(Pos::new(HPos::Center, VPos::Top)),
            // The title moves down with the plot so it stays attached to it.
            (width as i32 / 2, (10 + slack_h / 2) as i32),
        )?;
        let inner = root.margin(
            title_h + slack_h / 2,
            note_h + slack_h - slack_h / 2,
            left_pad + slack_w / 2,
            right_pad + slack_w - slack_w / 2,
        );
        let mut chart = ChartBuilder::on(&inner)
            .top_x_label_area_size(top_axis_h)
            .y_label_area_size(left_axis_w)
            .build_cartesian_2d(x_axis.clone(), y_axis.clone())?;
        chart
            .configure_mesh()
            .disable_mesh()
            .axis_style(AXIS)
            .label_style(tick_font())
            .axis_desc_style(desc_font())
            .x_desc("Column")
            .y_desc("Row")
            .draw()?;

        // Matrix row r spans chart y in [nrows - r - 1, nrows - r]: row 0 at the top.
        let to_chart = |r0: f64, r1: f64, c0: f64, c1: f64| [(c0, rows_f - r0), (c1, rows_f - r1)];
        chart.draw_series(
            marks
                .rects
                .iter()
                .map(|m| Rectangle::new(to_chart(m.r0, m.r1, m.c0, m.c1), SPY_INK.filled())),
        )?;
        // A frame, since the pattern has no grid and the plot has only two axis lines.
        chart.draw_series(std::iter::once(Rectangle::new(
            [(0.0, 0.0), (cols_f, rows_f)],
            AXIS.stroke_width(1),
        )))?;

        // The note is centred under the plot, but shifted inwards if it would run off the
        // canvas (a narrow plot of a tall matrix sits in the middle of a wider note).
        let plot_bottom = (plot_top + plot_h) as i32;
        let plot_centre = f64::from(plot_left) + f64::from(plot_w) / 2.0;
        let half_note = note.chars().count() as f64 * CHAR_W / 2.0;
        let note_x = plot_centre
            .min(f64::from(width) - half_note - 4.0)
            .max(half_note + 4.0);
        root.draw_text(
            &note,
            &tick_font()
                .color(&MUTED)
                .pos(Pos::new(HPos::Center, VPos::Top)),
            (note_x.round() as i32, plot_bottom + 8),
        )?;
        Ok(())
    })
}

/// One filled rectangle of a spy plot, in (fractional) matrix row/column units.
#[derive(Debug, Clone, Copy, PartialEq)]
struct SpyRect {
    r0: f64,
    r1: f64,
    c0: f64,
    c1: f64,
}

/// The rectangles of a spy plot and the block size (rows, columns) each grid cell stands for.
#[derive(Debug, Clone, PartialEq)]
struct SpyMarks {
    rects: Vec<SpyRect>,
    block: (usize, usize),
}

/// Bins the nonzeros into a grid no finer than the plot's pixels, then turns occupied cells into
/// rectangles: one per cell (with a gap) when cells are large, otherwise one per horizontal run
/// of occupied cells. If that is still more than [`MAX_SPY_RECTS`], the grid is shrunk by a
/// quarter in each direction and the binning repeated; a 1×1 grid needs one rectangle and every
/// step shrinks a grid larger than that, so this terminates.
fn spy_marks(
    nrows: usize,
    ncols: usize,
    nonzeros: &[(usize, usize)],
    plot_w: u32,
    plot_h: u32,
) -> SpyMarks {
    if nrows == 0 || ncols == 0 || nonzeros.is_empty() {
        return SpyMarks {
            rects: Vec::new(),
            block: (1, 1),
        };
    }
    let mut grid_rows = nrows.min(plot_h.max(1) as usize);
    let mut grid_cols = ncols.min(plot_w.max(1) as usize);
    loop {
        // u128 products: index × grid size cannot overflow whatever the matrix dimensions.
        let bin = |i: usize, n: usize, g: usize| (i as u128 * g as u128 / n as u128) as usize;
        let mut cells: Vec<(usize, usize)> = nonzeros
            .iter()
            .map(|&(r, c)| (bin(r, nrows, grid_rows), bin(c, ncols, grid_cols)))
            .collect();
        cells.sort_unstable();
        cells.dedup();

        let row_edge = |g: usize| g as f64 * nrows as f64 / grid_rows as f64;
        let col_edge = |g: usize| g as f64 * ncols as f64 / grid_cols as f64;
        let cell_px = (plot_w as f64 / grid_cols as f64).min(plot_h as f64 / grid_rows as f64);
        let block = (nrows.div_ceil(grid_rows), ncols.div_ceil(grid_cols));

        if cell_px >= SPY_GAP_MIN_PX && cells.len() <= MAX_SPY_RECTS {
            // Inset each cell by ~8% of its size (in matrix units) on every side.
            let (inset_r, inset_c) = (
                0.08 * nrows as f64 / grid_rows as f64,
                0.08 * ncols as f64 / grid_cols as f64,
            );
            let rects = cells
                .iter()
                .map(|&(gr, gc)| SpyRect {
                    r0: row_edge(gr) + inset_r,
                    r1: row_edge(gr + 1) - inset_r,
                    c0: col_edge(gc) + inset_c,
                    c1: col_edge(gc + 1) - inset_c,
                })
                .collect();
            return SpyMarks { rects, block };
        }

        let mut rects = Vec::new();
        let mut i = 0;
        while i < cells.len() {
            let (gr, start) = cells[i];
            let mut end = start;
            while i + 1 < cells.len() && cells[i + 1] == (gr, end + 1) {
                end += 1;
                i += 1;
            }
            rects.push(SpyRect {
                r0: row_edge(gr),
                r1: row_edge(gr + 1),
                c0: col_edge(start),
                c1: col_edge(end + 1),
            });
            i += 1;
        }
        if rects.len() <= MAX_SPY_RECTS || (grid_rows == 1 && grid_cols == 1) {
            return SpyMarks { rects, block };
        }
        // Gentle steps keep as much resolution as the budget allows.
        grid_rows = (grid_rows * 3 / 4).max(1);
        grid_cols = (grid_cols * 3 / 4).max(1);
    }
}

// ---------------------------------------------------------------------------------------------
// Figure 7: simulation strip plot
// ---------------------------------------------------------------------------------------------

/// Horizontal spread of the jittered points, as a fraction of one group's slot.
const JITTER_WIDTH: f64 = 0.5;
/// Box width as a fraction of one group's slot.
const BOX_WIDTH: f64 = 0.55;

/// Deterministic jitter in [-0.5, 0.5): the golden-ratio (Weyl) sequence, which spreads any
/// number of consecutive points evenly without a random generator.
fn jitter(index: usize) -> f64 {
    const PHI_FRAC: f64 = 0.618_033_988_749_894_9;
    ((index as f64 + 1.0) * PHI_FRAC).fract() - 0.5
}

/// The p-quantile of sorted data by linear interpolation between order statistics (R's default,
/// type 7).
fn quantile_sorted(sorted: &[f64], p: f64) -> Option<f64> {
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

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

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
    /// a line of its own).
    fn has_text(svg: &str, text: &str) -> bool {
        svg.lines().any(|line| line == text)
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
        let svg =
            deviance_profile(&published, &corrected, (0.35, 0.0), (0.55, 0.0), "σ_b").unwrap();
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
        assert!(
            deviance_profile(&[(1.0, 2.0)], &[(1.0, 2.0)], (1.0, 2.0), (1.0, 2.0), "θ").is_ok()
        );
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
}
