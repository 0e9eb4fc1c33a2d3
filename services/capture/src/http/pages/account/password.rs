//! `GET/POST /cuenta/contrasena`: change one's password (forced after a generated one).

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{StatusCode, header};
use serde::Deserialize;

use super::views::PasswordPage;
use crate::http::FrontState;
use crate::http::extract::CheckedForm;
use crate::http::layout::{Chrome, render};
use crate::http::session::{SESSION_COOKIE, SessionInfo, set_cookie};

#[derive(Deserialize, Default)]
pub struct DoneQuery {
    #[serde(default)]
    hecho: Option<String>,
}

fn page(session: &SessionInfo, status: StatusCode, done: bool, errors: Vec<String>) -> Response {
    render(
        status,
        &PasswordPage {
            rule: conoceles_kit::PASSWORD_RULE,
            chrome: Chrome::of(session),
            forced: session.must_change_password,
            done,
            errors,
        },
    )
}

pub async fn form(
    Extension(session): Extension<Arc<SessionInfo>>,
    Query(query): Query<DoneQuery>,
) -> Response {
    page(&session, StatusCode::OK, query.hecho.is_some(), Vec::new())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

pub async fn submit(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    CheckedForm(form): CheckedForm<PasswordForm>,
) -> Response {
    if form.new != form.confirm {
        return page(
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            false,
            vec!["La confirmación no coincide con la nueva contraseña.".into()],
        );
    }
    match state
        .auth
        .change_password(&session.token, &form.current, &form.new)
        .await
    {
        Ok(changed) => {
            let max_age = changed
                .expires_at
                .map(|t| t.seconds - chrono::Utc::now().timestamp())
                .unwrap_or(0)
                .max(0);
            let mut response = Redirect::to("/cuenta/contrasena?hecho=1").into_response();
            if let Ok(value) = set_cookie(SESSION_COOKIE, &changed.session_token, max_age).parse() {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
            response
        }
        Err(status) => {
            let error = conoceles_kit::error::AppError::from_status(&status);
            if error.code() == conoceles_kit::error::ErrorCode::Unavailable {
                tracing::warn!(code = ?status.code(), "password change failed");
            }
            page(
                &session,
                error.code().http_status(),
                false,
                error.messages(),
            )
        }
    }
}
