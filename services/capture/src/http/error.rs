//! How the front shows a refusal: the Spanish message page with its chrome, with the HTTP status
//! `kit` maps the refusal's code to.
//!
//! Handlers return `Result<Response, PageError>` and let any refusal flow with `?` (a domain
//! error, a peer's `tonic::Status`, a database error); [`with_chrome`], inside the access gate,
//! renders it with the header of the person logged in.

use std::sync::Arc;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use conoceles_kit::error::{AppError, ErrorCode};

use super::layout::{Chrome, MessagePage, render};
use super::session::SessionInfo;

/// Shown when a form's CSRF token does not match (an old page, or a forged request).
pub const PAGE_EXPIRED: &str = "La página caducó. Intente de nuevo.";

/// A refusal a page handler gives up with: shown as the message page, with its chrome.
#[derive(Debug)]
pub struct PageError(AppError);

impl PageError {
    /// The form came from an old page or another site: its CSRF token does not match.
    pub fn expired() -> Self {
        Self(AppError::new(ErrorCode::PermissionDenied, PAGE_EXPIRED))
    }

    pub fn error(&self) -> &AppError {
        &self.0
    }
}

impl From<AppError> for PageError {
    fn from(error: AppError) -> Self {
        Self(error)
    }
}

impl From<tonic::Status> for PageError {
    fn from(status: tonic::Status) -> Self {
        Self(AppError::from(status))
    }
}

impl From<sqlx::Error> for PageError {
    fn from(error: sqlx::Error) -> Self {
        Self(AppError::from(error))
    }
}

impl From<anyhow::Error> for PageError {
    fn from(error: anyhow::Error) -> Self {
        Self(AppError::Unexpected(error))
    }
}

/// What [`with_chrome`] finds in a response to render.
#[derive(Clone)]
struct Refusal(Arc<AppError>);

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if let AppError::Unexpected(e) = &self.0 {
            tracing::error!(error = %format!("{e:#}"), "page failed");
        }
        // Without the chrome (no session known here); `with_chrome` renders it again with it.
        let mut response = render(
            self.0.code().http_status(),
            &MessagePage {
                chrome: Chrome::public(),
                message: self.0.messages().join(" "),
            },
        );
        response.extensions_mut().insert(Refusal(Arc::new(self.0)));
        response
    }
}

/// Renders a handler's [`PageError`] as the message page with the header of the person behind
/// the request. Applied inside the access gate, which leaves the session in the request.
pub async fn with_chrome(request: Request, next: Next) -> Response {
    let session = request.extensions().get::<Arc<SessionInfo>>().cloned();
    let mut response = next.run(request).await;
    match (response.extensions_mut().remove::<Refusal>(), session) {
        (Some(Refusal(error)), Some(session)) => error_page(&session, &error),
        _ => response,
    }
}

/// Spanish messages of a peer's refusal: its field violations, or its message (a peer's
/// failure is "unavailable", never its internals).
pub fn status_messages(status: &tonic::Status) -> Vec<String> {
    AppError::from_status(status).messages()
}

/// A refusal as the message page, with the HTTP status of its code.
pub fn error_page(session: &SessionInfo, error: &AppError) -> Response {
    render(
        error.code().http_status(),
        &MessagePage {
            chrome: Chrome::of(session),
            message: error.messages().join(" "),
        },
    )
}

/// A peer's refusal as the message page, with the HTTP status `kit` maps its code to.
pub fn status_page(session: &SessionInfo, status: &tonic::Status) -> Response {
    error_page(session, &AppError::from_status(status))
}
