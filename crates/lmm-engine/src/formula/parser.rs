//! The recursive-descent parser: tokens to the normalised terms (R's `terms()` algebra and
//! lme4's `findbars()`), with a position in every error.
//!
//! Grammar, loosest binding first (R's precedence: `|` < `+ -` < `* /` < `:` < `^`):
//! ```text
//! formula     := response '~' sum END
//! response    := NAME | call
//! sum         := ['-'] product (('+' | '-') product)*
//! product     := interaction (('*' | '/') interaction)*
//! interaction := power (':' power)*
//! power       := atom ['^' NUMBER]
//! atom        := NAME | call | '0' | '1' | '(' sum ')' | '(' sum ('|' | '||') grouping ')'
//! call        := NAME '(' arguments ')'          (arguments: see `call.rs`)
//! grouping    := group_term ('/' group_term)*
//! group_term  := NAME ((':' | '&') NAME)*
//! ```
//! Each rule evaluates directly to the terms it denotes, so no syntax tree is kept, except
//! inside calls, whose arguments are R arithmetic.

use super::error::{syntax_error, FormulaError};
use super::expand::{expand_random, expanded_len};
use super::expr::{Expr, Transform};
use super::lexer::{Tok, Token};
use super::terms::{dedup_terms, RandomTerm, Term, TermSet};
use super::{MAX_DEGREE, MAX_DEPTH, MAX_RANDOM_SIZE, MAX_TERMS};

/// What a sub-expression denotes.
pub(super) enum Value {
    /// Model terms.
    Terms(Vec<Term>),
    /// An intercept marker: `1` (true) or `0` (false).
    Intercept(bool),
    /// Random-effects terms, already expanded.
    Random(Vec<RandomTerm>),
    /// `offset(expr)`, with its label.
    Offset(String, Expr),
}

pub(super) struct Spanned {
    pub(super) value: Value,
    /// Position of the sub-expression's first character, for errors about it.
    pub(super) pos: usize,
}

/// The contents of a `+`/`-` chain.
#[derive(Default)]
pub(super) struct Sum {
    /// The last intercept marker, if any.
    pub(super) intercept: Option<bool>,
    /// Position of the first intercept marker, to reject markers in fixed parentheses.
    pub(super) marker: Option<usize>,
    pub(super) terms: Vec<Term>,
    /// The identity keys of `terms` (see [`Term::key`]).
    pub(super) keys: std::collections::HashSet<String>,
    pub(super) random: Vec<RandomTerm>,
    /// Terms plus grouping variables over `random`, against [`MAX_RANDOM_SIZE`].
    pub(super) random_size: usize,
    pub(super) offsets: Vec<(String, Expr)>,
}

pub(super) struct Parser<'a> {
    pub(super) text: &'a str,
    pub(super) tokens: Vec<Token>,
    pub(super) at: usize,
    pub(super) depth: usize,
    /// Every column read, with the position of each occurrence.
    pub(super) columns: Vec<(String, usize)>,
    /// Columns read inside the call being parsed (moved to `columns` once it is checked).
    pub(super) call_columns: Vec<(String, usize)>,
    /// Every distinct call used as a variable, by label.
    pub(super) calls: Vec<(String, Transform)>,
    /// Operators in the call being parsed, against hostile nesting.
    pub(super) operators: usize,
}

pub(super) type ParseResult<T> = Result<T, FormulaError>;

impl<'a> Parser<'a> {
    pub(super) fn new(text: &'a str, tokens: Vec<Token>) -> Self {
        Self {
            text,
            tokens,
            at: 0,
            depth: 0,
            columns: Vec::new(),
            call_columns: Vec::new(),
            calls: Vec::new(),
            operators: 0,
        }
    }

    pub(super) fn peek(&self) -> &Token {
        // The lexer always ends the stream with `End`, and `advance` never moves past it.
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    pub(super) fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        if token.tok != Tok::End {
            self.at += 1;
        }
        token
    }

    /// The token before the current one (the operator that asked for an operand).
    pub(super) fn previous(&self) -> Option<&Token> {
        self.at.checked_sub(1).map(|i| &self.tokens[i])
    }

    pub(super) fn error(&self, position: usize, message: impl Into<String>) -> FormulaError {
        syntax_error(self.text, position, message)
    }

