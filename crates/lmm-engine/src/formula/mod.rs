//! lme4-style model formulas: `Reaction ~ 1 + Days + (1 + Days | Subject)`.
//!
//! This module owns the formula *syntax*: a hand-written lexer and recursive-descent parser that
//! turn the text into a normalised description of the model ([`Formula`]), and the syntax error
//! type ([`FormulaError`]) with a caret pointing at the problem. It knows nothing about data; the
//! `design` module turns a [`Formula`] plus a table into model matrices.
//!
//! What the parser normalises, following R's `terms()` and lme4's `findbars()`:
//! - `a*b` expands to `a + b + a:b`, `a/b` (fixed part) to `a + a:b`, `(a + b):c` to `a:c + b:c`;
//! - terms are de-duplicated as sets of variables (`a:b` and `b:a` are one term, written as first
//!   seen) and ordered by degree, keeping first-appearance order within a degree;
//! - the intercept is implied unless removed by `0`, `+ 0` or `- 1` (the last marker wins);
//! - `(e || g)` becomes one random term per term of `e` (intercept first), and a nested grouping
//!   `(e | a/b)` becomes `(e | a) + (e | a:b)`.
//!
//! [`Formula`]'s `Display` writes this normalised form, which parses back to the same model.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

/// Deepest parenthesis nesting accepted; a guard against stack exhaustion on hostile input.
const MAX_DEPTH: usize = 64;
/// Largest number of terms one sub-expression may expand to; `a*b*c*…` grows as 2^k, so this
/// keeps pathological inputs from exhausting memory while leaving real models far below it.
const MAX_TERMS: usize = 2048;

/// A syntax error in a formula, with the 0-based character position of the problem.
///
/// `Display` shows the message, the formula and a caret under the position:
/// ```text
/// formula syntax error at column 12: expected a variable name after '+'
///   y ~ 1 + x +
///               ^
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct FormulaError {
    /// What is wrong, without the position.
    pub message: String,
    /// 0-based character (not byte) index into [`FormulaError::formula`]; may equal its length
    /// when the formula ends too early.
    pub position: usize,
    /// The formula text as given.
    pub formula: String,
}

impl fmt::Display for FormulaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "formula syntax error at column {}: {}\n{}",
            self.position,
            self.message,
            underline(&self.formula, self.position)
        )
    }
}

/// Two lines: the formula indented by two spaces and a caret under character `position`.
/// Control characters (tabs, newlines) are shown as spaces so the caret stays aligned.
pub(crate) fn underline(text: &str, position: usize) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("  {line}\n  {}^", " ".repeat(position))
}

/// True for names that can be written without backquotes: `[A-Za-z_.][A-Za-z0-9_.]*`.
fn is_plain_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(is_name_start) && chars.all(is_name_char)
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '.'
}

fn is_name_char(c: char) -> bool {
    is_name_start(c) || c.is_ascii_digit()
}

/// Writes a variable name in formula syntax, backquoting it when it is not a plain name.
fn write_name(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    if is_plain_name(name) {
        f.write_str(name)
    } else {
        write!(f, "`{name}`")
    }
}

/// Writes `a:b:c`.
fn write_interaction(f: &mut fmt::Formatter<'_>, variables: &[String]) -> fmt::Result {
    for (i, v) in variables.iter().enumerate() {
        if i > 0 {
            f.write_str(":")?;
        }
        write_name(f, v)?;
    }
    Ok(())
}

/// One model term: a variable (`Days`) or an interaction of distinct variables (`recipe:temp`),
/// in the order first written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Term {
    variables: Vec<String>,
}

