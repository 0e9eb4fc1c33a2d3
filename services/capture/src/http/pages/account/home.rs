//! `GET /`: who is logged in, and where to go; parties and candidates go to their dashboard.

use std::sync::Arc;

use axum::Extension;
use axum::response::{IntoResponse, Response};
use conoceles_kit::access::Role;
use http::StatusCode;

use super::views::HomePage;
use crate::http::layout::{Chrome, render};
use crate::http::session::SessionInfo;

pub async fn page(Extension(session): Extension<Arc<SessionInfo>>) -> Response {
    if matches!(session.role, Role::Party | Role::Candidate) {
        return axum::response::Redirect::to("/captura").into_response();
    }
    render(
        StatusCode::OK,
        &HomePage {
            chrome: Chrome::of(&session),
            email: session.email.clone(),
            role_label: session.role.label(),
            is_admin: session.role == Role::Admin,
            is_statistician: session.role == Role::Statistician,
        },
    )
}
