//! The grouping of a random-effects term, after `|` up to the closing `)`: `g`, `a:b`,
//! `a & b`, and the nesting `a/b/c` (lme4's `a`, `b:a`, `c:(b:a)`), with the bounds that keep
//! deep nesting from growing the work without limit.

use super::lexer::Tok;
use super::parser::{ParseResult, Parser};
use super::terms::Grouping;
use super::{MAX_DEGREE, MAX_NESTING, MAX_RANDOM_SIZE};

impl Parser<'_> {
    /// The grouping after `|` up to and including the closing `)`: `g`, `a:b`, `a & b`, `a/b/c`.
    /// Returns the expanded groups: `a/b/c` gives `a`, `a:b`, `a:b:c`.
    pub(super) fn grouping(&mut self, open: usize) -> ParseResult<Vec<Grouping>> {
        let mut groups = Vec::new();
        let mut variables: Vec<String> = Vec::new();
        let mut name = String::new();
        let mut grouping_size = 0usize;
        loop {
            // Each level of `a/b/c` holds all the variables before it, so the work grows as
            // the square of the depth: bounded here, far above any real nesting.
            if groups.len() == MAX_NESTING {
                return Err(self.error(
                    self.peek().pos,
                    format!("a grouping is nested more than {MAX_NESTING} levels deep with '/'"),
                ));
            }
            let mut segment: Vec<String> = Vec::new();
            loop {
                let token = self.advance();
                match token.tok {
                    Tok::Name(name) => {
                        if self.peek().tok == Tok::LParen {
                            return Err(self.error(
                                token.pos,
                                "a grouping factor must be a column name: calls such as \
                                 factor(g) are not needed after '|', where every column is a \
                                 factor",
                            ));
                        }
                        self.record_column(&name, token.pos);
                        if !segment.contains(&name) {
                            if segment.len() == MAX_DEGREE {
                                return Err(self.error(
                                    token.pos,
                                    format!(
                                        "a grouping interaction of more than {MAX_DEGREE} \
                                         variables"
                                    ),
                                ));
                            }
                            segment.push(name);
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
            // lme4's names: `a/b/c` is `a`, `b:a`, `c:(b:a)`, the inner level first.
            let written = Grouping::written(&segment);
            name = if name.is_empty() {
                written
            } else if variables.len() > 1 {
                format!("{written}:({name})")
            } else {
                format!("{written}:{name}")
            };
            variables.retain(|v| !segment.contains(v));
            segment.append(&mut variables);
            variables = segment;
            grouping_size += variables.len();
            if grouping_size > MAX_RANDOM_SIZE {
                return Err(self.error(
                    open,
                    format!(
                        "this nested grouping names more than {MAX_RANDOM_SIZE} variables over \
                         its levels"
                    ),
                ));
            }
            groups.push(Grouping {
                variables: variables.clone(),
                name: name.clone(),
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
