//! The parsed model: [`Term`] (an interaction of variables, R's `a:b`), [`TermSet`] (a sum of
//! terms with or without intercept), [`Grouping`] and [`RandomTerm`] (`(e | g)` after
//! expansion), and [`Formula`]. `Display` writes the normalised form, which parses back to the
//! same model.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use super::error::{syntax_error, FormulaError};
use super::expr::{Expr, Transform};
use super::lexer::lex;
use super::names::{write_interaction, write_name};
use super::parser::Parser;

/// One model term: a variable (`Days`, `factor(Diet)`, `poly(Days, 2)`) or an interaction of
/// distinct variables (`recipe:temp`), in the order first written. A variable is a column name
/// or the label of a call (R's deparse of it); [`Formula::transform`] says what a call means.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Term {
    pub(super) variables: Vec<String>,
}

impl Term {
    pub(super) fn single(name: String) -> Self {
        Self {
            variables: vec![name],
        }
    }

    /// The variables (column names or call labels), in written order (never empty, no
    /// repeats).
    pub fn variables(&self) -> &[String] {
        &self.variables
    }

    /// Number of variables: 1 for a main effect, 2 for a two-way interaction, …
    pub fn degree(&self) -> usize {
        self.variables.len()
    }

    /// True when `name` is one of the term's variables.
    pub fn contains(&self, name: &str) -> bool {
        self.variables.iter().any(|v| v == name)
    }

    /// `self:other`: the union of the variables, `self`'s first (so `a:a` is `a`).
    pub(super) fn interact(&self, other: &Term) -> Term {
        let mut variables = self.variables.clone();
        for v in &other.variables {
            if !variables.contains(v) {
                variables.push(v.clone());
            }
        }
        Term { variables }
    }

    /// The variables as a set, for term identity (`a:b` is `b:a`).
    pub(super) fn key(&self) -> Vec<&str> {
        let mut key: Vec<&str> = self.variables.iter().map(String::as_str).collect();
        key.sort_unstable();
        key
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_interaction(f, &self.variables)
    }
}

/// Removes repeated terms (as sets of variables), keeping the first written form.
pub(super) fn dedup_terms(terms: Vec<Term>) -> Vec<Term> {
    let mut seen = HashSet::new();
    terms
        .into_iter()
        .filter(|t| seen.insert(t.key().join("\u{0}")))
        .collect()
}

/// The right-hand side of a model: whether it has an intercept, and its terms, distinct and
/// ordered by degree (main effects first), first appearance within a degree — R's order.
/// Used for the fixed part and for the left side of each random term's `|`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermSet {
    pub(super) intercept: bool,
    pub(super) terms: Vec<Term>,
}

impl TermSet {
    pub(super) fn new(intercept: bool, terms: Vec<Term>) -> Self {
        let mut terms = dedup_terms(terms);
        // Stable, so first-appearance order survives within each degree.
        terms.sort_by_key(Term::degree);
        Self { intercept, terms }
    }

    /// True when the model has an intercept column.
    pub fn intercept(&self) -> bool {
        self.intercept
    }

    /// The terms, main effects first.
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// True when there is neither an intercept nor a term.
    pub fn is_empty(&self) -> bool {
        !self.intercept && self.terms.is_empty()
    }
}

impl fmt::Display for TermSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Always explicit, so the normalised form never depends on the implied intercept.
        f.write_str(if self.intercept { "1" } else { "0" })?;
        for term in &self.terms {
            write!(f, " + {term}")?;
        }
        Ok(())
    }
}

/// A grouping factor: one variable (`Subject`) or an interaction of variables (`a:b`) whose
/// observed combinations are the levels. The inner levels of a nesting `a/b/c` are `b:a` and
/// `c:(b:a)`, named as lme4 names them; two groupings are equal when their variables are.
#[derive(Debug, Clone)]
pub struct Grouping {
    pub(super) variables: Vec<String>,
    pub(super) name: String,
}

impl PartialEq for Grouping {
    fn eq(&self, other: &Self) -> bool {
        self.variables == other.variables
    }
}

impl Eq for Grouping {}

impl Grouping {
    /// The variables, in the order whose combinations sort the levels (the inner level of a
    /// nesting first, as lme4); never empty, no repeats.
    pub fn variables(&self) -> &[String] {
        &self.variables
    }

