//! Where a candidacy is in its life, as every service names it: the code stored and sent
//! (`candidacies.status`, events, APIs), the proto value, and the one Spanish label people read.

use conoceles_proto::common::v1 as common;
use serde::{Deserialize, Serialize};

/// A candidacy's status. Stored as its snake_case code in text columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum CandidacyStatus {
    /// Nothing captured yet.
    NotStarted,
    /// Some sections saved, not sent.
    Draft,
    /// Sent, waiting for review.
    Submitted,
    /// Returned with observations to fix.
    Observed,
    /// Approved, waiting for the publication start.
    Approved,
    /// On the public site.
    Published,
    /// Cancelled, or its person substituted.
    Withdrawn,
}

impl CandidacyStatus {
    /// Every status, in the order of the process.
    pub const ALL: [Self; 7] = [
        Self::NotStarted,
        Self::Draft,
        Self::Submitted,
        Self::Observed,
        Self::Approved,
        Self::Published,
        Self::Withdrawn,
    ];

    /// The code stored and sent.
    pub fn code(self) -> &'static str {
        match self {
            Self::NotStarted => "not_started",
            Self::Draft => "draft",
            Self::Submitted => "submitted",
            Self::Observed => "observed",
            Self::Approved => "approved",
            Self::Published => "published",
            Self::Withdrawn => "withdrawn",
        }
    }

    /// The status of a code (`None` for anything else).
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// What people read, on every screen and report.
    pub fn label(self) -> &'static str {
        match self {
            Self::NotStarted => "Sin iniciar",
            Self::Draft => "En captura",
            Self::Submitted => "Enviada",
            Self::Observed => "Con observaciones",
            Self::Approved => "Aprobada",
            Self::Published => "Publicada",
            Self::Withdrawn => "Cancelada o sustituida",
        }
    }

    /// The label of a code as stored ("Desconocido" for anything else).
    pub fn label_of(code: &str) -> &'static str {
        Self::parse(code).map_or("Desconocido", Self::label)
    }

    /// The questionnaire has been sent (and not returned).
    pub fn is_sent(self) -> bool {
        matches!(self, Self::Submitted | Self::Approved | Self::Published)
    }

    /// Approved, published or waiting for the publication start.
    pub fn is_approved(self) -> bool {
        matches!(self, Self::Approved | Self::Published)
    }

    pub fn proto(self) -> common::CandidacyStatus {
        match self {
            Self::NotStarted => common::CandidacyStatus::NotStarted,
            Self::Draft => common::CandidacyStatus::Draft,
            Self::Submitted => common::CandidacyStatus::Submitted,
            Self::Observed => common::CandidacyStatus::Observed,
            Self::Approved => common::CandidacyStatus::Approved,
            Self::Published => common::CandidacyStatus::Published,
            Self::Withdrawn => common::CandidacyStatus::Withdrawn,
        }
    }
}

impl std::fmt::Display for CandidacyStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::CandidacyStatus;

    #[test]
    fn codes_labels_and_proto_values_agree() {
        for status in CandidacyStatus::ALL {
            assert_eq!(CandidacyStatus::parse(status.code()), Some(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.code())
            );
            assert_eq!(status.proto() as i32, status as i32 + 1, "{status}");
        }
        assert_eq!(CandidacyStatus::label_of("draft"), "En captura");
        assert_eq!(CandidacyStatus::label_of("otra"), "Desconocido");
        assert_eq!(CandidacyStatus::parse("Draft"), None);
    }
}
