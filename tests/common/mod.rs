//! Helpers shared by the integration tests: the one closeness check, tables read through the
//! project's own CSV reader, and the recorded lme4 reference fits in `data/reference/`, read
//! from their JSON files rather than copied into the tests as literals.

#![allow(dead_code)] // each test binary uses a different subset

use std::path::Path;

use lmm_report::engine::Table;
use lmm_report::io::{self, GasolinePanel};
use serde::Deserialize;

/// Asserts `|got − want| ≤ rel·|want|` (relative), naming the quantity.
pub fn close(what: &str, got: f64, want: f64, rel: f64) {
    let err = (got - want).abs() / want.abs().max(1e-300);
    assert!(
        err <= rel,
        "{what}: got {got}, want {want} (relative error {err:.2e}, tolerance {rel:.0e})"
    );
}

/// Asserts `|got − want| ≤ tol` (absolute), naming the quantity.
pub fn close_abs(what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got}, want {want} (difference {:.2e}, tolerance {tol:.0e})",
        got - want
    );
}

/// A CSV file under `data/` as an engine table.
pub fn table(file: &str) -> Table {
    let path = Path::new("data").join(file);
    let frame = io::read_csv(&path).expect("data file");
    io::frame_to_table(&frame, &path).expect("table")
}

/// The fit with `"id": id` in the `"fits"` array of `data/reference/{file}`.
pub fn reference_fit(file: &str, id: &str) -> serde_json::Value {
    let path = Path::new("data/reference").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let all: serde_json::Value = serde_json::from_str(&text).expect("reference JSON");
    all["fits"]
        .as_array()
        .expect("a fits array")
        .iter()
        .find(|f| f["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no reference {id} in {path:?}"))
}

/// Compares a GLMM fit with a recorded glmer fit `r` (the fields of the `glmer_*.json`
/// files): log-likelihood to 1e-4, AIC and BIC (where recorded) to 2e-4, lme4's deviance()
/// to 1e-3, the random-effects θ (a number or a list), β and standard errors to 1e-3
/// relative.
pub fn compare_glmm(id: &str, f: &lmm_report::engine::Fit, r: &serde_json::Value) {
    close_abs(
        &format!("{id} loglik"),
        f.loglik(),
        r["loglik"].as_f64().unwrap(),
        1e-4,
    );
    for (what, got) in [("AIC", f.aic()), ("BIC", f.bic())] {
        if let Some(want) = r[what].as_f64() {
            close_abs(&format!("{id} {what}"), got, want, 2e-4);
        }
    }
    let info = f.glmm().expect("a GLMM fit");
    close_abs(
        &format!("{id} deviance"),
        info.deviance,
        r["deviance"].as_f64().unwrap(),
        1e-3,
    );
    // jsonlite writes a one-element θ as a number.
    let theta: Vec<f64> = match r["theta"].as_f64() {
        Some(t) => vec![t],
        None => r["theta"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_f64().unwrap())
            .collect(),
    };
    for (j, (got, want)) in f.theta().iter().zip(&theta).enumerate() {
        close(&format!("{id} theta {j}"), *got, *want, 1e-3);
    }
    let fixed = r["fixed"].as_array().unwrap();
    assert_eq!(f.coefficients().len(), fixed.len(), "{id}");
    for (got, want) in f.coefficients().iter().zip(fixed) {
        assert_eq!(got.name, want["name"].as_str().unwrap(), "{id}");
        let what = format!("{id} {}", got.name);
        close(
            &what,
            got.estimate,
            want["estimate"].as_f64().unwrap(),
            1e-3,
        );
        close(
            &what,
            got.std_error,
            want["std_error"].as_f64().unwrap(),
            1e-3,
        );
    }
}

/// The gasoline panel as a table, with the report's derived `Time`.
pub fn gasoline_table() -> Table {
    GasolinePanel::load(Path::new("data/gasoline.csv"))
        .expect("gasoline panel")
        .to_table()
}

/// A number or a list of numbers (lme4.json stores a scalar θ as a number).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Numbers {
    One(f64),
    Many(Vec<f64>),
}

/// One fixed effect of a reference fit.
#[derive(Debug, Clone, Deserialize)]
pub struct RefFixed {
    pub name: String,
    pub estimate: f64,
    pub std_error: f64,
}