    /// The name lme4 gives the grouping factor: `Subject`, `a:b`, `b:a` for the inner level
    /// of `a/b`, `c:(b:a)` for the innermost of `a/b/c`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `a:b` in formula syntax.
    pub(super) fn written(variables: &[String]) -> String {
        struct Written<'a>(&'a [String]);
        impl fmt::Display for Written<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_interaction(f, self.0)
            }
        }
        Written(variables).to_string()
    }
}

impl fmt::Display for Grouping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_interaction(f, &self.variables)
    }
}

/// One random-effects term `(terms | group)`, after `||` and `/` expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RandomTerm {
    pub(super) terms: TermSet,
    pub(super) group: Grouping,
}

impl RandomTerm {
    /// The model on the left of `|` (never empty).
    pub fn terms(&self) -> &TermSet {
        &self.terms
    }

    /// The grouping factor on the right of `|`.
    pub fn group(&self) -> &Grouping {
        &self.group
    }
}

impl fmt::Display for RandomTerm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({} | {})", self.terms, self.group)
    }
}

/// Identical random terms merged into the first: same grouping variables (as a set: `a:b` and
/// `b:a` have the same levels) and the same model on the left of `|`. Several copies of one
/// term only add covariance matrices, whose sum is any covariance matrix one copy can have, so
/// the merged model has the same maximum likelihood and fixed effects, with one θ block instead
/// of an unidentifiable set. Returns the distinct terms, in order, and the merged ones with
/// their copy counts. Linear in the number of terms (hashing).
fn merge_identical(random: Vec<RandomTerm>) -> (Vec<RandomTerm>, Vec<(RandomTerm, usize)>) {
    // (intercept, sorted term keys, sorted grouping variables) → position in `keep`.
    type Key<'a> = (bool, Vec<Vec<&'a str>>, Vec<&'a str>);
    let mut index: std::collections::HashMap<Key<'_>, usize> = std::collections::HashMap::new();
    let mut counts: Vec<usize> = Vec::new();
    let mut keep: Vec<usize> = Vec::new();
    for (i, term) in random.iter().enumerate() {
        let mut group: Vec<&str> = term.group.variables.iter().map(String::as_str).collect();
        group.sort_unstable();
        let mut terms: Vec<Vec<&str>> = term.terms.terms.iter().map(Term::key).collect();
        terms.sort_unstable();
        let key = (term.terms.intercept, terms, group);
        match index.get(&key) {
            Some(&k) => counts[k] += 1,
            None => {
                index.insert(key, keep.len());
                keep.push(i);
                counts.push(1);
            }
        }
    }
    drop(index);
    let mut merged = Vec::new();
    let mut out = Vec::with_capacity(keep.len());
    let mut next = keep.iter().copied().peekable();
    for (i, term) in random.into_iter().enumerate() {
        if next.peek() == Some(&i) {
            next.next();
            let copies = counts[out.len()];
            if copies > 1 {
                merged.push((term.clone(), copies));
            }
            out.push(term);
        }
    }
    (out, merged)
}

/// A parsed mixed-model formula.
///
/// Equality compares the text too; to compare models, compare [`Formula::response`],
/// [`Formula::fixed`], [`Formula::random`] and [`Formula::offsets`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formula {
    pub(super) text: String,
    pub(super) response: String,
    pub(super) fixed: TermSet,
    pub(super) random: Vec<RandomTerm>,
    /// `offset(…)` terms: label and expression.
    pub(super) offsets: Vec<(String, Expr)>,
    /// What each call used as a variable (or as the response) means, by label.
    pub(super) calls: Vec<(String, Transform)>,
    /// Every column read, with the character position of its first occurrence, in text order.
    pub(super) columns: Vec<(String, usize)>,
    /// Random terms written more than once (after expansion), with their number of copies.
    pub(super) merged: Vec<(RandomTerm, usize)>,
}

