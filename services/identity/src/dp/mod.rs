//! Differential privacy for the identity tables: an election may protect its identity
//! statistics with noise (zero-concentrated differential privacy, discrete Gaussian noise)
//! instead of cell suppression. Built in steps; this module holds, so far, the post-processing
//! that turns noisy counts into publishable ones ([`fit`]).

pub mod fit;
