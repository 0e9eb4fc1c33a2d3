//! The unit's reviewers: the queue of submissions, each one's review (approve or observe), the
//! parity view of the identity questionnaires and the compliance table.

pub mod compliance;
pub mod parity;
pub mod submissions;
mod views;

use axum::routing::{get, post};
use conoceles_kit::access::{Role, Rule};
use conoceles_kit::http::DeclaredRouter;
use http::Method;

use super::REVIEWERS;
use crate::http::FrontState;

/// The unit's reviewers: the queue, each submission's review, the parity view and compliance.
pub fn routes(router: DeclaredRouter<FrontState>) -> DeclaredRouter<FrontState> {
    router
        .route(
            Method::GET,
            "/revision",
            Rule::people(REVIEWERS),
            get(submissions::queue),
        )
        .route(
            Method::GET,
            "/revision/{submission}",
            Rule::people(REVIEWERS),
            get(submissions::show),
        )
        .route(
            Method::GET,
            "/revision/{submission}/foto/{person}",
            Rule::people(REVIEWERS),
            get(submissions::photo),
        )
        .route(
            Method::POST,
            "/revision/{submission}/aprobar",
            Rule::people(REVIEWERS),
            post(submissions::approve),
        )
        .route(
            Method::POST,
            "/revision/{submission}/observar",
            Rule::people(REVIEWERS),
            post(submissions::observe),
        )
        .route(
            Method::GET,
            "/revision/identidad",
            Rule::people(&[Role::ParityReviewer, Role::Admin]),
            get(parity::page),
        )
        .route(
            Method::GET,
            "/admin/cumplimiento",
            Rule::people(REVIEWERS),
            get(compliance::page),
        )
        .route(
            Method::GET,
            "/admin/cumplimiento.csv",
            Rule::people(REVIEWERS),
            get(compliance::csv),
        )
}
