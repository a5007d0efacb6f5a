//! The gasoline panel: its schema checks, the derived `Time` column, and the country means /
//! within-country deviations behind figure 2.

use std::path::Path;

use polars::prelude::*;

use lmm_engine::{Column as TableColumn, Table};

use super::csv::{numeric_values, read_error};
use super::{read_csv, DataError};

/// The columns of the gasoline panel that the report uses, all numeric except `Country`.
pub const GASOLINE_NUMERIC_COLUMNS: [&str; 5] =
    ["Year", "LGasPCar", "LIncomeP", "LRPMG", "LCarPCap"];

/// Expected panel shape: 18 OECD countries observed every year 1960–1978.
pub const GASOLINE_COUNTRIES: usize = 18;
/// Years per country.
pub const GASOLINE_YEARS: usize = 19;

/// The article's centring of time: `Time = Year - TIME_ORIGIN`.
pub const TIME_ORIGIN: f64 = 1965.0;

/// The gasoline panel after validation, in file order, with `Time = Year - 1965` derived.
#[derive(Debug, Clone)]
pub struct GasolinePanel {
    /// Country of each row.
    pub country: Vec<String>,
    /// Calendar year.
    pub year: Vec<f64>,
    /// `Year - 1965`, the article's centred time.
    pub time: Vec<f64>,
    /// log gasoline consumption per car (unused by the model, kept for completeness).
    pub lgaspcar: Vec<f64>,
    /// log real income per capita.
    pub lincomep: Vec<f64>,
    /// log real gasoline price.
    pub lrpmg: Vec<f64>,
    /// log cars per capita (the response).
    pub lcarpcap: Vec<f64>,
    /// Countries in order of first appearance.
    pub countries: Vec<String>,
    /// Index into `countries` for each row.
    pub country_index: Vec<usize>,
    /// Figure 2's between-country view: per country (in `countries` order) the mean LCarPCap
    /// and mean LIncomeP.
    pub country_means: Vec<CountryMeans>,
    /// Figure 2's within-country view, per row: LCarPCap and LIncomeP minus their country means.
    pub within: Vec<(f64, f64)>,
}

/// A country's mean log cars per capita and mean log income per capita.
#[derive(Debug, Clone, PartialEq)]
pub struct CountryMeans {
    pub country: String,
    pub lcarpcap: f64,
    pub lincomep: f64,
}

impl GasolinePanel {
    /// Reads and validates `path` (see [`GasolinePanel::from_frame`]).
    pub fn load(path: &Path) -> Result<Self, DataError> {
        let df = read_csv(path)?;
        Self::from_frame(&df, path)
    }

    /// Validates the schema (columns present, numeric, no missing or non-finite values, 18
    /// countries × 19 distinct years) and derives `Time`, the country means and the
    /// within-country deviations.
    pub fn from_frame(df: &DataFrame, path: &Path) -> Result<Self, DataError> {
        let present = df
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let column = |name: &str| {
            df.column(name).map_err(|_| DataError::MissingColumn {
                path: path.to_path_buf(),
                column: name.to_owned(),
                present: present.clone(),
            })
        };

        let country_col = column("Country")?;
        if country_col.dtype() != &DataType::String {
            return Err(DataError::NonTextColumn {
                path: path.to_path_buf(),
                column: "Country".into(),
                dtype: country_col.dtype().to_string(),
            });
        }
        let mut country = Vec::with_capacity(df.height());
        for (row, value) in country_col
            .str()
            .map_err(|e| read_error(path, e))?
            .iter()
            .enumerate()
        {
            match value {
                Some(v) if !v.is_empty() => country.push(v.to_owned()),
                _ => {
                    return Err(DataError::MissingValue {
                        path: path.to_path_buf(),
                        column: "Country".into(),
                        row: row + 1,
                    })
                }
            }
        }

        let mut numeric = Vec::with_capacity(GASOLINE_NUMERIC_COLUMNS.len());
        for name in GASOLINE_NUMERIC_COLUMNS {
            let col = column(name)?;
            if !col.dtype().is_primitive_numeric() {
                return Err(DataError::NonNumericColumn {
                    path: path.to_path_buf(),
                    column: name.into(),
                    dtype: col.dtype().to_string(),
                });
            }
            let mut values = Vec::with_capacity(df.height());
            for (row, value) in numeric_values(col, path)?.into_iter().enumerate() {
                match value {
                    None => {
                        return Err(DataError::MissingValue {
                            path: path.to_path_buf(),
                            column: name.into(),
                            row: row + 1,
                        })
                    }
                    Some(v) if !v.is_finite() => {
                        return Err(DataError::NonFinite {
                            path: path.to_path_buf(),
                            column: name.into(),
                            row: row + 1,
                            value: v,
                        })
                    }
                    Some(v) => values.push(v),
                }
            }
            numeric.push(values);
        }
        let [year, lgaspcar, lincomep, lrpmg, lcarpcap]: [Vec<f64>; 5] =
            numeric.try_into().expect("five numeric columns");

        let (countries, country_index) = first_appearance_index(&country);
        check_balanced(path, &countries, &country_index, &year)?;

        let country_means = country_means(df, path)?;
        let within = (0..country.len())
            .map(|i| {
                let m = &country_means[country_index[i]];
                (lcarpcap[i] - m.lcarpcap, lincomep[i] - m.lincomep)
            })
            .collect();
        let time = year.iter().map(|y| y - TIME_ORIGIN).collect();

        Ok(Self {
            country,
            year,
            time,
            lgaspcar,
            lincomep,
            lrpmg,
            lcarpcap,
            countries,
            country_index,
            country_means,
            within,
        })
    }

