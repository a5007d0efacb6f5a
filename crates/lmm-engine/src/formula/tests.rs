use super::*;
use proptest::prelude::*;

fn parse(text: &str) -> Formula {
    match Formula::parse(text) {
        Ok(f) => f,
        Err(e) => panic!("{e}"),
    }
}

fn error(text: &str) -> FormulaError {
    match Formula::parse(text) {
        Ok(f) => panic!("{text:?} parsed as {f}"),
        Err(e) => e,
    }
}

fn names(terms: &TermSet) -> Vec<String> {
    terms.terms().iter().map(Term::to_string).collect()
}

fn normal(text: &str) -> String {
    parse(text).to_string()
}

fn same_model(a: &Formula, b: &Formula) -> bool {
    a.response() == b.response() && a.fixed() == b.fixed() && a.random() == b.random()
}

#[test]
fn sleepstudy() {
    let f = parse("Reaction ~ Days + (Days | Subject)");
    assert_eq!(f.text(), "Reaction ~ Days + (Days | Subject)");
    assert_eq!(f.response(), "Reaction");
    assert!(f.fixed().intercept());
    assert_eq!(names(f.fixed()), ["Days"]);
    assert_eq!(f.random().len(), 1);
    let r = &f.random()[0];
    assert!(r.terms().intercept());
    assert_eq!(names(r.terms()), ["Days"]);
    assert_eq!(r.group().variables(), ["Subject"]);
    assert_eq!(f.to_string(), "Reaction ~ 1 + Days + (1 + Days | Subject)");
    assert_eq!(f.used_columns(), ["Reaction", "Days", "Subject"]);
    assert_eq!(f.position_of("Days"), Some(11));
    assert_eq!(f.position_of("Subject"), Some(26));
    assert_eq!(f.position_of("nope"), None);
}

#[test]
fn intercept_control() {
    assert_eq!(normal("y ~ x"), "y ~ 1 + x");
    assert_eq!(normal("y ~ 1"), "y ~ 1");
    assert_eq!(normal("y ~ 0 + x"), "y ~ 0 + x");
    assert_eq!(normal("y ~ -1 + x"), "y ~ 0 + x");
    assert_eq!(normal("y ~ x - 1"), "y ~ 0 + x");
    assert_eq!(normal("y ~ x + 0"), "y ~ 0 + x");
    assert_eq!(normal("y ~ 0 + x + 1"), "y ~ 1 + x");
    assert_eq!(normal("y ~ 0"), "y ~ 0");
    assert_eq!(normal("y ~ 1 + (1|g)"), "y ~ 1 + (1 | g)");
}

#[test]
fn crossing_ordering_and_duplicates() {
    assert_eq!(normal("y ~ a*b"), "y ~ 1 + a + b + a:b");
    assert_eq!(
        normal("y ~ a*b*c"),
        "y ~ 1 + a + b + c + a:b + a:c + b:c + a:b:c"
    );
    assert_eq!(normal("y ~ a:b + c + a"), "y ~ 1 + c + a + a:b");
    assert_eq!(normal("y ~ a + a"), "y ~ 1 + a");
    assert_eq!(normal("y ~ b:a + a*b"), "y ~ 1 + a + b + b:a");
    assert_eq!(normal("y ~ a:a"), "y ~ 1 + a");
    assert_eq!(normal("y ~ a:b:c + x"), "y ~ 1 + x + a:b:c");
    assert_eq!(normal("y ~ a/b"), "y ~ 1 + a + a:b");
    assert_eq!(normal("y ~ (a + b):c"), "y ~ 1 + a:c + b:c");
    assert_eq!(normal("y ~ (a + b)*c"), "y ~ 1 + a + b + c + a:c + b:c");
    assert_eq!(
        normal("y ~ (a + b):(c + d)"),
        "y ~ 1 + a:c + a:d + b:c + b:d"
    );
    assert_eq!(normal("y ~ (a + b)/c"), "y ~ 1 + a + b + a:b:c");
    // `:` binds tighter than `*`.
    assert_eq!(normal("y ~ a*b:c"), "y ~ 1 + a + b:c + a:b:c");
}

