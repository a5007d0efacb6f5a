//! Dense kernels for the blocked Cholesky factor: small k×k block arithmetic (λ scaling,
//! tiny Cholesky factors, triangular right-solves) done with plain loops, and the same
//! operations on large blocks handed to faer. Below [`FAER_MIN_DIM`] the call overhead of a
//! general library routine exceeds the work, so the hand loops win; above it faer's blocked,
//! SIMD (and optionally parallel) kernels win by a wide margin.
//!
//! All matrices are column-major slices with an explicit leading dimension.
//!
//! One kernel family per file: [`block`] (storage), [`lambda`] (multiplication by λ),
//! [`small`] (hand loops), [`large`] (faer), [`vector`] (dot products).

mod block;
mod lambda;
mod large;
mod small;
mod vector;

pub use block::{DenseBlock, FAER_MIN_DIM};
pub use lambda::{congruence, right_scale, scale_columns, scale_rows};
pub use large::{cholesky_checked, right_solve, sub_abt, sub_abt_faer, DenseCholesky};
pub use small::{cholesky_small, cholesky_small_checked, right_solve_small};
pub use vector::dot;
