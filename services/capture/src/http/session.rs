//! The session (cookie for pages, `Authorization: Bearer` for API clients) and the person
//! behind it.
//!
//! `__Host-conoceles_sesion`: Secure, HttpOnly, SameSite=Strict, Path=/, no Domain: only this
//! host, only over HTTPS (browsers treat localhost as secure), never sent cross-site.

use std::sync::Arc;

use axum::extract::Request;
use conoceles_kit::access::{Actor, Role};
use conoceles_kit::error::{AppError, ErrorCode};
use conoceles_kit::http::Authenticator;
use http::HeaderMap;

use crate::clients::auth::AuthClient;
pub use conoceles_kit::proto_time::random_token;

pub const SESSION_COOKIE: &str = "__Host-conoceles_sesion";
pub const LOGIN_CSRF_COOKIE: &str = "__Host-conoceles_csrf";

/// What the front knows about the logged-in person for this request.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub token: String,
    pub csrf_token: String,
    pub email: String,
    pub role: Role,
    pub must_change_password: bool,
}

/// The value of cookie `name` in the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

pub use conoceles_kit::http::session::bearer;

pub fn set_cookie(name: &str, value: &str, max_age_seconds: i64) -> String {
    format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}")
}

pub fn clear_cookie(name: &str) -> String {
    set_cookie(name, "", 0)
}

pub struct SessionAuthenticator {
    pub auth: AuthClient,
}

#[async_trait::async_trait]
impl Authenticator for SessionAuthenticator {
    async fn authenticate(&self, request: &mut Request) -> Result<Option<Actor>, AppError> {
        let from_cookie = bearer(request.headers()).is_none();
        let Some(token) = bearer(request.headers())
            .or_else(|| cookie(request.headers(), SESSION_COOKIE))
            .map(str::to_string)
        else {
            return Ok(None);
        };
        let api = request.uri().path().starts_with("/api/");
        // A browser sends the cookie with a form or fetch from any site: an API write carried by
        // the cookie must come from this site's own pages (pages' forms carry a CSRF token).
        if api && from_cookie && !request.method().is_safe() && !same_origin(request.headers()) {
            return Err(AppError::new(
                ErrorCode::PermissionDenied,
                "Solicitud rechazada: con la sesión del navegador solo se escribe desde las páginas de este sitio; los programas usan Authorization: Bearer.",
            ));
        }
        let resolved = match self.auth.resolve(&token).await {
            Ok(resolved) => resolved,
            Err(status) if status.code() == tonic::Code::Unauthenticated => return Ok(None),
            Err(status) => {
                tracing::error!(code = ?status.code(), "session check failed");
                return Err(AppError::new(
                    ErrorCode::Unavailable,
                    ErrorCode::Unavailable.default_message(),
                ));
            }
        };
        let Some(account) = resolved.account else {
            return Ok(None);
        };
        let Some(actor) = conoceles_kit::http::session::admit(request, &account) else {
            return Ok(None);
        };
        let role = actor.role;
        request.extensions_mut().insert(Arc::new(SessionInfo {
            token,
            csrf_token: resolved.csrf_token,
            email: account.email,
            role,
            must_change_password: account.must_change_password,
        }));
        Ok(Some(actor))
    }
}

/// Whether a request comes from this site's own pages: the browser says so
/// (`Sec-Fetch-Site: same-origin`), or its `Origin` names the host it was sent to.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if let Some(site) = fetch_site {
        return site == "same-origin";
    }
    let host = headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok());
    let origin = headers
        .get(http::header::ORIGIN)
        .and_then(|v| v.to_str().ok());
    match (origin, host) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host)),
        _ => false,
    }
}

/// Compares a submitted CSRF token with the expected one in constant time.
pub fn csrf_matches(expected: &str, submitted: &str) -> bool {
    use subtle::ConstantTimeEq;
    !expected.is_empty()
        && expected.len() == submitted.len()
        && bool::from(expected.as_bytes().ct_eq(submitted.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::COOKIE,
            "a=1; __Host-conoceles_sesion=abc.def; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc.def"));
        assert_eq!(cookie(&headers, "missing"), None);
    }

    #[test]
    fn session_cookies_are_host_only_secure_httponly_strict() {
        let c = set_cookie(SESSION_COOKIE, "t", 60);
        for part in ["__Host-", "Path=/", "Secure", "HttpOnly", "SameSite=Strict"] {
            assert!(c.contains(part), "{c}");
        }
        assert!(!c.contains("Domain"));
    }

    #[test]
    fn csrf_tokens_must_match_exactly() {
        assert!(csrf_matches("abc", "abc"));
        assert!(!csrf_matches("abc", "abd"));
        assert!(!csrf_matches("", ""));
    }

    #[test]
    fn only_this_sites_pages_are_same_origin() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, v.parse().unwrap());
            }
            h
        };
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(same_origin(&headers(&[
            ("host", "captura.iec.org.mx"),
            ("origin", "https://captura.iec.org.mx")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "captura.iec.org.mx"),
            ("origin", "https://evil.example")
        ])));
        assert!(!same_origin(&headers(&[("host", "captura.iec.org.mx")])));
    }
}
