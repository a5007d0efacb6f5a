//! Seeded synthetic benchmark data sets (ChaCha8, so the same seed gives the same bytes on
//! every platform), returned as [`Table`]s, and a deterministic CSV writer for them.
//!
//! * [`insteval_like`]: the shape of lme4's `InstEval` — 73,421 ratings of 1,128 lectures
//!   (`d`) in 14 departments (`dept`) by 2,972 students (`s`), with a `service` factor — for
//!   `y ~ 1 + service + (1|s) + (1|d) + (1|dept)`. Crossed, unbalanced and skewed: students
//!   rate 24.7 lectures on average (log-normal counts), mostly in a home department, and
//!   lecture popularity is log-normal.
//! * [`random_slopes`]: a large random-slopes design for `y ~ 1 + x + (1 + x|g)` (by default
//!   [`RANDOM_SLOPES_ROWS`] rows in [`RANDOM_SLOPES_GROUPS`] groups).

use std::io::{self, Write};

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use lmm_engine::{Column, Table};

/// Number of rows of the InstEval-shaped design.
pub const INSTEVAL_ROWS: usize = 73_421;
/// Number of students (`s`).
pub const INSTEVAL_STUDENTS: usize = 2_972;
/// Number of lectures (`d`).
pub const INSTEVAL_LECTURES: usize = 1_128;
/// Number of departments (`dept`).
pub const INSTEVAL_DEPARTMENTS: usize = 14;

/// Default number of rows of [`random_slopes`].
pub const RANDOM_SLOPES_ROWS: usize = 1_000_000;
/// Default number of groups of [`random_slopes`].
pub const RANDOM_SLOPES_GROUPS: usize = 10_000;

/// Formula for [`insteval_like`].
pub const INSTEVAL_FORMULA: &str = "y ~ 1 + service + (1|s) + (1|d) + (1|dept)";
/// Formula for [`random_slopes`].
pub const RANDOM_SLOPES_FORMULA: &str = "y ~ 1 + x + (1 + x|g)";

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    rng.sample(StandardNormal)
}

/// Index drawn with probability proportional to the increments of `cumulative`.
fn weighted_index(rng: &mut ChaCha8Rng, cumulative: &[f64]) -> usize {
    let total = cumulative.last().copied().unwrap_or(0.0);
    let u = rng.random_range(0.0..1.0) * total;
    cumulative
        .partition_point(|&c| c <= u)
        .min(cumulative.len() - 1)
}

fn cumulative(weights: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut acc = 0.0;
    weights
        .into_iter()
        .map(|w| {
            acc += w;
            acc
        })
        .collect()
}

/// Log-normal counts, at least 1 and at most `cap`, adding up to exactly `total`.
fn counts_with_total(
    rng: &mut ChaCha8Rng,
    n: usize,
    total: usize,
    sigma: f64,
    cap: usize,
) -> Vec<usize> {
    let raw: Vec<f64> = (0..n).map(|_| (sigma * normal(rng)).exp()).collect();
    let sum: f64 = raw.iter().sum();
    let mut counts: Vec<usize> = raw
        .iter()
        .map(|r| ((r / sum * total as f64).round() as usize).clamp(1, cap))
        .collect();
    let mut current: usize = counts.iter().sum();
    while current != total {
        let i = rng.random_range(0..n);
        if current < total && counts[i] < cap {
            counts[i] += 1;
            current += 1;
        } else if current > total && counts[i] > 1 {
            counts[i] -= 1;
            current -= 1;
        }
    }
    counts
}