    pub(super) fn formula(&mut self) -> ParseResult<(String, Sum)> {
        let first = self.advance();
        let response = match first.tok {
            Tok::Name(name) if self.peek().tok == Tok::LParen => {
                match self.call(name, first.pos)?.value {
                    Value::Terms(mut terms) if terms.len() == 1 => {
                        terms.remove(0).variables.remove(0)
                    }
                    _ => {
                        return Err(
                            self.error(first.pos, "offset() cannot be the response of a model")
                        )
                    }
                }
            }
            Tok::Name(name) => {
                self.record_column(&name, first.pos);
                name
            }
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
    pub(super) fn sum(&mut self, allow_random: bool) -> ParseResult<Sum> {
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

    pub(super) fn add(
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
                // Incremental de-duplication, so that a long `a + b + …` stays linear.
                for term in terms {
                    if sum.keys.insert(term.key().join("\u{0}")) {
                        sum.terms.push(term);
                    }
                }
                self.check_size(sum.terms.len(), item.pos)?;
            }
            Value::Random(random) => {
                if !allow_random {
                    return Err(self.error(
                        item.pos,
                        "random-effects terms cannot be nested inside parentheses",
                    ));
                }
                sum.random_size += random
                    .iter()
                    .map(|r| r.terms.terms.len() + r.group.variables.len())
                    .sum::<usize>();
                sum.random.extend(random);
                if sum.random.len() > MAX_TERMS || sum.random_size > MAX_RANDOM_SIZE {
                    return Err(self.error(
                        item.pos,
                        format!(
                            "the random-effects terms expand to more than {MAX_TERMS} terms or \
                             {MAX_RANDOM_SIZE} variables"
                        ),
                    ));
                }
            }
            Value::Offset(label, expr) => {
                if !allow_random {
                    return Err(self.error(
                        item.pos,
                        "offset() must be a term of the fixed part, outside parentheses",
                    ));
                }
                if !sum.offsets.iter().any(|(l, _)| *l == label) {
                    sum.offsets.push((label, expr));
                }
            }
        }
        Ok(())
    }

    pub(super) fn check_size(&self, len: usize, pos: usize) -> ParseResult<()> {
        if len > MAX_TERMS {
            Err(self.error(pos, format!("this expands to more than {MAX_TERMS} terms")))
        } else {
            Ok(())
        }
    }

    /// Operands of `*`, `/` and `:` must be plain terms.
    pub(super) fn operand(&self, item: Spanned, op: &Tok) -> ParseResult<Vec<Term>> {
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
            Value::Offset(..) => Err(self.error(
                item.pos,
                format!("offset() cannot be combined with {op}; add it with '+'"),
            )),
        }
    }

    pub(super) fn product(&mut self) -> ParseResult<Spanned> {
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
    pub(super) fn interact(&self, a: &[Term], b: &[Term], pos: usize) -> ParseResult<Vec<Term>> {
        self.check_size(a.len().saturating_mul(b.len()), pos)?;
        let terms = dedup_terms(
            a.iter()
                .flat_map(|x| b.iter().map(move |y| x.interact(y)))
                .collect(),
        );
        // Each step copies the variables, so an unbounded `a1:a2:…:an` would cost n².
        if terms.iter().any(|t| t.degree() > MAX_DEGREE) {
            return Err(self.error(
                pos,
                format!("this is an interaction of more than {MAX_DEGREE} variables"),
            ));
        }
        Ok(terms)
    }

    pub(super) fn interaction(&mut self) -> ParseResult<Spanned> {
        let mut left = self.power()?;
        while self.peek().tok == Tok::Colon {
            let op = self.advance();
            let pos = left.pos;
            let a = self.operand(left, &op.tok)?;
            let right = self.power()?;
            let b = self.operand(right, &op.tok)?;
            left = Spanned {
                value: Value::Terms(self.interact(&a, &b, pos)?),
                pos,
            };
        }
        Ok(left)
    }

    /// `atom ^ k`: R's formula power, every interaction of the atom's terms up to degree k
    /// (`(a + b)^2` = `a + b + a:b`; for a single term `x^2` is `x`).
    pub(super) fn power(&mut self) -> ParseResult<Spanned> {
        let left = self.atom()?;
        if self.peek().tok != Tok::Caret {
            return Ok(left);
        }
        let op = self.advance();
        let pos = left.pos;
        let base = self.operand(left, &op.tok)?;
        let exponent = self.advance();
        let k = match &exponent.tok {
            Tok::Number(n) => n.parse::<usize>().ok().filter(|&k| k >= 1),
            _ => None,
        }
        .ok_or_else(|| {
            self.error(
                exponent.pos,
                "'^' in a formula takes a whole number of at least 1, as in (a + b)^2; for                  the arithmetic power write I(x^2)",
            )
        })?;
        let mut terms = base.clone();
        for _ in 1..k.min(base.len().max(1)) {
            let more = self.interact(&terms, &base, pos)?;
            terms = dedup_terms(terms.into_iter().chain(more).collect());
            self.check_size(terms.len(), pos)?;
        }
        Ok(Spanned {
            value: Value::Terms(terms),
            pos,
        })
    }

    /// Records a column read at `pos`.
    pub(super) fn record_column(&mut self, name: &str, pos: usize) {
        self.columns.push((name.to_owned(), pos));
    }

    /// The message for a missing operand after the previous token.
    pub(super) fn expected_operand(&self, found: &Token) -> FormulaError {
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

    pub(super) fn atom(&mut self) -> ParseResult<Spanned> {
        let token = self.peek().clone();
        let value = match &token.tok {
            Tok::Name(name) => {
                self.advance();
                if self.peek().tok == Tok::LParen {
                    return self.call(name.clone(), token.pos);
                }
                self.record_column(name, token.pos);
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
    pub(super) fn parenthesised(&mut self) -> ParseResult<Spanned> {
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
                let uncorrelated = close.tok == Tok::DoubleBar;
                let (len, size) = expanded_len(&expr, uncorrelated, &groups);
                if len > MAX_TERMS || size > MAX_RANDOM_SIZE {
                    return Err(self.error(
                        open,
                        format!(
                            "this random-effects term expands to {len} terms (one per term \
                             of '||' times one per level of '/') naming {size} variables; \
                             the limits are {MAX_TERMS} terms and {MAX_RANDOM_SIZE} variables"
                        ),
                    ));
                }
                Value::Random(expand_random(&expr, uncorrelated, &groups))
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
}
