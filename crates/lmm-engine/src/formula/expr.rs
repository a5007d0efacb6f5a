//! Function calls and arithmetic inside a formula, as R writes them: `factor(Diet)`,
//! `log(Reaction)`, `I(Days^2)`, `poly(Days, 2)`, `scale(Days)`, `offset(2 * Days)`.
//!
//! The parser builds an [`Expr`] for every call; [`Expr`]'s `Display` is R's `deparse`, which
//! gives the variable its name (`poly(Days, 2)` → columns `poly(Days, 2)1`, `poly(Days, 2)2`);
//! [`Transform`] is what the call means, checked once here so that the design step only
//! evaluates.

use std::fmt;

use super::names::write_name;

/// The functions a formula may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    /// `factor(x)`: x as a categorical variable.
    Factor,
    /// `as.factor(x)`: the same as `factor(x)`.
    AsFactor,
    /// `log(x)` or `log(x, base)`.
    Log,
    /// `log2(x)`.
    Log2,
    /// `log10(x)`.
    Log10,
    /// `log1p(x)` = log(1 + x).
    Log1p,
    /// `exp(x)`.
    Exp,
    /// `sqrt(x)`.
    Sqrt,
    /// `abs(x)`.
    Abs,
    /// `I(expr)`: arithmetic as written.
    Identity,
    /// `poly(x, k)`, orthogonal or `raw = TRUE`.
    Poly,
    /// `scale(x)`, `scale(x, scale = FALSE)`.
    Scale,
    /// `offset(expr)`: a known term with coefficient 1.
    Offset,
    /// `cbind(successes, failures)`: a binomial response (only as the response).
    Cbind,
}

impl Function {
    /// Every function, in the order the supported list is shown.
    pub const ALL: [Function; 14] = [
        Function::Factor,
        Function::AsFactor,
        Function::Log,
        Function::Log2,
        Function::Log10,
        Function::Log1p,
        Function::Exp,
        Function::Sqrt,
        Function::Abs,
        Function::Identity,
        Function::Poly,
        Function::Scale,
        Function::Offset,
        Function::Cbind,
    ];

    /// The name as written in R.
    pub fn name(self) -> &'static str {
        match self {
            Function::Factor => "factor",
            Function::AsFactor => "as.factor",
            Function::Log => "log",
            Function::Log2 => "log2",
            Function::Log10 => "log10",
            Function::Log1p => "log1p",
            Function::Exp => "exp",
            Function::Sqrt => "sqrt",
            Function::Abs => "abs",
            Function::Identity => "I",
            Function::Poly => "poly",
            Function::Scale => "scale",
            Function::Offset => "offset",
            Function::Cbind => "cbind",
        }
    }

    /// The function called `name`, if supported.
    pub fn from_name(name: &str) -> Option<Function> {
        Function::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The supported functions as a list for messages.
    pub fn supported() -> String {
        Function::ALL
            .iter()
            .map(|f| format!("{}()", f.name()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// True for the element-wise numeric functions of one argument (and `log`).
    pub(crate) fn is_elementwise(self) -> bool {
        matches!(
            self,
            Function::Log
                | Function::Log2
                | Function::Log10
                | Function::Log1p
                | Function::Exp
                | Function::Sqrt
                | Function::Abs
                | Function::Identity
        )
    }
}

/// An arithmetic operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `+`
    Add,
    /// `-`
    Subtract,
    /// `*`
    Multiply,
    /// `/`
    Divide,
    /// `^`
    Power,
}

impl BinaryOp {
    fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => " + ",
            BinaryOp::Subtract => " - ",
            BinaryOp::Multiply => " * ",
            BinaryOp::Divide => "/",
            BinaryOp::Power => "^",
        }
    }

    /// `a op b`.
    pub fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            BinaryOp::Add => a + b,
            BinaryOp::Subtract => a - b,
            BinaryOp::Multiply => a * b,
            BinaryOp::Divide => a / b,
            BinaryOp::Power => a.powf(b),
        }
    }
}

/// One argument of a call, with its name when written `name = value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Argument {
    /// `raw` in `raw = TRUE`.
    pub name: Option<String>,
    /// The value.
    pub value: Expr,
}