/// The InstEval-shaped crossed design (columns `s`, `d`, `dept`, `service`, `y`). Every
/// student, lecture and department occurs; a student rates a lecture at most once;
/// `service` is "yes" when the lecture's department is not the student's home department;
/// `y` is an integer rating 1–5 from a crossed random-effects model.
pub fn insteval_like(seed: u64) -> Table {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (ns, nd, ndept) = (INSTEVAL_STUDENTS, INSTEVAL_LECTURES, INSTEVAL_DEPARTMENTS);

    // Departments of unequal size; lectures of unequal popularity.
    let dept_weight: Vec<f64> = (0..ndept).map(|_| (0.7 * normal(&mut rng)).exp()).collect();
    let dept_cum = cumulative(dept_weight.iter().copied());
    let lecture_dept: Vec<usize> = (0..nd)
        .map(|d| {
            if d < ndept {
                d
            } else {
                weighted_index(&mut rng, &dept_cum)
            }
        })
        .collect();
    let popularity: Vec<f64> = (0..nd).map(|_| normal(&mut rng).exp()).collect();
    let all_cum = cumulative(popularity.iter().copied());
    let by_dept: Vec<Vec<usize>> = (0..ndept)
        .map(|k| (0..nd).filter(|&d| lecture_dept[d] == k).collect())
        .collect();
    let dept_cums: Vec<Vec<f64>> = by_dept
        .iter()
        .map(|ds| cumulative(ds.iter().map(|&d| popularity[d])))
        .collect();
    let dept_popularity = cumulative(dept_cums.iter().map(|c| c.last().copied().unwrap_or(0.0)));

    let home: Vec<usize> = (0..ns)
        .map(|_| weighted_index(&mut rng, &dept_popularity))
        .collect();
    let target = counts_with_total(&mut rng, ns, INSTEVAL_ROWS, 0.8, 150);

    // Ratings per student, as sets of lectures (membership marked in `taken`).
    let mut rated: Vec<Vec<usize>> = vec![Vec::new(); ns];
    let mut taken = vec![false; ns * nd];
    // Coverage first: every lecture gets one rating from a student with room, preferably
    // from its own department.
    for d in 0..nd {
        let mut chosen = None;
        for attempt in 0..200 {
            let s = rng.random_range(0..ns);
            if rated[s].len() < target[s] && (attempt >= 100 || home[s] == lecture_dept[d]) {
                chosen = Some(s);
                break;
            }
        }
        let s =
            chosen.unwrap_or_else(|| (0..ns).find(|&s| rated[s].len() < target[s]).unwrap_or(0));
        taken[s * nd + d] = true;
        rated[s].push(d);
    }
    // Then fill each student up: 80% home department, 20% anywhere, by popularity.
    for s in 0..ns {
        let home_lectures = &by_dept[home[s]];
        let mut guard = 0;
        while rated[s].len() < target[s] && guard < 100_000 {
            guard += 1;
            let d = if rng.random_bool(0.8) && !home_lectures.is_empty() {
                home_lectures[weighted_index(&mut rng, &dept_cums[home[s]])]
            } else {
                weighted_index(&mut rng, &all_cum)
            };
            if !taken[s * nd + d] {
                taken[s * nd + d] = true;
                rated[s].push(d);
            }
        }
    }

    // Response: crossed random effects on a 1–5 rating scale.
    let student_effect: Vec<f64> = (0..ns).map(|_| 0.32 * normal(&mut rng)).collect();
    let lecture_effect: Vec<f64> = (0..nd).map(|_| 0.52 * normal(&mut rng)).collect();
    let dept_effect: Vec<f64> = (0..ndept).map(|_| 0.08 * normal(&mut rng)).collect();

    let rows: usize = rated.iter().map(Vec::len).sum();
    let mut s_col = Vec::with_capacity(rows);
    let mut d_col = Vec::with_capacity(rows);
    let mut dept_col = Vec::with_capacity(rows);
    let mut service_col = Vec::with_capacity(rows);
    let mut y_col = Vec::with_capacity(rows);
    for (s, lectures) in rated.iter_mut().enumerate() {
        lectures.sort_unstable();
        for &d in lectures.iter() {
            let k = lecture_dept[d];
            let service = k != home[s];
            let latent = 3.2 + student_effect[s] + lecture_effect[d] + dept_effect[k]
                - if service { 0.07 } else { 0.0 }
                + 1.18 * normal(&mut rng);
            s_col.push(Some(format!("s{:04}", s + 1)));
            d_col.push(Some(format!("d{:04}", d + 1)));
            dept_col.push(Some(format!("dept{:02}", k + 1)));
            service_col.push(Some(if service { "yes" } else { "no" }.to_string()));
            y_col.push(Some(latent.round().clamp(1.0, 5.0)));
        }
    }
    Table::new()
        .with("s", Column::Text(s_col))
        .with("d", Column::Text(d_col))
        .with("dept", Column::Text(dept_col))
        .with("service", Column::Text(service_col))
        .with("y", Column::Numeric(y_col))
}

/// A random-slopes design with `n_rows` rows in `n_groups` groups (`g`, every group present,
/// sizes random), numeric `x ~ N(0, 1)` and
/// `y = 1 + 2x + b0_g + b1_g x + ε`, `sd(b0) = 1`, `sd(b1) = 0.5`, `cor(b0, b1) = 0.3`,
/// `sd(ε) = 1`. Columns `g`, `x`, `y`.
pub fn random_slopes(n_rows: usize, n_groups: usize, seed: u64) -> Table {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n_groups = n_groups.max(1);
    let effects: Vec<(f64, f64)> = (0..n_groups)
        .map(|_| {
            let (z0, z1) = (normal(&mut rng), normal(&mut rng));
            let rho: f64 = 0.3;
            (z0, 0.5 * (rho * z0 + (1.0 - rho * rho).sqrt() * z1))
        })
        .collect();
    let labels: Vec<String> = (0..n_groups).map(|g| format!("g{:05}", g + 1)).collect();
    let mut g_col = Vec::with_capacity(n_rows);
    let mut x_col = Vec::with_capacity(n_rows);
    let mut y_col = Vec::with_capacity(n_rows);
    for i in 0..n_rows {
        let g = if i < n_groups {
            i
        } else {
            rng.random_range(0..n_groups)
        };
        let x = normal(&mut rng);
        let (b0, b1) = effects[g];
        let y = 1.0 + 2.0 * x + b0 + b1 * x + normal(&mut rng);
        g_col.push(Some(labels[g].clone()));
        x_col.push(Some(x));
        y_col.push(Some(y));
    }
    Table::new()
        .with("g", Column::Text(g_col))
        .with("x", Column::Numeric(x_col))
        .with("y", Column::Numeric(y_col))
}