#[test]
fn random_terms() {
    assert_eq!(normal("y ~ (1|g)"), "y ~ 1 + (1 | g)");
    assert_eq!(normal("y ~ x + (x|g)"), "y ~ 1 + x + (1 + x | g)");
    assert_eq!(normal("y ~ (0 + x|g)"), "y ~ 1 + (0 + x | g)");
    assert_eq!(normal("y ~ (-1 + x|g)"), "y ~ 1 + (0 + x | g)");
    assert_eq!(normal("y ~ (1 + x || g)"), "y ~ 1 + (1 | g) + (0 + x | g)");
    assert_eq!(
        normal("y ~ (x*z || g)"),
        "y ~ 1 + (1 | g) + (0 + x | g) + (0 + z | g) + (0 + x:z | g)"
    );
    assert_eq!(normal("y ~ (0 + x || g)"), "y ~ 1 + (0 + x | g)");
    // lme4's nesting: the inner level first, `a/b/c` is `a`, `b:a`, `c:(b:a)`.
    assert_eq!(normal("y ~ (1 | a/b)"), "y ~ 1 + (1 | a) + (1 | b:a)");
    assert_eq!(
        normal("y ~ (1 | a/b/c)"),
        "y ~ 1 + (1 | a) + (1 | b:a) + (1 | c:b:a)"
    );
    let groups: Vec<String> = parse("y ~ (1 | a/b/c) + (1 | d:e/f)")
        .random()
        .iter()
        .map(|r| r.group().name().to_owned())
        .collect();
    assert_eq!(groups, ["a", "b:a", "c:(b:a)", "d:e", "f:(d:e)"]);
    assert_eq!(normal("y ~ (1 | a & b)"), "y ~ 1 + (1 | a:b)");
    assert_eq!(normal("y ~ (1 | a:b)"), "y ~ 1 + (1 | a:b)");
    assert_eq!(normal("y ~ (1 | a:b/c)"), "y ~ 1 + (1 | a:b) + (1 | c:a:b)");
    assert_eq!(
        normal("y ~ (1 + x || a/b)"),
        "y ~ 1 + (1 | a) + (1 | b:a) + (0 + x | a) + (0 + x | b:a)"
    );
    let f = parse("y ~ (1 + x*z | g)");
    assert_eq!(names(f.random()[0].terms()), ["x", "z", "x:z"]);
    assert_eq!(
        parse("y ~ x + (1|a/b)").used_columns(),
        ["y", "x", "a", "b"]
    );
}

#[test]
fn names_and_backquotes() {
    let f = parse("`log y` ~ `weird name` + a.b_2 + .x + (1 | `my group`)");
    assert_eq!(f.response(), "log y");
    assert_eq!(names(f.fixed()), ["`weird name`", "a.b_2", ".x"]);
    assert_eq!(f.fixed().terms()[0].variables(), ["weird name"]);
    assert_eq!(
        f.to_string(),
        "`log y` ~ 1 + `weird name` + a.b_2 + .x + (1 | `my group`)"
    );
    assert_eq!(f.position_of("weird name"), Some(10));
    assert!(same_model(&f, &parse(&f.to_string())));
    // A backquoted `1` is a variable, not the intercept.
    assert_eq!(normal("y ~ `1`"), "y ~ 1 + `1`");
}

