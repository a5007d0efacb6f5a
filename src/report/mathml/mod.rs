//! LaTeX math → MathML, at build time: no JavaScript, no network, no fonts shipped.
//!
//! The report's Markdown writes math as `$…$` (inline) and `$$…$$` (display). With
//! [`pulldown_cmark::Options::ENABLE_MATH`] these arrive as [`Event::InlineMath`] and
//! [`Event::DisplayMath`]; [`render_math_events`] replaces them with raw HTML events holding
//! MathML Core markup, which every current browser renders natively.
//!
//! # Converter
//!
//! The conversion is done by the [`pulldown_latex`] crate (pure Rust, MathML Core output, one
//! dependency: `bumpalo`; MSRV 1.74, so it fits this crate's `rust-version`). Every construct
//! the report uses is supported natively, so **no LaTeX is rewritten before conversion**:
//! `\tfrac`, `\Big[`/`\Big|`, `\lVert…\rVert`, `\lvert…\rvert`, `pmatrix`, `\mathrm`,
//! `\operatorname`, `\mathbf`, `\boldsymbol`, `\mathcal`, `\text`, `\left(…\right)`, spacing
//! commands, accents, relations and big operators all convert as they are (see the tests).
//!
//! # Output checking and repair
//!
//! `pulldown-latex` 0.8 reports parse errors by embedding an `<merror>` in its output; here
//! every parse error becomes a [`MathError::Parse`] instead. Its writer also has a few known
//! output flaws, so the generated markup is re-tokenised by a small checker before it is
//! returned (`check_and_repair`):
//!
//! * relations `<` and `>` are written unescaped (`<mo><</mo>`): they are escaped;
//! * `\Big…` delimiters lack a space between two attributes (`stretchy="true"minsize=…`): the
//!   space is inserted;
//! * the argument of `\operatorname{…}` is copied raw (upstream issue #71): anything that
//!   is not a MathML element, or markup that does not nest, is rejected with
//!   [`MathError::Output`] rather than passed into the page.
//!
//! Two typographic touches are made in the same pass. Accents (`\hat`, `\tilde`, …) come out
//! as `<mover><base/><mi>^</mi></mover>`; such an `<mover>` gets `accent="true"` and the
//! accent becomes a non-stretchy `<mo>`, which is how MathML Core sets an accent tight on its
//! base. A slash `<mo>/</mo>` gets zero `lspace`/`rspace`, as TeX sets `/` with no space
//! around it (MathML's operator dictionary spaces it like a binary operator).
//!
//! The output is a pure function of the input (no counters, ids or timestamps), so the
//! report stays byte-for-byte reproducible.
//!
//! # Styling
//!
//! [`MATH_CSS`] is a short optional stylesheet for the page: the display-math wrapper, a
//! math font stack and the matrix cell padding that `pulldown-latex`'s own stylesheet adds.

use pulldown_cmark::{CowStr, Event, Tag, TagEnd};
use pulldown_latex::config::DisplayMode;
use pulldown_latex::{push_mathml, Parser, RenderConfig, Storage};

/// Error converting one LaTeX formula.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MathError {
    /// The LaTeX could not be parsed (unbalanced braces, unknown command, missing argument…).
    #[error("cannot convert LaTeX math `{latex}` to MathML: {message}")]
    Parse {
        /// The offending LaTeX source, as given.
        latex: String,
        /// The converter's message(s), first line of each.
        message: String,
    },
    /// The converter produced markup that is not safe, well-nested MathML.
    #[error("LaTeX math `{latex}` gave malformed MathML: {message}")]
    Output {
        /// The offending LaTeX source, as given.
        latex: String,
        /// What the output check found.
        message: String,
    },
}

/// Optional CSS for pages that embed the MathML produced here: display math as a block that
/// scrolls sideways on narrow screens rather than widening the page, a stack of common
/// OpenType math fonts (named before the generic `math`, which Chromium on Linux may map to a
/// font without a MATH table, so that stretchy brackets would not stretch), and the padding
/// of matrix cells.
pub const MATH_CSS: &str = "\
.math-display{display:block;margin:1em 0;overflow-x:auto;overflow-y:hidden}\n\
math{font-family:'Latin Modern Math','STIX Two Math','Cambria Math','DejaVu Math TeX Gyre',math}\n\
mtable.menv-arraylike>mtr>mtd{padding-left:.4em;padding-right:.4em}\n\
mtable.menv-arraylike>mtr>mtd:first-child{padding-left:0}\n\
mtable.menv-arraylike>mtr>mtd:last-child{padding-right:0}\n";

