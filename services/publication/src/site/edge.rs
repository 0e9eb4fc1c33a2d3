//! What a shared cache in front of the site (a CDN) is told, and when it is told to forget.
//!
//! Every public answer says how long a shared cache may keep it (`s-maxage`), that it may serve
//! it stale while fetching it again (`stale-while-revalidate`) or while the origin fails
//! (`stale-if-error`: on election night the CDN keeps the site up through an origin outage), and
//! its surrogate keys: the candidacy and the contest of a profile, `listados` for every page
//! built from many profiles, `datos` for open data, `estatico` for styles and emblems, and
//! `sitio` for all of them. When the read model changes, [`super::purge`] tells the CDN which
//! keys to forget. Requests carrying the preview cookie are never kept by a shared cache.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderMap, HeaderName, HeaderValue, header};
use uuid::Uuid;

/// How long a shared cache keeps a page before asking again (the pages' own `max-age`, for
/// browsers, is shorter or equal).
pub const SHARED_MAX_AGE_SECONDS: u32 = 60;
/// How long after that it may still answer with the old page while it fetches the new one.
pub const STALE_WHILE_REVALIDATE_SECONDS: u32 = 60;
/// How long it may answer with the old page while the origin answers errors or not at all.
pub const STALE_IF_ERROR_SECONDS: u32 = 86_400;

/// Fastly's and most CDNs' header; Cloudflare's `Cache-Tag` carries the same keys.
pub static SURROGATE_KEY: HeaderName = HeaderName::from_static("surrogate-key");
pub static CACHE_TAG: HeaderName = HeaderName::from_static("cache-tag");

pub const SITE_KEY: &str = "sitio";
pub const LISTS_KEY: &str = "listados";
pub const DATA_KEY: &str = "datos";
pub const STATIC_KEY: &str = "estatico";

/// The key of everything about one candidacy (its profile, photo, API record).
pub fn candidacy_key(candidacy: Uuid) -> String {
    format!("candidatura-{candidacy}")
}

/// The key of one contest: an office in a constituency (`contienda-diputacion_mr-05`).
pub fn contest_key(office_code: &str, constituency_code: &str) -> String {
    format!("contienda-{office_code}-{constituency_code}")
}

/// The keys a handler gives its own answer (the profile page: its candidacy and contest); the
/// layer adds `sitio`. A response without it gets the keys of its path.
#[derive(Debug, Clone)]
pub struct SurrogateKeys(pub Vec<String>);

/// The layer: shared-cache directives and surrogate keys on public answers; `private, no-store`
/// on every answer to a request with the preview cookie.
pub async fn layer(request: Request, next: Next) -> Response {
    let preview = super::preview::cookie_of(request.headers()).is_some();
    let get = request.method() == http::Method::GET;
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    let ok = response.status() == http::StatusCode::OK;
    let headers = response.headers_mut();
    if get && ok && !headers.contains_key(header::SET_COOKIE) {
        // What the page cache keeps (the JSON API sets no policy of its own).
        headers
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("public, max-age=30"));
    }
    if preview {
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
        return response;
    }
    let Some(directives) = shared(headers) else {
        return response;
    };
    let keys = match response.extensions().get::<SurrogateKeys>() {
        Some(own) => own.0.clone(),
        None => keys_of_path(&path),
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, directives);
    let mut all = vec![SITE_KEY.to_owned()];
    all.extend(keys);
    if let Ok(value) = HeaderValue::from_str(&all.join(" ")) {
        headers.insert(SURROGATE_KEY.clone(), value);
    }
    if let Ok(value) = HeaderValue::from_str(&all.join(",")) {
        headers.insert(CACHE_TAG.clone(), value);
    }
    response
}

