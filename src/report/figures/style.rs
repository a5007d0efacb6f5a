//! House style: fonts, sizes, colours, and the SVG canvas every figure is drawn on.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::*;
use super::FigureError;

pub(super) const FONT: &str = "sans-serif";
/// Plotters divides font sizes by 1.24 when writing SVG, so these are ~16, ~13 and ~11 px.
pub(super) const TITLE_SIZE: f64 = 20.0;
pub(super) const DESC_SIZE: f64 = 16.0;
pub(super) const TICK_SIZE: f64 = 14.0;
/// Pixel width budgeted per tick-label character. Deliberately wider than the average glyph of
/// common sans-serif fonts (digits are ~0.64 em ≈ 7 px at 11 px) so labels are never clipped
/// whichever font the viewer substitutes.
pub(super) const CHAR_W: f64 = 7.5;

pub(super) const INK: RGBColor = RGBColor(51, 51, 51);
pub(super) const AXIS: RGBColor = RGBColor(110, 110, 110);
pub(super) const GRID: RGBColor = RGBColor(234, 234, 234);
pub(super) const MUTED: RGBColor = RGBColor(120, 120, 120);
/// A light blue in the spirit of the original figure's `lightblue`, but dark enough to read as a
/// thin line on white.
pub(super) const LINE_BLUE: RGBColor = RGBColor(107, 174, 214);
pub(super) const POINT_BLUE: RGBColor = RGBColor(49, 115, 178);
pub(super) const PUBLISHED: RGBColor = RGBColor(221, 132, 82);
pub(super) const CORRECTED: RGBColor = RGBColor(76, 114, 176);
pub(super) const TRUTH: RGBColor = RGBColor(196, 78, 82);
pub(super) const SPY_INK: RGBColor = RGBColor(31, 58, 95);

pub(super) fn title_font() -> TextStyle<'static> {
    (FONT, TITLE_SIZE).into_font().color(&INK)
}

pub(super) fn desc_font() -> TextStyle<'static> {
    (FONT, DESC_SIZE).into_font().color(&INK)
}

pub(super) fn tick_font() -> TextStyle<'static> {
    (FONT, TICK_SIZE).into_font().color(&INK)
}

pub(super) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
pub(super) type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<Axis, Axis>>;

/// Draws into a fresh white SVG canvas and returns its text.
pub(super) fn render(
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
    Ok(with_subscripts(&svg))
}

/// Writes the report's one subscripted symbol, `σ_b`, as a real subscript: plotters draws text
/// literally, so the label strings say `σ_b` and the SVG gets `σ<tspan …>b</tspan>`. Only text
/// content can contain it (plotters escapes no `_` and writes no attribute with one).
pub(super) fn with_subscripts(svg: &str) -> String {
    svg.replace(
        "σ_b",
        "σ<tspan baseline-shift=\"sub\" font-size=\"75%\">b</tspan>",
    )
}
