//! Capture's domain: what an election is (catalogs, offices, time zone, windows), its candidacies
//! (registration, substitution, cancellation, deadlines, progress), the import of the registry and
//! the curricular questionnaire (drafts, photo, bulk capture, submission). It owns capture's
//! database — every SQL statement of the service is here — and knows nothing of HTTP or gRPC.

pub mod annex;
pub mod calendar;
pub mod candidacies;
pub mod confirmations;
pub mod consent_form;
pub mod council_notice;
pub mod curricular;
pub mod deadlines;
pub mod election;
pub mod identity_protection;
pub mod import;
pub mod mail;
pub mod notices;
pub mod places;
pub mod profile;
pub mod profile_counts;
pub mod progress;
pub mod requirement;
pub mod reviews;
pub mod roster;
pub mod site_identity;

use sqlx::migrate::Migrator;

/// Capture's schema, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");
