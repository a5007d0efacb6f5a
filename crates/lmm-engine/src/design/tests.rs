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
    // lme4 names the inner level `b:a` and, as it has more levels, puts it first.
    let m = ok("y ~ 1 + (1 | a/b)", &table);
    assert_eq!(m.terms.len(), 2);
    assert_eq!(m.terms[1].group, "a");
    assert_eq!(m.terms[1].levels, ["A", "B"]);
    assert_eq!(m.terms[0].group, "b:a");
    assert_eq!(m.terms[0].levels, ["1:A", "1:B", "2:A", "2:B"]);
    assert_eq!(m.terms[0].refs, [1, 2, 3, 0, 2, 1]);
    assert_eq!(m.terms[0].columns, ["(Intercept)"]);
    // lme4 reorders only when a later term has more levels, and then reverses ties.
    let table = table
        .with("c", text(&["p", "q", "r", "p", "q", "r"]))
        .with("d", text(&["p", "q", "r", "s", "p", "q"]));
    let groups =
        |f: &str| -> Vec<String> { ok(f, &table).terms.into_iter().map(|t| t.group).collect() };
    assert_eq!(groups("y ~ (1 | d) + (1 | c) + (1 | a)"), ["d", "c", "a"]);
    assert_eq!(groups("y ~ (1 | c) + (1 | a) + (1 | d)"), ["d", "c", "a"]);
    assert_eq!(groups("y ~ (1 | a) + (1 | b) + (1 | c)"), ["c", "b", "a"]);

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

fn build_with(
    formula: &str,
    table: &Table,
    options: &crate::options::FitOptions,
) -> Result<ModelMatrices, DesignError> {
    let formula = Formula::parse(formula).unwrap_or_else(|e| panic!("{e}"));
    ModelMatrices::build_with_options(&formula, table, options)
}

/// ChickWeight-like: an integer-coded diet and a time.
fn chicks() -> Table {
    Table::new()
        .with("w", num(&[40.0, 50.0, 42.0, 55.0, 41.0, 60.0, 43.0, 70.0]))
        .with("Time", num(&[0.0, 2.0, 0.0, 2.0, 0.0, 2.0, 0.0, 2.0]))
        .with("Diet", int(&[1, 1, 2, 2, 3, 3, 10, 10]))
        .with("dose", num(&[0.5, 0.5, 1.0, 1.0, 2.0, 2.0, 1e5, 1e5]))
        .with("Chick", text(&["a", "a", "b", "b", "c", "c", "d", "d"]))
}

#[test]
fn factor_of_numbers_sorts_numerically_with_r_names() {
    let m = ok("w ~ Time * factor(Diet)", &chicks());
    assert_eq!(
        m.fixed_names,
        [
            "(Intercept)",
            "Time",
            "factor(Diet)2",
            "factor(Diet)3",
            "factor(Diet)10",
            "Time:factor(Diet)2",
            "Time:factor(Diet)3",
            "Time:factor(Diet)10"
        ]
    );
    assert_eq!(row(&m, 7), [1.0, 2.0, 0.0, 0.0, 1.0, 0.0, 0.0, 2.0]);
    let m = ok("w ~ as.factor(dose)", &chicks());
    assert_eq!(
        m.fixed_names,
        [
            "(Intercept)",
            "as.factor(dose)1",
            "as.factor(dose)2",
            "as.factor(dose)1e+05"
        ]
    );
    // A factor of an expression; `factor()` of text is the text factor.
    let m = ok("w ~ factor(Diet * 2)", &chicks());
    assert_eq!(m.fixed_names[1], "factor(Diet * 2)4");
    let m = ok("w ~ factor(Chick)", &chicks());
    assert_eq!(m.fixed_names[1], "factor(Chick)b");
    // Numeric use of the same column gives a note; factor use does not.
    let m = ok("w ~ Time + Diet + (1 | Chick)", &chicks());
    assert_eq!(
        m.notes,
        [
            "Diet has 4 distinct integer values and is treated as numeric; write factor(Diet) \
          for a categorical effect"
        ]
    );
    assert!(ok("w ~ Time + factor(Diet)", &chicks()).notes.is_empty());
    // Two values (an indicator) and many values (a measurement) need no note.
    assert!(ok("w ~ Time", &chicks()).notes.is_empty());
}

