//! Capture's HTTP side: the front's server-rendered Spanish pages (by audience, in `pages/`) and
//! the JSON API (`api/`), on one router whose every route is declared with its access rule; the
//! session cookie or bearer token is resolved by `auth`. Here: the state they share, the router,
//! the error pages, the page chrome (`layout`), sessions and uploads.

pub mod api;
mod error;
pub mod extract;
pub mod layout;
pub mod pages;
pub mod session;
pub(crate) mod upload;

pub use error::{PAGE_EXPIRED, PageError, error_page, status_messages, status_page};

use std::sync::Arc;

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::get;
use conoceles_kit::access::{Policy, Rule};
use conoceles_kit::http::DeclaredRouter;
use http::{Method, header};

use crate::clients::auth::AuthClient;

#[derive(Clone)]
pub struct FrontState {
    pub auth: AuthClient,
    pub identity: crate::clients::identity::IdentityClient,
    pub validation: crate::clients::validation::ValidationClient,
    pub statistics: crate::clients::statistics::StatisticsClient,
    pub pool: sqlx::PgPool,
    /// For the admin's preview of the public site.
    pub site_preview: SitePreview,
    /// Where people reach this back office (`CAPTURE_PUBLIC_URL`, default
    /// `http://127.0.0.1:8081`): the address printed on credential sheets, never a request's
    /// `Host` header (which anyone can write).
    pub public_url: String,
}

/// Where the public site is (`PUBLIC_SITE_URL`, default `http://127.0.0.1:8080`) and the
/// tokens to open its preview on an admin's behalf.
#[derive(Clone)]
pub struct SitePreview {
    pub url: String,
    pub tokens: std::sync::Arc<conoceles_kit::access::TokenSource>,
}

/// Every route of the front (pages and JSON API) with its access rule.
fn declared() -> DeclaredRouter<FrontState> {
    api::declare(assets(pages::routes())).password_change_page("/cuenta/contrasena")
}

/// The style sheet and the counter script, public.
fn assets(router: DeclaredRouter<FrontState>) -> DeclaredRouter<FrontState> {
    router
        .route(
            Method::GET,
            "/static/estilo.css",
            Rule::public(),
            get(stylesheet),
        )
        .route(
            Method::GET,
            "/static/contador.js",
            Rule::public(),
            get(counter_script),
        )
}

/// The access rules of every route (for the role × route matrix).
pub fn policy() -> Policy {
    declared().policy().clone()
}

/// The front's router, enforcing the rules with sessions resolved by `auth`.
pub fn router(state: FrontState) -> (Router, Policy) {
    let authenticator = Arc::new(session::SessionAuthenticator {
        auth: state.auth.clone(),
    });
    let (router, policy) = declared()
        .layer_inside_gate(axum::middleware::from_fn(error::with_chrome))
        .finish(authenticator);
    let router = router
        .fallback(not_found)
        .layer(axum::middleware::from_fn(conoceles_kit::http::no_store))
        .with_state(state);
    (router, policy)
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        conoceles_kit::http::BASE_STYLESHEET,
    )
}

pub(crate) async fn counter_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/contador.js"),
    )
}

pub(crate) async fn not_found() -> impl IntoResponse {
    (
        http::StatusCode::NOT_FOUND,
        axum::response::Html(
            "<!doctype html><html lang=\"es-MX\"><head><meta charset=\"utf-8\"><title>No encontrado — Conóceles</title>\
             <link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"/static/estilo.css\"></head><body><main class=\"contenido\">\
             <h1>No encontramos esta página</h1><p><a href=\"/\">Volver al inicio</a></p></main></body></html>",
        ),
    )
}

/// The current election's settings, for the pages about it; without an election, the refusal
/// every such page gives.
pub async fn current_election(
    state: &FrontState,
) -> Result<crate::domain::election::Settings, PageError> {
    let current = crate::domain::election::current(&state.pool)
        .await?
        .ok_or_else(|| {
            conoceles_kit::error::AppError::new(
                conoceles_kit::error::ErrorCode::FailedPrecondition,
                "Aún no hay una elección configurada.",
            )
        })?;
    Ok(crate::domain::election::settings(&state.pool, current.id).await?)
}

/// The current election's time zone, in which people read every date and time.
pub async fn election_time_zone(state: &FrontState) -> String {
    match crate::domain::election::current(&state.pool).await {
        Ok(Some(e)) => crate::domain::election::settings(&state.pool, e.id)
            .await
            .map(|s| s.time_zone)
            .unwrap_or_else(|_| "America/Mexico_City".into()),
        _ => "America/Mexico_City".into(),
    }
}
