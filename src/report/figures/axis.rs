//! Axes: ranges, "nice" ticks with one fixed precision per axis, categorical axes, and label
//! truncation.

use std::ops::Range;

use crate::report::format::format_fixed;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};

/// One axis: the plotted range plus the exact tick positions and their label texts. It is itself
/// the plotters coordinate (see the `Ranged` impl below): plotters asks it for its ticks and for
/// their labels, so every axis keeps the one fixed precision chosen here, and categorical axes
/// can show names.
#[derive(Debug, Clone)]
pub(super) struct Axis {
    pub(super) lo: f64,
    pub(super) hi: f64,
    pub(super) ticks: Vec<f64>,
    pub(super) labels: Vec<String>,
}

impl Axis {
    /// A numeric axis over `extent` (already padded), with at most `max_ticks` "nice" ticks
    /// (1, 2 or 5 times a power of ten) labelled at the precision that step needs.
    pub(super) fn numeric(extent: (f64, f64), max_ticks: usize) -> Axis {
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
    pub(super) fn fitted(values: impl IntoIterator<Item = f64>, max_ticks: usize) -> Axis {
        Axis::numeric(padded(finite_extent(values), 0.04), max_ticks)
    }

    /// A categorical axis with one slot per name at positions 0, 1, ..., n-1.
    pub(super) fn categorical(names: &[String], max_chars: usize) -> Axis {
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
    pub(super) fn label_at(&self, v: f64) -> String {
        self.ticks
            .iter()
            .zip(&self.labels)
            .min_by(|a, b| (a.0 - v).abs().total_cmp(&(b.0 - v).abs()))
            .map(|(_, label)| label.clone())
            .unwrap_or_default()
    }

    pub(super) fn max_label_chars(&self) -> usize {
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
pub(super) fn finite_extent(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
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
pub(super) fn padded(extent: Option<(f64, f64)>, frac: f64) -> (f64, f64) {
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
pub(super) fn widen_degenerate(lo: f64, hi: f64) -> (f64, f64) {
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
pub(super) fn nice_ticks(lo: f64, hi: f64, max_ticks: usize) -> (Vec<f64>, usize) {
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

/// Shortens a label to at most `max_chars` characters, marking the cut with an ellipsis.
pub(super) fn truncate(label: &str, max_chars: usize) -> String {
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
pub(super) fn ticks_for(pixels: u32, spacing: u32) -> usize {
    (pixels / spacing.max(1)).max(2) as usize
}
