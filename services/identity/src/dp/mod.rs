//! Differential privacy for the identity tables: an election may protect its identity
//! statistics with noise (zero-concentrated differential privacy, discrete Gaussian noise,
//! through OpenDP) instead of cell suppression (docs/identity.md, "Differential privacy").
//!
//! - [`noise`]: the mechanism, ρ, (ε, δ) and error intervals, all from OpenDP;
//! - [`family`]: what a question family measures and publishes;
//! - [`fit`] and [`table`]: the post-processing to consistent non-negative integers that keep
//!   the public counts exact.

pub mod family;
pub mod fit;
pub mod noise;
pub mod table;
