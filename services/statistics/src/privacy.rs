//! How identity protected its tables, as the statistics carry it with every identity table and
//! show it in the privacy-loss ledger: the method and its parameters, and under differential
//! privacy the release a table belongs to (ρ, the equivalent (ε, δ), the noise's scale).

use chrono::{DateTime, Utc};
use conoceles_kit::proto_time::{from_proto, to_proto};
use conoceles_proto::common::v1 as common;
use conoceles_proto::identity::v1 as identity;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Protection {
    Suppression {
        threshold: u32,
    },
    DifferentialPrivacy {
        rho_budget: f64,
        rho_per_release: f64,
        delta: f64,
        detail_threshold: u32,
    },
}

impl Protection {
    pub fn from_proto(p: Option<&common::IdentityProtection>) -> Option<Self> {
        use common::identity_protection::Method;
        Some(match p?.method.as_ref()? {
            Method::Suppression(s) => Self::Suppression {
                threshold: s.threshold,
            },
            Method::DifferentialPrivacy(d) => Self::DifferentialPrivacy {
                rho_budget: d.rho_budget,
                rho_per_release: d.rho_per_release,
                delta: d.delta,
                detail_threshold: d.detail_threshold,
            },
        })
    }

    pub fn to_proto(&self) -> common::IdentityProtection {
        use common::identity_protection::Method;
        common::IdentityProtection {
            method: Some(match *self {
                Self::Suppression { threshold } => {
                    Method::Suppression(common::CellSuppression { threshold })
                }
                Self::DifferentialPrivacy {
                    rho_budget,
                    rho_per_release,
                    delta,
                    detail_threshold,
                } => Method::DifferentialPrivacy(common::DifferentialPrivacy {
                    rho_budget,
                    rho_per_release,
                    delta,
                    detail_threshold,
                }),
            }),
        }
    }
}

/// One line of the privacy-loss ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Release {
    pub sequence: u32,
    pub release_id: String,
    pub released_at: DateTime<Utc>,
    pub cut_off: DateTime<Utc>,
    pub families: Vec<String>,
    pub rho: f64,
    pub rho_total: f64,
    pub epsilon_total: f64,
    pub delta: f64,
    pub noise_scale: f64,
    pub decision_scale: f64,
    pub detail_threshold: u32,
    pub hash: String,
}

impl Release {
    pub fn from_proto(e: &identity::LedgerEntry) -> Self {
        Self {
            sequence: e.sequence,
            release_id: e.release_id.clone(),
            released_at: from_proto(e.released_at.as_ref()).unwrap_or_default(),
            cut_off: from_proto(e.cut_off.as_ref()).unwrap_or_default(),
            families: e.families.clone(),
            rho: e.rho,
            rho_total: e.rho_total,
            epsilon_total: e.epsilon_total,
            delta: e.delta,
            noise_scale: e.noise_scale,
            decision_scale: e.decision_scale,
            detail_threshold: e.detail_threshold,
            hash: e.hash.clone(),
        }
    }

    pub fn to_proto(&self) -> identity::LedgerEntry {
        identity::LedgerEntry {
            sequence: self.sequence,
            release_id: self.release_id.clone(),
            released_at: Some(to_proto(self.released_at)),
            cut_off: Some(to_proto(self.cut_off)),
            families: self.families.clone(),
            rho: self.rho,
            rho_total: self.rho_total,
            epsilon_total: self.epsilon_total,
            delta: self.delta,
            noise_scale: self.noise_scale,
            decision_scale: self.decision_scale,
            detail_threshold: self.detail_threshold,
            hash: self.hash.clone(),
        }
    }
}

/// The election's protection and ledger (`GET /api/v1/privacy-ledger`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ledger {
    pub protection: Option<Protection>,
    pub releases: Vec<Release>,
    pub rho_remaining: f64,
}

impl Ledger {
    pub fn from_proto(r: &identity::GetPrivacyLedgerResponse) -> Self {
        Self {
            protection: Protection::from_proto(r.protection.as_ref()),
            releases: r.entries.iter().map(Release::from_proto).collect(),
            rho_remaining: r.rho_remaining,
        }
    }
}
