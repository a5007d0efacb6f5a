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
//!
//! Files: this one (the converter), [`events`] (the Markdown integration), [`checker`] (the
//! output check and repair).

mod checker;
mod events;
#[cfg(test)]
mod tests;

pub use events::render_math_events;

use checker::check_and_repair;

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