#[test]
fn declared_factor_columns() {
    let options = crate::options::FitOptions::default().with_factor("Diet");
    let m = build_with("w ~ Time + Diet", &chicks(), &options).unwrap();
    assert_eq!(
        m.fixed_names,
        ["(Intercept)", "Time", "Diet2", "Diet3", "Diet10"]
    );
    assert!(m.notes.is_empty());
    let options = crate::options::FitOptions::default().with_factor("Dyet");
    let e = build_with("w ~ Time + Diet", &chicks(), &options).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the factor column `Dyet` is not in the data; the data has `w`, `Time`, `Diet`, \
         `dose`, `Chick`"
    );
}

#[test]
fn sum_and_helmert_contrasts_are_rs() {
    use crate::options::{Contrasts, FitOptions};
    let table = cake();
    let sum = FitOptions::default().with_contrasts("recipe", Contrasts::Sum);
    let m = build_with("y ~ recipe * temp", &table, &sum).unwrap();
    assert_eq!(
        m.fixed_names,
        [
            "(Intercept)",
            "recipe1",
            "recipe2",
            "temp",
            "recipe1:temp",
            "recipe2:temp"
        ]
    );
    // contr.sum(3): A = (1, 0), B = (0, 1), C = (−1, −1).
    assert_eq!(&row(&m, 0)[1..3], [1.0, 0.0]);
    assert_eq!(&row(&m, 1)[1..3], [0.0, 1.0]);
    assert_eq!(&row(&m, 2)[1..3], [-1.0, -1.0]);
    assert_eq!(row(&m, 2)[4], -195.0);
    let helmert = FitOptions::default().with_contrasts("factor(recipe)", Contrasts::Helmert);
    let m = build_with("y ~ factor(recipe)", &table, &helmert).unwrap();
    assert_eq!(
        m.fixed_names,
        ["(Intercept)", "factor(recipe)1", "factor(recipe)2"]
    );
    // contr.helmert(3): A = (−1, −1), B = (1, −1), C = (0, 2).
    assert_eq!(row(&m, 0), [1.0, -1.0, -1.0]);
    assert_eq!(row(&m, 1), [1.0, 1.0, -1.0]);
    assert_eq!(row(&m, 2), [1.0, 0.0, 2.0]);
    // The column name inside factor() names the factor too; without an intercept the first
    // factor is coded by indicators whatever its contrasts.
    let by_column = FitOptions::default().with_contrasts("recipe", Contrasts::Helmert);
    let m = build_with("y ~ factor(recipe)", &table, &by_column).unwrap();
    assert_eq!(m.fixed_names[2], "factor(recipe)2");
    let m = build_with("y ~ 0 + recipe", &table, &by_column).unwrap();
    assert_eq!(m.fixed_names, ["recipeA", "recipeB", "recipeC"]);
    let wrong = FitOptions::default().with_contrasts("temp", Contrasts::Sum);
    assert_eq!(
        build_with("y ~ recipe + temp", &table, &wrong)
            .unwrap_err()
            .to_string(),
        "contrasts were given for `temp`, which is not a factor of the model; its factors are \
         `recipe`"
    );
}

