//! Text from the data on its way into the report's files. Country names (and anything else a
//! data file spells) are the user's, not the report's: they may hold characters that end an
//! SVG text node, start Markdown emphasis or a table cell, open TeX math, or are not allowed
//! in XML at all. Two rules, each applied where it belongs:
//!
//! - [`visible`]: control characters (which XML 1.0 forbids, so one of them makes an SVG or
//!   the HTML page unparseable) and the bidirectional-override characters (which reorder
//!   what a reader sees) are replaced by a visible `\u{…}` escape. It is applied to every SVG,
//!   Markdown and HTML file as a whole after rendering; the report's own text contains none.
//! - [`markdown_text`] (the templates' `text` filter) and [`markdown_code`] (`code`): a value shown as plain text in
//!   Markdown has every ASCII punctuation character that CommonMark or its extensions give a
//!   meaning (emphasis, code, links, HTML, entities, table cells, `$` math) backslash-escaped,
//!   so it reaches the HTML as the same characters. XML's `<`, `&` and quotes inside SVG text
//!   are escaped by plotters.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` must not reach a rendered file as itself.
fn hidden(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with control and bidirectional-override characters written as `\u{…}`.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hidden(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `text` as literal Markdown text: [`visible`], then the punctuation Markdown interprets
/// backslash-escaped.
pub fn markdown_text(text: &str) -> String {
    let text = visible(text);
    let mut out = String::with_capacity(text.len() + 4);
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`'
                | '*'
                | '_'
                | '{'
                | '}'
                | '['
                | ']'
                | '('
                | ')'
                | '<'
                | '>'
                | '&'
                | '|'
                | '$'
                | '~'
                | '#'
                | '!'
                | '^'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `text` as a Markdown code span: [`visible`], between backtick fences one longer than the
/// longest run of backticks inside (padded with spaces when it starts or ends with one), so
/// that no spelling can close the span early.
pub fn markdown_code(text: &str) -> String {
    let text = visible(text);
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_are_unchanged() {
        assert_eq!(markdown_text("UNITED KINGDOM"), "UNITED KINGDOM");
        assert_eq!(markdown_text("U.S.A."), "U.S.A.");
        assert!(matches!(visible("SWEDEN"), Cow::Borrowed(_)));
    }

    #[test]
    fn controls_and_overrides_become_visible() {
        assert_eq!(
            visible("A\u{1}B\u{202e}C\u{7f}"),
            "A\\u{1}B\\u{202e}C\\u{7f}"
        );
        assert_eq!(visible("line\nnext\tcell"), "line\nnext\tcell");
    }

    #[test]
    fn markdown_metacharacters_are_escaped() {
        assert_eq!(markdown_text("a|b*c_d"), "a\\|b\\*c\\_d");
        assert_eq!(markdown_text("<b>&amp;"), "\\<b\\>\\&amp;");
        assert_eq!(markdown_text("$x$ \\alpha"), "\\$x\\$ \\\\alpha");
        assert_eq!(markdown_text("\u{1}"), "\\\\u\\{1\\}");
    }

    #[test]
    fn code_spans_cannot_be_closed_early() {
        assert_eq!(markdown_code("gasoline.csv"), "`gasoline.csv`");
        assert_eq!(markdown_code("a`b"), "``a`b``");
        assert_eq!(markdown_code("`x``"), "``` `x`` ```");
    }
}
