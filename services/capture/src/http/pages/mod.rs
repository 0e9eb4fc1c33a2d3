//! The front's pages by who uses them: any account (`account`), parties and candidates (`party`),
//! the unit's reviewers (`review`) and its administration (`admin`). Each audience declares its
//! routes with their access rules.

pub mod account;
pub mod admin;
pub mod party;
pub mod review;

use conoceles_kit::access::Role;
use conoceles_kit::http::DeclaredRouter;

use super::FrontState;

pub(crate) const EVERYONE: &[Role] = &Role::ALL;
pub(crate) const ADMINS: &[Role] = &[Role::Admin];
/// Who captures: parties and candidates (each only within its scope, checked per candidacy).
pub(crate) const CAPTURERS: &[Role] = &[Role::Party, Role::Candidate];
/// The parties' (and independents') own accounts.
pub(crate) const PARTIES: &[Role] = &[Role::Party];
/// The unit's reviewers (and its admins).
pub(crate) const REVIEWERS: &[Role] = &[Role::Reviewer, Role::Admin];
/// Who produces the General Council's reports.
pub(crate) const REPORTERS: &[Role] = &[Role::Admin, Role::Statistician];
/// Who may change a candidacy's curricular questionnaire: its capturers, and the unit's admins
/// applying a requested correction themselves (the domain admits them only then).
pub(crate) const CORRECTORS: &[Role] = &[Role::Party, Role::Candidate, Role::Admin];
/// Who may look at a candidacy's capture: its capturers and the unit's staff.
pub(crate) const CAPTURE_READERS: &[Role] =
    &[Role::Party, Role::Candidate, Role::Admin, Role::Reviewer];

/// Every page route with its access rule.
pub fn routes() -> DeclaredRouter<FrontState> {
    let router = account::routes(DeclaredRouter::new());
    let router = party::routes(router);
    let router = review::routes(router);
    admin::routes(router)
}
