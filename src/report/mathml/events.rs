//! Markdown integration: pulldown-cmark's math events replaced by raw MathML events, with a
//! display formula that stands alone in a paragraph lifted out of it.

use pulldown_cmark::{CowStr, Event, Tag, TagEnd};

use super::{latex_to_mathml, MathError};

/// Replace math events by raw-HTML events holding MathML.
///
/// * `Event::InlineMath` → `Event::InlineHtml` with an inline `<math>` element.
/// * `Event::DisplayMath` → `Event::Html` with `<div class="math-display"><math display="block">…</math></div>`.
///
/// A `$$…$$` normally stands alone in its own paragraph; that paragraph's `<p>`/`</p>` is
/// dropped so that the `<div>` is not nested inside a `<p>` (invalid HTML, which browsers
/// repair by splitting the paragraph). Display math that shares a paragraph with other text
/// is emitted as `<span class="math-display">…</span>` instead, which is valid there; the
/// [`MATH_CSS`] rule for `.math-display` makes both render as a block.
pub fn render_math_events<'a>(
    events: impl Iterator<Item = Event<'a>>,
) -> Result<Vec<Event<'a>>, MathError> {
    let mut events: Vec<Event<'a>> = events.collect();
    let mut out = Vec::with_capacity(events.len());
    let mut i = 0;
    while i < events.len() {
        if let Some((end, latex)) = lone_display_math(&events, i) {
            out.push(Event::Html(display_block(latex)?.into()));
            i = end + 1;
            continue;
        }
        let event = match std::mem::replace(&mut events[i], Event::SoftBreak) {
            Event::InlineMath(latex) => {
                Event::InlineHtml(CowStr::from(latex_to_mathml(&latex, false)?))
            }
            Event::DisplayMath(latex) => Event::InlineHtml(CowStr::from(format!(
                "<span class=\"math-display\">{}</span>",
                latex_to_mathml(&latex, true)?
            ))),
            other => other,
        };
        out.push(event);
        i += 1;
    }
    Ok(out)
}

pub(super) fn display_block(latex: &str) -> Result<String, MathError> {
    Ok(format!(
        "<div class=\"math-display\">{}</div>\n",
        latex_to_mathml(latex, true)?
    ))
}

/// If `events[start]` opens a paragraph whose only content is one display formula (plus
/// line breaks or blank text), return the index of the paragraph's end and the formula.
pub(super) fn lone_display_math<'e>(
    events: &'e [Event<'_>],
    start: usize,
) -> Option<(usize, &'e str)> {
    if !matches!(events.get(start), Some(Event::Start(Tag::Paragraph))) {
        return None;
    }
    let mut latex = None;
    for (offset, event) in events[start + 1..].iter().enumerate() {
        match event {
            Event::End(TagEnd::Paragraph) => return latex.map(|l| (start + 1 + offset, l)),
            Event::DisplayMath(l) if latex.is_none() => latex = Some(l.as_ref()),
            Event::SoftBreak => {}
            Event::Text(t) if t.trim().is_empty() => {}
            _ => return None,
        }
    }
    None
}