/// Convert one LaTeX formula (without its `$` delimiters) to a `<math>` element.
///
/// `display` selects `display="block"` (for `$$…$$`) or `display="inline"` (for `$…$`).
/// Errors carry the offending LaTeX; the function never panics on bad input.
pub fn latex_to_mathml(latex: &str, display: bool) -> Result<String, MathError> {
    let storage = Storage::new();
    let events: Vec<_> = Parser::new(latex, &storage).collect();

    let messages: Vec<String> = events
        .iter()
        .filter_map(|e| e.as_ref().err())
        .map(|e| {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default().trim();
            first
                .strip_prefix("parsing error: ")
                .unwrap_or(first)
                .to_string()
        })
        .collect();
    if !messages.is_empty() {
        return Err(MathError::Parse {
            latex: latex.to_string(),
            message: messages.join("; "),
        });
    }

    let config = RenderConfig {
        display_mode: if display {
            DisplayMode::Block
        } else {
            DisplayMode::Inline
        },
        ..RenderConfig::default()
    };
    let mut raw = String::with_capacity(latex.len() * 8 + 64);
    push_mathml(&mut raw, events.into_iter(), config).map_err(|e| MathError::Output {
        latex: latex.to_string(),
        message: e.to_string(),
    })?;

    check_and_repair(&raw).map_err(|message| MathError::Output {
        latex: latex.to_string(),
        message,
    })
}

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

fn display_block(latex: &str) -> Result<String, MathError> {
    Ok(format!(
        "<div class=\"math-display\">{}</div>\n",
        latex_to_mathml(latex, true)?
    ))
}

