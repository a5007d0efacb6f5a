//! A panel whose country names hold what breaks each output format — XML's `<` and `&`, a
//! control character (forbidden in XML 1.0), a bidirectional override, Markdown's table,
//! emphasis, code and link syntax, TeX's `$`, an HTML end tag and script — still renders
//! valid files that show the names as written.

use std::collections::BTreeMap;
use std::path::PathBuf;

use lmm_report::report::{self, ReportConfig};

const NAMES: [(&str, &str); 3] = [
    ("SWEDEN", "SWE<DEN> & \"Co\" \u{1}|*_`#[x](y)"),
    ("JAPAN", "JA'PAN</svg><script>alert(1)</script>"),
    ("SPAIN", "SPA\u{202e}IN $x$ \\alpha"),
];

fn render_hostile() -> BTreeMap<String, Vec<u8>> {
    let dir = std::env::temp_dir().join(format!("lmm-report-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut text = std::fs::read_to_string("data/gasoline.csv").unwrap();
    for (from, to) in NAMES {
        let quoted = to.replace('"', "\"\"");
        text = text.replace(&format!("\"{from}\""), &format!("\"{quoted}\""));
    }
    let data = dir.join("hostile.csv");
    std::fs::write(&data, text).unwrap();
    let config = ReportConfig {
        data: PathBuf::from(&data),
        ..ReportConfig::default()
    };
    report::render(&config).expect("renders").files
}

#[test]
fn every_file_stays_valid_and_shows_the_names_as_written() {
    let files = render_hostile();
    let text = |name: &str| String::from_utf8(files[name].clone()).unwrap();
    for (name, bytes) in &files {
        let s = std::str::from_utf8(bytes).unwrap();
        if name.ends_with(".svg") {
            roxmltree::Document::parse(s).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        if !name.ends_with(".json") {
            assert!(
                !s.chars()
                    .any(|c| (c.is_control() && c != '\n' && c != '\t') || c == '\u{202e}'),
                "{name} holds a raw control or override character"
            );
        }
    }
    let md = text("report.md");
    let html = text("report.html");
    // The names reach the page as the same characters (HTML-escaped, controls made visible).
    for expected in [
        "SWE&lt;DEN&gt; &amp; \"Co\" \\u{1}|*_`#[x](y)",
        "JA'PAN&lt;/svg&gt;&lt;script&gt;alert(1)&lt;/script&gt;",
        "SPA\\u{202e}IN $x$ \\alpha",
    ] {
        assert!(html.contains(expected), "HTML lacks {expected:?}");
    }
    assert!(!html.contains("<script>alert"));
    // No name opened math, code, emphasis or a link: the page has as many of each as the
    // report of the real panel.
    let plain = report::render(&ReportConfig::default()).unwrap().files;
    let plain_html = String::from_utf8(plain["report.html"].clone()).unwrap();
    for tag in [
        "<math", "<code", "<em>", "<strong>", "<a ", "<td", "<tr", "<th",
    ] {
        assert_eq!(
            html.matches(tag).count(),
            plain_html.matches(tag).count(),
            "count of {tag}"
        );
    }
    // The Markdown table of the influence section keeps its columns.
    let row = md
        .lines()
        .find(|l| l.starts_with("| JA'PAN"))
        .expect("influence table row");
    assert_eq!(row.matches(" | ").count(), 7, "{row}");
    // The JSON keeps the names exactly (serde escapes what JSON needs).
    let json: serde_json::Value = serde_json::from_slice(&files["results.json"]).unwrap();
    let all = json.to_string();
    for (_, name) in NAMES {
        let encoded = serde_json::to_string(name).unwrap();
        assert!(all.contains(&encoded[1..encoded.len() - 1]), "{name:?}");
    }
}
