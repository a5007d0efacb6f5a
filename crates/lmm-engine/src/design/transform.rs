//! The numbers behind a formula's calls: element-wise arithmetic ([`evaluate`]), `scale()`
//! ([`scale`]) and `poly()` ([`poly`]), computed as R computes them on the whole data (before
//! rows are dropped for missing values in other columns), so that a model with transforms has
//! R's columns.

use crate::formula::{Expr, Function};

use super::DesignError;

/// A column's values as numbers (`None` where missing), or the error for a text column.
pub(super) type ColumnValues<'a> = dyn Fn(&str) -> Result<Vec<Option<f64>>, DesignError> + 'a;

/// `x` over every row of the table: `None` where a column it reads is missing. `column(name)`
/// gives a column's values (or the error for a text column).
pub(super) fn evaluate(
    x: &Expr,
    nrows: usize,
    column: &ColumnValues<'_>,
) -> Result<Vec<Option<f64>>, DesignError> {
    Ok(match x {
        Expr::Column(name) => column(name)?,
        Expr::Number(v) => vec![Some(*v); nrows],
        // The parser accepts logical values only where an option is expected.
        Expr::Logical(v, _) => vec![Some(f64::from(u8::from(*v))); nrows],
        Expr::Paren(e) => evaluate(e, nrows, column)?,
        Expr::Negate(e) => map(evaluate(e, nrows, column)?, |v| -v),
        Expr::Binary(op, a, b) => {
            let a = evaluate(a, nrows, column)?;
            let b = evaluate(b, nrows, column)?;
            a.into_iter()
                .zip(b)
                .map(|(a, b)| Some(op.apply(a?, b?)))
                .collect()
        }
        Expr::Call(function, args) => {
            let values = evaluate(&args[0].value, nrows, column)?;
            match function {
                Function::Log => match args.get(1).and_then(|b| b.value.constant()) {
                    Some(base) => map(values, |v| v.ln() / base.ln()),
                    None => map(values, f64::ln),
                },
                Function::Log2 => map(values, f64::log2),
                Function::Log10 => map(values, f64::log10),
                Function::Log1p => map(values, f64::ln_1p),
                Function::Exp => map(values, f64::exp),
                Function::Sqrt => map(values, f64::sqrt),
                Function::Abs => map(values, f64::abs),
                // `I()`; the parser allows no other function inside arithmetic.
                _ => values,
            }
        }
    })
}

fn map(values: Vec<Option<f64>>, f: impl Fn(f64) -> f64) -> Vec<Option<f64>> {
    values.into_iter().map(|v| v.map(&f)).collect()
}

/// R's `scale(x, center, scale)` over the values present: subtract the mean, then divide by
/// the standard deviation (when centred) or the root mean square `sqrt(Σx²/(n − 1))` (when
/// not), as R does.
pub(super) fn scale(values: &[Option<f64>], center: bool, scale: bool) -> Vec<Option<f64>> {
    scale_by_reference(values, values.len(), center, scale)
}

