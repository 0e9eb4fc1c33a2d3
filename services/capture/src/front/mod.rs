//! The capture front: server-rendered Spanish pages that work without JavaScript. Every route is
//! declared with its access rule; the session cookie is resolved by `auth`.

mod accounts;
mod candidacies;
mod capture;
mod catalogs;
mod compliance;
mod credentials;
mod election;
mod home;
mod login;
mod notices;
mod parity;
mod password;
mod reports;
mod review;
pub mod session;
pub(crate) mod upload;
mod views;

use std::sync::Arc;

use axum::Router;
use axum::response::IntoResponse;
use axum::response::Response;
use axum::routing::{get, post};
use conoceles_kit::access::{Policy, Role, Rule};
use conoceles_kit::error::AppError;
use conoceles_kit::http::DeclaredRouter;
use http::{Method, header};

use crate::auth_client::AuthClient;

#[derive(Clone)]
pub struct FrontState {
    pub auth: AuthClient,
    pub identity: crate::identity_client::IdentityClient,
    pub validation: crate::validation_client::ValidationClient,
    pub statistics: crate::statistics_client::StatisticsClient,
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

/// `GET /admin/vista-previa-sitio`: sends the admin to the public site's preview with a
/// short-lived token `auth` signs for the site on the admin's behalf.
async fn site_preview(
    axum::extract::State(state): axum::extract::State<FrontState>,
    axum::Extension(session): axum::Extension<std::sync::Arc<session::SessionInfo>>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match state
        .site_preview
        .tokens
        .acting_token(
            conoceles_kit::access::token::PREVIEW_AUDIENCE,
            &session.token,
        )
        .await
    {
        Ok(token) => axum::response::Redirect::to(&format!(
            "{}/vista-previa?token={token}",
            state.site_preview.url.trim_end_matches('/')
        ))
        .into_response(),
        Err(status) => views::render(
            http::StatusCode::SERVICE_UNAVAILABLE,
            &views::MessagePage::new(&session, &status_messages(&status).join(" ")),
        ),
    }
}

/// Shown when a form's CSRF token does not match (an old page, or a forged request).
pub const PAGE_EXPIRED: &str = "La página caducó. Intente de nuevo.";

const EVERYONE: &[Role] = &Role::ALL;
const ADMINS: &[Role] = &[Role::Admin];
/// Who captures: parties and candidates (each only within its scope, checked per candidacy).
const CAPTURERS: &[Role] = &[Role::Party, Role::Candidate];
/// The unit's reviewers (and its admins).
const REVIEWERS: &[Role] = &[Role::Reviewer, Role::Admin];
/// Who produces the General Council's reports.
const REPORTERS: &[Role] = &[Role::Admin, Role::Statistician];
/// Who may look at a candidacy's capture: its capturers and the unit's staff.
const CAPTURE_READERS: &[Role] = &[Role::Party, Role::Candidate, Role::Admin, Role::Reviewer];

/// Every route of the front (pages and JSON API) with its access rule.
fn declared() -> DeclaredRouter<FrontState> {
    crate::api::declare(pages()).password_change_page("/cuenta/contrasena")
}

fn pages() -> DeclaredRouter<FrontState> {
    DeclaredRouter::new()
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
        .route(Method::GET, "/ingresar", Rule::public(), get(login::form))
        .route(
            Method::POST,
            "/ingresar",
            Rule::public(),
            post(login::submit),
        )
        .route_before_password_change(
            Method::POST,
            "/salir",
            Rule::people(EVERYONE),
            post(login::logout),
        )
        .route(Method::GET, "/", Rule::people(EVERYONE), get(home::page))
        .route(Method::GET, "/ayuda", Rule::public(), get(capture::help))
        .route(
            Method::GET,
            "/aviso-de-privacidad",
            Rule::public(),
            get(capture::privacy_notice),
        )
        .route(
            Method::GET,
            "/captura/{id}/{role}/identidad",
            Rule::people(CAPTURERS),
            get(capture::identity_form),
        )
        .route(
            Method::POST,
            "/captura/{id}/{role}/identidad",
            Rule::people(CAPTURERS),
            post(capture::identity_post),
        )
        .route(
            Method::GET,
            "/captura/{id}/{role}/identidad/consentimiento",
            Rule::people(CAPTURERS),
            get(capture::consent_form),
        )
        .route(
            Method::POST,
            "/captura/{id}/{role}/identidad/consentimiento",
            Rule::people(CAPTURERS),
            post(capture::consent_upload).layer(axum::extract::DefaultBodyLimit::max(
                capture::CONSENT_BODY_LIMIT,
            )),
        )
        .route(
            Method::GET,
            "/admin/identidad/{id}/{role}/correccion",
            Rule::people(ADMINS),
            get(capture::correction_form),
        )
        .route(
            Method::POST,
            "/admin/identidad/{id}/{role}/correccion",
            Rule::people(ADMINS),
            post(capture::correction_apply),
        )
        .route(
            Method::GET,
            "/admin/vista-previa-sitio",
            Rule::people(ADMINS),
            get(site_preview),
        )
        .route(
            Method::GET,
            "/admin/avisos",
            Rule::people(ADMINS),
            get(notices::show),
        )
        .route(
            Method::POST,
            "/admin/avisos",
            Rule::people(ADMINS),
            post(notices::update),
        )
        .route(
            Method::GET,
            "/captura",
            Rule::people(CAPTURERS),
            get(capture::dashboard),
        )
        .route(
            Method::GET,
            "/captura/carga-masiva",
            Rule::people(CAPTURERS),
            get(capture::bulk_form),
        )
        .route(
            Method::POST,
            "/captura/carga-masiva",
            Rule::people(CAPTURERS),
            post(capture::bulk_upload).layer(axum::extract::DefaultBodyLimit::max(
                crate::curricular::bulk::MAX_BYTES + 64 * 1024,
            )),
        )
        .route(
            Method::GET,
            "/captura/plantilla.csv",
            Rule::people(CAPTURERS),
            get(capture::bulk_template),
        )
        .route(
            Method::GET,
            "/captura/{id}",
            Rule::people(CAPTURE_READERS),
            get(capture::candidacy),
        )
        .route(
            Method::GET,
            "/captura/{id}/vista-previa",
            Rule::people(CAPTURE_READERS),
            get(capture::preview),
        )
        .route(
            Method::POST,
            "/captura/{id}/envio",
            Rule::people(CAPTURERS),
            post(capture::submit),
        )
        .route(
            Method::GET,
            "/captura/{id}/acuses/{submission}",
            Rule::people(CAPTURE_READERS),
            get(capture::receipt),
        )
        .route(
            Method::GET,
            "/captura/{id}/{role}/foto",
            Rule::people(CAPTURE_READERS),
            get(capture::photo_form),
        )
        .route(
            Method::POST,
            "/captura/{id}/{role}/foto",
            Rule::people(CAPTURERS),
            post(capture::photo_upload).layer(axum::extract::DefaultBodyLimit::max(
                capture::PHOTO_BODY_LIMIT,
            )),
        )
        .route(
            Method::GET,
            "/captura/{id}/{role}/foto.jpg",
            Rule::people(CAPTURE_READERS),
            get(capture::photo_image),
        )
        .route(
            Method::GET,
            "/captura/{id}/{role}/{section}",
            Rule::people(CAPTURE_READERS),
            get(capture::section_form),
        )
        .route(
            Method::POST,
            "/captura/{id}/{role}/{section}",
            Rule::people(CAPTURERS),
            post(capture::section_save),
        )
        .route(
            Method::GET,
            "/revision",
            Rule::people(REVIEWERS),
            get(review::queue),
        )
        .route(
            Method::GET,
            "/revision/{submission}",
            Rule::people(REVIEWERS),
            get(review::show),
        )
        .route(
            Method::POST,
            "/revision/{submission}/aprobar",
            Rule::people(REVIEWERS),
            post(review::approve),
        )
        .route(
            Method::POST,
            "/revision/{submission}/observar",
            Rule::people(REVIEWERS),
            post(review::observe),
        )
        .route(
            Method::GET,
            "/revision/identidad",
            Rule::people(&[Role::ParityReviewer, Role::Admin]),
            get(parity::page),
        )
        .route(
            Method::GET,
            "/admin/cumplimiento",
            Rule::people(REVIEWERS),
            get(compliance::page),
        )
        .route(
            Method::GET,
            "/admin/cumplimiento.csv",
            Rule::people(REVIEWERS),
            get(compliance::csv),
        )
        .route(
            Method::GET,
            "/admin/informes",
            Rule::people(REPORTERS),
            get(reports::page),
        )
        .route(
            Method::POST,
            "/admin/informes",
            Rule::people(REPORTERS),
            post(reports::create),
        )
        .route(
            Method::GET,
            "/admin/informes/{id}",
            Rule::people(REPORTERS),
            get(reports::show),
        )
        .route(
            Method::GET,
            "/admin/informes/{id}/csv",
            Rule::people(REPORTERS),
            get(reports::csv),
        )
        .route(
            Method::GET,
            "/admin/envios-fuera-de-plazo",
            Rule::people(ADMINS),
            get(capture::attempts),
        )
        .route_before_password_change(
            Method::GET,
            "/cuenta/contrasena",
            Rule::people(EVERYONE),
            get(password::form),
        )
        .route_before_password_change(
            Method::POST,
            "/cuenta/contrasena",
            Rule::people(EVERYONE),
            post(password::submit),
        )
        .route(
            Method::GET,
            "/admin/cuentas",
            Rule::people(ADMINS),
            get(accounts::list),
        )
        .route(
            Method::POST,
            "/admin/cuentas",
            Rule::people(ADMINS),
            post(accounts::create),
        )
        .route(
            Method::POST,
            "/admin/cuentas/{id}/bloquear",
            Rule::people(ADMINS),
            post(accounts::lock),
        )
        .route(
            Method::POST,
            "/admin/cuentas/{id}/desbloquear",
            Rule::people(ADMINS),
            post(accounts::unlock),
        )
        .route(
            Method::POST,
            "/admin/cuentas/{id}/restablecer",
            Rule::people(ADMINS),
            post(accounts::reset),
        )
        .route(
            Method::POST,
            "/admin/cuentas/{id}/rol",
            Rule::people(ADMINS),
            post(accounts::change_role),
        )
        .route(
            Method::GET,
            "/admin/credenciales",
            Rule::people(ADMINS),
            get(credentials::list),
        )
        .route(
            Method::POST,
            "/admin/credenciales/{party}/hoja",
            Rule::people(ADMINS),
            post(credentials::sheet),
        )
        .route(
            Method::POST,
            "/admin/credenciales/{party}/hoja.csv",
            Rule::people(ADMINS),
            post(credentials::sheet_csv),
        )
        .route(
            Method::POST,
            "/admin/credenciales/{party}/entregada",
            Rule::people(ADMINS),
            post(credentials::delivered),
        )
        .route(
            Method::GET,
            "/admin/elecciones/nueva",
            Rule::people(ADMINS),
            get(catalogs::new_election_form),
        )
        .route(
            Method::POST,
            "/admin/elecciones/nueva",
            Rule::people(ADMINS),
            post(catalogs::create_election),
        )
        .route(
            Method::GET,
            "/admin/catalogos",
            Rule::people(ADMINS),
            get(catalogs::catalogs),
        )
        .route(
            Method::POST,
            "/admin/catalogos",
            Rule::people(ADMINS),
            post(catalogs::upload_catalog).layer(axum::extract::DefaultBodyLimit::max(
                catalogs::CATALOG_MAX_BYTES + 64 * 1024,
            )),
        )
        .route(
            Method::GET,
            "/admin/eleccion",
            Rule::people(ADMINS),
            get(election::show),
        )
        .route(
            Method::POST,
            "/admin/eleccion",
            Rule::people(ADMINS),
            post(election::update),
        )
        .route(
            Method::GET,
            "/admin/candidaturas",
            Rule::people(ADMINS),
            get(candidacies::list),
        )
        .route(
            Method::GET,
            "/admin/candidaturas.csv",
            Rule::people(ADMINS),
            get(candidacies::export),
        )
        .route(
            Method::POST,
            "/admin/candidaturas/{id}/sustituir",
            Rule::people(ADMINS),
            post(candidacies::substitute),
        )
        .route(
            Method::POST,
            "/admin/candidaturas/{id}/reabrir",
            Rule::people(ADMINS),
            post(candidacies::reopen),
        )
        .route(
            Method::POST,
            "/admin/candidaturas/{id}/cancelar",
            Rule::people(ADMINS),
            post(candidacies::cancel),
        )
        .route(
            Method::POST,
            "/admin/candidaturas/{id}/prorrogar",
            Rule::people(ADMINS),
            post(candidacies::extend),
        )
        .route(
            Method::GET,
            "/admin/importar",
            Rule::people(ADMINS),
            get(candidacies::import_form),
        )
        .route(
            Method::POST,
            "/admin/importar/{id}/aplicar",
            Rule::people(ADMINS),
            post(candidacies::import_apply),
        )
        .route(
            Method::POST,
            "/admin/importar",
            Rule::people(ADMINS),
            post(candidacies::import_upload).layer(axum::extract::DefaultBodyLimit::max(
                crate::import::MAX_BYTES + 64 * 1024,
            )),
        )
}

pub use capture::PHOTO_BODY_LIMIT;

/// The access rules of every route (for the role × route matrix).
pub fn policy() -> Policy {
    declared().policy().clone()
}

/// The front's router, enforcing the rules with sessions resolved by `auth`.
pub fn router(state: FrontState) -> (Router, Policy) {
    let authenticator = Arc::new(session::SessionAuthenticator {
        auth: state.auth.clone(),
    });
    let (router, policy) = declared().finish(authenticator);
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

/// Spanish messages of a peer's refusal: its field violations, or its message (a peer's
/// failure is "unavailable", never its internals).
pub fn status_messages(status: &tonic::Status) -> Vec<String> {
    AppError::from_status(status).messages()
}

/// A refusal as the message page, with the HTTP status of its code.
pub fn error_page(session: &session::SessionInfo, error: &AppError) -> Response {
    views::render(
        error.code().http_status(),
        &views::MessagePage::new(session, &error.messages().join(" ")),
    )
}

/// A peer's refusal as the message page, with the HTTP status `kit` maps its code to.
pub fn status_page(session: &session::SessionInfo, status: &tonic::Status) -> Response {
    error_page(session, &AppError::from_status(status))
}

/// The current election's time zone, in which people read every date and time.
pub async fn election_time_zone(state: &FrontState) -> String {
    match crate::election::current(&state.pool).await {
        Ok(Some(e)) => crate::election::settings(&state.pool, e.id)
            .await
            .map(|s| s.time_zone)
            .unwrap_or_else(|_| "America/Mexico_City".into()),
        _ => "America/Mexico_City".into(),
    }
}
