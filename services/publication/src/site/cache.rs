//! The page cache for campaign peaks: successful `GET` responses of the site and the JSON API
//! are kept in process, whole (headers included), keyed by path, query and whether the client
//! takes gzip, and served again with an `ETag` (`304` on revalidation) until the read model's
//! version moves (every replica polls it, so a change anywhere empties every cache within half
//! a second) or 30 seconds pass (the publication window opening changes no version).
//!
//! A page asked by many at once while it is not cached (everyone opening the same link after a
//! debate) is rendered once: the first request renders it, the others wait for it and are
//! answered from the cache.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

const TTL: Duration = Duration::from_secs(30);
const MAX_ENTRIES: usize = 20_000;
const MAX_BODY: usize = 4 * 1024 * 1024;

struct Entry {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    etag: HeaderValue,
    stored: Instant,
}

#[derive(Default)]
pub struct PageCache {
    version: AtomicI64,
    entries: std::sync::RwLock<HashMap<String, Arc<Entry>>>,
    /// Keys being rendered right now, each with the lock its other requests wait on.
    filling: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl PageCache {
    fn clear(&self) {
        self.entries.write().expect("cache lock").clear();
    }

    fn get(&self, key: &str) -> Option<Arc<Entry>> {
        let entry = self.entries.read().expect("cache lock").get(key).cloned()?;
        (entry.stored.elapsed() < TTL).then_some(entry)
    }

    /// The lock of `key`'s rendering, shared by every request that missed it meanwhile.
    fn filling(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut filling = self.filling.lock().expect("cache lock");
        filling.entry(key.to_string()).or_default().clone()
    }

    fn filled(&self, key: &str) {
        self.filling.lock().expect("cache lock").remove(key);
    }

    fn put(&self, key: String, entry: Entry) {
        let mut entries = self.entries.write().expect("cache lock");
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, Arc::new(entry));
    }

    /// Empties the cache whenever the read model's version moves (polled every `every`).
    pub async fn watch(self: Arc<Self>, pool: PgPool, every: Duration, stop: CancellationToken) {
        loop {
            if let Ok(v) = crate::open_data::version(&pool).await
                && self.version.swap(v, Ordering::SeqCst) != v
            {
                self.clear();
            }
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }
}

fn cacheable(request: &Request) -> bool {
    let path = request.uri().path();
    request.method() == Method::GET
        && !path.starts_with("/datos/")
        && !path.starts_with("/static/")
        && !path.starts_with("/vista-previa")
        && super::preview::cookie_of(request.headers()).is_none()
}

fn replay(entry: &Entry, request_headers: &HeaderMap) -> Response {
    let revalidated = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().as_bytes() == entry.etag.as_bytes())
        });
    let mut response = if revalidated {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (entry.status, Body::from(entry.body.clone())).into_response()
    };
    for (name, value) in &entry.headers {
        if revalidated && (name == header::CONTENT_LENGTH || name == header::CONTENT_TYPE) {
            continue;
        }
        response.headers_mut().insert(name, value.clone());
    }
    response
}

/// The middleware: serve from the cache, or run the site and keep a successful answer.
pub async fn layer(State(cache): State<Arc<PageCache>>, request: Request, next: Next) -> Response {
    if !cacheable(&request) {
        return next.run(request).await;
    }
    let gzip = request
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("gzip"));
    let key = format!("{}|{}", request.uri(), if gzip { "gz" } else { "id" });
    let request_headers = request.headers().clone();
    if let Some(entry) = cache.get(&key) {
        metrics::counter!("cache_requests_total", "result" => "hit").increment(1);
        return replay(&entry, &request_headers);
    }
    let lock = cache.filling(&key);
    let _rendering = lock.lock().await;
    if let Some(entry) = cache.get(&key) {
        // Rendered by the request this one waited for.
        metrics::counter!("cache_requests_total", "result" => "hit").increment(1);
        return replay(&entry, &request_headers);
    }
    metrics::counter!("cache_requests_total", "result" => "miss").increment(1);
    let response = next.run(request).await;
    if response.status() != StatusCode::OK || response.headers().contains_key(header::SET_COOKIE) {
        cache.filled(&key);
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        cache.filled(&key);
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let etag = HeaderValue::from_str(&format!(
        "\"{}\"",
        &hex::encode(Sha256::digest(&body))[..32]
    ))
    .expect("hex is a valid header value");
    parts.headers.insert(header::ETAG, etag.clone());
    parts
        .headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("public, max-age=30"));
    parts
        .headers
        .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    let entry = Entry {
        status: parts.status,
        headers: parts.headers,
        body,
        etag,
        stored: Instant::now(),
    };
    let response = replay(&entry, &request_headers);
    cache.put(key.clone(), entry);
    cache.filled(&key);
    response
}