#[test]
fn numeric_transforms_response_and_offsets() {
    let table = sleep();
    let m = ok(
        "log(Reaction) ~ I(Days^2) + log1p(Days) + sqrt(Days) + abs(Days - 1) + exp(Days/10) + \
         log(Days + 1, 2) + log2(Days + 1) + log10(Days + 1) + (1 + scale(Days) | Subject)",
        &table,
    );
    assert_eq!(m.response, "log(Reaction)");
    assert!((m.y[1] - 260f64.ln()).abs() < 1e-15);
    let r = row(&m, 2);
    let want = [
        1.0,
        4.0,
        3f64.ln(),
        2f64.sqrt(),
        1.0,
        0.2f64.exp(),
        3f64.ln() / 2f64.ln(),
        3f64.log2(),
        3f64.log10(),
    ];
    for (g, w) in r.iter().zip(want) {
        assert!((g - w).abs() < 1e-15, "{r:?}");
    }
    assert_eq!(m.terms[0].columns, ["(Intercept)", "scale(Days)"]);
    // Days 0, 1, 2 repeated: mean 1, sd sqrt(6/8).
    assert!((m.terms[0].z[5] - 1.0 / 0.75f64.sqrt()).abs() < 1e-15);

    let m = ok(
        "Reaction ~ Days + offset(2 * Days) + offset(Days) + (1|Subject)",
        &table,
    );
    assert_eq!(m.y[2], 270.0 - 6.0);
    assert_eq!(m.fixed_names, ["(Intercept)", "Days"]);

    let raw = ok("Reaction ~ poly(Days, 2, raw = TRUE)", &table);
    assert_eq!(
        raw.fixed_names,
        [
            "(Intercept)",
            "poly(Days, 2, raw = TRUE)1",
            "poly(Days, 2, raw = TRUE)2"
        ]
    );
    assert_eq!(row(&raw, 2), [1.0, 2.0, 4.0]);
    let m = ok("Reaction ~ poly(Days, 2)", &table);
    assert_eq!(
        m.fixed_names,
        ["(Intercept)", "poly(Days, 2)1", "poly(Days, 2)2"]
    );
    // Orthonormal over the rows.
    let c1: Vec<f64> = (0..9).map(|i| m.x[(i, 1)]).collect();
    assert!((c1.iter().map(|v| v * v).sum::<f64>() - 1.0).abs() < 1e-14);
    assert!(c1.iter().sum::<f64>().abs() < 1e-14);
}

#[test]
fn transform_errors_name_the_call_and_row() {
    let e = build("Reaction ~ log(Days) + (1|Subject)", &sleep()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "`log(Days)` is not finite (-inf) in data row 1"
    );
    let e = build("Reaction ~ sqrt(Days - 1)", &sleep()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "`sqrt(Days - 1)` is not finite (NaN) in data row 1"
    );
    let e = build("y ~ log(recipe)", &cake()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "`log(recipe)` needs numbers, but column `recipe` holds text"
    );
    let e = build("Reaction ~ poly(Days, 3)", &sleep()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "`poly(Days, 3)`: the degree (3) must be less than the number of distinct values (3)"
    );
    assert!(build("log(recipe) ~ temp", &cake()).is_err());
}

#[test]
fn weights_must_be_positive_numbers_on_the_rows_used() {
    use crate::options::FitOptions;
    let options = FitOptions::default().with_weights("w");
    let with = |w: Column| sleep().with("w", w);
    let m = build_with(
        "Reaction ~ Days + (1|Subject)",
        &with(num(&[1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 1.0, 2.0, 3.0])),
        &options,
    )
    .unwrap();
    assert_eq!(m.weights.as_deref().unwrap()[2], 3.0);
    assert!((m.sum_log_weights() - 3.0 * 6f64.ln()).abs() < 1e-12);
    let scaled = m.scaled_by_weights();
    assert!(scaled.weights.is_none());
    assert!((scaled.y[2] - 270.0 * 3f64.sqrt()).abs() < 1e-12);
    assert!((scaled.x[(2, 1)] - 2.0 * 3f64.sqrt()).abs() < 1e-12);
    assert!((scaled.terms[0].z[2] - 3f64.sqrt()).abs() < 1e-12);

    let mut cells = vec![Some(1.0); 9];
    let cases = [
        (None, "is missing"),
        (Some(-1.0), "is negative (-1)"),
        (Some(0.0), "is zero"),
        (Some(f64::INFINITY), "is not finite (inf)"),
    ];
    for (cell, problem) in cases {
        cells[3] = cell;
        let e = build_with(
            "Reaction ~ Days + (1|Subject)",
            &with(Column::Numeric(cells.clone())),
            &options,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "the weights column `w` {problem} in data row 4; weights must be positive numbers"
            )
        );
    }
    let e = build_with("Reaction ~ Days", &sleep(), &options).unwrap_err();
    assert!(e
        .to_string()
        .starts_with("the weights column `w` is not in the data"));
    let e = build_with("Reaction ~ Days", &with(text(&["a"; 9])), &options).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the weights column `w` must be numeric, but it holds text"
    );
}