/// Quotes a text cell when it contains a separator, a quote, a line break or edge spaces.
fn write_text_cell<W: Write>(out: &mut W, s: &str) -> io::Result<()> {
    let needs_quotes = s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ');
    if needs_quotes {
        write!(out, "\"{}\"", s.replace('"', "\"\""))
    } else {
        out.write_all(s.as_bytes())
    }
}

/// Writes `table` as CSV: a header of column names, then one line per row; missing cells
/// are empty; numbers use Rust's shortest round-trip formatting (deterministic, exact).
pub fn write_csv<W: Write>(table: &Table, out: W) -> io::Result<()> {
    let mut out = io::BufWriter::new(out);
    for (c, name) in table.names().iter().enumerate() {
        if c > 0 {
            out.write_all(b",")?;
        }
        write_text_cell(&mut out, name)?;
    }
    out.write_all(b"\n")?;
    let columns: Vec<&Column> = table.iter().map(|(_, c)| c).collect();
    for r in 0..table.nrows() {
        for (c, column) in columns.iter().enumerate() {
            if c > 0 {
                out.write_all(b",")?;
            }
            match column {
                Column::Numeric(v) => {
                    if let Some(x) = v[r] {
                        write!(out, "{x}")?;
                    }
                }
                Column::Integer(v) => {
                    if let Some(x) = v[r] {
                        write!(out, "{x}")?;
                    }
                }
                Column::Text(v) => {
                    if let Some(s) = &v[r] {
                        write_text_cell(&mut out, s)?;
                    }
                }
            }
        }
        out.write_all(b"\n")?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{HashMap, HashSet};

    fn text(table: &Table, name: &str) -> Vec<String> {
        match table.get(name) {
            Some(Column::Text(v)) => v.iter().map(|s| s.clone().unwrap()).collect(),
            _ => panic!("no text column {name}"),
        }
    }

    #[test]
    fn insteval_like_has_the_documented_shape() {
        let t = insteval_like(1);
        assert_eq!(t.nrows(), INSTEVAL_ROWS);
        let s = text(&t, "s");
        let d = text(&t, "d");
        let dept = text(&t, "dept");
        assert_eq!(s.iter().collect::<HashSet<_>>().len(), INSTEVAL_STUDENTS);
        assert_eq!(d.iter().collect::<HashSet<_>>().len(), INSTEVAL_LECTURES);
        assert_eq!(
            dept.iter().collect::<HashSet<_>>().len(),
            INSTEVAL_DEPARTMENTS
        );
        // Each lecture belongs to one department; no student rates a lecture twice.
        let mut dept_of: HashMap<&str, &str> = HashMap::new();
        for (di, ki) in d.iter().zip(&dept) {
            assert_eq!(*dept_of.entry(di).or_insert(ki), ki.as_str());
        }
        let pairs: HashSet<(&String, &String)> = s.iter().zip(&d).collect();
        assert_eq!(pairs.len(), INSTEVAL_ROWS);
        let service = text(&t, "service");
        let yes = service.iter().filter(|v| *v == "yes").count();
        assert!(yes > 0 && yes < INSTEVAL_ROWS);
        // Skewed counts: the busiest student rates far more than the mean.
        let mut per_student: HashMap<&str, usize> = HashMap::new();
        for v in &s {
            *per_student.entry(v).or_default() += 1;
        }
        assert!(*per_student.values().max().unwrap() > 60);
        assert_eq!(insteval_like(1), t, "same seed, same data");
    }

    #[test]
    fn random_slopes_is_seeded_and_complete() {
        let t = random_slopes(5_000, 100, 3);
        assert_eq!(t.nrows(), 5_000);
        assert_eq!(text(&t, "g").iter().collect::<HashSet<_>>().len(), 100);
        assert_eq!(random_slopes(5_000, 100, 3), t);
        assert_ne!(random_slopes(5_000, 100, 4), t);
    }

    #[test]
    fn csv_output_is_deterministic_and_quoted() {
        let t = Table::new()
            .with(
                "name",
                Column::Text(vec![Some("a,b".into()), None, Some("q\"x".into())]),
            )
            .with("v", Column::Numeric(vec![Some(0.1), Some(3.0), None]));
        let mut buf = Vec::new();
        write_csv(&t, &mut buf).unwrap();
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "name,v\n\"a,b\",0.1\n,3\n\"q\"\"x\",\n"
        );
    }
}
