//! The parsed model: [`Term`] (an interaction of variables, R's `a:b`), [`TermSet`] (a sum of
//! terms with or without intercept), [`Grouping`] and [`RandomTerm`] (`(e | g)` after
//! expansion), and [`Formula`]. `Display` writes the normalised form, which parses back to the
//! same model.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use super::error::FormulaError;
use super::lexer::{lex, Tok};
use super::names::{write_interaction, write_name};
use super::parser::Parser;

/// One model term: a variable (`Days`) or an interaction of distinct variables (`recipe:temp`),
/// in the order first written.
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

    /// The variables, in written order (never empty, no repeats).
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
/// observed combinations are the levels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grouping {
    pub(super) variables: Vec<String>,
}

impl Grouping {
    /// The variables, in written order (never empty, no repeats).
    pub fn variables(&self) -> &[String] {
        &self.variables
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

/// A parsed mixed-model formula.
///
/// Equality compares the text too; to compare models, compare [`Formula::response`],
/// [`Formula::fixed`] and [`Formula::random`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formula {
    pub(super) text: String,
    pub(super) response: String,
    pub(super) fixed: TermSet,
    pub(super) random: Vec<RandomTerm>,
    /// Every variable name with the character position of its first occurrence, in text order.
    pub(super) variables: Vec<(String, usize)>,
}

impl Formula {
    /// Parses `response ~ terms`; see the module docs for the accepted syntax.
    pub fn parse(text: &str) -> Result<Formula, FormulaError> {
        let tokens = lex(text)?;
        let mut variables: Vec<(String, usize)> = Vec::new();
        for token in &tokens {
            if let Tok::Name(name) = &token.tok {
                if !variables.iter().any(|(v, _)| v == name) {
                    variables.push((name.clone(), token.pos));
                }
            }
        }
        let (response, sum) = Parser::new(text, tokens).formula()?;
        Ok(Formula {
            text: text.to_owned(),
            response,
            fixed: TermSet::new(sum.intercept.unwrap_or(true), sum.terms),
            random: sum.random,
            variables,
        })
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

    /// Every column the formula uses (response, fixed and random-term variables, grouping
    /// variables), distinct, in order of first appearance in the text.
    pub fn used_columns(&self) -> Vec<String> {
        self.variables.iter().map(|(v, _)| v.clone()).collect()
    }

    /// 0-based character position of the first occurrence of variable `name` in the text.
    pub fn position_of(&self, name: &str) -> Option<usize> {
        self.variables
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
        for term in &self.random {
            write!(f, " + {term}")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Lexer
