//! The roles of DESIGN §7 and the caller a request is made by.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Reviewer,
    ParityReviewer,
    Party,
    Candidate,
    Statistician,
    Operator,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::Admin,
        Role::Reviewer,
        Role::ParityReviewer,
        Role::Party,
        Role::Candidate,
        Role::Statistician,
        Role::Operator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Reviewer => "reviewer",
            Role::ParityReviewer => "parity_reviewer",
            Role::Party => "party",
            Role::Candidate => "candidate",
            Role::Statistician => "statistician",
            Role::Operator => "operator",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == value)
    }

    /// How the role is named to people (Spanish).
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administración (Unidad Técnica)",
            Role::Reviewer => "Revisión",
            Role::ParityReviewer => "Revisión de paridad",
            Role::Party => "Partido político",
            Role::Candidate => "Persona candidata",
            Role::Statistician => "Estadística",
            Role::Operator => "Operación",
        }
    }

    pub fn to_proto(self) -> conoceles_proto::common::v1::Role {
        use conoceles_proto::common::v1::Role as P;
        match self {
            Role::Admin => P::Admin,
            Role::Reviewer => P::Reviewer,
            Role::ParityReviewer => P::ParityReviewer,
            Role::Party => P::Party,
            Role::Candidate => P::Candidate,
            Role::Statistician => P::Statistician,
            Role::Operator => P::Operator,
        }
    }

    pub fn from_proto(value: i32) -> Option<Role> {
        use conoceles_proto::common::v1::Role as P;
        match P::try_from(value).ok()? {
            P::Admin => Some(Role::Admin),
            P::Reviewer => Some(Role::Reviewer),
            P::ParityReviewer => Some(Role::ParityReviewer),
            P::Party => Some(Role::Party),
            P::Candidate => Some(Role::Candidate),
            P::Statistician => Some(Role::Statistician),
            P::Operator => Some(Role::Operator),
            P::Unspecified | P::Service => None,
        }
    }
}

/// A person a service acts for: their account, role and scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub account_id: Uuid,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidacy_id: Option<Uuid>,
}

/// Who is calling: a service (gRPC, from its token) and the person it acts for, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub service: Option<String>,
    pub actor: Option<Actor>,
}

impl Caller {
    pub const ANONYMOUS: Caller = Caller {
        service: None,
        actor: None,
    };

    pub fn role(&self) -> Option<Role> {
        self.actor.as_ref().map(|a| a.role)
    }
}