/// The answer's `Cache-Control` with the shared-cache directives added, when it is public and
/// does not set its own `s-maxage`; `None` for anything else (private, no-store, unset).
fn shared(headers: &HeaderMap) -> Option<HeaderValue> {
    let current = headers.get(header::CACHE_CONTROL)?.to_str().ok()?;
    let directives: Vec<&str> = current.split(',').map(str::trim).collect();
    if !directives.contains(&"public") || directives.iter().any(|d| d.starts_with("s-maxage")) {
        return None;
    }
    let max_age: u32 = directives
        .iter()
        .find_map(|d| d.strip_prefix("max-age="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    HeaderValue::from_str(&format!(
        "{current}, s-maxage={}, stale-while-revalidate={STALE_WHILE_REVALIDATE_SECONDS}, stale-if-error={STALE_IF_ERROR_SECONDS}",
        max_age.max(SHARED_MAX_AGE_SECONDS)
    ))
    .ok()
}

/// The keys of an answer its handler did not name: by what the path shows.
fn keys_of_path(path: &str) -> Vec<String> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let candidacy = |s: &str| Uuid::parse_str(s).ok().map(candidacy_key);
    let key = match segments.as_slice() {
        ["candidaturas", id, ..] | ["api", "v1", "candidacies", id] => candidacy(id),
        ["datos", ..] => Some(DATA_KEY.to_owned()),
        ["static", ..] | ["emblemas", ..] => Some(STATIC_KEY.to_owned()),
        _ => None,
    };
    vec![key.unwrap_or_else(|| LISTS_KEY.to_owned())]
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::response::IntoResponse;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    fn site() -> Router {
        Router::new()
            .route(
                "/candidaturas",
                get(|| async { ([(header::CACHE_CONTROL, "public, max-age=30")], "lista") }),
            )
            .route(
                "/candidaturas/{id}",
                get(|| async {
                    let mut page =
                        ([(header::CACHE_CONTROL, "public, max-age=30")], "perfil").into_response();
                    page.extensions_mut().insert(SurrogateKeys(vec![
                        "candidatura-x".into(),
                        contest_key("diputacion_mr", "05"),
                    ]));
                    page
                }),
            )
            .route(
                "/datos/candidaturas.csv",
                get(|| async { ([(header::CACHE_CONTROL, "public, max-age=60")], "csv") }),
            )
            .route(
                "/sin-politica",
                get(|| async { (http::StatusCode::NOT_FOUND, "nada") }),
            )
            .route("/api", get(|| async { "{}" }))
            .layer(axum::middleware::from_fn(layer))
    }

    async fn ask(path: &str, cookie: Option<&str>) -> HeaderMap {
        let mut request = Request::get(path);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        let response = site()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        response.headers().clone()
    }

    #[tokio::test]
    async fn public_pages_tell_a_shared_cache_how_long_and_under_which_keys() {
        let list = ask("/candidaturas?partido=PAN", None).await;
        assert_eq!(
            list[header::CACHE_CONTROL],
            "public, max-age=30, s-maxage=60, stale-while-revalidate=60, stale-if-error=86400"
        );
        assert_eq!(list[&SURROGATE_KEY], "sitio listados");
        assert_eq!(list[&CACHE_TAG], "sitio,listados");

        let profile = ask("/candidaturas/abc", None).await;
        assert_eq!(
            profile[&SURROGATE_KEY],
            "sitio candidatura-x contienda-diputacion_mr-05"
        );
        let data = ask("/datos/candidaturas.csv", None).await;
        assert_eq!(data[&SURROGATE_KEY], "sitio datos");
        assert!(
            data[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .starts_with("public, max-age=60, s-maxage=60,")
        );

        let api = ask("/api", None).await;
        assert!(
            api[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .starts_with("public, max-age=30, s-maxage=60,")
        );
        let not_found = ask("/sin-politica", None).await;
        assert!(!not_found.contains_key(header::CACHE_CONTROL));
        assert!(!not_found.contains_key(&SURROGATE_KEY));
    }

    #[tokio::test]
    async fn a_request_with_the_preview_cookie_is_never_kept_by_a_shared_cache() {
        let cookie = format!("{}=abc", super::super::preview::COOKIE);
        let page = ask("/candidaturas", Some(&cookie)).await;
        assert_eq!(page[header::CACHE_CONTROL], "private, no-store");
        assert!(!page.contains_key(&SURROGATE_KEY));
    }

    #[test]
    fn keys_by_path() {
        let id = Uuid::nil();
        assert_eq!(
            keys_of_path(&format!("/candidaturas/{id}/foto")),
            [candidacy_key(id)]
        );
        assert_eq!(
            keys_of_path(&format!("/api/v1/candidacies/{id}")),
            [candidacy_key(id)]
        );
        assert_eq!(keys_of_path("/candidaturas/no-es-uuid"), [LISTS_KEY]);
        assert_eq!(keys_of_path("/static/sitio.css"), [STATIC_KEY]);
        assert_eq!(keys_of_path("/"), [LISTS_KEY]);
    }
}