impl Term {
    fn single(name: String) -> Self {
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
    fn interact(&self, other: &Term) -> Term {
        let mut variables = self.variables.clone();
        for v in &other.variables {
            if !variables.contains(v) {
                variables.push(v.clone());
            }
        }
        Term { variables }
    }

    /// The variables as a set, for term identity (`a:b` is `b:a`).
    fn key(&self) -> Vec<&str> {
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
fn dedup_terms(terms: Vec<Term>) -> Vec<Term> {
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
    intercept: bool,
    terms: Vec<Term>,
}

impl TermSet {
    fn new(intercept: bool, terms: Vec<Term>) -> Self {
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
    variables: Vec<String>,
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
    terms: TermSet,
    group: Grouping,
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
    text: String,
    response: String,
    fixed: TermSet,
    random: Vec<RandomTerm>,
    /// Every variable name with the character position of its first occurrence, in text order.
    variables: Vec<(String, usize)>,
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

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Number(String),
    Tilde,
    Plus,
    Minus,
    Star,
    Colon,
    Slash,
    Bar,
    DoubleBar,
    Amp,
    LParen,
    RParen,
    End,
}

impl fmt::Display for Tok {
    /// How a token is quoted in messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let symbol = match self {
            Tok::Name(name) => return write!(f, "variable name '{name}'"),
            Tok::Number(n) => return write!(f, "number '{n}'"),
            Tok::End => return f.write_str("the end of the formula"),
            Tok::Tilde => "~",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Colon => ":",
            Tok::Slash => "/",
            Tok::Bar => "|",
            Tok::DoubleBar => "||",
            Tok::Amp => "&",
            Tok::LParen => "(",
            Tok::RParen => ")",
        };
        write!(f, "'{symbol}'")
    }
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    /// 0-based character index of the token's first character.
    pos: usize,
}

fn syntax_error(text: &str, position: usize, message: impl Into<String>) -> FormulaError {
    FormulaError {
        message: message.into(),
        position,
        formula: text.to_owned(),
    }
}

/// Splits `text` into tokens (ending with [`Tok::End`]), with character positions.
fn lex(text: &str) -> Result<Vec<Token>, FormulaError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let tok = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            c if is_name_start(c) => {
                while i < chars.len() && is_name_char(chars[i]) {
                    i += 1;
                }
                tokens.push(Token {
                    tok: Tok::Name(chars[start..i].iter().collect()),
                    pos: start,
                });
                continue;
            }
            c if c.is_ascii_digit() => {
                // Greedy, so `1.5` or `2x` is reported as one bad number rather than as `1`
                // followed by a puzzling name.
                while i < chars.len() && is_name_char(chars[i]) {
                    i += 1;
                }
                tokens.push(Token {
                    tok: Tok::Number(chars[start..i].iter().collect()),
                    pos: start,
                });
                continue;
            }
            '`' => {
                let Some(len) = chars[start + 1..].iter().position(|&c| c == '`') else {
                    return Err(syntax_error(
                        text,
                        start,
                        "unterminated backquoted name: missing the closing '`'",
                    ));
                };
                if len == 0 {
                    return Err(syntax_error(text, start, "empty backquoted name"));
                }
                i = start + len + 2;
                tokens.push(Token {
                    tok: Tok::Name(chars[start + 1..start + 1 + len].iter().collect()),
                    pos: start,
                });
                continue;
            }
            '|' if chars.get(i + 1) == Some(&'|') => {
                i += 1;
                Tok::DoubleBar
            }
            '|' => Tok::Bar,
            '~' => Tok::Tilde,
            '+' => Tok::Plus,
            '-' => Tok::Minus,
            '*' => Tok::Star,
            ':' => Tok::Colon,
            '/' => Tok::Slash,
            '&' => Tok::Amp,
            '(' => Tok::LParen,
            ')' => Tok::RParen,
            '^' => {
                return Err(syntax_error(
                    text,
                    start,
                    "'^' is not supported: write the interactions out with '*' or ':'",
                ))
            }
            '%' => {
                return Err(syntax_error(
                    text,
                    start,
                    "'%' operators such as %in% are not supported",
                ))
            }
            other => {
                return Err(syntax_error(
                    text,
                    start,
                    format!("unexpected character '{}'", other.escape_debug()),
                ))
            }
        };
        i += 1;
        tokens.push(Token { tok, pos: start });
    }
    tokens.push(Token {
        tok: Tok::End,
        pos: chars.len(),
    });
    Ok(tokens)
}

// ---------------------------------------------------------------------------------------------
// Parser
//
// Grammar, loosest binding first (R's precedence: `|` < `+ -` < `* /` < `:`):
//   formula     := NAME '~' sum END
//   sum         := ['-'] product (('+' | '-') product)*
//   product     := interaction (('*' | '/') interaction)*
//   interaction := atom (':' atom)*
//   atom        := NAME | '0' | '1' | '(' sum ')' | '(' sum ('|' | '||') grouping ')'
//   grouping    := group_term ('/' group_term)*
//   group_term  := NAME ((':' | '&') NAME)*
// Each rule evaluates directly to the terms it denotes, so no syntax tree is kept.

/// What a sub-expression denotes.
enum Value {
    /// Model terms.
    Terms(Vec<Term>),
    /// An intercept marker: `1` (true) or `0` (false).
    Intercept(bool),
    /// Random-effects terms, already expanded.
    Random(Vec<RandomTerm>),
}

