//! How the election protects the statistics of the identity questionnaire: the unit's choice
//! between cell suppression and differential privacy, sent to `identity` with the election's
//! settings (`election.updated`). Identity fixes it with the first release published under it.

use conoceles_kit::FieldViolation;
use conoceles_proto::common::v1 as common;
use serde::{Deserialize, Serialize};

/// The unit's choice and its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum IdentityProtection {
    /// Counts from 1 to `threshold − 1` hidden, with their complements.
    Suppression { threshold: i32 },
    /// Zero-concentrated differential privacy with discrete Gaussian noise.
    DifferentialPrivacy {
        /// ρ every release together may spend.
        rho_budget: f64,
        /// ρ of one release of every table.
        rho_per_release: f64,
        /// The δ the equivalent (ε, δ) is stated at.
        delta: f64,
        /// Groups with fewer persons counted get the coarser tables.
        detail_threshold: i32,
    },
}

impl Default for IdentityProtection {
    fn default() -> Self {
        Self::Suppression { threshold: 5 }
    }
}

impl IdentityProtection {
    /// The defaults of differential privacy: three releases of ρ = 1 (for instance April, May
    /// and the final report), δ = 10⁻⁶, detail from 10 persons.
    pub fn private_defaults() -> Self {
        Self::DifferentialPrivacy {
            rho_budget: 3.0,
            rho_per_release: 1.0,
            delta: 1e-6,
            detail_threshold: 10,
        }
    }

    /// The differential-privacy parameters — budget, ρ per release, δ, threshold of detail —
    /// of this protection, or the defaults under cell suppression.
    pub fn private_parameters(&self) -> (f64, f64, f64, i32) {
        match *self {
            Self::DifferentialPrivacy {
                rho_budget,
                rho_per_release,
                delta,
                detail_threshold,
            } => (rho_budget, rho_per_release, delta, detail_threshold),
            Self::Suppression { .. } => Self::private_defaults().private_parameters(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Suppression { .. } => "suppression",
            Self::DifferentialPrivacy { .. } => "differential_privacy",
        }
    }

    /// The rules the parameters follow, each broken one as a field problem.
    pub fn check(&self) -> Vec<FieldViolation> {
        let mut out = Vec::new();
        let mut rule = |ok: bool, field: &str, message: &str| {
            if !ok {
                out.push(FieldViolation::new(field, "invalid", message));
            }
        };
        match *self {
            Self::Suppression { threshold } => rule(
                (2..=50).contains(&threshold),
                "suppression_threshold",
                "Umbral de supresión: un número entero entre 2 y 50.",
            ),
            Self::DifferentialPrivacy {
                rho_budget,
                rho_per_release,
                delta,
                detail_threshold,
            } => {
                rule(
                    rho_budget.is_finite() && rho_budget > 0.0 && rho_budget <= 100.0,
                    "rho_budget",
                    "Presupuesto de privacidad: un número mayor que 0 y hasta 100 (por ejemplo 3).",
                );
                rule(
                    rho_per_release.is_finite()
                        && rho_per_release > 0.0
                        && rho_per_release <= rho_budget,
                    "rho_per_release",
                    "ρ por publicación: un número mayor que 0 que no pase el presupuesto.",
                );
                rule(
                    delta.is_finite() && delta > 0.0 && delta <= 1e-3,
                    "delta",
                    "δ: un número mayor que 0 y hasta 0.001 (por ejemplo 0.000001).",
                );
                rule(
                    (0..=1000).contains(&detail_threshold),
                    "detail_threshold",
                    "Umbral de detalle: un número entero entre 0 y 1000.",
                );
            }
        }
        out
    }

    pub fn to_proto(self) -> common::IdentityProtection {
        use common::identity_protection::Method;
        common::IdentityProtection {
            method: Some(match self {
                Self::Suppression { threshold } => Method::Suppression(common::CellSuppression {
                    threshold: threshold.max(2) as u32,
                }),
                Self::DifferentialPrivacy {
                    rho_budget,
                    rho_per_release,
                    delta,
                    detail_threshold,
                } => Method::DifferentialPrivacy(common::DifferentialPrivacy {
                    rho_budget,
                    rho_per_release,
                    delta,
                    detail_threshold: detail_threshold.max(0) as u32,
                }),
            }),
        }
    }

    /// From the columns of `elections`.
    pub fn from_row(r: &sqlx::postgres::PgRow) -> Self {
        use sqlx::Row;
        if r.get::<String, _>("identity_protection") == "differential_privacy" {
            Self::DifferentialPrivacy {
                rho_budget: r.get("dp_rho_budget"),
                rho_per_release: r.get("dp_rho_per_release"),
                delta: r.get("dp_delta"),
                detail_threshold: r.get("dp_detail_threshold"),
            }
        } else {
            Self::Suppression {
                threshold: r.get("suppression_threshold"),
            }
        }
    }
}

/// A decimal number as people type it: `0.5`, `0,5`, `1e-6`.
pub fn parse_decimal(text: &str) -> Option<f64> {
    let v: f64 = text.trim().replace(',', ".").parse().ok()?;
    v.is_finite().then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_out_of_range_are_named() {
        assert!(IdentityProtection::default().check().is_empty());
        assert!(IdentityProtection::private_defaults().check().is_empty());
        let fields: Vec<String> = IdentityProtection::DifferentialPrivacy {
            rho_budget: 1.0,
            rho_per_release: 2.0,
            delta: 0.5,
            detail_threshold: -1,
        }
        .check()
        .into_iter()
        .map(|v| v.field)
        .collect();
        assert_eq!(fields, ["rho_per_release", "delta", "detail_threshold"]);
        assert_eq!(
            IdentityProtection::Suppression { threshold: 1 }.check()[0].field,
            "suppression_threshold"
        );
    }

    #[test]
    fn decimals_read_with_a_comma_or_a_point() {
        assert_eq!(parse_decimal(" 0,5 "), Some(0.5));
        assert_eq!(parse_decimal("1e-6"), Some(1e-6));
        assert_eq!(parse_decimal("NaN"), None);
        assert_eq!(parse_decimal("uno"), None);
    }
}
