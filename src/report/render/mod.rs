//! The report: from the data file to the set of output files. Numbers come from
//! [`crate::report::results`], figures from [`crate::report::figures`]; the Markdown is rendered from
//! `templates/report.md.j2` with minijinja, and the HTML is the same Markdown through
//! pulldown-cmark, with each figure's SVG inlined so the page stands alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use minijinja::value::Value;
use minijinja::{Environment, Error as TemplateError, ErrorKind};
use pulldown_cmark::{html, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use crate::io::{DataError, GasolinePanel};
use crate::report::figures::{self, CountrySeries, FigureError};
use crate::report::mathml::{render_math_events, MathError, MATH_CSS};
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

impl ReportError {
    /// Process exit code: 2 for bad input (data or reference files), 1 for everything else.
    pub fn exit_code(&self) -> i32 {
        match self {
            ReportError::Data(_) | ReportError::Results(ResultsError::Reference { .. }) => 2,
            _ => 1,
        }
    }
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
    let data_bytes = std::fs::read(&config.data).map_err(|e| {
        ReportError::Data(DataError::Read {
            path: config.data.clone(),
            message: e.to_string(),
        })
    })?;
    let results = results::compute(&panel, &data_name, &data_bytes, references)?;
    let templates = Templates::load(&config.templates)?;
    render_with(&panel, &results, &templates)
}

/// The two report templates, read from disk.
pub struct Templates {
    markdown: (PathBuf, String),
    html: (PathBuf, String),
}

impl Templates {
    /// Reads `report.md.j2` and `report.html.j2` from `dir`.
    pub fn load(dir: &Path) -> Result<Self, ReportError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path)
                .map(|text| (path.clone(), text))
                .map_err(|e| ReportError::Template {
                    path,
                    message: e.to_string(),
                })
        };
        Ok(Self {
            markdown: read("report.md.j2")?,
            html: read("report.html.j2")?,
        })
    }
}

/// Renders the output files from computed results.
pub fn render_with(
    panel: &GasolinePanel,
    results: &Results,
    templates: &Templates,
) -> Result<RenderedReport, ReportError> {
    let figures = draw_figures(panel, results)?;
    let context = Value::from(minijinja::value::Serde(results));

    let markdown = render_template(&templates.markdown, context.clone())?;
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

fn draw_figures(
    panel: &GasolinePanel,
    results: &Results,
) -> Result<BTreeMap<String, String>, ReportError> {
    let series: Vec<CountrySeries> = (0..panel.countries.len())
        .map(|c| {
            let rows: Vec<usize> = panel.rows_of(c).collect();
            let pick = |v: &[f64]| rows.iter().map(|&i| v[i]).collect::<Vec<f64>>();
            CountrySeries {
                country: panel.countries[c].clone(),
                year: pick(&panel.year),
                car_per_cap: pick(&panel.lcarpcap),
                income_per_cap: pick(&panel.lincomep),
                gas_price: pick(&panel.lrpmg),
            }
        })
        .collect();
    let between: Vec<(f64, f64)> = panel
        .country_means
        .iter()
        .map(|m| (m.lcarpcap, m.lincomep))
        .collect();
    let figure = |name: &'static str, svg: Result<String, FigureError>| {
        svg.map(|s| (name.to_owned(), s))
            .map_err(|source| ReportError::Figure { name, source })
    };
    let audit = &results.audit;
    let effects = &results.engine[0].country_effects;
    let z = 1.959_963_984_540_054;
    let study = &results.study;
    let strip = |component: usize| -> Vec<(String, Vec<f64>)> {
        study
            .estimators
            .iter()
            .map(|e| {
                (
                    e.estimator.clone(),
                    e.estimates.iter().map(|v| v[component]).collect(),
                )
            })
            .collect()
    };
    let fig = &results.figures;
    Ok(BTreeMap::from([
        figure("fig1.svg", figures::trajectories(&series))?,
        figure("fig2.svg", figures::between_within(&between, &panel.within))?,
        figure("fig3.svg", figures::covariates(&series))?,
        figure(
            "profile.svg",
            figures::deviance_profile(
                &audit.profile.published,
                &audit.profile.corrected,
                (audit.theta_published, 0.0),
                (audit.theta_corrected, 0.0),
                "θ = σ_b / σ",
            ),
        )?,
        figure(
            "caterpillar.svg",
            figures::caterpillar(
                &effects
                    .iter()
                    .map(|e| e.country.clone())
                    .collect::<Vec<_>>(),
                &effects.iter().map(|e| e.mode).collect::<Vec<_>>(),
                &effects
                    .iter()
                    .map(|e| e.mode - z * e.conditional_sd)
                    .collect::<Vec<_>>(),
                &effects
                    .iter()
                    .map(|e| e.mode + z * e.conditional_sd)
                    .collect::<Vec<_>>(),
                "Country intercept b̂ (log cars per capita), 95% interval",
            ),
        )?,
        figure(
            "sparsity-z.svg",
            figures::sparsity(
                "Z: 342 observations × 18 countries",
                panel.nrows(),
                panel.countries.len(),
                &fig.z_pattern,
                400,
                560,
            ),
        )?,
        figure(
            "sparsity-l.svg",
            figures::sparsity(
                "Cholesky factor of the penalised system (u, β)",
                fig.factor_order,
                fig.factor_order,
                &fig.factor_pattern,
                400,
                440,
            ),
        )?,
        figure(
            "study-sigma2.svg",
            figures::simulation_strip(
                &strip(0),
                Some(study.truth[0]),
                "Residual variance σ² over the replicates",
                "σ² estimate",
            ),
        )?,
        figure(
            "study-sigma-b2.svg",
            figures::simulation_strip(
                &strip(1),
                Some(study.truth[1]),
                "Group variance σ_b² over the replicates",
                "σ_b² estimate",
            ),
        )?,
    ]))
}