/// One row of lme4's `as.data.frame(VarCorr(fit))`.
#[derive(Debug, Clone, Deserialize)]
pub struct RefRandom {
    pub group: String,
    pub var1: Option<String>,
    pub var2: String,
    pub vcov: f64,
    pub sdcor: f64,
}

/// One recorded lme4 fit of `data/reference/lme4.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct Lme4Fit {
    pub id: String,
    pub file: String,
    pub formula: String,
    pub criterion: String,
    pub nobs: usize,
    pub objective: f64,
    pub loglik: f64,
    pub sigma: f64,
    theta: Numbers,
    pub singular: bool,
    pub fixed: Vec<RefFixed>,
    pub random: Vec<RefRandom>,
}

impl Lme4Fit {
    /// θ in lme4's layout.
    pub fn theta(&self) -> Vec<f64> {
        match &self.theta {
            Numbers::One(x) => vec![*x],
            Numbers::Many(v) => v.clone(),
        }
    }

    /// The variance of column `var1` of group `group`.
    pub fn variance(&self, group: &str, var1: &str) -> f64 {
        self.random
            .iter()
            .find(|r| r.group == group && r.var1.as_deref() == Some(var1) && r.var2.is_empty())
            .unwrap_or_else(|| panic!("{}: no variance {group}/{var1}", self.id))
            .vcov
    }

    /// The correlation of `var1` and `var2` in group `group`.
    pub fn correlation(&self, group: &str, var1: &str, var2: &str) -> f64 {
        self.random
            .iter()
            .find(|r| r.group == group && r.var1.as_deref() == Some(var1) && r.var2 == var2)
            .unwrap_or_else(|| panic!("{}: no correlation {group}/{var1}/{var2}", self.id))
            .sdcor
    }

    /// The residual variance.
    pub fn residual_variance(&self) -> f64 {
        self.random
            .iter()
            .find(|r| r.group == "Residual")
            .expect("residual row")
            .vcov
    }
}

#[derive(Deserialize)]
struct Lme4File {
    fits: Vec<Lme4Fit>,
}

/// The lme4 fit `id` (`gasoline`, `sleepstudy_slopes`) by `criterion` (`ML`, `REML`).
pub fn lme4(id: &str, criterion: &str) -> Lme4Fit {
    let text = std::fs::read_to_string("data/reference/lme4.json").expect("lme4.json");
    let file: Lme4File = serde_json::from_str(&text).expect("lme4.json parses");
    file.fits
        .into_iter()
        .find(|f| f.id == id && f.criterion == criterion)
        .unwrap_or_else(|| panic!("lme4.json has no {id} {criterion} fit"))
}

/// One fit of `data/reference/lme4_extra.json`: objective and θ only.
#[derive(Debug, Clone, Deserialize)]
pub struct ExtraFit {
    pub id: String,
    pub formula: String,
    pub criterion: String,
    pub objective: f64,
    pub theta: Vec<f64>,
    /// β, where recorded.
    #[serde(default)]
    pub beta: Vec<f64>,
}

#[derive(Deserialize)]
struct ExtraFile {
    fits: Vec<ExtraFit>,
}

/// The fit `id` of `lme4_extra.json`.
pub fn lme4_extra(id: &str) -> ExtraFit {
    let text = std::fs::read_to_string("data/reference/lme4_extra.json").expect("lme4_extra.json");
    let file: ExtraFile = serde_json::from_str(&text).expect("lme4_extra.json parses");
    file.fits
        .into_iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("lme4_extra.json has no fit {id}"))
}

/// The documented top-level keys of the fit JSON, in their schema order.
pub const FIT_JSON_KEYS: [&str; 16] = [
    "formula",
    "criterion",
    "nobs",
    "objective",
    "loglik",
    "aic",
    "bic",
    "sigma",
    "theta",
    "fixed",
    "random",
    "correlations",
    "groups",
    "converged",
    "singular",
    "evaluations",
];

/// The optional keys post-fit inference adds to the fit JSON (issue 11), in schema order,
/// after every key of [`FIT_JSON_KEYS`]: present with `--ddf` other than none, `--ranef`,
/// `--fitted` and `--confint`.
pub const FIT_JSON_INFERENCE_KEYS: [&str; 7] = [
    "ddf",
    "ranef",
    "fitted",
    "residuals",
    "confint",
    "confint_method",
    "confint_level",
];

