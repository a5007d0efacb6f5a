//! Markdown → HTML with pulldown-cmark: figures inlined as SVG, math as MathML, headings
//! anchored with a table of contents.

use std::collections::BTreeMap;

use pulldown_cmark::{html, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::tables::label_table_cells;
use crate::report::mathml::{render_math_events, MathError};

/// Markdown → HTML with pulldown-cmark; an image whose target names a rendered figure is
/// replaced by the figure's SVG and `$…$` / `$$…$$` math by MathML, so that the page needs no
/// other file and no script.
pub fn markdown_to_html(
    markdown: &str,
    figures: &BTreeMap<String, String>,
) -> Result<String, MathError> {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_MATH
        | Options::ENABLE_HEADING_ATTRIBUTES;
    let mut events = Vec::new();
    let mut inside_figure = false;
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Start(Tag::Image { dest_url, .. }) if figures.contains_key(&*dest_url) => {
                let svg = &figures[&*dest_url];
                let svg = svg
                    .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
                    .unwrap_or(svg);
                events.push(Event::Html(CowStr::from(format!(
                    "<span class=\"figure\" role=\"img\">{svg}</span>"
                ))));
                inside_figure = true;
            }
            Event::End(TagEnd::Image) if inside_figure => inside_figure = false,
            // Wide tables scroll inside their own box on a phone instead of widening the page.
            Event::Start(Tag::Table(_)) => {
                events.push(Event::Html(CowStr::from("<div class=\"table-wrap\">")));
                events.push(event);
            }
            Event::End(TagEnd::Table) => {
                events.push(event);
                events.push(Event::Html(CowStr::from("</div>")));
            }
            // The alt text is spoken by the figure's own title; drop it here.
            _ if inside_figure => {}
            other => events.push(other),
        }
    }
    let events = anchor_headings(events);
    let events = render_math_events(events.into_iter())?;
    let events = label_table_cells(events);
    let mut out = String::new();
    html::push_html(&mut out, events.into_iter());
    Ok(out)
}

/// A heading's anchor: lower-case letters and digits, other runs of characters as one `-`.
pub fn slug(text: &str) -> String {
    let mut slug = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            slug.extend(c.to_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

/// Gives every level-2 and level-3 heading an id (made unique by a numeric suffix) and puts a
/// table of contents linking to them right after the level-1 title.
fn anchor_headings(events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    let mut headings: Vec<(HeadingLevel, String)> = Vec::new();
    let mut current: Option<(HeadingLevel, String)> = None;
    for event in &events {
        match event {
            Event::Start(Tag::Heading { level, .. })
                if matches!(level, HeadingLevel::H2 | HeadingLevel::H3) =>
            {
                current = Some((*level, String::new()));
            }
            Event::Text(t) | Event::Code(t) | Event::InlineMath(t) => {
                if let Some((_, text)) = current.as_mut() {
                    text.push_str(t);
                }
            }
            Event::End(TagEnd::Heading(_)) => headings.extend(current.take()),
            _ => {}
        }
    }
    let mut used = BTreeMap::new();
    let ids: Vec<String> = headings
        .iter()
        .map(|(_, text)| {
            let base = slug(text);
            let n = used.entry(base.clone()).or_insert(0usize);
            *n += 1;
            if *n == 1 {
                base
            } else {
                format!("{base}-{n}")
            }
        })
        .collect();
    let mut toc = String::from(
        "<nav class=\"toc\" aria-label=\"Contents\"><p class=\"toc-title\">Contents</p><ol>",
    );
    let mut open_sub = false;
    for ((level, text), id) in headings.iter().zip(&ids) {
        let text = escape_html(text);
        match (level, open_sub) {
            (HeadingLevel::H3, false) => {
                toc.push_str("<ol>");
                open_sub = true;
            }
            (HeadingLevel::H2, true) => {
                toc.push_str("</li></ol></li>");
                open_sub = false;
            }
            (HeadingLevel::H2, false) if !toc.ends_with("<ol>") => toc.push_str("</li>"),
            (HeadingLevel::H3, true) => toc.push_str("</li>"),
            _ => {}
        }
        toc.push_str(&format!("<li><a href=\"#{id}\">{text}</a>"));
    }
    toc.push_str(if open_sub {
        "</li></ol></li></ol></nav>"
    } else {
        "</li></ol></nav>"
    });

    let mut ids = ids.into_iter();
    let mut out = Vec::with_capacity(events.len() + 1);
    for event in events {
        match event {
            Event::Start(Tag::Heading {
                level,
                id: None,
                classes,
                attrs,
            }) if matches!(level, HeadingLevel::H2 | HeadingLevel::H3) => {
                out.push(Event::Start(Tag::Heading {
                    level,
                    id: ids.next().map(CowStr::from),
                    classes,
                    attrs,
                }));
            }
            Event::End(TagEnd::Heading(HeadingLevel::H1)) => {
                out.push(event);
                out.push(Event::Html(CowStr::from(toc.clone())));
            }
            other => out.push(other),
        }
    }
    out
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