/// An expression inside a call, kept as written (parentheses included) so that it deparses
/// as R deparses it.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A column of the data.
    Column(String),
    /// A number.
    Number(f64),
    /// `TRUE`/`FALSE` (and `T`/`F` where a logical value is expected), with its spelling.
    Logical(bool, &'static str),
    /// `( e )`.
    Paren(Box<Expr>),
    /// `-e`.
    Negate(Box<Expr>),
    /// `a op b`.
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `f(args)`.
    Call(Function, Vec<Argument>),
}

// Numbers in formulas come from decimal literals, which are finite (the lexer rejects
// overflow), so equality is reflexive.
impl Eq for Expr {}
impl Eq for Argument {}

impl Expr {
    /// The columns the expression reads, in written order (may repeat).
    pub fn columns(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_columns(&mut out);
        out
    }

    fn collect_columns<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Column(name) => out.push(name),
            Expr::Number(_) | Expr::Logical(..) => {}
            Expr::Paren(e) | Expr::Negate(e) => e.collect_columns(out),
            Expr::Binary(_, a, b) => {
                a.collect_columns(out);
                b.collect_columns(out);
            }
            Expr::Call(_, args) => args.iter().for_each(|a| a.value.collect_columns(out)),
        }
    }

    /// The value of a constant expression (numbers and arithmetic on them), if it is one.
    pub fn constant(&self) -> Option<f64> {
        match self {
            Expr::Number(v) => Some(*v),
            Expr::Paren(e) => e.constant(),
            Expr::Negate(e) => e.constant().map(|v| -v),
            Expr::Binary(op, a, b) => Some(op.apply(a.constant()?, b.constant()?)),
            _ => None,
        }
    }
}

/// R's `as.character` / `deparse` of a double: up to 15 significant digits, fixed notation
/// unless scientific is shorter (`100000` → `1e+05`, `0.5` → `0.5`, `2` → `2`).
pub fn format_r_number(x: f64) -> String {
    if x == 0.0 {
        return "0".to_owned();
    }
    if !x.is_finite() {
        return if x.is_nan() {
            "NaN".to_owned()
        } else if x > 0.0 {
            "Inf".to_owned()
        } else {
            "-Inf".to_owned()
        };
    }
    // The fewest significant digits (at most 15) that give the value back at 15 digits.
    let target = format!("{x:.14e}");
    let target: f64 = target.parse().unwrap_or(x);
    let mut digits = 15;
    for d in 1..=15 {
        let s = format!("{:.*e}", d - 1, x);
        if s.parse::<f64>().ok() == Some(target) {
            digits = d;
            break;
        }
    }
    let sci = format!("{:.*e}", digits - 1, target);
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let sci = format!(
        "{mantissa}e{}{:02}",
        if exponent < 0 { '-' } else { '+' },
        exponent.abs()
    );
    let decimals = (digits as i32 - 1 - exponent).max(0) as usize;
    let fixed = format!("{target:.decimals$}");
    if fixed.len() <= sci.len() {
        fixed
    } else {
        sci
    }
}

impl fmt::Display for Expr {
    /// R's deparse.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Column(name) => write_name(f, name),
            Expr::Number(v) => f.write_str(&format_r_number(*v)),
            Expr::Logical(_, text) => f.write_str(text),
            Expr::Paren(e) => write!(f, "({e})"),
            Expr::Negate(e) => write!(f, "-{e}"),
            Expr::Binary(op, a, b) => write!(f, "{a}{}{b}", op.symbol()),
            Expr::Call(function, args) => {
                write!(f, "{}(", function.name())?;
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    if let Some(name) = &arg.name {
                        write!(f, "{name} = ")?;
                    }
                    write!(f, "{}", arg.value)?;
                }
                f.write_str(")")
            }
        }
    }
}

/// What a variable of the formula is, once its call has been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transform {
    /// `factor(x)` / `as.factor(x)`: x as a categorical variable (a column, or a numeric
    /// expression whose distinct values are the levels).
    Factor(Expr),
    /// An element-wise numeric expression: `log(x)`, `I(x^2)`, `sqrt(abs(x))`.
    Numeric(Expr),
    /// `poly(x, degree)`: orthogonal polynomials (R's `poly`), or raw powers.
    Poly {
        /// The argument.
        x: Expr,
        /// The degree (number of columns).
        degree: usize,
        /// `raw = TRUE`.
        raw: bool,
    },
    /// `scale(x, center, scale)`.
    Scale {
        /// The argument.
        x: Expr,
        /// Subtract the mean.
        center: bool,
        /// Divide by the standard deviation (the root mean square when not centred).
        scale: bool,
    },
    /// `cbind(successes, failures)`: a binomial response given as two counts, each an
    /// element-wise numeric expression (`cbind(incidence, size - incidence)`).
    Cbind {
        /// The number of successes.
        successes: Expr,
        /// The number of failures.
        failures: Expr,
    },
}

