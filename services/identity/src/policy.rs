//! Who may call each method of `conoceles.identity.v1.IdentityService` (DESIGN §3, §7): only
//! `capture` (definition, submission on behalf of a party or candidate, completion, the admin's
//! correction), `publication` (the publishable subset), `statistics` (suppressed aggregates) and
//! `validation` (completion). Nobody else, and no person directly.

use conoceles_kit::access::{Policy, Role, Rule};

const SERVICE: &str = "conoceles.identity.v1.IdentityService";

pub fn policy() -> Policy {
    Policy::new().grpc_methods(
        SERVICE,
        &[
            (
                "GetDefinition",
                Rule::services(&["capture", "publication", "statistics"]),
            ),
            (
                "SubmitQuestionnaire",
                Rule::acting_for(&["capture"], &[Role::Party, Role::Candidate]),
            ),
            (
                "SaveDraft",
                Rule::acting_for(&["capture"], &[Role::Party, Role::Candidate]),
            ),
            (
                "GetDraft",
                Rule::acting_for(&["capture"], &[Role::Party, Role::Candidate]),
            ),
            (
                "GetCompletionStatus",
                Rule::services(&["capture", "validation", "statistics"]),
            ),
            (
                "CountCompletion",
                Rule::services(&["validation", "statistics"]),
            ),
            ("GetPublishableAnswers", Rule::services(&["publication"])),
            ("GetAggregateTable", Rule::services(&["statistics"])),
            (
                "CreatePrivateRelease",
                Rule::acting_for(&["capture"], &[Role::Admin]),
            ),
            (
                "GetPrivacyLedger",
                Rule::services(&["statistics", "capture"]),
            ),
            (
                "ApplyCorrection",
                Rule::acting_for(&["capture"], &[Role::Admin]),
            ),
        ],
    )
}
