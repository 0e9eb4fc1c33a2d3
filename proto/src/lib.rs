//! Protobuf messages and gRPC stubs of every Conóceles service (`conoceles.<service>.v1`), the
//! events (`conoceles.events.v1`) and the shared types (`conoceles.common.v1`).
//!
//! The modules nest like the protobuf packages so cross-package references resolve; the
//! top-level re-exports let callers write `conoceles_proto::events::v1::CandidacyApproved`.
#![allow(clippy::all, clippy::pedantic, missing_docs)]

pub mod conoceles {
    pub mod common {
        pub mod v1 {
            tonic::include_proto!("conoceles.common.v1");
        }
    }
    pub mod events {
        pub mod v1 {
            tonic::include_proto!("conoceles.events.v1");
        }
    }
    pub mod auth {
        pub mod v1 {
            tonic::include_proto!("conoceles.auth.v1");
        }
    }
    pub mod identity {
        pub mod v1 {
            tonic::include_proto!("conoceles.identity.v1");
        }
    }
    pub mod capture {
        pub mod v1 {
            tonic::include_proto!("conoceles.capture.v1");
        }
    }
    pub mod validation {
        pub mod v1 {
            tonic::include_proto!("conoceles.validation.v1");
        }
    }
    pub mod publication {
        pub mod v1 {
            tonic::include_proto!("conoceles.publication.v1");
        }
    }
    pub mod statistics {
        pub mod v1 {
            tonic::include_proto!("conoceles.statistics.v1");
        }
    }
}

pub use conoceles::*;

mod ids;

/// The encoded `FileDescriptorSet` of every proto file, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("conoceles_descriptor");

/// Routing keys of the events (DESIGN §5), next to the message each one carries.
pub mod routing_keys {
    pub const ELECTION_UPDATED: &str = "election.updated";
    pub const PLACES_UPDATED: &str = "election.places_updated";
    pub const SITE_IDENTITY_UPDATED: &str = "election.site_identity_updated";
    pub const CANDIDACY_REGISTERED: &str = "candidacy.registered";
    pub const CANDIDACY_SUBSTITUTED: &str = "candidacy.substituted";
    pub const CANDIDACY_CANCELLED: &str = "candidacy.cancelled";
    pub const CURRICULAR_SUBMITTED: &str = "curricular.submitted";
    pub const CURRICULAR_OBSERVED: &str = "curricular.observed";
    pub const CANDIDACY_APPROVED: &str = "candidacy.approved";
    pub const CANDIDACY_CORRECTED: &str = "candidacy.corrected";
    pub const IDENTITY_SUBMITTED: &str = "identity.submitted";
    pub const IDENTITY_CORRECTED: &str = "identity.corrected";
    pub const ACCOUNTS_DELIVERED: &str = "accounts.delivered";
}