/// Formats a number with a fixed count of decimals; `-0.000` prints as `0.000`.
pub fn format_fixed(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_owned()
    } else {
        s
    }
}

/// Formats a number in scientific notation with a fixed count of decimals (`1.23e-5`).
pub fn format_sci(x: f64, decimals: usize) -> String {
    format!("{x:.decimals$e}")
}

fn template_environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_filter("fixed", |v: f64, decimals: Option<usize>| {
        format_fixed(v, decimals.unwrap_or(4))
    });
    env.add_filter("sci", |v: f64, decimals: Option<usize>| {
        format_sci(v, decimals.unwrap_or(2))
    });
    env.add_filter("pct", |v: f64, decimals: Option<usize>| {
        format!("{}%", format_fixed(100.0 * v, decimals.unwrap_or(1)))
    });
    env
}

fn render_template(
    (path, source): &(PathBuf, String),
    context: Value,
) -> Result<String, ReportError> {
    let env = template_environment();
    let describe = |e: TemplateError| ReportError::Template {
        path: path.clone(),
        message: describe_template_error(&e),
    };
    let template = env.template_from_str(source).map_err(describe)?;
    template.render(context).map_err(describe)
}

fn describe_template_error(e: &TemplateError) -> String {
    let mut message = match e.kind() {
        ErrorKind::UndefinedError => "undefined value".to_owned(),
        _ => e.kind().to_string(),
    };
    if let Some(detail) = e.detail() {
        message.push_str(": ");
        message.push_str(detail);
    }
    if let Some(line) = e.line() {
        message.push_str(&format!(" (line {line})"));
    }
    message
}