/// If `events[start]` opens a paragraph whose only content is one display formula (plus
/// line breaks or blank text), return the index of the paragraph's end and the formula.
fn lone_display_math<'e>(events: &'e [Event<'_>], start: usize) -> Option<(usize, &'e str)> {
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

/// MathML Core elements (plus `semantics`/`annotation`) that may appear in the output.
const MATHML_ELEMENTS: &[&str] = &[
    "annotation",
    "annotation-xml",
    "maction",
    "math",
    "menclose",
    "merror",
    "mfrac",
    "mi",
    "mmultiscripts",
    "mn",
    "mo",
    "mover",
    "mpadded",
    "mphantom",
    "mprescripts",
    "mroot",
    "mrow",
    "ms",
    "mspace",
    "msqrt",
    "mstyle",
    "msub",
    "msubsup",
    "msup",
    "mtable",
    "mtd",
    "mtext",
    "mtr",
    "munder",
    "munderover",
    "none",
    "semantics",
];

/// Characters that `pulldown-latex` sets as an accent over its base (`\hat`, `\tilde`, …).
const ACCENTS: &[char] = &[
    '^', '~', '\u{2c6}', '\u{2dc}', '\u{af}', '\u{2c9}', '\u{2d8}', '\u{2c7}', '\u{b4}', '`',
    '\u{2d9}', '\u{a8}', '\u{2da}', '\u{203e}', '\u{2192}', '\u{20d7}', '\u{302}', '\u{303}',
    '\u{304}', '\u{306}', '\u{307}', '\u{308}', '\u{30c}', '\u{301}', '\u{300}',
];

/// One piece of the converter's output.
#[derive(Debug)]
enum Token<'s> {
    Start {
        name: &'s str,
        attrs: Vec<(&'s str, &'s str)>,
        self_closing: bool,
    },
    End(&'s str),
    Text(&'s str),
}

/// Re-tokenise the converter's output and write it back: escape stray `<`, `>` and `&` in
/// text and attribute values, normalise the spacing between attributes, mark accent
/// `<mover>`s, and reject anything that is not exactly one well-nested `<math>` element made
/// of MathML elements, or that contains an `<merror>`.
fn check_and_repair(raw: &str) -> Result<String, String> {
    let mut tokens = tokenize(raw)?;

    // Nesting, allowed elements, one root.
    let mut stack: Vec<(&str, usize)> = Vec::new();
    let mut roots = 0;
    let mut accents = Vec::new();
    for (k, token) in tokens.iter().enumerate() {
        match token {
            Token::Start {
                name, self_closing, ..
            } => {
                if !MATHML_ELEMENTS.contains(name) {
                    return Err(format!("unexpected element <{name}>"));
                }
                if *name == "merror" {
                    return Err("the converter reported an error (<merror>)".to_string());
                }
                if stack.is_empty() {
                    if *name != "math" {
                        return Err(format!("top-level element is <{name}>, not <math>"));
                    }
                    roots += 1;
                }
                if !self_closing {
                    stack.push((name, k));
                }
            }
            Token::End(name) => match stack.pop() {
                Some((open, start)) if open == *name => {
                    if *name == "mover" && is_accent_child(&tokens, start, k) {
                        accents.push((start, k));
                    }
                }
                Some((open, _)) => return Err(format!("</{name}> closes <{open}>")),
                None => return Err(format!("</{name}> without a start tag")),
            },
            Token::Text(text) => {
                if stack.is_empty() && !text.trim().is_empty() {
                    return Err(format!("text {text:?} outside <math>"));
                }
            }
        }
    }
    if let Some((open, _)) = stack.last() {
        return Err(format!("<{open}> is never closed"));
    }
    if roots != 1 {
        return Err(format!("expected one <math> element, found {roots}"));
    }

    // `<mover>base<mi>^</mi></mover>` → `<mover accent="true">base<mo stretchy="false">^</mo></mover>`.
    for (start, end) in accents {
        if let Token::Start { attrs, .. } = &mut tokens[start] {
            attrs.push(("accent", "true"));
        }
        tokens[end - 3] = Token::Start {
            name: "mo",
            attrs: vec![("stretchy", "false")],
            self_closing: false,
        };
        tokens[end - 1] = Token::End("mo");
    }

    // `<mo>/</mo>` → `<mo lspace="0em" rspace="0em">/</mo>`: a slash is an ordinary symbol in
    // TeX, but MathML's operator dictionary would space it like a binary operator.
    for k in 1..tokens.len().saturating_sub(1) {
        if matches!(tokens[k], Token::Text("/")) && matches!(tokens[k + 1], Token::End("mo")) {
            if let Token::Start {
                name: "mo", attrs, ..
            } = &mut tokens[k - 1]
            {
                if attrs.is_empty() {
                    attrs.extend([("lspace", "0em"), ("rspace", "0em")]);
                }
            }
        }
    }

    let mut out = String::with_capacity(raw.len() + 32);
    for token in &tokens {
        match token {
            Token::Start {
                name,
                attrs,
                self_closing,
            } => {
                out.push('<');
                out.push_str(name);
                for (attr, value) in attrs {
                    out.push(' ');
                    out.push_str(attr);
                    out.push_str("=\"");
                    push_escaped(&mut out, value);
                    out.push('"');
                }
                out.push_str(if *self_closing { " />" } else { ">" });
            }
            Token::End(name) => {
                out.push_str("</");
                out.push_str(name);
                out.push('>');
            }
            Token::Text(text) => push_escaped(&mut out, text),
        }
    }
    Ok(out)
}

/// Whether the `<mover>` spanning `tokens[start..=end]` ends in a one-character `<mi>` accent
/// that follows a base.
fn is_accent_child(tokens: &[Token<'_>], start: usize, end: usize) -> bool {
    if end < start + 5 {
        return false; // no room for a base before the accent
    }
    let is_mi_start = matches!(
        &tokens[end - 3],
        Token::Start { name: "mi", attrs, self_closing: false } if attrs.is_empty()
    );
    let is_accent = matches!(&tokens[end - 2], Token::Text(t)
        if t.chars().count() == 1 && t.chars().all(|c| ACCENTS.contains(&c)));
    is_mi_start && is_accent && matches!(tokens[end - 1], Token::End("mi"))
}

/// Split the converter's output into tags and text. A `<` that does not begin a tag is
/// text; tags must be `<name attr="value" …>`, `<name …/>` or `</name>`.
fn tokenize(raw: &str) -> Result<Vec<Token<'_>>, String> {
    let bytes = raw.as_bytes();
    let mut tokens = Vec::new();
    let mut text_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let next_is_alpha = |k: usize| bytes.get(k).is_some_and(u8::is_ascii_alphabetic);
        let closing = bytes[i] == b'<' && bytes.get(i + 1) == Some(&b'/') && next_is_alpha(i + 2);
        if bytes[i] != b'<' || !(closing || next_is_alpha(i + 1)) {
            i += 1;
            continue;
        }
        if text_start < i {
            tokens.push(Token::Text(&raw[text_start..i]));
        }
        let name_start = i + 1 + usize::from(closing);
        let name_end = name_start + name_len(&raw[name_start..]);
        let name = &raw[name_start..name_end];
        let mut j = name_end;
        if closing {
            j += raw[j..].len() - raw[j..].trim_start().len();
            if bytes.get(j) != Some(&b'>') {
                return Err(format!("malformed end tag </{name}"));
            }
            tokens.push(Token::End(name));
            i = j + 1;
            text_start = i;
            continue;
        }
        let mut attrs = Vec::new();
        let self_closing = loop {
            j += raw[j..].len() - raw[j..].trim_start().len();
            match bytes.get(j) {
                Some(b'>') => break false,
                Some(b'/') if bytes.get(j + 1) == Some(&b'>') => {
                    j += 1;
                    break true;
                }
                Some(c) if c.is_ascii_alphabetic() => {
                    let attr_end = j + name_len(&raw[j..]);
                    let attr = &raw[j..attr_end];
                    if !raw[attr_end..].starts_with("=\"") {
                        return Err(format!(
                            "attribute {attr} of <{name}> is not name=\"value\""
                        ));
                    }
                    let value_start = attr_end + 2;
                    let Some(len) = raw[value_start..].find('"') else {
                        return Err(format!("unterminated attribute {attr} of <{name}>"));
                    };
                    attrs.push((attr, &raw[value_start..value_start + len]));
                    j = value_start + len + 1;
                }
                _ => return Err(format!("malformed start tag <{name}")),
            }
        };
        tokens.push(Token::Start {
            name,
            attrs,
            self_closing,
        });
        i = j + 1;
        text_start = i;
    }
    if text_start < bytes.len() {
        tokens.push(Token::Text(&raw[text_start..]));
    }
    Ok(tokens)
}

/// Length of the element or attribute name at the start of `s`.
fn name_len(s: &str) -> usize {
    s.bytes()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b':' | b'_'))
        .count()
}