struct Spanned {
    value: Value,
    /// Position of the sub-expression's first character, for errors about it.
    pos: usize,
}

/// The contents of a `+`/`-` chain.
#[derive(Default)]
struct Sum {
    /// The last intercept marker, if any.
    intercept: Option<bool>,
    /// Position of the first intercept marker, to reject markers in fixed parentheses.
    marker: Option<usize>,
    terms: Vec<Term>,
    random: Vec<RandomTerm>,
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

type ParseResult<T> = Result<T, FormulaError>;

impl<'a> Parser<'a> {
    fn new(text: &'a str, tokens: Vec<Token>) -> Self {
        Self {
            text,
            tokens,
            at: 0,
            depth: 0,
        }
    }

    fn peek(&self) -> &Token {
        // The lexer always ends the stream with `End`, and `advance` never moves past it.
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        if token.tok != Tok::End {
            self.at += 1;
        }
        token
    }

    /// The token before the current one (the operator that asked for an operand).
    fn previous(&self) -> Option<&Token> {
        self.at.checked_sub(1).map(|i| &self.tokens[i])
    }

    fn error(&self, position: usize, message: impl Into<String>) -> FormulaError {
        syntax_error(self.text, position, message)
    }

    fn formula(&mut self) -> ParseResult<(String, Sum)> {
        let first = self.advance();
        let response = match first.tok {
            Tok::Name(name) => name,
            Tok::End => {
                return Err(self.error(first.pos, "empty formula: expected 'response ~ terms'"))
            }
            Tok::Tilde => {
                return Err(self.error(first.pos, "missing response before '~'"));
            }
            other => {
                return Err(self.error(
                    first.pos,
                    format!("expected the response variable name, found {other}"),
                ))
            }
        };
        let next = self.advance();
        if next.tok != Tok::Tilde {
            let has_tilde = self.tokens.iter().any(|t| t.tok == Tok::Tilde);
            return Err(if has_tilde {
                self.error(next.pos, "the response must be a single variable name")
            } else {
                self.error(
                    next.pos,
                    "missing '~': a formula has the form 'response ~ terms'",
                )
            });
        }
        if self.peek().tok == Tok::End {
            return Err(self.error(
                self.peek().pos,
                "nothing after '~': the right-hand side is empty",
            ));
        }
        let sum = self.sum(true)?;
        let end = self.peek();
        let message = match &end.tok {
            Tok::End => return Ok((response, sum)),
            Tok::RParen => "unbalanced parentheses: this ')' has no matching '('".to_owned(),
            Tok::Bar | Tok::DoubleBar => {
                format!(
                    "{} outside parentheses: write random-effects terms as (1 | group)",
                    end.tok
                )
            }
            Tok::Tilde => "a formula has only one '~'".to_owned(),
            other => format!("expected an operator such as '+' before {other}"),
        };
        Err(self.error(end.pos, message))
    }

    /// A `+`/`-` chain. `allow_random` is false inside parentheses: random terms do not nest.
    fn sum(&mut self, allow_random: bool) -> ParseResult<Sum> {
        let mut sum = Sum::default();
        let mut negative = false;
        if self.peek().tok == Tok::Minus {
            self.advance();
            negative = true;
        }
        loop {
            let item = self.product()?;
            self.add(&mut sum, negative, item, allow_random)?;
            negative = match self.peek().tok {
                Tok::Plus => false,
                Tok::Minus => true,
                _ => return Ok(sum),
            };
            self.advance();
        }
    }

    fn add(
        &self,
        sum: &mut Sum,
        negative: bool,
        item: Spanned,
        allow_random: bool,
    ) -> ParseResult<()> {
        match item.value {
            Value::Intercept(one) => {
                if negative && !one {
                    return Err(self.error(
                        item.pos,
                        "'- 0' is not supported: write '+ 1' to keep the intercept",
                    ));
                }
                sum.intercept = Some(one != negative);
                sum.marker.get_or_insert(item.pos);
            }
            _ if negative => {
                return Err(self.error(
                    item.pos,
                    "only '- 1' (removing the intercept) is supported after '-'",
                ))
            }
            Value::Terms(terms) => {
                sum.terms.extend(terms);
                sum.terms = dedup_terms(std::mem::take(&mut sum.terms));
                self.check_size(sum.terms.len(), item.pos)?;
            }
            Value::Random(random) => {
                if !allow_random {
                    return Err(self.error(
                        item.pos,
                        "random-effects terms cannot be nested inside parentheses",
                    ));
                }
                sum.random.extend(random);
            }
        }
        Ok(())
    }