    /// Number of rows.
    pub fn nrows(&self) -> usize {
        self.country.len()
    }

    /// The article's fixed-effects design `[1, Time, LIncomeP, LRPMG]`, row-major n × 4.
    pub fn fixed_design(&self) -> Vec<[f64; 4]> {
        (0..self.nrows())
            .map(|i| [1.0, self.time[i], self.lincomep[i], self.lrpmg[i]])
            .collect()
    }

    /// Per-country series for the figures, countries in first-appearance order.
    pub fn rows_of(&self, country: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.nrows()).filter(move |&i| self.country_index[i] == country)
    }

    /// The panel as a [`Table`] (for the formula-based engine), with `Time` appended.
    pub fn to_table(&self) -> Table {
        let num = |v: &[f64]| TableColumn::Numeric(v.iter().copied().map(Some).collect());
        Table::new()
            .with(
                "Country",
                TableColumn::Text(self.country.iter().cloned().map(Some).collect()),
            )
            .with("Year", num(&self.year))
            .with("LGasPCar", num(&self.lgaspcar))
            .with("LIncomeP", num(&self.lincomep))
            .with("LRPMG", num(&self.lrpmg))
            .with("LCarPCap", num(&self.lcarpcap))
            .with("Time", num(&self.time))
    }
}

/// Distinct values in order of first appearance, and each row's index into them.
fn first_appearance_index(values: &[String]) -> (Vec<String>, Vec<usize>) {
    let mut distinct: Vec<String> = Vec::new();
    let mut lookup = std::collections::BTreeMap::new();
    let index = values
        .iter()
        .map(|v| {
            *lookup.entry(v.clone()).or_insert_with(|| {
                distinct.push(v.clone());
                distinct.len() - 1
            })
        })
        .collect();
    (distinct, index)
}

fn check_balanced(
    path: &Path,
    countries: &[String],
    country_index: &[usize],
    year: &[f64],
) -> Result<(), DataError> {
    let shape = |message: String| DataError::Shape {
        path: path.to_path_buf(),
        message,
    };
    if countries.len() != GASOLINE_COUNTRIES {
        return Err(shape(format!(
            "expected {GASOLINE_COUNTRIES} countries, found {}",
            countries.len()
        )));
    }
    for (c, name) in countries.iter().enumerate() {
        let mut years: Vec<i64> = year
            .iter()
            .zip(country_index)
            .filter(|(_, &ci)| ci == c)
            .map(|(y, _)| y.round() as i64)
            .collect();
        let rows = years.len();
        years.sort_unstable();
        years.dedup();
        if rows != GASOLINE_YEARS || years.len() != GASOLINE_YEARS {
            return Err(shape(format!(
                "country {name} has {rows} rows and {} distinct years; expected {GASOLINE_YEARS} of each",
                years.len()
            )));
        }
    }
    Ok(())
}

/// Country means of LCarPCap and LIncomeP by a stable polars group-by, so that the groups come
/// out in first-appearance order whatever the hashing does.
#[allow(deprecated)] // the eager GroupBy::mean is deprecated in favour of the lazy API, which
                     // would add polars' whole query engine to the build for one aggregation.
fn country_means(df: &DataFrame, path: &Path) -> Result<Vec<CountryMeans>, DataError> {
    let means = df
        .group_by_stable(["Country"])
        .and_then(|g| g.select(["LCarPCap", "LIncomeP"]).mean())
        .map_err(|e| read_error(path, e))?;
    // Join back onto the distinct countries to line the means up with first-appearance order
    // explicitly rather than trusting the aggregation's output order.
    let order = df
        .column("Country")
        .and_then(|c| c.unique_stable())
        .map_err(|e| read_error(path, e))?;
    let order = DataFrame::new_infer_height(vec![order]).map_err(|e| read_error(path, e))?;
    let joined = order
        .left_join(&means, ["Country"], ["Country"])
        .map_err(|e| read_error(path, e))?;
    let names = joined
        .column("Country")
        .and_then(|c| c.str().cloned())
        .map_err(|e| read_error(path, e))?;
    let cars = numeric_values(
        joined
            .column("LCarPCap_mean")
            .map_err(|e| read_error(path, e))?,
        path,
    )?;
    let income = numeric_values(
        joined
            .column("LIncomeP_mean")
            .map_err(|e| read_error(path, e))?,
        path,
    )?;
    names
        .iter()
        .zip(cars.into_iter().zip(income))
        .map(|(name, (car, inc))| match (name, car, inc) {
            (Some(country), Some(lcarpcap), Some(lincomep)) => Ok(CountryMeans {
                country: country.to_owned(),
                lcarpcap,
                lincomep,
            }),
            _ => Err(DataError::Shape {
                path: path.to_path_buf(),
                message: "country means could not be computed".into(),
            }),
        })
        .collect()
}
