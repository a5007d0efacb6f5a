//! Unit tests of the design step on small in-memory tables.

use super::coding::{codings, Coding};
use super::*;
use crate::formula::Formula;
use crate::table::{Column, Table};

fn num(values: &[f64]) -> Column {
    Column::Numeric(values.iter().map(|&v| Some(v)).collect())
}

fn text(values: &[&str]) -> Column {
    Column::Text(values.iter().map(|&v| Some(v.to_owned())).collect())
}

fn build(formula: &str, table: &Table) -> Result<ModelMatrices, DesignError> {
    let formula = Formula::parse(formula).unwrap_or_else(|e| panic!("{e}"));
    ModelMatrices::build(&formula, table)
}

fn ok(formula: &str, table: &Table) -> ModelMatrices {
    build(formula, table).unwrap_or_else(|e| panic!("{formula}: {e}"))
}

fn row(m: &ModelMatrices, i: usize) -> Vec<f64> {
    (0..m.x.ncols()).map(|j| m.x[(i, j)]).collect()
}

/// Three subjects × three days, numeric subject ids as in lme4's sleepstudy.
fn sleep() -> Table {
    Table::new()
        .with(
            "Reaction",
            num(&[
                250.0, 260.0, 270.0, 240.0, 255.0, 262.0, 300.0, 310.0, 330.0,
            ]),
        )
        .with("Days", num(&[0.0, 1.0, 2.0, 0.0, 1.0, 2.0, 0.0, 1.0, 2.0]))
        .with(
            "Subject",
            num(&[
                308.0, 308.0, 308.0, 309.0, 309.0, 309.0, 310.0, 310.0, 310.0,
            ]),
        )
}

/// A small factorial: recipe A/B/C, a numeric temperature, two batches.
fn cake() -> Table {
    Table::new()
        .with("y", num(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))
        .with("recipe", text(&["A", "B", "C", "A", "B", "C"]))
        .with("temp", num(&[175.0, 185.0, 195.0, 205.0, 215.0, 225.0]))
        .with("batch", text(&["u", "u", "u", "v", "v", "v"]))
}

#[test]
fn sleepstudy_random_slopes() {
    let m = ok("Reaction ~ Days + (Days | Subject)", &sleep());
    assert_eq!(m.response, "Reaction");
    assert_eq!(m.nobs(), 9);
    assert_eq!(m.rows_dropped, 0);
    assert_eq!(m.fixed_names, ["(Intercept)", "Days"]);
    assert!(m.dropped_fixed.is_empty());
    assert_eq!((m.x.nrows(), m.x.ncols()), (9, 2));
    assert_eq!(row(&m, 5), [1.0, 2.0]);
    assert_eq!(m.y[6], 300.0);
    assert_eq!(m.terms.len(), 1);
    let t = &m.terms[0];
    assert_eq!(t.group, "Subject");
    assert_eq!(t.columns, ["(Intercept)", "Days"]);
    assert_eq!(t.levels, ["308", "309", "310"]);
    assert_eq!(t.refs, [0, 0, 0, 1, 1, 1, 2, 2, 2]);
    assert_eq!(&t.z[..6], &[1.0, 0.0, 1.0, 1.0, 1.0, 2.0]);
    assert_eq!(t.nranef(), 6);
}

#[test]
fn treatment_contrasts_and_interaction_names() {
    let m = ok("y ~ recipe * temp", &cake());
    assert_eq!(
        m.fixed_names,
        [
            "(Intercept)",
            "recipeB",
            "recipeC",
            "temp",
            "recipeB:temp",
            "recipeC:temp"
        ]
    );
    assert_eq!(row(&m, 1), [1.0, 1.0, 0.0, 185.0, 185.0, 0.0]);
    assert_eq!(row(&m, 3), [1.0, 0.0, 0.0, 205.0, 0.0, 0.0]);
    assert_eq!(row(&m, 5), [1.0, 0.0, 1.0, 225.0, 0.0, 225.0]);

    // Names follow the order the term is written in.
    let m = ok("y ~ temp + temp:recipe", &cake());
    assert_eq!(
        m.fixed_names,
        ["(Intercept)", "temp", "temp:recipeB", "temp:recipeC"]
    );
    assert_eq!(row(&m, 2), [1.0, 195.0, 0.0, 195.0]);
}