#[test]
fn calls_are_variables_named_as_r_deparses_them() {
    let f = parse(
        "log(Reaction) ~ Time*factor(Diet) + poly(Days,2) + I(Days^2) + (1 + scale(Days)|Subject)",
    );
    assert_eq!(f.response(), "log(Reaction)");
    assert_eq!(
        names(f.fixed()),
        [
            "Time",
            "factor(Diet)",
            "poly(Days, 2)",
            "I(Days^2)",
            "Time:factor(Diet)"
        ]
    );
    assert_eq!(names(f.random()[0].terms()), ["scale(Days)"]);
    assert_eq!(
        f.used_columns(),
        ["Reaction", "Time", "Diet", "Days", "Subject"]
    );
    assert_eq!(f.position_of("Diet"), Some(28));
    assert!(f
        .transform("factor(Diet)")
        .is_some_and(Transform::is_factor));
    assert!(f.transform("Time").is_none());
    assert!(matches!(
        f.transform("poly(Days, 2)"),
        Some(Transform::Poly {
            degree: 2,
            raw: false,
            ..
        })
    ));
    assert_eq!(
        f.to_string(),
        "log(Reaction) ~ 1 + Time + factor(Diet) + poly(Days, 2) + I(Days^2) + \
         Time:factor(Diet) + (1 + scale(Days) | Subject)"
    );
    assert!(same_model(&f, &parse(&f.to_string())));

    // R's deparse: spaces around + - * /, none around ^, named arguments with ' = '.
    for (written, label) in [
        ("offset(2*Days)", "offset(2 * Days)"),
        ("log( x,base=2 )", "log(x, base = 2)"),
        ("poly(x, 3, raw=T)", "poly(x, 3, raw = T)"),
        ("poly(x, degree = 2)", "poly(x, degree = 2)"),
        ("scale(x,scale=FALSE)", "scale(x, scale = FALSE)"),
        ("I(-x^2/(1+x))", "I(-x^2/(1 + x))"),
        ("I(1e5*x)", "I(1e+05 * x)"),
        ("I(0.50*`my x`)", "I(0.5 * `my x`)"),
        ("as.factor(g)", "as.factor(g)"),
        ("log1p(abs(x - 1))", "log1p(abs(x - 1))"),
    ] {
        let f = parse(&format!("y ~ {written} + z"));
        let got: Vec<String> = f
            .fixed()
            .terms()
            .iter()
            .map(Term::to_string)
            .chain(f.offsets().iter().map(|(l, _)| l.clone()))
            .collect();
        assert!(got.contains(&label.to_owned()), "{written}: {got:?}");
        assert!(same_model(&f, &parse(&f.to_string())), "{written}");
    }
    // `T` in `raw = T` is TRUE, not a column.
    assert_eq!(parse("y ~ poly(x, 2, raw = T)").used_columns(), ["y", "x"]);
    let f = parse("y ~ x + offset(log(n)) + (1|g)");
    assert_eq!(f.offsets().len(), 1);
    assert_eq!(f.offsets()[0].0, "offset(log(n))");
    assert_eq!(f.used_columns(), ["y", "x", "n", "g"]);
    assert_eq!(f.to_string(), "y ~ 1 + x + offset(log(n)) + (1 | g)");
}

#[test]
fn formula_power_is_interaction_up_to_a_degree() {
    assert_eq!(normal("y ~ x^2"), "y ~ 1 + x");
    assert_eq!(normal("y ~ (a + b)^2"), "y ~ 1 + a + b + a:b");
    assert_eq!(
        normal("y ~ (a + b + c)^2"),
        "y ~ 1 + a + b + c + a:b + a:c + b:c"
    );
    assert_eq!(
        normal("y ~ (a + b + c)^3"),
        "y ~ 1 + a + b + c + a:b + a:c + b:c + a:b:c"
    );
    assert_eq!(normal("y ~ (a + b)^5"), "y ~ 1 + a + b + a:b");
}

#[test]
fn whitespace_is_free() {
    assert_eq!(
        normal("  y~x*z+( 1+x ||g )\t"),
        "y ~ 1 + x + z + x:z + (1 | g) + (0 + x | g)"
    );
}

#[test]
fn error_display_has_caret() {
    let e = error("y ~ 1 + x + ");
    assert_eq!(e.position, 12);
    assert_eq!(
        e.to_string(),
        "formula syntax error at column 12: expected a variable name after '+'\n  \
             y ~ 1 + x + \n              ^"
    );
}

