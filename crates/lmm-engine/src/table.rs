//! [`Table`]: a small, owned, column-oriented table, the engine's only input type. Readers
//! (lmm-report converts polars frames in one place) fill it; keeping any data-frame library out
//! of the engine lets it be used, and tested, on tables built in memory.

use std::collections::HashMap;

/// One column of a [`Table`]. `None` is a missing cell (an empty field in the CSV).
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// Floating-point numbers. Non-finite values are kept as read so that the consumer can
    /// reject them with a precise message.
    Numeric(Vec<Option<f64>>),
    /// Integers, kept exact: as a predictor an integer column is numeric (as in R); as a
    /// grouping factor its levels are the integers themselves, sorted numerically, so that IDs
    /// beyond 2⁵³ stay distinct.
    Integer(Vec<Option<i64>>),
    /// Text, used for categorical variables and grouping factors.
    Text(Vec<Option<String>>),
}

impl Column {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Column::Numeric(v) => v.len(),
            Column::Integer(v) => v.len(),
            Column::Text(v) => v.len(),
        }
    }

    /// True when the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when the cell at `row` is missing.
    pub fn is_missing(&self, row: usize) -> bool {
        match self {
            Column::Numeric(v) => v[row].is_none(),
            Column::Integer(v) => v[row].is_none(),
            Column::Text(v) => v[row].is_none(),
        }
    }
}

/// Named columns of equal length, in file order.
#[derive(Debug, Clone, Default)]
pub struct Table {
    names: Vec<String>,
    columns: Vec<Column>,
    /// Position of each name in `names`, so that building a table of n columns and looking
    /// columns up costs O(n), not O(n²) (100,000 columns took 40 s with a linear search).
    /// Only for lookups: iteration order is always `names`.
    index: HashMap<String, usize>,
}

// Equality is of names and columns, in order; `index` is derived from `names`.
impl PartialEq for Table {
    fn eq(&self, other: &Self) -> bool {
        self.names == other.names && self.columns == other.columns
    }
}

impl Table {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a column. Panics if its length differs from the existing columns or the name is
    /// already taken: both are programming errors, never input errors.
    pub fn push(&mut self, name: impl Into<String>, column: Column) {
        let name = name.into();
        assert!(
            self.columns.is_empty() || column.len() == self.nrows(),
            "column {name} has {} rows, table has {}",
            column.len(),
            self.nrows()
        );
        assert!(!self.index.contains_key(&name), "duplicate column {name}");
        self.index.insert(name.clone(), self.names.len());
        self.names.push(name);
        self.columns.push(column);
    }

    /// Builder form of [`Table::push`].
    pub fn with(mut self, name: impl Into<String>, column: Column) -> Self {
        self.push(name, column);
        self
    }

    /// Number of rows (0 for a table without columns).
    pub fn nrows(&self) -> usize {
        self.columns.first().map_or(0, Column::len)
    }

    /// Column names in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The column called `name`, if any.
    pub fn get(&self, name: &str) -> Option<&Column> {
        self.index.get(name).map(|&i| &self.columns[i])
    }

    /// Iterates over `(name, column)` in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Column)> {
        self.names
            .iter()
            .map(String::as_str)
            .zip(self.columns.iter())
    }
}