/// R's `poly(x, degree)` (orthogonal polynomials: the centred powers of x orthogonalised in
/// order and scaled to unit length over the values present, each with a positive leading
/// coefficient, which is what R's QR construction gives) or `poly(x, degree, raw = TRUE)`
/// (the powers themselves). One column per degree, `None` where x is missing.
pub(super) fn poly(
    label: &str,
    values: &[Option<f64>],
    degree: usize,
    raw: bool,
) -> Result<Vec<Vec<Option<f64>>>, DesignError> {
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    let mut distinct = present.clone();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    if !raw && degree >= distinct.len() {
        return Err(DesignError::PolyDegree {
            label: label.to_owned(),
            degree,
            distinct: distinct.len(),
        });
    }
    let spread = |columns: Vec<Vec<f64>>| -> Vec<Vec<Option<f64>>> {
        columns
            .into_iter()
            .map(|c| {
                let mut c = c.into_iter();
                values.iter().map(|v| v.and_then(|_| c.next())).collect()
            })
            .collect()
    };
    if raw {
        return Ok(spread(
            (1..=degree)
                .map(|j| present.iter().map(|x| x.powi(j as i32)).collect())
                .collect(),
        ));
    }
    let n = present.len() as f64;
    let mean = present.iter().sum::<f64>() / n;
    let centred: Vec<f64> = present.iter().map(|x| x - mean).collect();
    // Gram–Schmidt on 1, x̃, x̃², … (twice, for orthogonality to rounding), as R's QR.
    let mut basis: Vec<Vec<f64>> = vec![vec![1.0 / n.sqrt(); present.len()]];
    for j in 1..=degree {
        let mut column: Vec<f64> = centred.iter().map(|x| x.powi(j as i32)).collect();
        for _pass in 0..2 {
            for q in &basis {
                let d: f64 = q.iter().zip(&column).map(|(a, b)| a * b).sum();
                for (c, qi) in column.iter_mut().zip(q) {
                    *c -= d * qi;
                }
            }
        }
        let norm = column.iter().map(|c| c * c).sum::<f64>().sqrt();
        basis.push(column.iter().map(|c| c / norm).collect());
    }
    basis.remove(0);
    Ok(spread(basis))
}

