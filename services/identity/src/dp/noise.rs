//! The mechanism, through OpenDP: discrete Gaussian noise added to vectors of counts under
//! zero-concentrated differential privacy, its privacy loss ρ for a given sensitivity, the
//! equivalent (ε, δ), and the 90 % error interval of a noisy count.
//!
//! OpenDP draws its noise from the operating system's secure generator and cannot be seeded;
//! what a release keeps (sealed) to be regenerated identically is therefore the draw itself,
//! the noisy measurements (see `docs/identity.md`).

use opendp::accuracy::discrete_gaussian_scale_to_accuracy;
use opendp::combinators::{make_fix_delta, make_zCDP_to_approxDP};
use opendp::core::Measurement;
use opendp::domains::{AtomDomain, VectorDomain};
use opendp::measurements::make_gaussian;
use opendp::measures::ZeroConcentratedDivergence;
use opendp::metrics::L2Distance;

/// Something OpenDP refused (a scale out of range, a count too large), in words for the log.
#[derive(Debug, thiserror::Error)]
#[error("the differential privacy library refused: {0}")]
pub struct Refused(String);

impl From<opendp::error::Error> for Refused {
    fn from(e: opendp::error::Error) -> Self {
        Self(e.to_string())
    }
}

type Gaussian = Measurement<
    VectorDomain<AtomDomain<i64>>,
    L2Distance<f64>,
    ZeroConcentratedDivergence,
    Vec<i64>,
>;

fn gaussian(scale: f64) -> Result<Gaussian, Refused> {
    Ok(make_gaussian::<_, _, ZeroConcentratedDivergence>(
        VectorDomain::new(AtomDomain::<i64>::default()),
        L2Distance::<f64>::default(),
        scale,
        None,
    )?)
}

/// The scale that spends `rho` on a vector whose L2 sensitivity is `sensitivity`
/// (ρ = Δ² / 2σ²).
pub fn scale_for(rho: f64, sensitivity: f64) -> f64 {
    sensitivity / (2.0 * rho).sqrt()
}

/// ρ spent by noise of `scale` on a vector whose L2 sensitivity is `sensitivity`, as OpenDP
/// computes it.
pub fn rho(scale: f64, sensitivity: f64) -> Result<f64, Refused> {
    Ok(gaussian(scale)?.map(&sensitivity)?)
}

/// One measurement: `exact` with discrete Gaussian noise of `scale`.
pub fn measure(exact: &[i64], scale: f64) -> Result<Vec<i64>, Refused> {
    Ok(gaussian(scale)?.invoke(&exact.to_vec())?)
}

/// The smallest ε such that ρ-zCDP implies (ε, δ)-DP, as OpenDP converts it.
pub fn epsilon(rho: f64, delta: f64) -> Result<f64, Refused> {
    if rho <= 0.0 {
        return Ok(0.0);
    }
    // A measurement of sensitivity 1 whose map is exactly ρ.
    let m = make_zCDP_to_approxDP(gaussian(scale_for(rho, 1.0))?)?;
    let (epsilon, _) = make_fix_delta(&m, delta)?.map(&1.0)?;
    Ok(epsilon)
}

/// Half the width of the interval that holds a count's noise at least 90 % of the time (a
/// whole number: the noise is).
pub fn half_width_90(scale: f64) -> Result<f64, Refused> {
    if scale <= 0.0 {
        return Ok(0.0);
    }
    // OpenDP's accuracy is the smallest `a` with P(|noise| < a) ≥ 90 %: the interval is ±(a − 1).
    Ok((discrete_gaussian_scale_to_accuracy(scale, 0.10)? - 1.0).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rho_follows_the_scale_and_epsilon_the_conversion() {
        let scale = scale_for(0.5, 2f64.sqrt());
        let spent = rho(scale, 2f64.sqrt()).unwrap();
        assert!((spent - 0.5).abs() < 1e-9, "{spent}");
        // ρ = 0.5 at δ = 1e-6: ε = ρ + 2√(ρ ln(1/δ)) ≈ 5.76 is an upper bound; OpenDP's is tighter.
        let e = epsilon(0.5, 1e-6).unwrap();
        assert!(e > 3.0 && e < 5.8, "{e}");
        assert!(epsilon(1.0, 1e-6).unwrap() > e);
    }

    #[test]
    fn at_least_nine_in_ten_noisy_counts_fall_inside_the_interval() {
        let scale = 4.0;
        let width = half_width_90(scale).unwrap();
        // For a continuous Gaussian ±1.645σ = 6.6; the discrete one's is the next whole number
        // that holds 90 %: 7, which holds about 94 %.
        assert_eq!(width, 7.0);
        let noisy = measure(&vec![100; 4000], scale).unwrap();
        let inside = noisy
            .iter()
            .filter(|&&y| ((y - 100).abs() as f64) <= width)
            .count();
        let share = inside as f64 / noisy.len() as f64;
        // 4,000 draws: the share is within ±1.5 points of its expectation (4 standard errors).
        assert!((0.92..0.955).contains(&share), "{share}");
    }
}
