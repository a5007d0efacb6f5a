//! Tests of the LaTeX → MathML conversion and its Markdown integration.

use super::checker::check_and_repair;
use super::*;
use pulldown_cmark::{html, Event, Options, Tag, TagEnd};

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
    assert!(
        html.contains("\n<div class=\"math-display\"><math display=\"block\"><mi>y</mi><mo>=</mo>")
    );
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
    assert!(matches!(&out[0], Event::InlineHtml(h) if h.starts_with("<math display=\"inline\">")));
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