impl Transform {
    /// The expression whose columns the variable reads.
    pub fn argument(&self) -> &Expr {
        match self {
            Transform::Factor(x) | Transform::Numeric(x) => x,
            Transform::Poly { x, .. } | Transform::Scale { x, .. } => x,
            Transform::Cbind { successes, .. } => successes,
        }
    }

    /// Every expression whose columns the variable reads (both sides of `cbind`).
    pub fn expressions(&self) -> Vec<&Expr> {
        match self {
            Transform::Cbind {
                successes,
                failures,
            } => vec![successes, failures],
            other => vec![other.argument()],
        }
    }

    /// True for `factor(x)`.
    pub fn is_factor(&self) -> bool {
        matches!(self, Transform::Factor(_))
    }
}

/// Why a call is not accepted (the parser adds the position).
pub(super) type CallError = String;

/// Checks a call written at the level of a model term (or the response, or an offset) and
/// says what it means. `offset(…)` is handled by the caller.
pub(super) fn transform(function: Function, args: &[Argument]) -> Result<Transform, CallError> {
    let name = function.name();
    match function {
        Function::Factor | Function::AsFactor => {
            let [x] = positional::<1>(name, args)?;
            check_numeric_expression(x, name)?;
            Ok(Transform::Factor(x.clone()))
        }
        Function::Poly => {
            let x = first(name, args)?;
            check_numeric_expression(x, name)?;
            let mut degree = 1.0;
            let mut raw = false;
            for (i, arg) in args.iter().enumerate().skip(1) {
                match (arg.name.as_deref(), i) {
                    (Some("degree"), _) | (None, 1) => {
                        degree = arg.value.constant().ok_or_else(|| {
                            format!("the degree of poly() must be a number, not {}", arg.value)
                        })?;
                    }
                    (Some("raw"), _) => raw = logical(&arg.value, "raw")?,
                    (Some(other), _) => {
                        return Err(format!(
                            "poly() has no argument '{other}'; write poly(x, degree) or \
                             poly(x, degree, raw = TRUE)"
                        ))
                    }
                    (None, _) => {
                        return Err("poly() of several variables is not supported; write \
                                    poly(x, degree) or poly(x, degree, raw = TRUE)"
                            .to_owned())
                    }
                }
            }
            if degree.fract() != 0.0 || !(1.0..=20.0).contains(&degree) {
                return Err(format!(
                    "the degree of poly() must be a whole number from 1 to 20, not {}",
                    format_r_number(degree)
                ));
            }
            Ok(Transform::Poly {
                x: x.clone(),
                degree: degree as usize,
                raw,
            })
        }
        Function::Scale => {
            let x = first(name, args)?;
            check_numeric_expression(x, name)?;
            let (mut center, mut scale) = (true, true);
            for (i, arg) in args.iter().enumerate().skip(1) {
                match (arg.name.as_deref(), i) {
                    (Some("center"), _) | (None, 1) => center = logical(&arg.value, "center")?,
                    (Some("scale"), _) | (None, 2) => scale = logical(&arg.value, "scale")?,
                    (Some(other), _) => {
                        return Err(format!(
                            "scale() has no argument '{other}'; its options are center = \
                             TRUE/FALSE and scale = TRUE/FALSE"
                        ))
                    }
                    (None, _) => return Err("scale() takes at most three arguments".to_owned()),
                }
            }
            Ok(Transform::Scale {
                x: x.clone(),
                center,
                scale,
            })
        }
        Function::Offset => Err("offset() is a term of its own: add it with '+'".to_owned()),
        Function::Cbind => {
            let [successes, failures] = positional::<2>(name, args)?;
            check_numeric_expression(successes, name)?;
            check_numeric_expression(failures, name)?;
            Ok(Transform::Cbind {
                successes: successes.clone(),
                failures: failures.clone(),
            })
        }
        _ => {
            let call = Expr::Call(function, args.to_vec());
            check_numeric_expression(&call, name)?;
            Ok(Transform::Numeric(call))
        }
    }
}

