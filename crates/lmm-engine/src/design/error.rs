//! [`DesignError`]: why a formula could not be turned into model matrices for a table, naming
//! the column, row or formula position.

use crate::formula::underline;

/// Why a formula could not be turned into model matrices for a table.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DesignError {
    /// The formula names a column the table does not have.
    #[error(
        "unknown column `{name}` at column {position} of the formula; the data has {}\n{}",
        list_names(.available),
        underline(.formula, *.position)
    )]
    UnknownColumn {
        /// The variable name.
        name: String,
        /// 0-based character position of its first occurrence in the formula.
        position: usize,
        /// The formula text.
        formula: String,
        /// The table's column names.
        available: Vec<String>,
    },
    /// The response column holds text.
    #[error("the response `{name}` must be numeric, but the column holds text")]
    TextResponse {
        /// The response column.
        name: String,
    },
    /// A used numeric column holds NaN or an infinity.
    #[error("column `{column}` has a non-finite value ({value}) in data row {row}")]
    NonFinite {
        /// The column.
        column: String,
        /// 1-based data row (not counting a header line).
        row: usize,
        /// The offending value.
        value: f64,
    },
    /// Every row has a missing cell in some used column (or the table is empty).
    #[error("{}", no_rows_message(*.dropped))]
    NoRows {
        /// Rows dropped for missing cells (the table's row count).
        dropped: usize,
    },
    /// A categorical variable of the model has one level in the rows used.
    #[error(
        "factor `{column}` has a single level (`{level}`) in the rows used; a categorical \
         variable needs at least 2 levels"
    )]
    SingleLevelFactor {
        /// The column.
        column: String,
        /// Its only level.
        level: String,
    },
    /// A numeric grouping column has a non-integer value.
    #[error(
        "grouping factor `{column}` must be text or integer-valued, but data row {row} holds \
         {value}"
    )]
    NonIntegerGroup {
        /// The column.
        column: String,
        /// 1-based data row.
        row: usize,
        /// The offending value.
        value: f64,
    },
    /// A grouping factor has fewer than two levels in the rows used.
    #[error(
        "grouping factor `{group}` has {levels} level(s) in the rows used; a random-effects \
         term needs at least 2"
    )]
    TooFewLevels {
        /// The grouping expression as written in formula syntax (`Subject`, `a:b`).
        group: String,
        /// Number of levels found.
        levels: usize,
    },
    /// A column named in the options (`--factor`, `--weights`) is not in the table.
    #[error("the {option} column `{name}` is not in the data; the data has {}", list_names(.available))]
    UnknownOptionColumn {
        /// Which option: `factor`, `weights`.
        option: &'static str,
        /// The column named.
        name: String,
        /// The table's column names.
        available: Vec<String>,
    },
    /// A contrasts option names no factor of the model.
    #[error(
        "contrasts were given for `{name}`, which is not a factor of the model; {}",
        if .factors.is_empty() { "the model has no factors".to_owned() } else { format!("its factors are {}", list_names(.factors)) }
    )]
    UnknownContrastVariable {
        /// The name given.
        name: String,
        /// The factors of the model.
        factors: Vec<String>,
    },
    /// A call does arithmetic on a text column.
    #[error("`{label}` needs numbers, but column `{column}` holds text")]
    TextInArithmetic {
        /// The text column.
        column: String,
        /// The call (`log(Subject)`).
        label: String,
    },
    /// A call gives NaN or an infinity on a row used (`log(0)`, `sqrt(-1)`).
    #[error("`{label}` is not finite ({value}) in data row {row}")]
    NonFiniteTransform {
        /// The call.
        label: String,
        /// 1-based data row.
        row: usize,
        /// The value computed.
        value: f64,
    },
    /// `poly(x, k)` with k not below the number of distinct values of x.
    #[error(
        "`{label}`: the degree ({degree}) must be less than the number of distinct values \
         ({distinct})"
    )]
    PolyDegree {
        /// The call.
        label: String,
        /// The degree asked for.
        degree: usize,
        /// Distinct values of the argument.
        distinct: usize,
    },
    /// The weights column holds text.
    #[error("the weights column `{column}` must be numeric, but it holds text")]
    TextWeights {
        /// The column.
        column: String,
    },
    /// A prior weight of a row used is missing, non-finite, negative or zero.
    #[error("the weights column `{column}` {problem} in data row {row}; weights must be positive numbers")]
    BadWeight {
        /// The column.
        column: String,
        /// 1-based data row.
        row: usize,
        /// What is wrong: "is missing", "is negative (-1)", …
        problem: String,
    },
    /// A response value outside the support of the GLMM family (a negative or fractional
    /// count, a proportion outside [0, 1], a negative side of `cbind`).
    #[error(
        "the response `{response}` is {value} in data row {row}, outside the {family} family's support: {problem}"
    )]
    ResponseOutOfSupport {
        /// The response as written (`TICKS`, `cbind(incidence, size - incidence)`).
        response: String,
        /// 1-based data row.
        row: usize,
        /// The offending value (for `cbind`, the offending side).
        value: f64,
        /// `binomial`, `poisson`.
        family: &'static str,
        /// What the family needs.
        problem: String,
    },
    /// A response the family cannot take: `cbind()` without the binomial family, a text
    /// column for a count family.
    #[error("the response `{response}` {problem}")]
    ResponseFamily {
        /// The response as written.
        response: String,
        /// Why not, and what to do.
        problem: String,
    },
    /// A factor has more levels than fit the `u32` level indices.
    #[error("factor `{name}` has more than {} levels", u32::MAX)]
    TooManyLevels {
        /// The column or grouping expression.
        name: String,
    },
}

/// At most ten names, backquoted, for messages about a table's columns.
fn list_names(names: &[String]) -> String {
    const SHOWN: usize = 10;
    if names.is_empty() {
        return "no columns".to_owned();
    }
    let mut list = names
        .iter()
        .take(SHOWN)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        list.push_str(&format!(", … ({} in all)", names.len()));
    }
    list
}

fn no_rows_message(dropped: usize) -> String {
    if dropped == 0 {
        "the data has no rows".to_owned()
    } else {
        format!(
            "no rows left: all {dropped} rows have a missing value in a column the formula uses"
        )
    }
}