/// Append `s`, escaping `<`, `>`, `"` and any `&` that does not start a character reference.
fn push_escaped(out: &mut String, s: &str) {
    let mut rest = s;
    while let Some(pos) = rest.find(['<', '>', '"', '&']) {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos + 1..];
        match rest.as_bytes()[pos] {
            b'<' => out.push_str("&lt;"),
            b'>' => out.push_str("&gt;"),
            b'"' => out.push_str("&quot;"),
            _ if starts_with_reference(tail) => out.push('&'),
            _ => out.push_str("&amp;"),
        }
        rest = tail;
    }
    out.push_str(rest);
}

/// Whether `s` (the text after an `&`) begins a character reference such as `nbsp;` or `#x3C;`.
fn starts_with_reference(s: &str) -> bool {
    let Some(end) = s.find(';') else {
        return false;
    };
    let body = &s[..end];
    let named = !body.is_empty() && body.bytes().all(|c| c.is_ascii_alphanumeric());
    let numeric = body.strip_prefix('#').is_some_and(|n| {
        let (digits, hex) = match n.strip_prefix(['x', 'X']) {
            Some(h) => (h, true),
            None => (n, false),
        };
        !digits.is_empty()
            && digits.bytes().all(|c| {
                if hex {
                    c.is_ascii_hexdigit()
                } else {
                    c.is_ascii_digit()
                }
            })
    });
    end <= 32 && (named || numeric)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulldown_cmark::{html, Options};

    fn inline(latex: &str) -> String {
        latex_to_mathml(latex, false).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Every construct the report template uses, and those planned for later reports, with a
    /// piece of the MathML that shows it was understood (not passed through as text).
    const CONSTRUCTS: &[(&str, &str)] = &[
        // Used by templates/report.md.j2.
        (r"\tfrac12", "<mfrac><mn>1</mn><mn>2</mn></mfrac>"),
        (r"\tfrac{a}{b}", r#"<mrow displaystyle="false" scriptlevel="0"><mfrac>"#),
        (r"\Big[ x \Big]", r#"stretchy="true" minsize="1.8em" maxsize="1.8em">[</mo>"#),
        (r"\Big| x \Big|", r#"maxsize="1.8em">|</mo>"#),
        (r"\lVert y \rVert^2", "<msup><mo symmetric=\"false\" stretchy=\"false\">‖</mo>"),
        (
            r"\begin{pmatrix}0 & 0\\ 0 & I_m/\sigma_b^2\end{pmatrix}",
            "<mtr><mtd><mn>0</mn></mtd><mtd><mn>0</mn></mtd></mtr>",
        ),
        (r"\mathrm{Time}_{ij}", r#"<mi mathvariant="normal">T</mi>"#),
        (r"a\qquad b", r#"<mspace width="2em" />"#),
        (r"a\quad b", r#"<mspace width="1em" />"#),
        (
            r"\hat\beta",
            r#"<mover accent="true"><mi>β</mi><mo stretchy="false">^</mo></mover>"#,
        ),
        (r"D^\top D", "<msup><mi>D</mi><mi>⊤</mi></msup>"),
        (r"b_i \sim N(0, \sigma_b^2)", "<mo>∼</mo>"),
        (r"\varepsilon_{ij}", "<msub><mi>ε</mi>"),
        (r"\log\sigma", "<mi>log</mi><mo>\u{2061}</mo>"),
        (
            r"\sqrt{2/m}",
            r#"<msqrt><mrow><mn>2</mn><mo lspace="0em" rspace="0em">/</mo><mi>m</mi></mrow></msqrt>"#,
        ),
        (r"a \approx b", "<mo>≈</mo>"),
        (r"\beta_1\,x", "<mspace width=\"0.16666667em\" />"),
        (r"[X\;Z]", "<mi>X</mi><mspace"),
        (r"m\log 2\pi", "<mn>2</mn><mi>π</mi>"),
        (r"\sigma_b^2\sqrt{2/m} \approx 0.5", "<msubsup><mi>σ</mi><mi>b</mi><mn>2</mn></msubsup>"),
        (r"a - 2\log L", "<mi>a</mi><mo>−</mo><mn>2</mn>"),
        // Planned for later reports.
        (r"\frac{a}{b}", "<mfrac><mrow><mi>a</mi></mrow><mrow><mi>b</mi></mrow></mfrac>"),
        (r"\left( x \right)", r#"<mrow><mo stretchy="true">(</mo><mi>x</mi><mo stretchy="true">)</mo></mrow>"#),
        (r"\operatorname{tr}(A)", "<mi>tr</mi><mo>\u{2061}</mo>"),
        (r"\mathbf{X}", "<mi>𝐗</mi>"),
        (r"\Lambda_\theta", r#"<msub><mi mathvariant="normal">Λ</mi><mi>θ</mi></msub>"#),
        (r"\lvert x \rvert", r#"<mo symmetric="false" stretchy="false">|</mo><mi>x</mi>"#),
        (r"\sum_{i=1}^n x_i", "<msubsup><mo movablelimits=\"false\">∑</mo><mrow><mi>i</mi><mo>=</mo><mn>1</mn></mrow><mi>n</mi></msubsup>"),
        (r"a \ne b", "<mo>≠</mo>"),
        (r"a \le b", "<mo>≤</mo>"),
        (r"a \ge b", "<mo>≥</mo>"),
        (r"a \times b", "<mo>×</mo>"),
        (r"a \cdot b", "<mo>⋅</mo>"),
        (r"1, \ldots, n", "<mi>…</mi>"),
        (r"\text{if } x", "<mtext>if&nbsp;</mtext>"),
        (r"\hat{b}", r#"<mover accent="true"><mrow><mi>b</mi></mrow><mo stretchy="false">^</mo></mover>"#),
        (r"\tilde u", r#"<mover accent="true"><mi>u</mi><mo stretchy="false">~</mo></mover>"#),
        (r"\boldsymbol{\beta}", "<mi>𝜷</mi>"),
        (r"\mathcal{N}(0, 1)", "<mi>𝒩</mi>"),
        // Output repairs.
        (r"p < 0.05", "<mo>&lt;</mo>"),
        (r"a > b", "<mo>&gt;</mo>"),
        (r"\text{a<b & c}", "<mtext>a&lt;b &amp; c</mtext>"),
        (r"\operatorname{a&b}", "<mi>a&amp;b</mi>"),
    ];

    #[test]
    fn each_construct_converts() {
        for (latex, expected) in CONSTRUCTS {
            let mathml = inline(latex);
            assert!(
                mathml.starts_with(r#"<math display="inline">"#) && mathml.ends_with("</math>"),
                "{latex}: {mathml}"
            );
            assert!(
                mathml.contains(expected),
                "{latex}:\n  got  {mathml}\n  want …{expected}…"
            );
            assert!(!mathml.contains("merror"), "{latex}: {mathml}");
        }
    }

    #[test]
    fn output_is_well_formed_and_a_fixed_point_of_the_checker() {
        for (latex, _) in CONSTRUCTS {
            for display in [false, true] {
                let mathml = latex_to_mathml(latex, display).unwrap();
                assert_eq!(check_and_repair(&mathml).as_deref(), Ok(mathml.as_str()));
                let runs_together = mathml.match_indices('"').any(|(k, _)| {
                    mathml
                        .as_bytes()
                        .get(k + 1)
                        .is_some_and(u8::is_ascii_alphabetic)
                        && mathml.as_bytes()[k - 1] != b'='
                });
                assert!(!runs_together, "attributes run together: {mathml}");
            }
        }
    }

    #[test]
    fn template_display_formulas_convert() {
        let template = include_str!("../../../templates/report.md.j2");
        let formulas: Vec<&str> = template.split("$$").skip(1).step_by(2).collect();
        assert!(!formulas.is_empty(), "the template has display formulas");
        for latex in formulas {
            let mathml = latex_to_mathml(latex, true).unwrap_or_else(|e| panic!("{e}"));
            assert!(mathml.starts_with(r#"<math display="block">"#));
        }
        // The inline formulas, with each template expression `{{ … }}` standing for a number.
        let mut text = template.to_string();
        while let (Some(a), Some(b)) = (text.find("{{"), text.find("}}")) {
            assert!(a < b, "unbalanced template expression");
            text.replace_range(a..b + 2, "1.5");
        }
        let mut inline_count = 0;
        for (n, piece) in text.split("$$").step_by(2).enumerate() {
            for latex in piece.split('$').skip(1).step_by(2) {
                latex_to_mathml(latex, false)
                    .unwrap_or_else(|e| panic!("inline formula in part {n}: {e}"));
                inline_count += 1;
            }
        }
        assert!(inline_count > 0, "the template has inline formulas");
    }

    #[test]
    fn display_and_inline_attribute() {
        assert!(latex_to_mathml("x^2", true)
            .unwrap()
            .starts_with(r#"<math display="block">"#));
        assert!(latex_to_mathml("x^2", false)
            .unwrap()
            .starts_with(r#"<math display="inline">"#));
    }

    #[test]
    fn deterministic() {
        let latex = r"f_w(\sigma, \sigma_b) = \tfrac12\Big[\tfrac{\lVert y - X\hat\beta\rVert^2}{\sigma^2}\Big]";
        assert_eq!(latex_to_mathml(latex, true), latex_to_mathml(latex, true));
    }

    #[test]
    fn bad_latex_is_an_error_not_a_panic() {
        for latex in [
            "{a",
            "a}",
            r"\frac{a}",
            r"\left( x",
            r"\begin{pmatrix} a",
            r"\nosuchcommand",
            "x^",
            r"\Big",
        ] {
            match latex_to_mathml(latex, false) {
                Err(e @ MathError::Parse { .. }) => {
                    assert!(
                        e.to_string().contains(latex),
                        "message names the LaTeX: {e}"
                    )
                }
                other => panic!("{latex}: expected a parse error, got {other:?}"),
            }
        }
        let e = latex_to_mathml("{a", true).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot convert LaTeX math `{a` to MathML: unbalanced group found, expected it to be closed with `}`"
        );
    }

    #[test]
    fn raw_markup_from_the_converter_is_rejected() {
        for latex in [
            r"\operatorname{<b>}",
            r"\operatorname{</math><script>alert(1)</script>}",
        ] {
            assert!(
                matches!(latex_to_mathml(latex, false), Err(MathError::Output { .. })),
                "{latex}"
            );
        }
    }

    #[test]
    fn checker_rejects_malformed_markup() {
        for bad in [
            "",
            "<mi>x</mi>",
            "<math><mi>x</math>",
            "<math><mi>x</mi>",
            "<math></math><math></math>",
            "<math><b>x</b></math>",
            "<math><merror><mtext>e</mtext></merror></math>",
            "<math><mi a=b>x</mi></math>",
            "<math><mi a=\"b>x</mi></math>",
            "x<math></math>",
        ] {
            assert!(check_and_repair(bad).is_err(), "{bad:?}");
        }
    }

    fn render(markdown: &str) -> Result<String, MathError> {
        let options = Options::ENABLE_MATH | Options::ENABLE_TABLES;
        let events = render_math_events(pulldown_cmark::Parser::new_ext(markdown, options))?;
        let mut out = String::new();
        html::push_html(&mut out, events.into_iter());
        Ok(out)
    }

    #[test]
    fn markdown_math_becomes_mathml() {
        let html =
            render("For $i$ and $\\sigma_b^2$:\n\n$$y = X\\beta$$\n\n| a |\n|---|\n| $\\beta$ |\n")
                .unwrap();
        assert!(html.starts_with(
            "<p>For <math display=\"inline\"><mi>i</mi></math> and <math display=\"inline\">"
        ));
        assert!(html.contains(
            "\n<div class=\"math-display\"><math display=\"block\"><mi>y</mi><mo>=</mo>"
        ));
        assert!(!html.contains("<p><div"), "{html}");
        assert!(html.contains("<td><math display=\"inline\"><mi>β</mi></math></td>"));
        assert!(!html.contains('$'), "{html}");
    }

    #[test]
    fn display_math_inside_a_paragraph_stays_valid_html() {
        let html = render("before $$x$$ after\n").unwrap();
        assert_eq!(
            html,
            "<p>before <span class=\"math-display\"><math display=\"block\"><mi>x</mi></math></span> after</p>\n"
        );
    }

    #[test]
    fn events_are_replaced_one_for_one() {
        let events = vec![
            Event::InlineMath("x".into()),
            Event::DisplayMath("y".into()),
            Event::Text("z".into()),
        ];
        let out = render_math_events(events.into_iter()).unwrap();
        assert!(
            matches!(&out[0], Event::InlineHtml(h) if h.starts_with("<math display=\"inline\">"))
        );
        assert!(
            matches!(&out[1], Event::InlineHtml(h) if h.starts_with("<span class=\"math-display\">"))
        );
        assert_eq!(out[2], Event::Text("z".into()));

        let events = vec![
            Event::Start(Tag::Paragraph),
            Event::DisplayMath("y".into()),
            Event::End(TagEnd::Paragraph),
        ];
        let out = render_math_events(events.into_iter()).unwrap();
        assert_eq!(out.len(), 1);
        assert!(matches!(&out[0], Event::Html(h)
            if h.starts_with("<div class=\"math-display\"><math display=\"block\">")
            && h.ends_with("</math></div>\n")));
    }

    #[test]
    fn markdown_errors_propagate() {
        let err = render("ok $x$ then $\\frac{a}$\n").unwrap_err();
        assert!(err.to_string().contains(r"\frac{a}"), "{err}");
    }
}