/// (formula, expected position, a fragment of the message)
const ERRORS: &[(&str, usize, &str)] = &[
    ("", 0, "empty formula"),
    ("   ", 3, "empty formula"),
    ("y x", 2, "missing '~'"),
    ("y", 1, "missing '~'"),
    ("~ x", 0, "missing response"),
    ("y ~", 3, "right-hand side is empty"),
    ("y ~   ", 6, "right-hand side is empty"),
    ("y + z ~ x", 2, "single variable"),
    ("1 ~ x", 0, "expected the response"),
    ("y ~ x ~ z", 6, "only one '~'"),
    ("y ~ (x + z", 4, "never closed"),
    ("y ~ (1 | g", 4, "never closed"),
    ("y ~ x)", 5, "no matching '('"),
    ("y ~ x + (1 | g))", 15, "no matching '('"),
    ("y ~ 1 | g", 6, "outside parentheses"),
    ("y ~ x || g", 6, "outside parentheses"),
    ("y ~ ( | g)", 6, "empty random-effects term"),
    ("y ~ (0 | g)", 4, "empty random-effects term"),
    ("y ~ (-1 || g)", 4, "empty random-effects term"),
    ("y ~ x +", 7, "expected a variable name after '+'"),
    ("y ~ x *", 7, "expected a variable name after '*'"),
    ("y ~ x:", 6, "expected a variable name after ':'"),
    ("y ~ x + + z", 8, "found '+'"),
    ("y ~ (1 | )", 9, "bad grouping factor"),
    ("y ~ (1 |", 8, "expected a grouping factor after '|'"),
    ("y ~ (1 | g +", 11, "bad grouping factor"),
    ("y ~ (1 | g + h)", 11, "bad grouping factor"),
    ("y ~ (1 | 1)", 9, "bad grouping factor"),
    ("y ~ (1 | g*h)", 10, "bad grouping factor"),
    ("y ~ (1 | (g))", 9, "bad grouping factor"),
    ("y ~ (1 | g/)", 11, "bad grouping factor"),
    ("y ~ x $ z", 6, "unexpected character '$'"),
    ("y ~ é", 4, "unexpected character 'é'"),
    ("y ~ x^0", 6, "whole number of at least 1"),
    ("y ~ x^z", 6, "whole number of at least 1"),
    ("y ~ x^1.5", 6, "whole number of at least 1"),
    ("y ~ x %in% g", 6, "'%'"),
    (
        "y ~ lg(x)",
        4,
        "unknown function lg(): a formula can use factor(), as.factor(), log()",
    ),
    ("y ~ factor(x, y)", 4, "factor() takes 1 argument, not 2"),
    (
        "y ~ factor(levels = x)",
        4,
        "factor() has no argument 'levels'",
    ),
    ("y ~ log(x, 1)", 4, "base of log()"),
    ("y ~ log(x, z)", 4, "base of log()"),
    (
        "y ~ log(x, 2, 3)",
        4,
        "log() takes a variable and an optional base",
    ),
    ("y ~ sqrt(x, 2)", 4, "sqrt() takes 1 argument, not 2"),
    ("y ~ exp()", 4, "exp() takes 1 argument, not 0"),
    ("y ~ poly(x, 0)", 4, "whole number from 1 to 20"),
    ("y ~ poly(x, 2.5)", 4, "whole number from 1 to 20"),
    ("y ~ poly(x, z)", 4, "degree of poly() must be a number"),
    ("y ~ poly(x, 2, TRUE)", 4, "several variables"),
    ("y ~ poly(x, 2, raw = 1)", 4, "raw must be TRUE or FALSE"),
    ("y ~ poly(x, 2, coefs = 1)", 4, "no argument 'coefs'"),
    ("y ~ scale(x, scale = 2)", 4, "scale must be TRUE or FALSE"),
    ("y ~ log(factor(x))", 4, "factor() cannot be used inside"),
    ("y ~ I(poly(x, 2))", 4, "poly() cannot be used inside"),
    ("y ~ log(TRUE)", 4, "TRUE is not a number"),
    (
        "y ~ I(a:b)",
        7,
        "only + - * / ^ and parentheses are arithmetic",
    ),
    ("y ~ I(a | b)", 8, "only + - * / ^"),
    ("y ~ I(a + )", 10, "expected a number or a variable"),
    ("y ~ I(a", 5, "never closed"),
    ("y ~ I((a + b)", 5, "never closed"),
    ("y ~ I(2x)", 6, "bad number '2x'"),
    ("y ~ log(x) z", 11, "expected an operator"),
    ("y ~ offset(x):z", 4, "offset() cannot be combined"),
    (
        "y ~ (1 + offset(x) | g)",
        9,
        "offset() must be a term of the fixed part",
    ),
    ("y ~ offset(x, z)", 4, "offset() takes one argument"),
    ("y ~ I(offset(x))", 4, "offset() cannot be used inside"),
    ("offset(y) ~ x", 0, "offset() cannot be the response"),
    ("factor(y) ~ x", 0, "response must be numeric"),
    (
        "y ~ (1 | factor(g))",
        9,
        "grouping factor must be a column name",
    ),
    ("y ~ `log(x)` + log(x)", 4, "both a column name and a call"),
    ("y ~ 2", 4, "unexpected number '2'"),
    ("y ~ 1.5 + x", 4, "unexpected number '1.5'"),
    ("y ~ x - z", 8, "only '- 1'"),
    ("y ~ x - 0", 8, "'- 0'"),
    ("y ~ 1:x", 4, "'1' cannot be combined"),
    ("y ~ (1|g):x", 4, "random-effects term cannot be combined"),
    ("y ~ x*(1|g)", 6, "random-effects term cannot be combined"),
    ("y ~ ((1|g))", 5, "cannot be nested"),
    ("y ~ (x + (1|h) | g)", 9, "cannot be nested"),
    ("y ~ (1 + x)", 5, "only on the left of '|'"),
    ("y ~ x z", 6, "expected an operator"),
    ("y ~ `x", 4, "unterminated backquoted name"),
    ("y ~ ``", 4, "empty backquoted name"),
    ("y ~ ()", 5, "expected a variable name after '('"),
];

