//! Work bounded by the input's size (issue 13): pathological formulas and wide tables finish
//! quickly, with an error or a note, instead of exhausting memory or running for minutes.
//!
//! The time limits are generous for a loaded two-core machine (and a debug build) but far
//! below what the unbounded code took: the 600 × 600 `||`/`/` formula aborted on memory, the
//! 100-deep nesting and the 80 copies of `(1 | Subject)` ran past 60 s, and building a
//! 100,000-column table took ~10 s (a linear search per column name).

mod support;

use std::time::{Duration, Instant};

use lmm_engine::{fit, Column, FitOptions, Formula, Table};

/// Runs `f`, checks it took at most `limit`, and returns its value.
fn within<T>(what: &str, limit: Duration, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let value = f();
    let took = start.elapsed();
    assert!(took <= limit, "{what} took {took:?}, limit {limit:?}");
    value
}

fn joined(prefix: &str, n: usize, sep: &str) -> String {
    (0..n)
        .map(|i| format!("{prefix}{i}"))
        .collect::<Vec<_>>()
        .join(sep)
}

#[test]
fn a_huge_expansion_is_an_error_at_once() {
    // 601 `||` parts times 600 nesting levels would be 360,600 random terms.
    let text = format!(
        "y ~ 1 + ({} || {})",
        joined("x", 600, " + "),
        joined("a", 600, "/")
    );
    let err = within("600 x 600 expansion", Duration::from_secs(2), || {
        Formula::parse(&text).expect_err("must be refused")
    });
    assert!(err.to_string().contains("nested more than"), "{err}");

    // Within the nesting limit, the product of `||` parts and levels is what is refused.
    let text = format!(
        "y ~ 1 + ({} || {})",
        joined("x", 600, " + "),
        joined("a", 100, "/")
    );
    let err = within("600 x 100 expansion", Duration::from_secs(2), || {
        Formula::parse(&text).expect_err("must be refused")
    });
    assert!(err.to_string().contains("expands to 60100 terms"), "{err}");

    // Many terms in total, each one small, are refused too.
    let text = format!("y ~ {}", joined("(1 | g", 3000, ") + "));
    let err = within("3000 random terms", Duration::from_secs(2), || {
        Formula::parse(&format!("{text})")).expect_err("must be refused")
    });
    assert!(err.to_string().contains("more than 2048 terms"), "{err}");

    // A long interaction, and a long grouping interaction.
    let err = Formula::parse(&format!("y ~ {}", joined("a", 5000, ":"))).unwrap_err();
    assert!(
        err.to_string().contains("interaction of more than"),
        "{err}"
    );
    let err = Formula::parse(&format!("y ~ (1 | {})", joined("a", 5000, ":"))).unwrap_err();
    assert!(
        err.to_string().contains("interaction of more than"),
        "{err}"
    );
}

#[test]
fn long_sums_and_many_names_parse_in_linear_time() {
    // 2,000 distinct terms (just under the limit), and one call reading the same column
    // 200,000 times.
    let text = format!("y ~ {}", joined("x", 2000, " + "));
    let f = within("2000-term sum", Duration::from_secs(2), || {
        Formula::parse(&text).unwrap()
    });
    assert_eq!(f.fixed().terms().len(), 2000);
    let text = format!("y ~ x + {}", vec!["x"; 200_000].join(" + "));
    let f = within("200,000 repeats", Duration::from_secs(2), || {
        Formula::parse(&text).unwrap()
    });
    assert_eq!(f.fixed().terms().len(), 1);
}

/// The fit of `(1 | Subject)`, to compare the merged formulas with.
fn reference() -> lmm_engine::Fit {
    fit(
        "Reaction ~ Days + (1 | Subject)",
        &support::sleepstudy(1.0),
        &FitOptions::default(),
    )
    .unwrap()
}

#[test]
fn a_deep_nesting_of_one_factor_is_one_term_with_a_note() {
    let text = format!("Reaction ~ Days + (1 | {})", vec!["Subject"; 100].join("/"));
    let f = Formula::parse(&text).unwrap();
    assert_eq!(f.random().len(), 1);
    assert_eq!(f.random()[0].group().name(), "Subject");
    let got = within("100-deep nesting", Duration::from_secs(10), || {
        fit(&text, &support::sleepstudy(1.0), &FitOptions::default()).unwrap()
    });
    let want = reference();
    assert_eq!(got.result().theta.len(), 1);
    let (a, b) = (got.result().objective, want.result().objective);
    assert!((a - b).abs() <= 1e-10 * b.abs(), "{a} vs {b}");
    assert!(
        got.notes()
            .iter()
            .any(|n| n.contains("(1 | Subject) appears 100 times")),
        "{:?}",
        got.notes()
    );
}

#[test]
fn repeated_identical_terms_are_merged_with_a_note() {
    let text = format!(
        "Reaction ~ Days + {}",
        vec!["(1 | Subject)"; 80].join(" + ")
    );
    let got = within(
        "80 copies of (1 | Subject)",
        Duration::from_secs(10),
        || fit(&text, &support::sleepstudy(1.0), &FitOptions::default()).unwrap(),
    );
    let want = reference();
    assert_eq!(got.result().theta.len(), 1);
    for (a, b) in got.beta().iter().zip(want.beta()) {
        assert!((a - b).abs() <= 1e-10 * b.abs(), "{a} vs {b}");
    }
    assert!(got
        .notes()
        .iter()
        .any(|n| n.contains("(1 | Subject) appears 80 times")));

    // `||` and an explicit copy give the same term; the grouping is a set of variables.
    let f =
        Formula::parse("y ~ (1 + x || g) + (1 | g) + (0 + x | g) + (1 | a:b) + (1 | b:a)").unwrap();
    let shown: Vec<String> = f.random().iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["(1 | g)", "(0 + x | g)", "(1 | a:b)"]);
    assert_eq!(f.notes().len(), 3, "{:?}", f.notes());
    // Different terms on one factor are not merged.
    let f = Formula::parse("y ~ (1 | g) + (1 + x | g) + (1 | h)").unwrap();
    assert_eq!(f.random().len(), 3);
    assert!(f.notes().is_empty());
}

#[test]
fn a_wide_table_is_built_and_searched_in_linear_time() {
    let n = 200_000;
    let table = within("200,000-column table", Duration::from_secs(3), || {
        let mut table = Table::new();
        for i in 0..n {
            table.push(format!("c{i}"), Column::Numeric(vec![Some(i as f64); 2]));
        }
        table
    });
    within("200,000 look-ups", Duration::from_secs(3), || {
        for i in (0..n).rev() {
            assert_eq!(
                table.get(&format!("c{i}")),
                Some(&Column::Numeric(vec![Some(i as f64); 2]))
            );
        }
    });
    assert_eq!(table.names()[n - 1], format!("c{}", n - 1));
    assert!(table.get("missing").is_none());
}
