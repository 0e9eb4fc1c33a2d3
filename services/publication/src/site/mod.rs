//! The citizens' site: server-rendered Spanish pages that work without JavaScript, open data and
//! the JSON API. Every route is public and declared; nothing of a candidacy is served before the
//! election's publication start.

mod ayuntamientos;
mod ballot;
pub mod brand;
pub mod cache;
mod data;
pub mod edge;
pub mod open_data_files;
mod pages;
pub mod preview;
pub mod purge;
pub mod statistics;
mod views;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::response::IntoResponse;
use axum::routing::get;
use conoceles_kit::access::{Actor, Policy, Rule};
use conoceles_kit::error::AppError;
use conoceles_kit::http::{Authenticator, DeclaredRouter};
use http::{Method, header};

#[derive(Clone)]
pub struct SiteState {
    /// The site's public address (`PUBLIC_SITE_URL`, without a trailing slash), for the
    /// absolute addresses of Open Graph.
    pub public_url: String,
    pub pool: sqlx::PgPool,
    /// The published candidacies' list, held in memory and caught up with the read model.
    pub listing: Arc<crate::listing::Listing>,
    /// Where the statistics page's figures come from (`None`: the page says it is unavailable).
    pub statistics: Option<Arc<statistics::Sources>>,
    /// Shared: the preview's middleware runs on every request the page cache does not answer.
    pub preview: Arc<preview::Preview>,
    /// The institutional presentation last read (name, colour, emblems).
    pub brand: Arc<brand::Held>,
}

/// Citizens do not log in.
struct Anonymous;

#[async_trait::async_trait]
impl Authenticator for Anonymous {
    async fn authenticate(&self, _request: &mut Request) -> Result<Option<Actor>, AppError> {
        Ok(None)
    }
}

fn declared() -> DeclaredRouter<SiteState> {
    let public = Rule::public();
    DeclaredRouter::new()
        .route(Method::GET, "/static/sitio.css", public, get(stylesheet))
        .route(
            Method::GET,
            "/static/marca.css",
            public,
            get(brand::stylesheet),
        )
        .route(
            Method::GET,
            "/emblemas/organismo",
            public,
            get(brand::body_emblem),
        )
        .route(
            Method::GET,
            "/emblemas/postulantes/{code}",
            public,
            get(brand::postulant_emblem),
        )
        .route(Method::GET, "/", public, get(pages::home))
        .route(Method::GET, "/candidaturas", public, get(pages::list))
        .route(
            Method::GET,
            "/candidaturas/{id}",
            public,
            get(pages::profile),
        )
        .route(
            Method::GET,
            "/candidaturas/{id}/foto",
            public,
            get(pages::card_photo),
        )
        .route(Method::GET, "/fotos/{person}", public, get(pages::photo))
        .route(
            Method::GET,
            "/documentos/{person}/{field}",
            public,
            get(pages::document),
        )
        .route(Method::GET, "/comparar", public, get(pages::compare))
        .route(
            Method::GET,
            "/ayuntamientos",
            public,
            get(ayuntamientos::index),
        )
        .route(
            Method::GET,
            "/ayuntamientos/{municipio}",
            public,
            get(ayuntamientos::municipality),
        )
        .route(
            Method::GET,
            "/ayuntamientos/{municipio}/comparar",
            public,
            get(ayuntamientos::compare),
        )
        .route(Method::GET, "/donde-voto", public, get(ballot::find))
        .route(
            Method::GET,
            "/municipios/{municipio}",
            public,
            get(ballot::municipality),
        )
        .route(
            Method::GET,
            "/boleta/{seccion}",
            public,
            get(ballot::ballot),
        )
        .route(Method::GET, "/datos", public, get(data::page))
        .route(Method::GET, "/estadisticas", public, get(statistics::page))
        .route(Method::GET, "/vista-previa", public, get(preview::start))
        .route(
            Method::GET,
            "/vista-previa/salir",
            public,
            get(preview::stop),
        )
        .route(
            Method::GET,
            "/datos/candidaturas.csv",
            public,
            get(data::csv),
        )
        .route(
            Method::GET,
            "/datos/candidaturas-excel.csv",
            public,
            get(data::csv_for_spreadsheets),
        )
        .route(
            Method::GET,
            "/datos/candidaturas.json",
            public,
            get(data::json),
        )
        .route(Method::GET, "/datos/popolo.json", public, get(data::popolo))
        .route(Method::GET, "/datos/SHA256SUMS", public, get(data::sums))
        .route(
            Method::GET,
            "/datos/SHA256SUMS.sig",
            public,
            get(data::signature),
        )
        .route(
            Method::GET,
            "/datos/clave-publica",
            public,
            get(data::public_key),
        )
        .route(
            Method::GET,
            "/datos/version/{version}/{file}",
            public,
            get(data::of_release),
        )
        .route(
            Method::GET,
            "/api/v1/candidacies",
            public,
            get(data::api_list),
        )
        .route(
            Method::GET,
            "/api/v1/candidacies/{id}",
            public,
            get(data::api_get),
        )
        .route(
            Method::GET,
            "/api/v1/openapi.json",
            public,
            get(data::openapi),
        )
}

pub fn policy() -> Policy {
    declared().policy().clone()
}

/// The public site with its layers, outermost first: load shedding (`MAX_IN_FLIGHT`, default
/// 256 requests at once; beyond, an immediate 503), the page cache (which answers most requests
/// of a campaign peak, so nothing else runs for them), the preview (pages shown to the back
/// office before publication, never cached), the directives and surrogate keys for a CDN in front
/// (kept with the cached page), CORS open for reading the JSON API, compression of
/// what the cache does not keep (the cache compresses its own pages), the institutional
/// presentation.
pub fn router(
    state: SiteState,
    cache: Arc<cache::PageCache>,
    max_in_flight: Option<usize>,
) -> Router {
    let (router, _) = declared().finish(Arc::new(Anonymous));
    router
        .fallback(pages::not_found)
        .with_state(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            brand::layer,
        ))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(axum::middleware::map_response(open_api_to_every_origin))
        .layer(axum::middleware::from_fn_with_state(
            state.preview.clone(),
            preview::layer,
        ))
        .layer(axum::middleware::from_fn(edge::layer))
        .layer(axum::middleware::from_fn_with_state(cache, cache::layer))
        .layer(axum::middleware::from_fn_with_state(
            conoceles_kit::http::shed::InFlight::configured(max_in_flight, 256),
            conoceles_kit::http::shed::shed,
        ))
}

async fn open_api_to_every_origin(
    uri: http::Uri,
    mut response: axum::response::Response,
) -> axum::response::Response {
    if uri.path().starts_with("/api/v1/") {
        response.headers_mut().insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            http::HeaderValue::from_static("*"),
        );
    }
    response
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        [
            conoceles_kit::http::BASE_STYLESHEET,
            include_str!("../../static/sitio.css"),
        ]
        .concat(),
    )
}
