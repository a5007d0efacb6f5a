//! The report: from the data file to the set of output files. Numbers come from
//! [`crate::report::results`], figures from [`crate::report::figures`]; the Markdown is rendered from
//! `templates/report.md.j2` with minijinja, and the HTML is the same Markdown through
//! pulldown-cmark, with each figure's SVG inlined so the page stands alone.
//!
//! [`templates`] (minijinja), [`markdown`] (pulldown-cmark, figures, MathML, anchors),
//! [`tables`] (phone-friendly labelled cells) and
//! [`draw`] (drawing every figure) are the steps; this file wires them together.

mod draw;
mod escape;
mod markdown;
mod tables;
mod templates;

pub use markdown::{markdown_to_html, slug};
pub use templates::Templates;

use draw::draw_figures;
use templates::render_template;

use std::collections::BTreeMap;
use std::path::PathBuf;

use minijinja::value::Value;

use crate::io::{DataError, GasolinePanel};
use crate::report::figures::FigureError;
use crate::report::mathml::MATH_CSS;
use crate::report::results::{self, Results, ResultsError};

/// Where the report's inputs live.
#[derive(Debug, Clone)]
pub struct ReportConfig {
    /// The gasoline CSV.
    pub data: PathBuf,
    /// Directory with `lme4.json` and `article_estimator.json`.
    pub reference_dir: PathBuf,
    /// Directory with `report.md.j2` and `report.html.j2`.
    pub templates: PathBuf,
}

impl Default for ReportConfig {
    fn default() -> Self {
        Self {
            data: PathBuf::from("data/gasoline.csv"),
            reference_dir: PathBuf::from("data/reference"),
            templates: PathBuf::from("templates"),
        }
    }
}

/// Why the report could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Results(#[from] ResultsError),
    #[error("template {path}: {message}")]
    Template { path: PathBuf, message: String },
    #[error("figure {name}: {source}")]
    Figure {
        name: &'static str,
        #[source]
        source: FigureError,
    },
}

/// The rendered output files, by file name, in a stable order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedReport {
    pub files: BTreeMap<String, Vec<u8>>,
}

/// Names of the files the report writes.
pub const MARKDOWN_FILE: &str = "report.md";
/// The self-contained HTML.
pub const HTML_FILE: &str = "report.html";
/// Every number in the report.
pub const RESULTS_FILE: &str = "results.json";

/// Loads the data and references, computes the results and renders every output file.
pub fn render(config: &ReportConfig) -> Result<RenderedReport, ReportError> {
    let panel = GasolinePanel::load(&config.data)?;
    let references = results::load_references(&config.reference_dir)?;
    let data_name = config
        .data
        .file_name()
        .map_or_else(|| "data".to_owned(), |n| n.to_string_lossy().into_owned());
    let data_bytes = crate::io::read_data_file(&config.data)?;
    let results = results::compute(&panel, &data_name, &data_bytes, references)?;
    let templates = Templates::load(&config.templates)?;
    render_with(&panel, &results, &templates)
}

/// Renders the output files from computed results.
pub fn render_with(
    panel: &GasolinePanel,
    results: &Results,
    templates: &Templates,
) -> Result<RenderedReport, ReportError> {
    // Whatever a data file spells reaches the files only in a visible, parseable form.
    let figures: BTreeMap<String, String> = draw_figures(panel, results)?
        .into_iter()
        .map(|(name, svg)| (name, escape::visible(&svg).into_owned()))
        .collect();
    let context = Value::from(minijinja::value::Serde(results));

    let markdown =
        escape::visible(&render_template(&templates.markdown, context.clone())?).into_owned();
    let body = markdown_to_html(&markdown, &figures).map_err(|e| ReportError::Template {
        path: templates.markdown.0.clone(),
        message: e.to_string(),
    })?;
    let html = render_template(
        &templates.html,
        minijinja::context! {
            body => Value::from_safe_string(body),
            math_css => Value::from_safe_string(MATH_CSS.to_owned()),
            results => context,
        },
    )?;

    let html = escape::visible(&html).into_owned();

    let mut json = serde_json::to_string_pretty(results).expect("results serialise");
    json.push('\n');

    let mut files: BTreeMap<String, Vec<u8>> = figures
        .into_iter()
        .map(|(name, svg)| (name, svg.into_bytes()))
        .collect();
    files.insert(MARKDOWN_FILE.into(), markdown.into_bytes());
    files.insert(HTML_FILE.into(), html.into_bytes());
    files.insert(RESULTS_FILE.into(), json.into_bytes());
    Ok(RenderedReport { files })
}