/// Markdown → HTML with pulldown-cmark; an image whose target names a rendered figure is
/// replaced by the figure's SVG and `$…$` / `$$…$$` math by MathML, so that the page needs no
/// other file and no script.
pub fn markdown_to_html(
    markdown: &str,
    figures: &BTreeMap<String, String>,
) -> Result<String, MathError> {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_MATH
        | Options::ENABLE_HEADING_ATTRIBUTES;
    let mut events = Vec::new();
    let mut inside_figure = false;
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Start(Tag::Image { dest_url, .. }) if figures.contains_key(&*dest_url) => {
                let svg = &figures[&*dest_url];
                let svg = svg
                    .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
                    .unwrap_or(svg);
                events.push(Event::Html(CowStr::from(format!(
                    "<span class=\"figure\" role=\"img\">{svg}</span>"
                ))));
                inside_figure = true;
            }
            Event::End(TagEnd::Image) if inside_figure => inside_figure = false,
            // Wide tables scroll inside their own box on a phone instead of widening the page.
            Event::Start(Tag::Table(_)) => {
                events.push(Event::Html(CowStr::from("<div class=\"table-wrap\">")));
                events.push(event);
            }
            Event::End(TagEnd::Table) => {
                events.push(event);
                events.push(Event::Html(CowStr::from("</div>")));
            }
            // The alt text is spoken by the figure's own title; drop it here.
            _ if inside_figure => {}
            other => events.push(other),
        }
    }
    let events = anchor_headings(events);
    let events = render_math_events(events.into_iter())?;
    let mut out = String::new();
    html::push_html(&mut out, events.into_iter());
    Ok(out)
}

/// A heading's anchor: lower-case letters and digits, other runs of characters as one `-`.
pub fn slug(text: &str) -> String {
    let mut slug = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            slug.extend(c.to_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

/// Gives every level-2 and level-3 heading an id (made unique by a numeric suffix) and puts a
/// table of contents linking to them right after the level-1 title.
fn anchor_headings(events: Vec<Event<'_>>) -> Vec<Event<'_>> {
    let mut headings: Vec<(HeadingLevel, String)> = Vec::new();
    let mut current: Option<(HeadingLevel, String)> = None;
    for event in &events {
        match event {
            Event::Start(Tag::Heading { level, .. })
                if matches!(level, HeadingLevel::H2 | HeadingLevel::H3) =>
            {
                current = Some((*level, String::new()));
            }
            Event::Text(t) | Event::Code(t) | Event::InlineMath(t) => {
                if let Some((_, text)) = current.as_mut() {
                    text.push_str(t);
                }
            }
            Event::End(TagEnd::Heading(_)) => headings.extend(current.take()),
            _ => {}
        }
    }
    let mut used = BTreeMap::new();
    let ids: Vec<String> = headings
        .iter()
        .map(|(_, text)| {
            let base = slug(text);
            let n = used.entry(base.clone()).or_insert(0usize);
            *n += 1;
            if *n == 1 {
                base
            } else {
                format!("{base}-{n}")
            }
        })
        .collect();
    let mut toc = String::from(
        "<nav class=\"toc\" aria-label=\"Contents\"><p class=\"toc-title\">Contents</p><ol>",
    );
    let mut open_sub = false;
    for ((level, text), id) in headings.iter().zip(&ids) {
        let text = escape_html(text);
        match (level, open_sub) {
            (HeadingLevel::H3, false) => {
                toc.push_str("<ol>");
                open_sub = true;
            }
            (HeadingLevel::H2, true) => {
                toc.push_str("</li></ol></li>");
                open_sub = false;
            }
            (HeadingLevel::H2, false) if !toc.ends_with("<ol>") => toc.push_str("</li>"),
            (HeadingLevel::H3, true) => toc.push_str("</li>"),
            _ => {}
        }
        toc.push_str(&format!("<li><a href=\"#{id}\">{text}</a>"));
    }
    toc.push_str(if open_sub {
        "</li></ol></li></ol></nav>"
    } else {
        "</li></ol></nav>"
    });

    let mut ids = ids.into_iter();
    let mut out = Vec::with_capacity(events.len() + 1);
    for event in events {
        match event {
            Event::Start(Tag::Heading {
                level,
                id: None,
                classes,
                attrs,
            }) if matches!(level, HeadingLevel::H2 | HeadingLevel::H3) => {
                out.push(Event::Start(Tag::Heading {
                    level,
                    id: ids.next().map(CowStr::from),
                    classes,
                    attrs,
                }));
            }
            Event::End(TagEnd::Heading(HeadingLevel::H1)) => {
                out.push(event);
                out.push(Event::Html(CowStr::from(toc.clone())));
            }
            other => out.push(other),
        }
    }
    out
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
