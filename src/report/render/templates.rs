//! The report's templates: reading them, the minijinja environment with the number filters,
//! and rendering with errors that point into the template.

use std::path::{Path, PathBuf};

use minijinja::value::Value;
use minijinja::{Environment, Error as TemplateError, ErrorKind};

use super::ReportError;
use crate::report::format::{format_fixed, format_sci};

/// The two report templates, read from disk.
pub struct Templates {
    pub(super) markdown: (PathBuf, String),
    pub(super) html: (PathBuf, String),
}

impl Templates {
    /// Reads `report.md.j2` and `report.html.j2` from `dir`.
    pub fn load(dir: &Path) -> Result<Self, ReportError> {
        let read = |name: &str| {
            let path = dir.join(name);
            crate::io::regular::read_regular_to_string(&path)
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

fn template_environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_filter("fixed", |v: f64, decimals: Option<usize>| {
        format_fixed(v, decimals.unwrap_or(4))
    });
    env.add_filter("sci", |v: f64, decimals: Option<usize>| {
        format_sci(v, decimals.unwrap_or(2))
    });
    env.add_filter("text", |v: String| super::escape::markdown_text(&v));
    env.add_filter("code", |v: String| super::escape::markdown_code(&v));
    env.add_filter("pct", |v: f64, decimals: Option<usize>| {
        format!("{}%", format_fixed(100.0 * v, decimals.unwrap_or(1)))
    });
    env
}

pub(super) fn render_template(
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
