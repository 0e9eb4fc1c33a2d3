//! How the front shows a refusal: the Spanish message page with its chrome, with the HTTP status
//! `kit` maps the refusal's code to.

use axum::response::Response;
use conoceles_kit::error::AppError;

use super::layout::{MessagePage, render};
use super::session::SessionInfo;

/// Shown when a form's CSRF token does not match (an old page, or a forged request).
pub const PAGE_EXPIRED: &str = "La página caducó. Intente de nuevo.";

/// Spanish messages of a peer's refusal: its field violations, or its message (a peer's
/// failure is "unavailable", never its internals).
pub fn status_messages(status: &tonic::Status) -> Vec<String> {
    AppError::from_status(status).messages()
}

/// A refusal as the message page, with the HTTP status of its code.
pub fn error_page(session: &SessionInfo, error: &AppError) -> Response {
    render(
        error.code().http_status(),
        &MessagePage::new(session, &error.messages().join(" ")),
    )
}

/// A peer's refusal as the message page, with the HTTP status `kit` maps its code to.
pub fn status_page(session: &SessionInfo, status: &tonic::Status) -> Response {
    error_page(session, &AppError::from_status(status))
}