#[test]
fn errors_have_positions() {
    for &(text, position, fragment) in ERRORS {
        let e = error(text);
        assert_eq!(e.position, position, "{text:?}: {e}");
        assert!(e.message.contains(fragment), "{text:?}: {e}");
        assert_eq!(e.formula, text);
    }
}

#[test]
fn limits_guard_against_hostile_input() {
    let deep = format!("y ~ {}x{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(error(&deep).message.contains("nested too deeply"));
    for hostile in [
        format!("y ~ I({}x)", "-".repeat(100_000)),
        format!("y ~ I(x{})", "+x".repeat(100_000)),
        format!("y ~ I(x{})", "^x".repeat(100_000)),
        format!("y ~ I({}x{})", "(".repeat(100_000), ")".repeat(100_000)),
        format!("y ~ {}x{}", "log(".repeat(100_000), ")".repeat(100_000)),
    ] {
        let message = error(&hostile).message;
        assert!(
            message.contains("at most 256 operators") || message.contains("nested too deeply"),
            "{message}"
        );
    }
    let vars: Vec<String> = (0..20).map(|i| format!("x{i}")).collect();
    let wide = format!("y ~ {}", vars.join("*"));
    assert!(error(&wide).message.contains("more than"));
}

#[test]
fn unicode_positions_are_characters() {
    let e = error("`é` ~ é");
    assert_eq!(e.position, 6);
    let f = parse("`ü` ~ `ñ` + x");
    assert_eq!(f.position_of("x"), Some(12));
}

/// Fragments from which formulas (mostly invalid, some valid) are assembled.
const PIECES: &[&str] = &[
    "y", "x", "a", "b", "g", "`w z`", "1", "0", "~", "+", "-", "*", ":", "/", "|", "||", "&", "(",
    ")", " ", "2", "é", "\t", "log(", "poly(", "I(", "factor(", "offset(", "^", ",", "=", "raw",
    "TRUE", "0.5",
];

fn check_parse(text: &str) -> Result<(), TestCaseError> {
    if let Ok(f) = Formula::parse(text) {
        let shown = f.to_string();
        let again = Formula::parse(&shown);
        prop_assert!(again.is_ok(), "{text:?} -> {shown:?} -> {again:?}");
        if let Ok(again) = again {
            prop_assert!(same_model(&f, &again), "{text:?} -> {shown:?}");
            prop_assert_eq!(again.to_string(), shown);
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_text(text in "\\PC{0,40}") {
        check_parse(&text)?;
    }

    #[test]
    fn never_panics_on_formula_alphabet(text in "[a-cgxy01~+*:/|&() `\\-]{0,40}") {
        check_parse(&text)?;
    }

    #[test]
    fn display_reparses_to_the_same_model(
        pieces in proptest::collection::vec(proptest::sample::select(PIECES), 0..30)
    ) {
        check_parse(&pieces.concat())?;
    }

    #[test]
    fn well_formed_formulas_parse_and_round_trip(
        terms in proptest::collection::vec(
            proptest::sample::select(&[
                "x", "a*b", "a:b", "0", "1", "(1|g)", "(x||g)", "(0+a|g/h)", "(a|g:h)",
                "b/x", "(a+x):b", "`w z`", "log(x)", "factor(a)", "poly(x, 2)",
                "I(x^2 - 1)", "offset(x)", "(scale(x)|g)", "(a+b)^2",
            ][..]),
            1..6,
        )
    ) {
        let text = format!("y ~ {}", terms.join(" + "));
        prop_assert!(Formula::parse(&text).is_ok(), "{}", text);
        check_parse(&text)?;
    }
}
