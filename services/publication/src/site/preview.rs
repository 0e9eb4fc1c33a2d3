//! The admin's preview of the site before the publication start (DESIGN §4.6). The capture
//! back office sends an admin to `GET /vista-previa?token=<token>`, a short-lived ticket `auth`
//! signed on the admin's behalf for the preview audience only (no gRPC server takes it) and
//! good once (its id is remembered in Redis until it expires); the site checks it, keeps a preview cookie of
//! its own for an hour (signed with the site's key), and shows everything approved, marked as a
//! preview, never cached and never to anyone else. `GET /vista-previa/salir` ends it.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use chrono::Utc;
use conoceles_kit::access::{KeySet, Role};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier};
use http::{HeaderValue, StatusCode, header};

pub const COOKIE: &str = "__Host-conoceles_vista_previa";
const LIFETIME: Duration = Duration::from_secs(3600);

tokio::task_local! {
    static PREVIEW: bool;
}

/// Whether the request being served is an admin's preview.
pub fn active() -> bool {
    PREVIEW.try_with(|p| *p).unwrap_or(false)
}

#[derive(Clone)]
pub struct Preview {
    pub keys: Arc<KeySet>,
    pub key: Arc<SigningKey>,
    /// The tickets already used.
    pub used: conoceles_kit::cache::Cache,
    /// Where the back office is (`CAPTURE_PUBLIC_URL`): signing out there ends the preview
    /// here and comes back to it.
    pub capture_url: String,
}

impl Preview {
    fn cookie_value(&self, account: uuid::Uuid) -> String {
        let payload = format!(
            "{account}.{}",
            Utc::now().timestamp() + LIFETIME.as_secs() as i64
        );
        let signature = self.key.sign(payload.as_bytes()).to_bytes();
        format!(
            "{payload}.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature)
        )
    }

    fn valid(&self, value: &str) -> bool {
        let Some((payload, signature)) = value.rsplit_once('.') else {
            return false;
        };
        let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        let Ok(signature) = Signature::from_slice(&bytes) else {
            return false;
        };
        let expires = payload
            .rsplit_once('.')
            .and_then(|(_, exp)| exp.parse::<i64>().ok())
            .unwrap_or(0);
        expires > Utc::now().timestamp()
            && self
                .key
                .verifying_key()
                .verify(payload.as_bytes(), &signature)
                .is_ok()
    }
}

pub fn cookie_of(headers: &http::HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v)
}

#[derive(serde::Deserialize)]
pub struct Start {
    #[serde(default)]
    token: String,
}

/// `GET /vista-previa?token=`: an admin's token from the back office starts the preview.
pub async fn start(State(state): State<super::SiteState>, Query(start): Query<Start>) -> Response {
    let preview = &state.preview;
    let refused = || {
        super::views::message(
            StatusCode::FORBIDDEN,
            "Vista previa",
            "El enlace de vista previa no es válido o ya venció. Ábralo de nuevo desde la administración.",
        )
    };
    let Ok(claims) = preview
        .keys
        .verify(&start.token, conoceles_kit::access::token::PREVIEW_AUDIENCE)
        .await
    else {
        return refused();
    };
    // Good once: a link seen in a browser's history or a proxy's log opens nothing.
    let mut conn = preview.used.connection();
    let first_use: Option<String> = redis::cmd("SET")
        .arg(preview.used.key(&format!("preview-ticket:{}", claims.jti)))
        .arg(1)
        .arg("NX")
        .arg("EX")
        .arg(conoceles_kit::access::token::MAX_LIFETIME_SECONDS + 60)
        .query_async(&mut conn)
        .await
        .unwrap_or(None);
    if first_use.is_none() {
        return refused();
    }
    let Some(actor) = claims
        .act
        .filter(|a| a.role == Role::Admin && claims.sub == "capture")
    else {
        return refused();
    };
    let cookie = format!(
        "{COOKIE}={}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={}",
        preview.cookie_value(actor.account_id),
        LIFETIME.as_secs()
    );
    let mut response = Redirect::to("/").into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[derive(serde::Deserialize, Default)]
pub struct Stop {
    #[serde(default)]
    volver: String,
}

/// `GET /vista-previa/salir[?volver=<back-office URL>]`: ends the preview in this browser. The
/// back office's sign-out passes through here (so the preview does not outlive the admin's
/// session on a shared computer) and is sent back only to the back office's own address.
pub async fn stop(State(state): State<super::SiteState>, Query(stop): Query<Stop>) -> Response {
    let back = &state.preview.capture_url;
    let target = if !back.is_empty()
        && stop
            .volver
            .strip_prefix(back.as_str())
            .is_some_and(|rest| rest.starts_with('/') && !rest.starts_with("//"))
        && !stop.volver.contains(['\\', '\t', '\n', '\r'])
    {
        stop.volver.as_str()
    } else {
        "/"
    };
    let mut response = Redirect::to(target).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&format!(
            "{COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"
        ))
        .expect("a valid cookie"),
    );
    response
}

/// Serves the request as a preview when it carries a valid preview cookie: the publication
/// window is lifted, pages say they are a preview, and nothing is cached anywhere.
pub async fn layer(State(preview): State<Arc<Preview>>, request: Request, next: Next) -> Response {
    let on = cookie_of(request.headers()).is_some_and(|v| preview.valid(v));
    if !on {
        return PREVIEW.scope(false, next.run(request)).await;
    }
    let response = PREVIEW.scope(true, next.run(request)).await;
    let (mut parts, body) = response.into_parts();
    parts.headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    let html = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !html {
        return Response::from_parts(parts, body);
    }
    let Ok(bytes) = axum::body::to_bytes(body, 8 * 1024 * 1024).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let page = String::from_utf8_lossy(&bytes).replacen(
        "<main ",
        "<p class=\"aviso vista-previa\" role=\"status\">Vista previa para la administración: este sitio aún no es público. <a href=\"/vista-previa/salir\">Salir de la vista previa</a></p>\n  <main ",
        1,
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(page))
}