/// [`scale`] with the centre and scale of the values present among the first `reference`
/// entries, applied to every entry (R's `scale()` in `predict`: the training data's
/// `scaled:center` and `scaled:scale`).
pub(super) fn scale_by_reference(
    values: &[Option<f64>],
    reference: usize,
    center: bool,
    scale: bool,
) -> Vec<Option<f64>> {
    let present: Vec<f64> = values[..reference.min(values.len())]
        .iter()
        .flatten()
        .copied()
        .collect();
    let n = present.len() as f64;
    let mean = if center {
        present.iter().sum::<f64>() / n
    } else {
        0.0
    };
    let divisor = if scale {
        (present.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        1.0
    };
    values
        .iter()
        .map(|v| v.map(|v| (v - mean) / divisor))
        .collect()
}

/// Orthogonal [`poly`] with the basis of the values present among the first `reference`
/// entries, evaluated at every entry: R's `predict(poly(x, degree), newx)`, by the three-term
/// recurrence of R's `poly` (`coefs = list(alpha, norm2)`) — the monic orthogonal polynomials
/// of the reference values, each divided by its norm over them.
pub(super) fn poly_by_reference(
    label: &str,
    values: &[Option<f64>],
    reference: usize,
    degree: usize,
) -> Result<Vec<Vec<Option<f64>>>, DesignError> {
    let train: Vec<f64> = values[..reference.min(values.len())]
        .iter()
        .flatten()
        .copied()
        .collect();
    let mut distinct = train.clone();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    if degree >= distinct.len() {
        return Err(DesignError::PolyDegree {
            label: label.to_owned(),
            degree,
            distinct: distinct.len(),
        });
    }
    // alpha_j and norm2_j from the monic polynomials on the reference values.
    let n = train.len();
    let mut alpha = Vec::with_capacity(degree);
    let mut norm2 = vec![1.0, n as f64];
    let mut previous = vec![0.0; n];
    let mut current = vec![1.0; n];
    for j in 0..degree {
        let a = train
            .iter()
            .zip(&current)
            .map(|(x, p)| x * p * p)
            .sum::<f64>()
            / norm2[j + 1];
        alpha.push(a);
        let next: Vec<f64> = (0..n)
            .map(|i| (train[i] - a) * current[i] - norm2[j + 1] / norm2[j] * previous[i])
            .collect();
        norm2.push(next.iter().map(|v| v * v).sum());
        previous = std::mem::replace(&mut current, next);
    }
    let evaluate = |x: f64| -> Vec<f64> {
        let mut out = Vec::with_capacity(degree);
        let (mut prev, mut cur) = (0.0, 1.0);
        for j in 0..degree {
            let next = (x - alpha[j]) * cur - norm2[j + 1] / norm2[j] * prev;
            out.push(next / norm2[j + 2].sqrt());
            prev = cur;
            cur = next;
        }
        out
    };
    let rows: Vec<Option<Vec<f64>>> = values.iter().map(|v| v.map(evaluate)).collect();
    Ok((0..degree)
        .map(|j| rows.iter().map(|r| r.as_ref().map(|c| c[j])).collect())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poly_matches_r_on_0_to_9() {
        // R: poly(0:9, 2)
        let x: Vec<Option<f64>> = (0..10).map(|v| Some(f64::from(v))).collect();
        let p = poly("poly(x, 2)", &x, 2, false).unwrap();
        let want1 = [
            -0.495433694306862,
            -0.385337317794226,
            -0.27524094128159,
            -0.165144564768954,
            -0.055048188256318,
        ];
        let want2 = [
            0.522232967867094,
            0.174077655955698,
            -0.087038827977849,
            -0.261116483933547,
            -0.348155311911396,
        ];
        for i in 0..5 {
            assert!((p[0][i].unwrap() - want1[i]).abs() < 1e-14);
            assert!((p[1][i].unwrap() - want2[i]).abs() < 1e-14);
            // Symmetric about 4.5.
            assert!((p[0][9 - i].unwrap() + want1[i]).abs() < 1e-14);
            assert!((p[1][9 - i].unwrap() - want2[i]).abs() < 1e-14);
        }
        assert!(matches!(
            poly("poly(x, 10)", &x, 10, false),
            Err(DesignError::PolyDegree { distinct: 10, .. })
        ));
    }

    #[test]
    fn poly_by_reference_reproduces_poly_and_extends_it() {
        // On the reference values themselves the recurrence is R's basis.
        let x: Vec<Option<f64>> = [0.0, 1.0, 3.0, 4.0, 7.0, 9.0, 2.0]
            .iter()
            .map(|&v| Some(v))
            .collect();
        let direct = poly("p", &x, 3, false).unwrap();
        let recur = poly_by_reference("p", &x, x.len(), 3).unwrap();
        for (a, b) in direct.iter().zip(&recur) {
            for (u, v) in a.iter().zip(b) {
                assert!((u.unwrap() - v.unwrap()).abs() < 1e-12, "{a:?} {b:?}");
            }
        }
        // New values with the reference basis: R's predict(poly(0:9, 2), c(4.5, 12)).
        let mut y: Vec<Option<f64>> = (0..10).map(|v| Some(f64::from(v))).collect();
        y.push(Some(4.5));
        y.push(Some(12.0));
        let p = poly_by_reference("p", &y, 10, 2).unwrap();
        let want = [
            [0.0, -0.359035165408627],
            [0.82572282384477, 2.088931871468373],
        ];
        for (r, w) in want.iter().enumerate() {
            for (j, wj) in w.iter().enumerate() {
                assert!((p[j][10 + r].unwrap() - wj).abs() < 1e-13, "{:?}", p[j]);
            }
        }
        // R: attributes(scale(c(1, 2, 3))): centre 2, scale 1, applied to 5.
        let s = scale_by_reference(&[Some(1.0), Some(2.0), Some(3.0), Some(5.0)], 3, true, true);
        assert_eq!(s[3], Some(3.0));
    }

    #[test]
    fn scale_is_rs() {
        let x = [Some(1.0), None, Some(2.0), Some(3.0)];
        let s = scale(&x, true, true);
        assert_eq!(s, [Some(-1.0), None, Some(0.0), Some(1.0)]);
        let c = scale(&x, true, false);
        assert_eq!(c, [Some(-1.0), None, Some(0.0), Some(1.0)]);
        // Not centred: divided by sqrt(Σx²/(n − 1)) = sqrt(14/2).
        let r = scale(&x, false, true);
        assert!((r[3].unwrap() - 3.0 / 7f64.sqrt()).abs() < 1e-15);
    }
}