impl Formula {
    /// Parses `response ~ terms`; see the module docs for the accepted syntax.
    pub fn parse(text: &str) -> Result<Formula, FormulaError> {
        let tokens = lex(text)?;
        let mut parser = Parser::new(text, tokens);
        let (response, sum) = parser.formula()?;
        let mut columns: Vec<(String, usize)> = Vec::new();
        let mut reads = std::mem::take(&mut parser.columns);
        reads.sort_by_key(|&(_, pos)| pos);
        // Sets, so that the work stays linear in the text however many names it repeats.
        let mut seen = HashSet::new();
        for (name, pos) in reads {
            if seen.insert(name.clone()) {
                columns.push((name, pos));
            }
        }
        let calls = std::mem::take(&mut parser.calls);
        let labels: HashSet<&str> = calls.iter().map(|(l, _)| l.as_str()).collect();
        // A backquoted column that is spelled like a call would be read as the call.
        if let Some((name, pos)) = columns.iter().find(|(c, _)| labels.contains(c.as_str())) {
            return Err(syntax_error(
                text,
                *pos,
                format!(
                    "`{name}` is both a column name and a call in this formula; rename the column"
                ),
            ));
        }
        // cbind(successes, failures) is a binomial response, never a model term.
        if let Some((label, _)) = calls
            .iter()
            .find(|(l, t)| matches!(t, Transform::Cbind { .. }) && *l != response)
        {
            return Err(syntax_error(
                text,
                text.find("cbind(").unwrap_or(0),
                format!("{label} can only be the response (left of '~') of a binomial model"),
            ));
        }
        if let Some((_, meaning)) = calls.iter().find(|(l, _)| *l == response) {
            if matches!(meaning, Transform::Factor(_) | Transform::Poly { .. }) {
                return Err(syntax_error(
                    text,
                    0,
                    "the response must be numeric: factor() and poly() cannot be the response",
                ));
            }
        }
        let (random, merged) = merge_identical(sum.random);
        Ok(Formula {
            text: text.to_owned(),
            response,
            fixed: TermSet::new(sum.intercept.unwrap_or(true), sum.terms),
            random,
            merged,
            offsets: sum.offsets,
            calls,
            columns,
        })
    }

    /// What the variable `label` means when it is a call (`factor(Diet)`, `log(Days)`); `None`
    /// for a plain column.
    pub fn transform(&self, label: &str) -> Option<&Transform> {
        self.calls.iter().find(|(l, _)| l == label).map(|(_, t)| t)
    }

    /// The `offset(…)` terms, as labels (`offset(2 * Days)`) and expressions.
    pub fn offsets(&self) -> &[(String, Expr)] {
        &self.offsets
    }

    /// The text as given to [`Formula::parse`].
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The response variable.
    pub fn response(&self) -> &str {
        &self.response
    }

    /// The fixed-effects part.
    pub fn fixed(&self) -> &TermSet {
        &self.fixed
    }

    /// The random-effects terms, in formula order after expansion.
    pub fn random(&self) -> &[RandomTerm] {
        &self.random
    }

    /// Every column the formula reads (response, fixed and random-term variables, the columns
    /// inside calls and offsets, grouping variables), distinct, in order of first appearance in
    /// the text.
    pub fn used_columns(&self) -> Vec<String> {
        self.columns.iter().map(|(v, _)| v.clone()).collect()
    }

    /// What the user should know about how the formula was read: one note per random-effects
    /// term that appears more than once after `||` and `/` expansion (`(1 | g) + (1 | g)`,
    /// `(1 | g/g)`), which is fitted once.
    pub fn notes(&self) -> Vec<String> {
        self.merged
            .iter()
            .map(|(term, copies)| {
                format!(
                    "the random-effects term {term} appears {copies} times (after expanding || \
                     and /) and is fitted once: lme4 fits every copy, but only the sum of their \
                     covariances is identifiable, and one term reaches the same likelihood"
                )
            })
            .collect()
    }

    /// 0-based character position of the first occurrence of column `name` in the text.
    pub fn position_of(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .find(|(v, _)| v == name)
            .map(|&(_, pos)| pos)
    }
}

impl FromStr for Formula {
    type Err = FormulaError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Formula::parse(s)
    }
}

impl fmt::Display for Formula {
    /// The normalised form, e.g. `y ~ 1 + a + b + a:b + (1 | g) + (0 + x | g)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_name(f, &self.response)?;
        write!(f, " ~ {}", self.fixed)?;
        for (label, _) in &self.offsets {
            write!(f, " + {label}")?;
        }
        for term in &self.random {
            write!(f, " + {term}")?;
        }
        Ok(())
    }
}
