//! The lexer: formula text to tokens with their character positions.

use std::fmt;

use super::error::{syntax_error, FormulaError};
use super::names::{is_name_char, is_name_start};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
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
    Caret,
    Comma,
    Equals,
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
            Tok::Caret => "^",
            Tok::Comma => ",",
            Tok::Equals => "=",
            Tok::LParen => "(",
            Tok::RParen => ")",
        };
        write!(f, "'{symbol}'")
    }
}

#[derive(Debug, Clone)]
pub(super) struct Token {
    pub(super) tok: Tok,
    /// 0-based character index of the token's first character.
    pub(super) pos: usize,
}

/// Splits `text` into tokens (ending with [`Tok::End`]), with character positions.
pub(super) fn lex(text: &str) -> Result<Vec<Token>, FormulaError> {
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
                // A decimal literal with an optional exponent (`2`, `0.5`, `1e-3`); then
                // greedy, so that `2x` is reported as one bad number rather than as `2`
                // followed by a puzzling name.
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                if i < chars.len() && matches!(chars[i], 'e' | 'E') {
                    let sign = usize::from(matches!(chars.get(i + 1), Some('+' | '-')));
                    if chars.get(i + 1 + sign).is_some_and(char::is_ascii_digit) {
                        i += 1 + sign;
                        while i < chars.len() && chars[i].is_ascii_digit() {
                            i += 1;
                        }
                    }
                }
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
            '^' => Tok::Caret,
            ',' => Tok::Comma,
            '=' => Tok::Equals,
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