    fn check_size(&self, len: usize, pos: usize) -> ParseResult<()> {
        if len > MAX_TERMS {
            Err(self.error(pos, format!("this expands to more than {MAX_TERMS} terms")))
        } else {
            Ok(())
        }
    }

    /// Operands of `*`, `/` and `:` must be plain terms.
    fn operand(&self, item: Spanned, op: &Tok) -> ParseResult<Vec<Term>> {
        match item.value {
            Value::Terms(terms) => Ok(terms),
            Value::Intercept(one) => Err(self.error(
                item.pos,
                format!(
                    "'{}' cannot be combined with {op}: the intercept is a term of its own",
                    u8::from(one)
                ),
            )),
            Value::Random(_) => Err(self.error(
                item.pos,
                format!("a random-effects term cannot be combined with {op}; add it with '+'"),
            )),
        }
    }

    fn product(&mut self) -> ParseResult<Spanned> {
        let mut left = self.interaction()?;
        while matches!(self.peek().tok, Tok::Star | Tok::Slash) {
            let op = self.advance();
            let pos = left.pos;
            let a = self.operand(left, &op.tok)?;
            let right = self.interaction()?;
            let b = self.operand(right, &op.tok)?;
            let terms = if op.tok == Tok::Star {
                // a*b = a + b + a:b
                let ab = self.interact(&a, &b, pos)?;
                a.into_iter().chain(b).chain(ab).collect()
            } else {
                // a/b = a + (all of a's variables):b, R's nesting.
                let whole: Vec<Term> = a
                    .iter()
                    .cloned()
                    .reduce(|acc, t| acc.interact(&t))
                    .into_iter()
                    .collect();
                let nested = self.interact(&whole, &b, pos)?;
                a.into_iter().chain(nested).collect()
            };
            let terms = dedup_terms(terms);
            self.check_size(terms.len(), pos)?;
            left = Spanned {
                value: Value::Terms(terms),
                pos,
            };
        }
        Ok(left)
    }

    /// Every term of `a` interacted with every term of `b`, `a` outermost (R's order).
    fn interact(&self, a: &[Term], b: &[Term], pos: usize) -> ParseResult<Vec<Term>> {
        self.check_size(a.len().saturating_mul(b.len()), pos)?;
        Ok(dedup_terms(
            a.iter()
                .flat_map(|x| b.iter().map(move |y| x.interact(y)))
                .collect(),
        ))
    }

    fn interaction(&mut self) -> ParseResult<Spanned> {
        let mut left = self.atom()?;
        while self.peek().tok == Tok::Colon {
            let op = self.advance();
            let pos = left.pos;
            let a = self.operand(left, &op.tok)?;
            let right = self.atom()?;
            let b = self.operand(right, &op.tok)?;
            left = Spanned {
                value: Value::Terms(self.interact(&a, &b, pos)?),
                pos,
            };
        }
        Ok(left)
    }

    /// The message for a missing operand after the previous token.
    fn expected_operand(&self, found: &Token) -> FormulaError {
        let after = self
            .previous()
            .map(|t| format!(" after {}", t.tok))
            .unwrap_or_default();
        let message = if found.tok == Tok::End {
            format!("expected a variable name{after}")
        } else {
            format!("expected a variable name{after}, found {}", found.tok)
        };
        self.error(found.pos, message)
    }

    fn atom(&mut self) -> ParseResult<Spanned> {
        let token = self.peek().clone();
        let value = match &token.tok {
            Tok::Name(name) => {
                self.advance();
                if self.peek().tok == Tok::LParen {
                    return Err(self.error(
                        token.pos,
                        format!(
                            "function calls such as {name}(…) are not supported: add the \
                             transformed variable to the data as a column"
                        ),
                    ));
                }
                Value::Terms(vec![Term::single(name.clone())])
            }
            Tok::Number(n) => {
                self.advance();
                match n.as_str() {
                    "1" => Value::Intercept(true),
                    "0" => Value::Intercept(false),
                    _ => {
                        return Err(self.error(
                            token.pos,
                            format!(
                                "unexpected number '{n}': only 1 and 0 (intercept or none) \
                                 can stand as terms"
                            ),
                        ))
                    }
                }
            }
            Tok::LParen => return self.parenthesised(),
            _ => return Err(self.expected_operand(&token)),
        };
        Ok(Spanned {
            value,
            pos: token.pos,
        })
    }

