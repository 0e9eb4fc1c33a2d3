//! How an election protects its identity tables: the unit's choice, sent by capture with the
//! election's settings and fixed by the first release made under it.

use conoceles_kit::error::AppError;
use conoceles_proto::common::v1 as common;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Differential-privacy parameters of an election.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Privacy {
    pub rho_budget: f64,
    pub rho_per_release: f64,
    pub delta: f64,
    pub detail_threshold: i64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Protection {
    /// Cell suppression with threshold k.
    Suppression {
        k: u64,
    },
    DifferentialPrivacy(Privacy),
}

impl Default for Protection {
    fn default() -> Self {
        Self::Suppression { k: 5 }
    }
}

impl Protection {
    /// From the election's settings; unset or out of range values fall back to the defaults a
    /// row of `elections` has.
    pub fn from_proto(p: Option<&common::IdentityProtection>) -> Self {
        use common::identity_protection::Method;
        match p.and_then(|p| p.method.as_ref()) {
            Some(Method::DifferentialPrivacy(d)) => {
                let positive =
                    |v: f64, default: f64| if v > 0.0 && v.is_finite() { v } else { default };
                Self::DifferentialPrivacy(Privacy {
                    rho_budget: positive(d.rho_budget, 3.0),
                    rho_per_release: positive(d.rho_per_release, 1.0),
                    delta: if d.delta > 0.0 && d.delta < 1.0 {
                        d.delta
                    } else {
                        1e-6
                    },
                    detail_threshold: i64::from(d.detail_threshold),
                })
            }
            Some(Method::Suppression(s)) => Self::Suppression {
                k: u64::from(s.threshold.max(2)),
            },
            None => Self::default(),
        }
    }

    pub fn to_proto(self) -> common::IdentityProtection {
        use common::identity_protection::Method;
        common::IdentityProtection {
            method: Some(match self {
                Self::Suppression { k } => Method::Suppression(common::CellSuppression {
                    threshold: k as u32,
                }),
                Self::DifferentialPrivacy(p) => {
                    Method::DifferentialPrivacy(common::DifferentialPrivacy {
                        rho_budget: p.rho_budget,
                        rho_per_release: p.rho_per_release,
                        delta: p.delta,
                        detail_threshold: p.detail_threshold.max(0) as u32,
                    })
                }
            }),
        }
    }

    /// The election's protection (the default for an election not announced yet).
    pub async fn of(pool: &PgPool, election: Uuid) -> Result<Self, AppError> {
        type Row = (String, i32, f64, f64, f64, i32);
        let row: Option<Row> = sqlx::query_as(
            "SELECT protection, suppression_k, rho_budget, rho_per_release, delta, detail_threshold \
             FROM elections WHERE id = $1",
        )
        .bind(election)
        .fetch_optional(pool)
        .await?;
        Ok(match row {
            None => Self::default(),
            Some((method, k, rho_budget, rho_per_release, delta, detail_threshold)) => {
                if method == "differential_privacy" {
                    Self::DifferentialPrivacy(Privacy {
                        rho_budget,
                        rho_per_release,
                        delta,
                        detail_threshold: i64::from(detail_threshold),
                    })
                } else {
                    Self::Suppression { k: k.max(2) as u64 }
                }
            }
        })
    }

    /// Keeps the election's choice unless a release already fixed it.
    pub async fn store(self, conn: &mut PgConnection, election: Uuid) -> sqlx::Result<bool> {
        let (method, k, privacy) = match self {
            Self::Suppression { k } => ("suppression", k as i32, None),
            Self::DifferentialPrivacy(p) => ("differential_privacy", 5, Some(p)),
        };
        let changed = sqlx::query(
            "UPDATE elections SET protection = $2, suppression_k = GREATEST($3, 2), \
                 rho_budget = COALESCE($4, rho_budget), rho_per_release = COALESCE($5, rho_per_release), \
                 delta = COALESCE($6, delta), detail_threshold = COALESCE($7, detail_threshold) \
             WHERE id = $1 AND protection_locked_at IS NULL",
        )
        .bind(election)
        .bind(method)
        .bind(k)
        .bind(privacy.map(|p| p.rho_budget))
        .bind(privacy.map(|p| p.rho_per_release))
        .bind(privacy.map(|p| p.delta))
        .bind(privacy.map(|p| p.detail_threshold.clamp(0, i64::from(i32::MAX)) as i32))
        .execute(conn)
        .await?
        .rows_affected();
        Ok(changed > 0)
    }
}

/// Whether a release already fixed the election's protection.
pub async fn fixed(pool: &PgPool, election: Uuid) -> Result<bool, AppError> {
    let fixed: Option<bool> =
        sqlx::query_scalar("SELECT protection_locked_at IS NOT NULL FROM elections WHERE id = $1")
            .bind(election)
            .fetch_optional(pool)
            .await?;
    Ok(fixed.unwrap_or(false))
}

/// Fixes the election's protection: called by its first release.
pub async fn lock(conn: &mut PgConnection, election: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE elections SET protection_locked_at = now() WHERE id = $1 AND protection_locked_at IS NULL",
    )
    .bind(election)
    .execute(conn)
    .await?;
    Ok(())
}