#[test]
fn no_intercept_gives_full_indicators() {
    let m = ok("y ~ 0 + recipe", &cake());
    assert_eq!(m.fixed_names, ["recipeA", "recipeB", "recipeC"]);
    assert_eq!(row(&m, 4), [0.0, 1.0, 0.0]);
    // R codes only the first factor by indicators, so the model stays full rank.
    let m = ok("y ~ 0 + recipe + batch", &cake());
    assert_eq!(m.fixed_names, ["recipeA", "recipeB", "recipeC", "batchv"]);
    assert!(m.dropped_fixed.is_empty());
}

#[test]
fn factor_interactions_first_factor_fastest() {
    let m = ok("y ~ recipe * batch", &cake());
    assert_eq!(
        m.fixed_names,
        [
            "(Intercept)",
            "recipeB",
            "recipeC",
            "batchv",
            "recipeB:batchv",
            "recipeC:batchv"
        ]
    );
    // Without the main effects both factors are coded by indicators (R's rule); with the
    // intercept the last indicator product is aliased and dropped, as lm would report.
    let recipe = ["A", "B", "C", "A", "B", "C"];
    let batch = ["u", "u", "u", "v", "v", "v"];
    let twice = Table::new()
        .with(
            "y",
            num(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 1.0, 2.0, 3.0]),
        )
        .with("recipe", text(&[recipe, recipe].concat()))
        .with("batch", text(&[batch, batch].concat()))
        .with(
            "temp",
            num(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 1.5, 2.0, 3.5, 4.0, 6.5, 6.0]),
        );
    let m = ok("y ~ recipe:batch + temp", &twice);
    assert_eq!(
        m.fixed_names,
        [
            "(Intercept)",
            "temp",
            "recipeA:batchu",
            "recipeB:batchu",
            "recipeC:batchu",
            "recipeA:batchv",
            "recipeB:batchv",
        ]
    );
    assert_eq!(m.dropped_fixed, ["recipeC:batchv"]);
    assert_eq!(row(&m, 4), [1.0, 5.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
}

#[test]
fn missing_cells_drop_rows() {
    let table = Table::new()
        .with(
            "y",
            Column::Numeric(vec![
                Some(1.0),
                None,
                Some(3.0),
                Some(4.0),
                Some(5.0),
                Some(6.0),
            ]),
        )
        .with(
            "x",
            Column::Numeric(vec![
                Some(1.0),
                Some(2.0),
                Some(3.0),
                None,
                Some(5.0),
                Some(7.0),
            ]),
        )
        .with(
            "g",
            Column::Text(vec![
                Some("a".into()),
                Some("a".into()),
                None,
                Some("b".into()),
                Some("b".into()),
                Some("c".into()),
            ]),
        )
        // Unused by the formula: its missing cell must not drop a row.
        .with(
            "other",
            Column::Numeric(vec![None, Some(0.0), Some(0.0), Some(0.0), Some(0.0), None]),
        );
    let m = ok("y ~ x + (1 | g)", &table);
    assert_eq!(m.rows_dropped, 3);
    assert_eq!(m.y, [1.0, 5.0, 6.0]);
    assert_eq!(m.terms[0].levels, ["a", "b", "c"]);
    assert_eq!(m.terms[0].refs, [0, 1, 2]);

    let none = Table::new()
        .with("y", Column::Numeric(vec![None, Some(1.0)]))
        .with("x", Column::Numeric(vec![Some(1.0), None]));
    assert_eq!(
        build("y ~ x", &none).unwrap_err(),
        DesignError::NoRows { dropped: 2 }
    );
    let empty = Table::new().with("y", num(&[])).with("x", num(&[]));
    let e = build("y ~ x", &empty).unwrap_err();
    assert_eq!(e.to_string(), "the data has no rows");
}

#[test]
fn non_finite_values_are_errors() {
    let table = Table::new()
        .with("y", num(&[1.0, 2.0, 3.0]))
        .with("x", num(&[1.0, f64::NAN, 3.0]));
    let e = build("y ~ x", &table).unwrap_err();
    assert!(matches!(
        &e,
        DesignError::NonFinite { column, row: 2, .. } if column == "x"
    ));
    assert_eq!(
        e.to_string(),
        "column `x` has a non-finite value (NaN) in data row 2"
    );
    let table = Table::new()
        .with("y", num(&[1.0, f64::NEG_INFINITY]))
        .with("x", num(&[1.0, 2.0]));
    assert!(build("y ~ x", &table)
        .unwrap_err()
        .to_string()
        .contains("(-inf) in data row 2"));
}

#[test]
fn text_response_is_an_error() {
    let e = build("recipe ~ temp", &cake()).unwrap_err();
    assert_eq!(
        e,
        DesignError::TextResponse {
            name: "recipe".into()
        }
    );
}

#[test]
fn unknown_column_points_into_the_formula() {
    let e = build("y ~ temp + tmep", &cake()).unwrap_err();
    match &e {
        DesignError::UnknownColumn { name, position, .. } => {
            assert_eq!(name, "tmep");
            assert_eq!(*position, 11);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        e.to_string(),
        "unknown column `tmep` at column 11 of the formula; the data has `y`, `recipe`, \
         `temp`, `batch`\n  y ~ temp + tmep\n             ^"
    );
}

#[test]
fn integer_grouping_levels_sort_numerically() {
    let table = Table::new()
        .with("y", num(&[1.0, 2.0, 3.0, 4.0, 5.0]))
        .with("g", num(&[10.0, 2.0, 10.0, -0.0, 0.0]));
    let m = ok("y ~ 1 + (1 | g)", &table);
    assert_eq!(m.terms[0].levels, ["0", "2", "10"]);
    assert_eq!(m.terms[0].refs, [2, 1, 2, 0, 0]);

    let table = Table::new()
        .with("y", num(&[1.0, 2.0, 3.0]))
        .with("g", num(&[1.0, 2.5, 3.0]));
    assert_eq!(
        build("y ~ (1 | g)", &table).unwrap_err(),
        DesignError::NonIntegerGroup {
            column: "g".into(),
            row: 2,
            value: 2.5
        }
    );
}

#[test]
fn nested_grouping_and_interaction_levels() {
    let table = Table::new()
        .with("y", num(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))
        .with("a", text(&["B", "A", "B", "A", "A", "B"]))
        .with("b", num(&[1.0, 2.0, 2.0, 1.0, 2.0, 1.0]));
    let m = ok("y ~ 1 + (1 | a/b)", &table);
    assert_eq!(m.terms.len(), 2);
    assert_eq!(m.terms[0].group, "a");
    assert_eq!(m.terms[0].levels, ["A", "B"]);
    assert_eq!(m.terms[1].group, "a:b");
    assert_eq!(m.terms[1].levels, ["A:1", "A:2", "B:1", "B:2"]);
    assert_eq!(m.terms[1].refs, [2, 1, 3, 0, 1, 2]);
    assert_eq!(m.terms[1].columns, ["(Intercept)"]);

    // Only observed combinations are levels.
    let m = ok("y ~ (1 | b:a)", &table);
    assert_eq!(m.terms[0].group, "b:a");
    assert_eq!(m.terms[0].levels, ["1:A", "1:B", "2:A", "2:B"]);
}

#[test]
fn double_bar_splits_terms() {
    let m = ok("Reaction ~ Days + (Days || Subject)", &sleep());
    assert_eq!(m.terms.len(), 2);
    assert_eq!(m.terms[0].columns, ["(Intercept)"]);
    assert_eq!(m.terms[1].columns, ["Days"]);
    assert!(m.terms.iter().all(|t| t.group == "Subject"));
    assert_eq!(&m.terms[1].z[..3], &[0.0, 1.0, 2.0]);
}

#[test]
fn random_term_factor_coding() {
    let table = cake().with("g", text(&["p", "q", "r", "p", "q", "r"]));
    let m = ok("y ~ 1 + (0 + recipe | g)", &table);
    assert_eq!(m.terms[0].columns, ["recipeA", "recipeB", "recipeC"]);
    assert_eq!(&m.terms[0].z[3..6], &[0.0, 1.0, 0.0]);
    let m = ok("y ~ 1 + (1 + recipe | g)", &table);
    assert_eq!(m.terms[0].columns, ["(Intercept)", "recipeB", "recipeC"]);
    let m = ok("y ~ 1 + (1 + recipe || g)", &table);
    assert_eq!(m.terms[1].columns, ["recipeA", "recipeB", "recipeC"]);
}

#[test]
fn aliased_columns_are_dropped() {
    let table = Table::new()
        .with("y", num(&[1.0, 3.0, 2.0, 5.0]))
        .with("x1", num(&[1.0, 2.0, 3.0, 4.0]))
        .with("x2", num(&[2.0, 4.0, 6.0, 8.0]))
        .with("x3", num(&[1.0, 0.0, 1.0, 0.0]))
        .with("zero", num(&[0.0; 4]));
    let m = ok("y ~ x1 + x2 + x3 + zero", &table);
    assert_eq!(m.fixed_names, ["(Intercept)", "x1", "x3"]);
    assert_eq!(m.dropped_fixed, ["x2", "zero"]);
    assert_eq!((m.x.nrows(), m.x.ncols()), (4, 3));
    assert_eq!(row(&m, 1), [1.0, 2.0, 0.0]);
    // A nearly (but not numerically) dependent column is kept.
    let table = table.with("x4", num(&[2.0, 4.0, 6.0, 8.001]));
    let m = ok("y ~ x1 + x4", &table);
    assert!(m.dropped_fixed.is_empty());
}

#[test]
fn degenerate_factors_are_errors() {
    let table = Table::new()
        .with("y", num(&[1.0, 2.0, 3.0]))
        .with("g", text(&["a", "a", "a"]))
        .with(
            "h",
            Column::Text(vec![Some("a".into()), Some("a".into()), None]),
        );
    assert_eq!(
        build("y ~ 1 + (1 | g)", &table).unwrap_err(),
        DesignError::TooFewLevels {
            group: "g".into(),
            levels: 1
        }
    );
    assert!(build("y ~ (1 | g)", &table)
        .unwrap_err()
        .to_string()
        .contains("grouping factor `g` has 1 level"));
    assert_eq!(
        build("y ~ h", &table).unwrap_err(),
        DesignError::SingleLevelFactor {
            column: "h".into(),
            level: "a".into()
        }
    );
}

#[test]
fn intercept_only_and_empty_fixed_part() {
    let m = ok("Reaction ~ 1 + (1 | Subject)", &sleep());
    assert_eq!(m.fixed_names, ["(Intercept)"]);
    let m = ok("Reaction ~ 0 + (1 | Subject)", &sleep());
    assert_eq!((m.x.nrows(), m.x.ncols()), (9, 0));
    assert!(m.fixed_names.is_empty());
}

#[test]
fn codings_follow_r() {
    use Coding::*;
    let coded = |text: &str, factors: &[&str]| {
        let f = Formula::parse(text).unwrap_or_else(|e| panic!("{e}"));
        codings(f.fixed(), |v| factors.contains(&v))
    };
    assert_eq!(coded("y ~ f", &["f"]), [vec![Contrasts]]);
    assert_eq!(coded("y ~ 0 + f", &["f"]), [vec![Indicators]]);
    assert_eq!(
        coded("y ~ 0 + f + g", &["f", "g"]),
        [vec![Indicators], vec![Contrasts]]
    );
    assert_eq!(
        coded("y ~ x + x:f", &["f"]),
        [vec![Numeric], vec![Numeric, Contrasts]]
    );
    assert_eq!(coded("y ~ x:f", &["f"]), [vec![Numeric, Indicators]]);
    assert_eq!(
        coded("y ~ f*g", &["f", "g"]),
        [vec![Contrasts], vec![Contrasts], vec![Contrasts, Contrasts]]
    );
    assert_eq!(
        coded("y ~ f + f:g", &["f", "g"]),
        [vec![Contrasts], vec![Indicators, Contrasts]]
    );
}

fn int(values: &[i64]) -> Column {
    Column::Integer(values.iter().map(|&v| Some(v)).collect())
}

#[test]
fn integer_columns_are_exact_groups_and_numeric_predictors() {
    // IDs that differ only beyond 2^53 stay distinct levels (through f64 they would merge).
    let big = 1_i64 << 53;
    let table = Table::new()
        .with("y", int(&[1, 2, 3, 4, 5, 6]))
        .with("x", int(&[0, 1, 2, 0, 1, 2]))
        .with("g", int(&[big + 1, big, big + 1, -3, big, -3]));
    let m = ok("y ~ 1 + x + (1 | g)", &table);
    assert_eq!(
        m.terms[0].levels,
        ["-3".to_owned(), big.to_string(), (big + 1).to_string()]
    );
    assert_eq!(m.terms[0].refs, [2, 1, 2, 0, 1, 0]);
    assert_eq!(m.fixed_names, ["(Intercept)", "x"]);
    assert_eq!(row(&m, 2), [1.0, 2.0]);
    assert_eq!(m.y, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    // A missing integer cell drops its row like any other.
    let table = Table::new()
        .with("y", num(&[1.0, 2.0, 3.0, 4.0]))
        .with("g", Column::Integer(vec![Some(1), None, Some(2), Some(1)]));
    let m = ok("y ~ 1 + (1 | g)", &table);
    assert_eq!(m.rows_dropped, 1);
    assert_eq!(m.terms[0].levels, ["1", "2"]);
}
