//! The institutional presentation on every page: the electoral body's name, emblem and colour,
//! the demonstration notice, and the postulants' emblems on the cards. Read once every few
//! seconds from the read model and handed to the templates of the request being rendered (a
//! task-local value set by [`layer`]), so no page model has to carry it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};

use super::SiteState;
use crate::site_identity::Presentation;

/// How long a read presentation is used before reading it again.
const FRESH_FOR: Duration = Duration::from_secs(10);

tokio::task_local! {
    static BRAND: Arc<Brand>;
}

/// What the templates show.
#[derive(Debug, Default)]
pub struct Brand {
    presentation: Presentation,
}

impl Brand {
    /// «Instituto Electoral de Coahuila», or empty.
    pub fn body_name(&self) -> &str {
        &self.presentation.body_name
    }

    pub fn demonstration(&self) -> bool {
        self.presentation.demonstration
    }

    /// The body's emblem's address, when there is one.
    pub fn body_emblem(&self) -> Option<String> {
        self.presentation
            .emblems
            .get("")
            .map(|v| format!("/emblemas/organismo?v={v}"))
    }

    /// A postulant's emblem's address, when there is one.
    pub fn emblem(&self, postulant_code: &str) -> Option<String> {
        if postulant_code.is_empty() {
            return None;
        }
        self.presentation.emblems.get(postulant_code).map(|v| {
            format!(
                "/emblemas/postulantes/{}?v={v}",
                super::pages::urlencode(postulant_code)
            )
        })
    }

    /// The colour stylesheet's address, versioned by the colour.
    pub fn stylesheet(&self) -> String {
        format!(
            "/static/marca.css?v={}",
            self.presentation.color.trim_start_matches('#')
        )
    }
}

/// The presentation of the request being rendered (the site's defaults outside one).
pub fn current() -> Arc<Brand> {
    BRAND.try_with(Arc::clone).unwrap_or_default()
}

/// The presentation last read, shared by the site's requests.
#[derive(Default)]
pub struct Held(Mutex<Option<(Instant, Arc<Brand>)>>);

impl Held {
    async fn get(&self, pool: &sqlx::PgPool) -> Arc<Brand> {
        let held = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some((read, brand)) = &held
            && read.elapsed() < FRESH_FOR
        {
            return brand.clone();
        }
        match crate::site_identity::current(pool).await {
            Ok(presentation) => {
                let brand = Arc::new(Brand { presentation });
                *self.0.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some((Instant::now(), brand.clone()));
                brand
            }
            Err(e) => {
                // The pages are still served, with the presentation last read (or the defaults).
                tracing::warn!(error = %e, "reading the site's presentation failed");
                held.map(|(_, b)| b).unwrap_or_default()
            }
        }
    }
}

/// Sets the presentation for whatever renders the request.
pub async fn layer(State(state): State<SiteState>, request: Request, next: Next) -> Response {
    let brand = state.brand.get(&state.pool).await;
    BRAND.scope(brand, next.run(request)).await
}

/// `GET /static/marca.css`: the body's colour for the whole site.
pub async fn stylesheet(State(state): State<SiteState>) -> Response {
    let brand = state.brand.get(&state.pool).await;
    let color = &brand.presentation.color;
    let css = if color.len() == 7 && color[1..].chars().all(|c| c.is_ascii_hexdigit()) {
        format!(":root {{ --marca: {color}; }}\n")
    } else {
        String::new()
    };
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        css,
    )
        .into_response()
}

/// `GET /emblemas/organismo`: the electoral body's emblem.
pub async fn body_emblem(State(state): State<SiteState>, headers: HeaderMap) -> Response {
    emblem(&state, "", &headers).await
}

/// `GET /emblemas/postulantes/{code}`: a party's, coalition's or independent's emblem.
pub async fn postulant_emblem(
    State(state): State<SiteState>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Response {
    if code.is_empty() {
        return StatusCode::NOT_FOUND.into_response();
    }
    emblem(&state, &code, &headers).await
}

async fn emblem(state: &SiteState, owner: &str, headers: &HeaderMap) -> Response {
    match crate::site_identity::emblem(&state.pool, owner).await {
        Ok(Some((png, etag))) => {
            let etag = format!("\"{etag}\"");
            let cache = [
                (header::CACHE_CONTROL, "public, max-age=86400".to_string()),
                (header::ETAG, etag.clone()),
            ];
            if headers
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
            {
                return (StatusCode::NOT_MODIFIED, cache).into_response();
            }
            let mut response = (cache, png).into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
            response
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "reading an emblem failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
