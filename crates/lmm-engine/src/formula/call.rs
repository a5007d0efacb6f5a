//! Calls in a formula: `f(arguments)` where the arguments are R arithmetic, not formula
//! algebra (`log(x + 1)` adds, `I(a * b)` multiplies).
//!
//! ```text
//! arguments := [argument (',' argument)*]
//! argument  := [NAME '='] sum
//! sum       := product (('+' | '-') product)*
//! product   := unary (('*' | '/') unary)*
//! unary     := ('-' | '+') unary | power
//! power     := primary ['^' unary]            (right-associative, binds tighter than '-')
//! primary   := NUMBER | NAME | NAME '(' arguments ')' | '(' sum ')'
//! ```

use super::expr::{transform, Argument, BinaryOp, Expr, Function};
use super::lexer::Tok;
use super::parser::{ParseResult, Parser, Spanned, Value};
use super::terms::Term;

/// Most operators one call may contain (see `count_operator`).
const MAX_OPERATORS: usize = 256;

impl Parser<'_> {
    /// A call used as a model variable (or the response, or an offset), the name already
    /// consumed and the current token its '('.
    pub(super) fn call(&mut self, name: String, pos: usize) -> ParseResult<Spanned> {
        let function = self.function(&name, pos)?;
        let mark = self.call_columns.len();
        self.operators = 0;
        let args = self.arguments()?;
        let columns = self.call_columns.split_off(mark);
        let label = Expr::Call(function, args.clone()).to_string();
        let (value, reads) = if function == Function::Offset {
            let x = match args.as_slice() {
                [Argument { name: None, value }] => value.clone(),
                _ => return Err(self.error(pos, "offset() takes one argument")),
            };
            super::expr::check_numeric_expression(&x, "offset").map_err(|m| self.error(pos, m))?;
            let reads: Vec<String> = x.columns().into_iter().map(str::to_owned).collect();
            (Value::Offset(label, x), reads)
        } else {
            let meaning = transform(function, &args).map_err(|m| self.error(pos, m))?;
            let reads: Vec<String> = meaning
                .expressions()
                .into_iter()
                .flat_map(Expr::columns)
                .map(str::to_owned)
                .collect();
            if !self.calls.iter().any(|(l, _)| *l == label) {
                self.calls.push((label.clone(), meaning));
            }
            (Value::Terms(vec![Term::single(label)]), reads)
        };
        // `T` in `raw = T` was read as a column but means TRUE: keep only what is evaluated.
        for (column, at) in columns {
            if reads.contains(&column) {
                self.record_column(&column, at);
            }
        }
        Ok(Spanned { value, pos })
    }

    fn function(&self, name: &str, pos: usize) -> ParseResult<Function> {
        Function::from_name(name).ok_or_else(|| {
            self.error(
                pos,
                format!(
                    "unknown function {name}(): a formula can use {}",
                    Function::supported()
                ),
            )
        })
    }

    /// `( arguments )`, the current token being the '('.
    fn arguments(&mut self) -> ParseResult<Vec<Argument>> {
        let open = self.advance().pos;
        if self.depth >= super::MAX_DEPTH {
            return Err(self.error(open, "parentheses are nested too deeply"));
        }
        self.depth += 1;
        let mut args = Vec::new();
        if self.peek().tok == Tok::RParen {
            self.advance();
            self.depth -= 1;
            return Ok(args);
        }
        loop {
            let name = match (
                &self.peek().tok,
                self.tokens.get(self.at + 1).map(|t| &t.tok),
            ) {
                (Tok::Name(name), Some(Tok::Equals)) => {
                    let name = name.clone();
                    self.advance();
                    self.advance();
                    Some(name)
                }
                _ => None,
            };
            let value = self.arithmetic()?;
            args.push(Argument { name, value });
            let next = self.advance();
            match next.tok {
                Tok::Comma => continue,
                Tok::RParen => break,
                Tok::End => {
                    return Err(self.error(open, "unbalanced parentheses: this '(' is never closed"))
                }
                other => {
                    return Err(self.error(
                        next.pos,
                        format!(
                            "expected ',' or ')' in the arguments of a call, found {other}{}",
                            hint(&other)
                        ),
                    ))
                }
            }
        }
        self.depth -= 1;
        Ok(args)
    }

    /// `sum` of the argument grammar.
    fn arithmetic(&mut self) -> ParseResult<Expr> {
        let mut left = self.arithmetic_product()?;
        loop {
            let op = match self.peek().tok {
                Tok::Plus => BinaryOp::Add,
                Tok::Minus => BinaryOp::Subtract,
                _ => return Ok(left),
            };
            self.count_operator()?;
            self.advance();
            let right = self.arithmetic_product()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    fn arithmetic_product(&mut self) -> ParseResult<Expr> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek().tok {
                Tok::Star => BinaryOp::Multiply,
                Tok::Slash => BinaryOp::Divide,
                _ => return Ok(left),
            };
            self.count_operator()?;
            self.advance();
            let right = self.unary()?;
            left = Expr::Binary(op, Box::new(left), Box::new(right));
        }
    }

    /// Every operator makes the expression one level deeper (and evaluating, printing and
    /// dropping it recursive), so a call has at most [`MAX_OPERATORS`] of them.
    fn count_operator(&mut self) -> ParseResult<()> {
        self.operators += 1;
        if self.operators > MAX_OPERATORS {
            return Err(self.error(
                self.peek().pos,
                format!("a call may hold at most {MAX_OPERATORS} operators"),
            ));
        }
        Ok(())
    }

    fn unary(&mut self) -> ParseResult<Expr> {
        if matches!(self.peek().tok, Tok::Minus | Tok::Plus | Tok::Caret) {
            self.count_operator()?;
        }
        match self.peek().tok {
            Tok::Minus => {
                self.advance();
                Ok(Expr::Negate(Box::new(self.unary()?)))
            }
            // R keeps a unary plus in the call, but it changes nothing.
            Tok::Plus => {
                self.advance();
                self.unary()
            }
            _ => {
                let base = self.primary()?;
                if self.peek().tok != Tok::Caret {
                    return Ok(base);
                }
                self.count_operator()?;
                self.advance();
                let exponent = self.unary()?;
                Ok(Expr::Binary(
                    BinaryOp::Power,
                    Box::new(base),
                    Box::new(exponent),
                ))
            }
        }
    }

    fn primary(&mut self) -> ParseResult<Expr> {
        let token = self.advance();
        match token.tok {
            Tok::Number(text) => match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(Expr::Number(v)),
                _ => Err(self.error(token.pos, format!("bad number '{text}'"))),
            },
            Tok::Name(name) if self.peek().tok == Tok::LParen => {
                let function = self.function(&name, token.pos)?;
                let args = self.arguments()?;
                Ok(Expr::Call(function, args))
            }
            Tok::Name(name) => Ok(match name.as_str() {
                "TRUE" => Expr::Logical(true, "TRUE"),
                "FALSE" => Expr::Logical(false, "FALSE"),
                _ => {
                    self.call_columns.push((name.clone(), token.pos));
                    Expr::Column(name)
                }
            }),
            Tok::LParen => {
                let open = token.pos;
                if self.depth >= super::MAX_DEPTH {
                    return Err(self.error(open, "parentheses are nested too deeply"));
                }
                self.depth += 1;
                let inner = self.arithmetic()?;
                self.depth -= 1;
                let close = self.advance();
                match close.tok {
                    Tok::RParen => Ok(Expr::Paren(Box::new(inner))),
                    Tok::End => {
                        Err(self.error(open, "unbalanced parentheses: this '(' is never closed"))
                    }
                    other => Err(self.error(
                        close.pos,
                        format!("expected ')' in arithmetic, found {other}{}", hint(&other)),
                    )),
                }
            }
            Tok::End => Err(self.error(token.pos, "the formula ends inside a call")),
            other => Err(self.error(
                token.pos,
                format!(
                    "expected a number or a variable in the arguments of a call, found \
                     {other}{}",
                    hint(&other)
                ),
            )),
        }
    }
}

/// Why a formula operator is not arithmetic.
fn hint(tok: &Tok) -> &'static str {
    match tok {
        Tok::Colon | Tok::Bar | Tok::DoubleBar | Tok::Amp | Tok::Tilde => {
            " (inside a call only + - * / ^ and parentheses are arithmetic)"
        }
        _ => "",
    }
}