    /// `( sum )` or a random-effects term `( sum | grouping )`.
    fn parenthesised(&mut self) -> ParseResult<Spanned> {
        let open = self.advance().pos;
        if self.depth >= MAX_DEPTH {
            return Err(self.error(open, "parentheses are nested too deeply"));
        }
        if matches!(self.peek().tok, Tok::Bar | Tok::DoubleBar) {
            return Err(self.error(
                self.peek().pos,
                "empty random-effects term: write (1 | group) for a random intercept",
            ));
        }
        self.depth += 1;
        let inner = self.sum(false)?;
        self.depth -= 1;
        let close = self.advance();
        let value = match close.tok {
            Tok::RParen => {
                if let Some(pos) = inner.marker {
                    return Err(self.error(
                        pos,
                        "'1' and '0' can be inside parentheses only on the left of '|' in a \
                         random-effects term",
                    ));
                }
                Value::Terms(inner.terms)
            }
            Tok::Bar | Tok::DoubleBar => {
                let groups = self.grouping(open)?;
                let expr = TermSet::new(inner.intercept.unwrap_or(true), inner.terms);
                if expr.is_empty() {
                    return Err(self.error(
                        open,
                        "empty random-effects term: it has neither an intercept nor a variable",
                    ));
                }
                Value::Random(expand_random(&expr, close.tok == Tok::DoubleBar, &groups))
            }
            Tok::End => {
                return Err(self.error(open, "unbalanced parentheses: this '(' is never closed"))
            }
            other => {
                return Err(self.error(
                    close.pos,
                    format!("expected ')' or an operator such as '+', found {other}"),
                ))
            }
        };
        Ok(Spanned { value, pos: open })
    }

