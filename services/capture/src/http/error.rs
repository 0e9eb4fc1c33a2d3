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
use http::StatusCode;

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
///
/// An extractor's own refusal (a malformed identifier in the address, which the framework
/// answers in English plain text) becomes the same Spanish page, or the API's structured error.
pub async fn with_chrome(request: Request, next: Next) -> Response {
    let session = request.extensions().get::<Arc<SessionInfo>>().cloned();
    let api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    if let Some(Refusal(error)) = response.extensions_mut().remove::<Refusal>() {
        return match session {
            Some(session) => error_page(&session, &error),
            None => response,
        };
    }
    let plain_text = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if response.status() == StatusCode::BAD_REQUEST && plain_text {
        let error = AppError::field(
            "direccion",
            "invalid",
            "La dirección no es válida: uno de sus datos no tiene el formato esperado. Revise el enlace o vuelva a la página anterior.",
        );
        return if api {
            error.into_response()
        } else {
            match session {
                Some(session) => error_page(&session, &error),
                None => render(
                    error.code().http_status(),
                    &MessagePage {
                        chrome: Chrome::public(),
                        message: error.messages().join(" "),
                    },
                ),
            }
        };
    }
    response
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
