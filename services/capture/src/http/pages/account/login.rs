//! `GET/POST /ingresar`, `POST /salir`.

use std::sync::Arc;

use axum::Extension;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use conoceles_kit::http::ClientAddress;
use http::{StatusCode, header};
use serde::Deserialize;

use super::views::LoginPage;
use crate::http::extract::CheckedForm;
use crate::http::layout::{Chrome, render};
use crate::http::session::{
    LOGIN_CSRF_COOKIE, SESSION_COOKIE, SessionInfo, clear_cookie, cookie, csrf_matches,
    random_token, set_cookie,
};
use crate::http::{FrontState, status_messages};

#[derive(Deserialize, Default)]
pub struct NextQuery {
    #[serde(default)]
    siguiente: String,
}

/// Only local paths are followed after login (no open redirects): a single leading `/`, then
/// visible ASCII only — browsers drop tabs and newlines, so `/<TAB>/evil.example` would become
/// `//evil.example`, and a newline cannot go in a `Location` header.
fn safe_next(next: &str) -> &str {
    let visible = next.bytes().all(|b| b.is_ascii_graphic());
    let local = next.starts_with('/') && !next.starts_with("//") && !next.contains('\\');
    if visible && local { next } else { "/" }
}

fn login_page(
    status: StatusCode,
    csrf: String,
    email: String,
    next: String,
    errors: Vec<String>,
) -> Response {
    let mut response = render(
        status,
        &LoginPage {
            chrome: Chrome {
                nav: None,
                csrf: csrf.clone(),
            },
            email,
            next,
            errors,
        },
    );
    if let Ok(value) = set_cookie(LOGIN_CSRF_COOKIE, &csrf, 3600).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

pub async fn form(Query(query): Query<NextQuery>) -> Response {
    login_page(
        StatusCode::OK,
        random_token(),
        String::new(),
        query.siguiente,
        Vec::new(),
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    siguiente: String,
}

pub async fn submit(
    State(state): State<FrontState>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let fresh_csrf = random_token();
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if !csrf_matches(expected, &form.csrf) {
        return login_page(
            StatusCode::FORBIDDEN,
            fresh_csrf,
            form.email,
            form.siguiente,
            vec!["La página de ingreso caducó. Intente de nuevo.".into()],
        );
    }
    match state
        .auth
        .login(&form.email, &form.password, &client.to_string())
        .await
    {
        Ok(login) => {
            let must_change = login
                .account
                .as_ref()
                .is_some_and(|a| a.must_change_password);
            let max_age = login
                .expires_at
                .map(|t| t.seconds - chrono::Utc::now().timestamp())
                .unwrap_or(0)
                .max(0);
            let target = if must_change {
                "/cuenta/contrasena"
            } else {
                safe_next(&form.siguiente)
            };
            let mut response = Redirect::to(target).into_response();
            let cookies = [
                set_cookie(SESSION_COOKIE, &login.session_token, max_age),
                clear_cookie(LOGIN_CSRF_COOKIE),
            ];
            for c in cookies {
                if let Ok(value) = c.parse() {
                    response.headers_mut().append(header::SET_COOKIE, value);
                }
            }
            response
        }
        Err(status) => {
            let http_status = conoceles_kit::error::AppError::from_status(&status)
                .code()
                .http_status();
            let messages = if http_status == StatusCode::SERVICE_UNAVAILABLE {
                vec!["No es posible iniciar sesión en este momento. Intente más tarde.".to_string()]
            } else {
                status_messages(&status)
            };
            let mut response = login_page(
                http_status,
                fresh_csrf,
                form.email,
                form.siguiente,
                messages,
            );
            if let Some(retry) = status
                .metadata()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                && let Ok(value) = retry.parse()
            {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

pub async fn logout(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    CheckedForm(_form): CheckedForm<CsrfForm>,
) -> Response {
    if let Err(status) = state.auth.logout(&session.token).await {
        tracing::warn!(code = ?status.code(), "logout failed");
    }
    // An administrator may have a preview of the public site open in this browser: signing out
    // passes through the site to end it, and comes back to the sign-in page.
    let target = if session.role == conoceles_kit::access::Role::Admin {
        let back = format!("{}/ingresar", state.public_url);
        format!(
            "{}/vista-previa/salir?volver={}",
            state.site_preview.url.trim_end_matches('/'),
            conoceles_kit::http::query_encode(&back)
        )
    } else {
        "/ingresar".to_string()
    };
    let mut response = Redirect::to(&target).into_response();
    if let Ok(value) = clear_cookie(SESSION_COOKIE).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next("/admin/cuentas"), "/admin/cuentas");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        // Browsers drop tabs and newlines: `/<TAB>/evil.example` is `//evil.example` to them.
        for hostile in [
            "/\t/evil.example/x",
            "/\n/evil.example",
            "/ /evil.example",
            "/caf\u{e9}",
            "",
        ] {
            assert_eq!(safe_next(hostile), "/", "{hostile:?}");
        }
    }
}
