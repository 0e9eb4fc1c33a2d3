//! Sessions made by `auth`, as the HTTP services see them: the bearer token of API clients, and
//! the person behind a session token (asked of `auth`'s `ResolveSession` with the service's own
//! token). The capture front adds cookies and CSRF on top; the statistics API takes bearer
//! tokens only.

use std::sync::Arc;

use axum::extract::Request;
use conoceles_proto::auth::v1 as pb;
use conoceles_proto::auth::v1::auth_service_client::AuthServiceClient;
use http::HeaderMap;
use tonic::transport::Channel;
use uuid::Uuid;

use super::Authenticator;
use crate::access::{Actor, Role, TokenSource};
use crate::error::{AppError, ErrorCode};

/// The token of an `Authorization: Bearer` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

fn parse_id(value: Option<&str>) -> Option<Uuid> {
    value.and_then(|v| Uuid::parse_str(v).ok())
}

/// The person behind a resolved account, as an authenticator answers it, leaving the
/// [`super::access::PasswordChangePending`] marker when the password they were given must change
/// before anything else: every authenticator admits people through here, so none forgets it.
pub fn admit(request: &mut Request, account: &pb::Account) -> Option<Actor> {
    if account.must_change_password {
        request
            .extensions_mut()
            .insert(super::access::PasswordChangePending);
    }
    actor_of(account)
}

/// The person of a resolved session (`None` for an unknown role).
pub fn actor_of(account: &pb::Account) -> Option<Actor> {
    let role = Role::from_proto(account.role)?;
    let scope = account.scope.clone().unwrap_or_default();
    Some(Actor {
        account_id: parse_id(account.id.as_ref().map(|i| i.value.as_str())).unwrap_or_default(),
        role,
        party_id: parse_id(scope.party_id.as_ref().map(|p| p.value.as_str())),
        candidacy_id: parse_id(scope.candidacy_id.as_ref().map(|c| c.value.as_str())),
    })
}

/// Asks `auth` who a session token belongs to; `None` when it is unknown or expired.
pub async fn resolve(
    auth: &AuthServiceClient<Channel>,
    tokens: &TokenSource,
    session: &str,
) -> Result<Option<pb::ResolveSessionResponse>, AppError> {
    let request = tokens
        .own_request(
            "auth",
            pb::ResolveSessionRequest {
                session_token: session.into(),
            },
        )
        .await
        .map_err(|_| {
            AppError::new(
                ErrorCode::Unavailable,
                ErrorCode::Unavailable.default_message(),
            )
        })?;
    match auth.clone().resolve_session(request).await {
        Ok(r) => Ok(Some(r.into_inner())),
        Err(status) if status.code() == tonic::Code::Unauthenticated => Ok(None),
        Err(status) => {
            tracing::error!(code = ?status.code(), "session check failed");
            Err(AppError::new(
                ErrorCode::Unavailable,
                ErrorCode::Unavailable.default_message(),
            ))
        }
    }
}

/// API clients with `Authorization: Bearer <session token>` (from the capture API's
/// `POST /api/v1/sessions`).
pub struct BearerAuthenticator {
    pub auth: AuthServiceClient<Channel>,
    pub tokens: Arc<TokenSource>,
}

#[async_trait::async_trait]
impl Authenticator for BearerAuthenticator {
    async fn authenticate(&self, request: &mut Request) -> Result<Option<Actor>, AppError> {
        let Some(token) = bearer(request.headers()).map(str::to_string) else {
            return Ok(None);
        };
        let account = resolve(&self.auth, &self.tokens, &token)
            .await?
            .and_then(|r| r.account);
        Ok(account.and_then(|account| admit(request, &account)))
    }
}

/// The same sessions for gRPC callers (statisticians' scripts calling `statistics` directly).
#[async_trait::async_trait]
impl crate::access::PersonSessions for BearerAuthenticator {
    async fn person(&self, session_token: &str) -> Result<Option<Actor>, tonic::Status> {
        let account = resolve(&self.auth, &self.tokens, session_token)
            .await
            .map_err(|_| tonic::Status::unavailable("Un servicio necesario no está disponible."))?
            .and_then(|r| r.account);
        if account.as_ref().is_some_and(|a| a.must_change_password) {
            return Err(tonic::Status::permission_denied(
                super::access::PASSWORD_CHANGE_FIRST,
            ));
        }
        Ok(account.as_ref().and_then(actor_of))
    }
}
