//! lme4-style model formulas: `Reaction ~ 1 + Days + (1 + Days | Subject)`.
//!
//! This module owns the formula *syntax*: a hand-written lexer and recursive-descent parser that
//! turn the text into a normalised description of the model ([`Formula`]), and the syntax error
//! type ([`FormulaError`]) with a caret pointing at the problem. It knows nothing about data; the
//! `design` module turns a [`Formula`] plus a table into model matrices.
//!
//! What the parser normalises, following R's `terms()` and lme4's `findbars()`:
//! - a call (`factor(Diet)`, `log(x)`, `I(x^2)`, `poly(x, 2)`, `scale(x)`) is a variable named
//!   by R's deparse of it (`poly(Days, 2)`), whose meaning ([`Transform`]) is checked here and
//!   evaluated by the design step; `offset(…)` terms are kept apart; the response may be a
//!   call; an unknown function is an error listing the supported ones ([`Function`]);
//! - `a*b` expands to `a + b + a:b`, `a/b` (fixed part) to `a + a:b`, `(a + b):c` to `a:c + b:c`,
//!   `(a + b)^2` to `a + b + a:b`;
//! - terms are de-duplicated as sets of variables (`a:b` and `b:a` are one term, written as first
//!   seen) and ordered by degree, keeping first-appearance order within a degree;
//! - the intercept is implied unless removed by `0`, `+ 0` or `- 1` (the last marker wins);
//! - `(e || g)` becomes one random term per term of `e` (intercept first), and a nested grouping
//!   `(e | a/b)` becomes `(e | a) + (e | b:a)`, named as lme4 names it.
//!
//! [`Formula`]'s `Display` writes this normalised form, which parses back to the same model.
//!
//! One concept per file: [`lexer`], [`parser`], [`call`] (arithmetic inside calls), [`expr`]
//! (calls and their meaning), [`expand`] (random-term expansion), [`terms`] (the parsed model),
//! [`error`], [`names`].

mod call;
mod error;
mod expand;
mod expr;
mod grouping;
mod lexer;
mod names;
mod parser;
mod terms;
#[cfg(test)]
mod tests;

pub(crate) use error::underline;
pub use error::FormulaError;
pub use expr::{format_r_number, Argument, BinaryOp, Expr, Function, Transform};
pub use terms::{Formula, Grouping, RandomTerm, Term, TermSet};

/// Deepest parenthesis nesting accepted; a guard against stack exhaustion on hostile input.
pub(super) const MAX_DEPTH: usize = 64;
/// Largest number of terms one sub-expression may expand to; `a*b*c*…` grows as 2^k, so this
/// keeps pathological inputs from exhausting memory while leaving real models far below it.
pub(super) const MAX_TERMS: usize = 2048;
/// Most levels of one nested grouping `a/b/c/…`; level k holds k variables, so the expansion
/// is quadratic in the depth and needs a bound of its own (real models nest two or three).
pub(super) const MAX_NESTING: usize = 128;
/// Most variables in one interaction term (`a:b:c:…`) or grouping interaction.
pub(super) const MAX_DEGREE: usize = 128;
/// Most terms plus grouping variables over all random-effects terms after expansion, so that
/// the expansion stays linear in the text (a few thousand terms of modest size).
pub(super) const MAX_RANDOM_SIZE: usize = 16 * MAX_TERMS;