/// Asserts that `text` has the fit keys and then the inference keys, in schema order.
pub fn assert_fit_json_inference_key_order(text: &str) {
    assert_fit_json_key_order(text);
    let last_fit = text.find("\"notes\"").expect("notes key");
    let positions: Vec<usize> = FIT_JSON_INFERENCE_KEYS
        .iter()
        .map(|k| {
            text.find(&format!("\"{k}\""))
                .unwrap_or_else(|| panic!("missing key {k} in {text}"))
        })
        .collect();
    assert!(
        positions[0] > last_fit && positions.windows(2).all(|w| w[0] < w[1]),
        "inference key order: {text}"
    );
}

/// Asserts that the pretty-printed fit JSON `text` has the documented keys in schema order.
pub fn assert_fit_json_key_order(text: &str) {
    let positions: Vec<usize> = FIT_JSON_KEYS
        .iter()
        .map(|k| {
            text.find(&format!("\"{k}\""))
                .unwrap_or_else(|| panic!("missing key {k} in {text}"))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "key order: {text}"
    );
}

/// One row of `as.data.frame(VarCorr(fit))` in `lme4_formula.json` (`var2` is `null` for a
/// variance).
#[derive(Debug, Clone, Deserialize)]
pub struct FormulaRandom {
    pub group: String,
    pub var1: Option<String>,
    pub var2: Option<String>,
    pub vcov: f64,
    pub sdcor: f64,
}

/// One recorded lme4 fit of `data/reference/lme4_formula.json` (formula transforms, weights,
/// contrasts).
#[derive(Debug, Clone, Deserialize)]
pub struct FormulaFit {
    pub id: String,
    /// The CSV under `data/r/` (sleepstudy under `data/`).
    pub data: String,
    pub formula: String,
    pub criterion: String,
    pub nobs: usize,
    pub objective: f64,
    pub loglik: f64,
    pub sigma: f64,
    /// θ by lme4's name, in lme4's order.
    pub theta: Ordered,
    pub fixed: Vec<RefFixed>,
    pub random: Vec<FormulaRandom>,
    pub ngroups: serde_json::Map<String, serde_json::Value>,
    pub singular: bool,
    pub coef_names_printed: Vec<String>,
    /// The prior-weights column, if any.
    #[serde(default)]
    pub weights: Option<String>,
    /// Contrasts by factor (`"Sex": "contr.sum"`).
    #[serde(default)]
    pub contrasts: Option<serde_json::Map<String, serde_json::Value>>,
}

impl FormulaFit {
    /// θ values in lme4's order.
    pub fn theta_values(&self) -> Vec<f64> {
        self.theta.0.iter().map(|(_, v)| *v).collect()
    }

    /// The path of the data file.
    pub fn data_path(&self) -> String {
        if self.data == "sleepstudy.csv" {
            "sleepstudy.csv".to_owned()
        } else {
            format!("r/{}", self.data)
        }
    }
}

/// A JSON object of numbers with its keys in file order (serde_json's own map sorts them).
#[derive(Debug, Clone)]
pub struct Ordered(pub Vec<(String, f64)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of numbers")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Ordered, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, f64>()? {
                    out.push((k, v));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(Visitor)
    }
}

#[derive(Deserialize)]
struct FormulaFile {
    fits: Vec<FormulaFit>,
}

/// Every fit of `lme4_formula.json`.
pub fn lme4_formula_fits() -> Vec<FormulaFit> {
    let text =
        std::fs::read_to_string("data/reference/lme4_formula.json").expect("lme4_formula.json");
    let file: FormulaFile = serde_json::from_str(&text).expect("lme4_formula.json parses");
    file.fits
}

/// The fit `id` of `lme4_formula.json`.
pub fn lme4_formula(id: &str) -> FormulaFit {
    lme4_formula_fits()
        .into_iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("lme4_formula.json has no fit {id}"))
}

/// The largest relative difference seen, with what it was, for a test's summary line.
#[derive(Debug, Default)]
pub struct Worst {
    pub what: String,
    pub rel: f64,
}

impl Worst {
    /// Checks `got` against `want` (relative, `rel`) and remembers the largest difference.
    pub fn close(&mut self, what: &str, got: f64, want: f64, rel: f64) {
        let err = (got - want).abs() / want.abs().max(1e-300);
        if err > self.rel {
            self.rel = err;
            self.what = what.to_owned();
        }
        close(what, got, want, rel);
    }
}