/// The only positional argument of a one-argument function.
fn positional<'a, const N: usize>(
    name: &str,
    args: &'a [Argument],
) -> Result<[&'a Expr; N], CallError> {
    if let Some(arg) = args.iter().find(|a| a.name.is_some()) {
        return Err(format!(
            "{name}() has no argument '{}'",
            arg.name.as_deref().unwrap_or_default()
        ));
    }
    if args.len() != N {
        return Err(format!(
            "{name}() takes {N} argument{}, not {}",
            if N == 1 { "" } else { "s" },
            args.len()
        ));
    }
    let mut out = [&args[0].value; N];
    for (o, a) in out.iter_mut().zip(args) {
        *o = &a.value;
    }
    Ok(out)
}

fn first<'a>(name: &str, args: &'a [Argument]) -> Result<&'a Expr, CallError> {
    match args.first() {
        Some(Argument { name: None, value }) => Ok(value),
        _ => Err(format!("{name}() needs a variable as its first argument")),
    }
}

/// `TRUE`/`FALSE` (or `T`/`F`).
fn logical(value: &Expr, what: &str) -> Result<bool, CallError> {
    match value {
        Expr::Logical(v, _) => Ok(*v),
        Expr::Column(name) if name == "T" => Ok(true),
        Expr::Column(name) if name == "F" => Ok(false),
        _ => Err(format!("{what} must be TRUE or FALSE, not {value}")),
    }
}

/// Checks that `e` is element-wise arithmetic on columns and numbers: functions of one
/// argument (`log` may have a constant base), no `factor()`, `poly()`, `scale()` or `offset()`
/// inside, no logical values.
pub(super) fn check_numeric_expression(e: &Expr, context: &str) -> Result<(), CallError> {
    match e {
        Expr::Column(_) | Expr::Number(_) => Ok(()),
        Expr::Logical(_, text) => Err(format!("{text} is not a number (inside {context}())")),
        Expr::Paren(e) | Expr::Negate(e) => check_numeric_expression(e, context),
        Expr::Binary(_, a, b) => {
            check_numeric_expression(a, context)?;
            check_numeric_expression(b, context)
        }
        Expr::Call(function, args) => {
            let name = function.name();
            if !function.is_elementwise() {
                return Err(format!(
                    "{name}() cannot be used inside another function or in arithmetic; \
                     use it as a term of its own"
                ));
            }
            if let Some(arg) = args.iter().find(|a| {
                a.name
                    .as_deref()
                    .is_some_and(|n| !(*function == Function::Log && n == "base"))
            }) {
                return Err(format!(
                    "{name}() has no argument '{}'",
                    arg.name.as_deref().unwrap_or_default()
                ));
            }
            match (function, args.len()) {
                (_, 1) if args[0].name.is_none() => {}
                (Function::Log, 2) if args[0].name.is_none() => {
                    if args[1]
                        .value
                        .constant()
                        .is_none_or(|b| b <= 0.0 || b == 1.0)
                    {
                        return Err(format!(
                            "the base of log() must be a positive number other than 1, not {}",
                            args[1].value
                        ));
                    }
                }
                (Function::Log, _) => {
                    return Err("log() takes a variable and an optional base: log(x) or \
                                log(x, base)"
                        .to_owned())
                }
                (_, n) => {
                    return Err(format!("{name}() takes 1 argument, not {n}"));
                }
            }
            args.iter()
                .try_for_each(|a| check_numeric_expression(&a.value, name))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_r_prints_them() {
        for (x, want) in [
            (2.0, "2"),
            (0.5, "0.5"),
            (-3.0, "-3"),
            (100000.0, "1e+05"),
            (123456.0, "123456"),
            (0.0001, "1e-04"),
            (0.0001234, "0.0001234"),
            (1.0 / 3.0, "0.333333333333333"),
            (1e15, "1e+15"),
            (1234.5, "1234.5"),
            (0.1 + 0.2, "0.3"),
        ] {
            assert_eq!(format_r_number(x), want, "{x}");
        }
    }
}
