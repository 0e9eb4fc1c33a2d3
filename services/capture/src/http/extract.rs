//! Extractors of the front's pages.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use conoceles_kit::error::AppError;
use http::request::Parts;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::error::PageError;
use super::layout::Chrome;
use super::session::{SessionInfo, csrf_matches};

/// A form posted from one of the front's pages, its CSRF token (field `csrf`) checked against
/// the session's before anything else is read: an old page or another site's form is refused
/// with "La página caducó" and does nothing.
pub struct CheckedForm<T>(pub T);

#[derive(Deserialize)]
struct Token {
    #[serde(default)]
    csrf: String,
}

impl<T, S> FromRequest<S> for CheckedForm<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = PageError;

    async fn from_request(request: Request, state: &S) -> Result<Self, PageError> {
        let expected = request
            .extensions()
            .get::<Arc<SessionInfo>>()
            .map(|s| s.csrf_token.clone())
            .unwrap_or_default();
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|_| PageError::from(unreadable()))?;
        let token: Token = serde_urlencoded::from_bytes(&body).map_err(|_| unreadable())?;
        if !csrf_matches(&expected, &token.csrf) {
            return Err(PageError::expired());
        }
        serde_urlencoded::from_bytes(&body)
            .map(CheckedForm)
            .map_err(|_| PageError::from(unreadable()))
    }
}

fn unreadable() -> AppError {
    AppError::field(
        "formulario",
        "invalid",
        "No pudimos leer el formulario. Vuelva a la página e intente de nuevo.",
    )
}

/// The page's chrome (the header of the person logged in and the session's CSRF token for its
/// forms), for any page behind the access gate.
impl<S: Send + Sync> FromRequestParts<S> for Chrome {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, PageError> {
        parts
            .extensions
            .get::<Arc<SessionInfo>>()
            .map(|session| Chrome::of(session))
            .ok_or_else(|| {
                PageError::from(AppError::new(
                    conoceles_kit::error::ErrorCode::Unauthenticated,
                    conoceles_kit::error::ErrorCode::Unauthenticated.default_message(),
                ))
            })
    }
}