    /// The grouping after `|` up to and including the closing `)`: `g`, `a:b`, `a & b`, `a/b/c`.
    /// Returns the expanded groups: `a/b/c` gives `a`, `a:b`, `a:b:c`.
    fn grouping(&mut self, open: usize) -> ParseResult<Vec<Grouping>> {
        let mut groups = Vec::new();
        let mut variables: Vec<String> = Vec::new();
        loop {
            loop {
                let token = self.advance();
                match token.tok {
                    Tok::Name(name) => {
                        if !variables.contains(&name) {
                            variables.push(name);
                        }
                    }
                    Tok::End => {
                        let after = self.previous().map(|t| t.tok.clone()).unwrap_or(Tok::Bar);
                        return Err(self.error(
                            token.pos,
                            format!("expected a grouping factor after {after}"),
                        ));
                    }
                    other => {
                        return Err(self.error(
                            token.pos,
                            format!("bad grouping factor: expected a variable name, found {other}"),
                        ))
                    }
                }
                if !matches!(self.peek().tok, Tok::Colon | Tok::Amp) {
                    break;
                }
                self.advance();
            }
            groups.push(Grouping {
                variables: variables.clone(),
            });
            if self.peek().tok != Tok::Slash {
                break;
            }
            self.advance();
        }
        let close = self.advance();
        match close.tok {
            Tok::RParen => Ok(groups),
            Tok::End => Err(self.error(open, "unbalanced parentheses: this '(' is never closed")),
            other => Err(self.error(
                close.pos,
                format!(
                    "bad grouping factor: {other} is not allowed after '|'; use a variable, \
                     a:b for an interaction or a/b for nesting"
                ),
            )),
        }
    }
}

/// Expands `(expr | groups…)` / `(expr || groups…)` into single-group random terms: `||` first
/// (intercept, then one term per formula term), then the nested groups, as lme4 does.
fn expand_random(expr: &TermSet, uncorrelated: bool, groups: &[Grouping]) -> Vec<RandomTerm> {
    let parts: Vec<TermSet> = if uncorrelated {
        let intercept = expr.intercept.then(|| TermSet::new(true, Vec::new()));
        intercept
            .into_iter()
            .chain(
                expr.terms
                    .iter()
                    .map(|t| TermSet::new(false, vec![t.clone()])),
            )
            .collect()
    } else {
        vec![expr.clone()]
    };
    parts
        .iter()
        .flat_map(|terms| {
            groups.iter().map(move |group| RandomTerm {
                terms: terms.clone(),
                group: group.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(text: &str) -> Formula {
        match Formula::parse(text) {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        }
    }

    fn error(text: &str) -> FormulaError {
        match Formula::parse(text) {
            Ok(f) => panic!("{text:?} parsed as {f}"),
            Err(e) => e,
        }
    }

    fn names(terms: &TermSet) -> Vec<String> {
        terms.terms().iter().map(Term::to_string).collect()
    }

    fn normal(text: &str) -> String {
        parse(text).to_string()
    }

    fn same_model(a: &Formula, b: &Formula) -> bool {
        a.response() == b.response() && a.fixed() == b.fixed() && a.random() == b.random()
    }

    #[test]
    fn sleepstudy() {
        let f = parse("Reaction ~ Days + (Days | Subject)");
        assert_eq!(f.text(), "Reaction ~ Days + (Days | Subject)");
        assert_eq!(f.response(), "Reaction");
        assert!(f.fixed().intercept());
        assert_eq!(names(f.fixed()), ["Days"]);
        assert_eq!(f.random().len(), 1);
        let r = &f.random()[0];
        assert!(r.terms().intercept());
        assert_eq!(names(r.terms()), ["Days"]);
        assert_eq!(r.group().variables(), ["Subject"]);
        assert_eq!(f.to_string(), "Reaction ~ 1 + Days + (1 + Days | Subject)");
        assert_eq!(f.used_columns(), ["Reaction", "Days", "Subject"]);
        assert_eq!(f.position_of("Days"), Some(11));
        assert_eq!(f.position_of("Subject"), Some(26));
        assert_eq!(f.position_of("nope"), None);
    }

    #[test]
    fn intercept_control() {
        assert_eq!(normal("y ~ x"), "y ~ 1 + x");
        assert_eq!(normal("y ~ 1"), "y ~ 1");
        assert_eq!(normal("y ~ 0 + x"), "y ~ 0 + x");
        assert_eq!(normal("y ~ -1 + x"), "y ~ 0 + x");
        assert_eq!(normal("y ~ x - 1"), "y ~ 0 + x");
        assert_eq!(normal("y ~ x + 0"), "y ~ 0 + x");
        assert_eq!(normal("y ~ 0 + x + 1"), "y ~ 1 + x");
        assert_eq!(normal("y ~ 0"), "y ~ 0");
        assert_eq!(normal("y ~ 1 + (1|g)"), "y ~ 1 + (1 | g)");
    }

    #[test]
    fn crossing_ordering_and_duplicates() {
        assert_eq!(normal("y ~ a*b"), "y ~ 1 + a + b + a:b");
        assert_eq!(
            normal("y ~ a*b*c"),
            "y ~ 1 + a + b + c + a:b + a:c + b:c + a:b:c"
        );
        assert_eq!(normal("y ~ a:b + c + a"), "y ~ 1 + c + a + a:b");
        assert_eq!(normal("y ~ a + a"), "y ~ 1 + a");
        assert_eq!(normal("y ~ b:a + a*b"), "y ~ 1 + a + b + b:a");
        assert_eq!(normal("y ~ a:a"), "y ~ 1 + a");
        assert_eq!(normal("y ~ a:b:c + x"), "y ~ 1 + x + a:b:c");
        assert_eq!(normal("y ~ a/b"), "y ~ 1 + a + a:b");
        assert_eq!(normal("y ~ (a + b):c"), "y ~ 1 + a:c + b:c");
        assert_eq!(normal("y ~ (a + b)*c"), "y ~ 1 + a + b + c + a:c + b:c");
        assert_eq!(
            normal("y ~ (a + b):(c + d)"),
            "y ~ 1 + a:c + a:d + b:c + b:d"
        );
        assert_eq!(normal("y ~ (a + b)/c"), "y ~ 1 + a + b + a:b:c");
        // `:` binds tighter than `*`.
        assert_eq!(normal("y ~ a*b:c"), "y ~ 1 + a + b:c + a:b:c");
    }

    #[test]
    fn random_terms() {
        assert_eq!(normal("y ~ (1|g)"), "y ~ 1 + (1 | g)");
        assert_eq!(normal("y ~ x + (x|g)"), "y ~ 1 + x + (1 + x | g)");
        assert_eq!(normal("y ~ (0 + x|g)"), "y ~ 1 + (0 + x | g)");
        assert_eq!(normal("y ~ (-1 + x|g)"), "y ~ 1 + (0 + x | g)");
        assert_eq!(normal("y ~ (1 + x || g)"), "y ~ 1 + (1 | g) + (0 + x | g)");
        assert_eq!(
            normal("y ~ (x*z || g)"),
            "y ~ 1 + (1 | g) + (0 + x | g) + (0 + z | g) + (0 + x:z | g)"
        );
        assert_eq!(normal("y ~ (0 + x || g)"), "y ~ 1 + (0 + x | g)");
        assert_eq!(normal("y ~ (1 | a/b)"), "y ~ 1 + (1 | a) + (1 | a:b)");
        assert_eq!(
            normal("y ~ (1 | a/b/c)"),
            "y ~ 1 + (1 | a) + (1 | a:b) + (1 | a:b:c)"
        );
        assert_eq!(normal("y ~ (1 | a & b)"), "y ~ 1 + (1 | a:b)");
        assert_eq!(normal("y ~ (1 | a:b)"), "y ~ 1 + (1 | a:b)");
        assert_eq!(normal("y ~ (1 | a:b/c)"), "y ~ 1 + (1 | a:b) + (1 | a:b:c)");
        assert_eq!(
            normal("y ~ (1 + x || a/b)"),
            "y ~ 1 + (1 | a) + (1 | a:b) + (0 + x | a) + (0 + x | a:b)"
        );
        let f = parse("y ~ (1 + x*z | g)");
        assert_eq!(names(f.random()[0].terms()), ["x", "z", "x:z"]);
        assert_eq!(
            parse("y ~ x + (1|a/b)").used_columns(),
            ["y", "x", "a", "b"]
        );
    }

    #[test]
    fn names_and_backquotes() {
        let f = parse("`log y` ~ `weird name` + a.b_2 + .x + (1 | `my group`)");
        assert_eq!(f.response(), "log y");
        assert_eq!(names(f.fixed()), ["`weird name`", "a.b_2", ".x"]);
        assert_eq!(f.fixed().terms()[0].variables(), ["weird name"]);
        assert_eq!(
            f.to_string(),
            "`log y` ~ 1 + `weird name` + a.b_2 + .x + (1 | `my group`)"
        );
        assert_eq!(f.position_of("weird name"), Some(10));
        assert!(same_model(&f, &parse(&f.to_string())));
        // A backquoted `1` is a variable, not the intercept.
        assert_eq!(normal("y ~ `1`"), "y ~ 1 + `1`");
    }

    #[test]
    fn whitespace_is_free() {
        assert_eq!(
            normal("  y~x*z+( 1+x ||g )\t"),
            "y ~ 1 + x + z + x:z + (1 | g) + (0 + x | g)"
        );
    }

    #[test]
    fn error_display_has_caret() {
        let e = error("y ~ 1 + x + ");
        assert_eq!(e.position, 12);
        assert_eq!(
            e.to_string(),
            "formula syntax error at column 12: expected a variable name after '+'\n  \
             y ~ 1 + x + \n              ^"
        );
    }

    /// (formula, expected position, a fragment of the message)
    const ERRORS: &[(&str, usize, &str)] = &[
        ("", 0, "empty formula"),
        ("   ", 3, "empty formula"),
        ("y x", 2, "missing '~'"),
        ("y", 1, "missing '~'"),
        ("~ x", 0, "missing response"),
        ("y ~", 3, "right-hand side is empty"),
        ("y ~   ", 6, "right-hand side is empty"),
        ("y + z ~ x", 2, "single variable name"),
        ("1 ~ x", 0, "expected the response"),
        ("y ~ x ~ z", 6, "only one '~'"),
        ("y ~ (x + z", 4, "never closed"),
        ("y ~ (1 | g", 4, "never closed"),
        ("y ~ x)", 5, "no matching '('"),
        ("y ~ x + (1 | g))", 15, "no matching '('"),
        ("y ~ 1 | g", 6, "outside parentheses"),
        ("y ~ x || g", 6, "outside parentheses"),
        ("y ~ ( | g)", 6, "empty random-effects term"),
        ("y ~ (0 | g)", 4, "empty random-effects term"),
        ("y ~ (-1 || g)", 4, "empty random-effects term"),
        ("y ~ x +", 7, "expected a variable name after '+'"),
        ("y ~ x *", 7, "expected a variable name after '*'"),
        ("y ~ x:", 6, "expected a variable name after ':'"),
        ("y ~ x + + z", 8, "found '+'"),
        ("y ~ (1 | )", 9, "bad grouping factor"),
        ("y ~ (1 |", 8, "expected a grouping factor after '|'"),
        ("y ~ (1 | g +", 11, "bad grouping factor"),
        ("y ~ (1 | g + h)", 11, "bad grouping factor"),
        ("y ~ (1 | 1)", 9, "bad grouping factor"),
        ("y ~ (1 | g*h)", 10, "bad grouping factor"),
        ("y ~ (1 | (g))", 9, "bad grouping factor"),
        ("y ~ (1 | g/)", 11, "bad grouping factor"),
        ("y ~ x $ z", 6, "unexpected character '$'"),
        ("y ~ é", 4, "unexpected character 'é'"),
        ("y ~ x^2", 5, "'^' is not supported"),
        ("y ~ x %in% g", 6, "'%'"),
        ("y ~ log(x)", 4, "function calls"),
        ("y ~ 2", 4, "unexpected number '2'"),
        ("y ~ 1.5 + x", 4, "unexpected number '1.5'"),
        ("y ~ x - z", 8, "only '- 1'"),
        ("y ~ x - 0", 8, "'- 0'"),
        ("y ~ 1:x", 4, "'1' cannot be combined"),
        ("y ~ (1|g):x", 4, "random-effects term cannot be combined"),
        ("y ~ x*(1|g)", 6, "random-effects term cannot be combined"),
        ("y ~ ((1|g))", 5, "cannot be nested"),
        ("y ~ (x + (1|h) | g)", 9, "cannot be nested"),
        ("y ~ (1 + x)", 5, "only on the left of '|'"),
        ("y ~ x z", 6, "expected an operator"),
        ("y ~ `x", 4, "unterminated backquoted name"),
        ("y ~ ``", 4, "empty backquoted name"),
        ("y ~ ()", 5, "expected a variable name after '('"),
    ];

    #[test]
    fn errors_have_positions() {
        for &(text, position, fragment) in ERRORS {
            let e = error(text);
            assert_eq!(e.position, position, "{text:?}: {e}");
            assert!(e.message.contains(fragment), "{text:?}: {e}");
            assert_eq!(e.formula, text);
        }
    }

    #[test]
    fn limits_guard_against_hostile_input() {
        let deep = format!("y ~ {}x{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(error(&deep).message.contains("nested too deeply"));
        let vars: Vec<String> = (0..20).map(|i| format!("x{i}")).collect();
        let wide = format!("y ~ {}", vars.join("*"));
        assert!(error(&wide).message.contains("more than"));
    }

    #[test]
    fn unicode_positions_are_characters() {
        let e = error("`é` ~ é");
        assert_eq!(e.position, 6);
        let f = parse("`ü` ~ `ñ` + x");
        assert_eq!(f.position_of("x"), Some(12));
    }

    /// Fragments from which formulas (mostly invalid, some valid) are assembled.
    const PIECES: &[&str] = &[
        "y", "x", "a", "b", "g", "`w z`", "1", "0", "~", "+", "-", "*", ":", "/", "|", "||", "&",
        "(", ")", " ", "2", "é", "\t",
    ];

    fn check_parse(text: &str) -> Result<(), TestCaseError> {
        if let Ok(f) = Formula::parse(text) {
            let shown = f.to_string();
            let again = Formula::parse(&shown);
            prop_assert!(again.is_ok(), "{text:?} -> {shown:?} -> {again:?}");
            if let Ok(again) = again {
                prop_assert!(same_model(&f, &again), "{text:?} -> {shown:?}");
                prop_assert_eq!(again.to_string(), shown);
            }
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_text(text in "\\PC{0,40}") {
            check_parse(&text)?;
        }

        #[test]
        fn never_panics_on_formula_alphabet(text in "[a-cgxy01~+*:/|&() `\\-]{0,40}") {
            check_parse(&text)?;
        }

        #[test]
        fn display_reparses_to_the_same_model(
            pieces in proptest::collection::vec(proptest::sample::select(PIECES), 0..30)
        ) {
            check_parse(&pieces.concat())?;
        }

        #[test]
        fn well_formed_formulas_parse_and_round_trip(
            terms in proptest::collection::vec(
                proptest::sample::select(&[
                    "x", "a*b", "a:b", "0", "1", "(1|g)", "(x||g)", "(0+a|g/h)", "(a|g:h)",
                    "b/x", "(a+x):b", "`w z`",
                ][..]),
                1..6,
            )
        ) {
            let text = format!("y ~ {}", terms.join(" + "));
            prop_assert!(Formula::parse(&text).is_ok(), "{}", text);
            check_parse(&text)?;
        }
    }
}
