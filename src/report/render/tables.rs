//! Tables that read on a phone: every body cell carries its column's header (rendered HTML,
//! MathML included) in a `cell-label` span that the stylesheet shows only on narrow screens,
//! where each row becomes a card of labelled values instead of a strip wider than the screen.
//! On wide screens the spans are hidden and the table is an ordinary table.

use pulldown_cmark::{html, Alignment, CowStr, Event, Tag, TagEnd};

/// Rewrites the body cells of every table in `events` (after math rendering) to carry labels.
pub fn label_table_cells(events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    let mut out = Vec::with_capacity(events.len());
    let mut alignments: Vec<Alignment> = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    let mut in_head = false;
    let mut head_cell: Option<Vec<Event<'_>>> = None;
    let mut column = 0;
    for event in events {
        match &event {
            Event::Start(Tag::Table(a)) => {
                alignments.clone_from(a);
                labels.clear();
                out.push(event);
            }
            Event::Start(Tag::TableHead) => {
                in_head = true;
                out.push(event);
            }
            Event::End(TagEnd::TableHead) => {
                in_head = false;
                out.push(event);
            }
            Event::Start(Tag::TableCell) if in_head => {
                head_cell = Some(Vec::new());
                out.push(event);
            }
            Event::End(TagEnd::TableCell) if in_head => {
                let mut label = String::new();
                html::push_html(&mut label, head_cell.take().unwrap_or_default().into_iter());
                labels.push(label);
                out.push(event);
            }
            Event::Start(Tag::TableRow) => {
                column = 0;
                out.push(event);
            }
            Event::Start(Tag::TableCell) => {
                let style = match alignments.get(column) {
                    Some(Alignment::Left) => " style=\"text-align: left\"",
                    Some(Alignment::Center) => " style=\"text-align: center\"",
                    Some(Alignment::Right) => " style=\"text-align: right\"",
                    _ => "",
                };
                let label = labels.get(column).map_or("", String::as_str);
                let span = if label.trim().is_empty() {
                    String::new()
                } else {
                    format!("<span class=\"cell-label\" aria-hidden=\"true\">{label}</span>")
                };
                out.push(Event::Html(CowStr::from(format!("<td{style}>{span}"))));
                column += 1;
            }
            Event::End(TagEnd::TableCell) => out.push(Event::Html(CowStr::from("</td>"))),
            _ => {
                if let Some(cell) = head_cell.as_mut() {
                    cell.push(event.clone());
                }
                out.push(event);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulldown_cmark::{Options, Parser};

    fn render(markdown: &str) -> String {
        let events: Vec<Event<'_>> = Parser::new_ext(markdown, Options::ENABLE_TABLES).collect();
        let mut out = String::new();
        html::push_html(&mut out, label_table_cells(events).into_iter());
        out
    }

    #[test]
    fn body_cells_carry_their_headers_and_alignment() {
        let html = render("| | a `x` | b |\n|---|---:|:---|\n| r1 | 1 | 2 |\n| r2 | 3 | 4 |\n");
        assert!(
            html.contains("<th style=\"text-align: right\">a <code>x</code></th>"),
            "{html}"
        );
        assert!(html.contains("<td style=\"text-align: right\"><span class=\"cell-label\" aria-hidden=\"true\">a <code>x</code></span>1</td>"), "{html}");
        assert!(html.contains("<td style=\"text-align: left\"><span class=\"cell-label\" aria-hidden=\"true\">b</span>4</td>"), "{html}");
        // The empty first header gives no label.
        assert!(html.contains("<td>r2</td>"), "{html}");
        assert_eq!(html.matches("<tr>").count(), 3);
    }
}
