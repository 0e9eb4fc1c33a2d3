//! The page cache for campaign peaks: successful `GET` responses of the site and the JSON API
//! are kept in process, whole (headers included), keyed by path, query and whether the client
//! takes gzip, and served again with an `ETag` (`304` on revalidation) until the read model's
//! version moves (every replica polls it, so a change anywhere empties every cache within half
//! a second) or 30 seconds pass (the publication window opening changes no version).
//!
//! A page asked by many at once while it is not cached (everyone opening the same link after a
//! debate) is rendered once: the first request renders it, the others wait for it and are
//! answered from the cache. A page whose 30 seconds passed (the read model unchanged) is served
//! as it is, to everyone, while it is rendered again in the background; and pages stored together
//! do not expire together
//! (each lives 20 to 30 s, by its key): a crowd on a thousand pages never finds them all gone in
//! the same instant.
//!
//! The cache is bounded twice: at most 20,000 pages and at most 256 MiB of them (bodies and
//! keys). Whichever bound a new page would pass, the cache is emptied first, as a change of the
//! read model empties it: every search is a page of its own, and a crowd of different searches
//! must not grow the process by its answers (docs/benchmarks.md, section 7).

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
/// Up to this much less than [`TTL`], by key, so pages stored together expire apart.
const TTL_SPREAD_MS: u64 = 10_000;
const MAX_ENTRIES: usize = 20_000;
/// The bytes of the pages kept (bodies and keys), at most.
const MAX_BYTES: usize = 256 * 1024 * 1024;
const MAX_BODY: usize = 4 * 1024 * 1024;

struct Entry {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    etag: HeaderValue,
    stored: Instant,
    fresh_for: Duration,
}

impl Entry {
    fn fresh(&self) -> bool {
        self.stored.elapsed() < self.fresh_for
    }
}

/// How long `key`'s page is served before it is rendered again: [`TTL`] less a spread fixed by
/// the key.
fn fresh_for(key: &str) -> Duration {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut hasher);
    TTL - Duration::from_millis(hasher.finish() % TTL_SPREAD_MS)
}

/// The pages kept, by key, and their bytes (bodies and keys).
#[derive(Default)]
struct Pages {
    by_key: HashMap<String, Arc<Entry>>,
    bytes: usize,
}

pub struct PageCache {
    version: AtomicI64,
    pages: std::sync::RwLock<Pages>,
    budget: usize,
    /// Keys being rendered right now, each with the lock its other requests wait on.
    filling: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Default for PageCache {
    fn default() -> Self {
        Self::with_budget(MAX_BYTES)
    }
}

/// What a page takes in the cache, as counted against its budget.
fn size_of(key: &str, entry: &Entry) -> usize {
    key.len() + entry.body.len()
}

impl PageCache {
    fn with_budget(bytes: usize) -> Self {
        Self {
            version: AtomicI64::default(),
            pages: Default::default(),
            budget: bytes,
            filling: Default::default(),
        }
    }

    fn clear(&self) {
        *self.pages.write().expect("cache lock") = Pages::default();
    }

    /// The stored page, fresh or not (a change of the read model empties the cache, so a page
    /// that is not fresh is only older than its time to live).
    fn get(&self, key: &str) -> Option<Arc<Entry>> {
        self.pages
            .read()
            .expect("cache lock")
            .by_key
            .get(key)
            .cloned()
    }

    /// The lock of `key`'s rendering, shared by every request that missed it meanwhile.
    fn filling(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut filling = self.filling.lock().expect("cache lock");
        filling.entry(key.to_string()).or_default().clone()
    }

    fn filled(&self, key: &str) {
        self.filling.lock().expect("cache lock").remove(key);
    }

    /// Keeps `entry`, emptying the cache first when it would pass either bound; a page larger
    /// than the whole budget is not kept.
    fn put(&self, key: String, entry: Arc<Entry>) {
        let size = size_of(&key, &entry);
        let mut pages = self.pages.write().expect("cache lock");
        if pages.by_key.len() >= MAX_ENTRIES || pages.bytes + size > self.budget {
            *pages = Pages::default();
        }
        if size > self.budget {
            return;
        }
        if let Some(replaced) = pages.by_key.get(&key) {
            pages.bytes -= size_of(&key, replaced);
        }
        pages.by_key.insert(key, entry);
        pages.bytes += size;
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

/// Whether an `Accept-Encoding` value takes gzip: a coding named `gzip` (any case) whose
/// quality is not zero. (A substring test let `GZIP` through, whose answer then went, unzipped
/// or not, to the wrong key.)
fn accepts_gzip(value: &str) -> bool {
    value.split(',').any(|coding| {
        let mut parts = coding.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let refused = parts.any(|p| {
            p.strip_prefix("q=")
                .or_else(|| p.strip_prefix("Q="))
                .and_then(|q| q.parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        name.eq_ignore_ascii_case("gzip") && !refused
    })
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
        .is_some_and(accepts_gzip);
    let key = format!("{}|{}", request.uri(), if gzip { "gz" } else { "id" });
    let request_headers = request.headers().clone();
    let stored = cache.get(&key);
    if let Some(entry) = stored.as_ref().filter(|e| e.fresh()) {
        metrics::counter!("cache_requests_total", "result" => "hit").increment(1);
        return replay(entry, &request_headers);
    }
    let lock = cache.filling(&key);
    if let Some(stale) = stored {
        // Its time passed: the page as it was, to everyone, at once; the first of them has it
        // rendered again in the background. (Waiting for that render made a crowd walking a
        // thousand expired pages wait on a thousand renders: docs/benchmarks.md, run K.)
        if let Ok(rendering) = lock.try_lock_owned() {
            let cache = cache.clone();
            tokio::spawn(async move {
                let _rendering = rendering;
                let _ = render(&cache, key, request, next).await;
            });
        }
        metrics::counter!("cache_requests_total", "result" => "stale").increment(1);
        return replay(&stale, &request_headers);
    }
    // Not cached at all: rendered once, for everyone asking meanwhile.
    let _rendering = lock.lock_owned().await;
    if let Some(entry) = cache.get(&key).filter(|e| e.fresh()) {
        // Rendered by the request this one waited for.
        metrics::counter!("cache_requests_total", "result" => "hit").increment(1);
        return replay(&entry, &request_headers);
    }
    metrics::counter!("cache_requests_total", "result" => "miss").increment(1);
    match render(&cache, key, request, next).await {
        Ok(entry) => replay(&entry, &request_headers),
        Err(response) => response,
    }
}

/// Runs the site for `request` and keeps a successful answer under `key`; any other answer is
/// handed back as it is.
async fn render(
    cache: &PageCache,
    key: String,
    request: Request,
    next: Next,
) -> Result<Arc<Entry>, Response> {
    let response = next.run(request).await;
    if response.status() != StatusCode::OK || response.headers().contains_key(header::SET_COOKIE) {
        cache.filled(&key);
        return Err(response);
    }
    let (mut parts, body) = response.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        cache.filled(&key);
        return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response());
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
    let entry = Arc::new(Entry {
        status: parts.status,
        headers: parts.headers,
        body,
        etag,
        stored: Instant::now(),
        fresh_for: fresh_for(&key),
    });
    cache.put(key.clone(), entry.clone());
    cache.filled(&key);
    Ok(entry)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use axum::Router;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    #[test]
    fn gzip_is_taken_by_name_in_any_case_unless_refused() {
        for takes in ["gzip", "GZIP", "br, Gzip;q=0.5", "deflate, gzip"] {
            assert!(accepts_gzip(takes), "{takes}");
        }
        for refuses in ["", "identity", "x-gzip-not", "gzip;q=0", "br, gzip; q=0.0"] {
            assert!(!accepts_gzip(refuses), "{refuses}");
        }
    }

    /// A site whose one page takes 300 ms to render and says how many times it was rendered.
    fn site(cache: Arc<PageCache>, renders: Arc<AtomicUsize>) -> Router {
        Router::new()
            .route(
                "/pagina",
                get(move || async move {
                    let n = renders.fetch_add(1, Ordering::SeqCst) + 1;
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    format!("versión {n}")
                }),
            )
            .layer(axum::middleware::from_fn_with_state(cache, layer))
    }

    async fn body_of(site: Router) -> (String, Duration) {
        let started = Instant::now();
        let request = Request::get("/pagina").body(Body::empty()).unwrap();
        let response = site.oneshot(request).await.unwrap();
        let body = axum::body::to_bytes(response.into_body(), MAX_BODY)
            .await
            .unwrap();
        (String::from_utf8(body.to_vec()).unwrap(), started.elapsed())
    }

    #[tokio::test]
    async fn an_expired_page_is_served_as_it_was_at_once_and_rendered_again_in_the_background() {
        let cache = Arc::new(PageCache::default());
        let renders = Arc::new(AtomicUsize::new(0));
        let site = site(cache.clone(), renders.clone());
        assert_eq!(body_of(site.clone()).await.0, "versión 1");
        // Its time passes (the read model unchanged).
        for entry in cache.pages.write().unwrap().by_key.values_mut() {
            Arc::get_mut(entry).unwrap().fresh_for = Duration::ZERO;
        }
        // Everyone, the first asker too, gets the old page without waiting for a render...
        for _ in 0..3 {
            let (body, took) = body_of(site.clone()).await;
            assert_eq!(body, "versión 1");
            assert!(took < Duration::from_millis(200), "waited {took:?}");
        }
        // ...while one render runs behind them, whose page is served once it is done.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(body_of(site).await.0, "versión 2");
        assert_eq!(renders.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_page_never_cached_is_rendered_once_for_everyone_who_asks_at_once() {
        let cache = Arc::new(PageCache::default());
        let renders = Arc::new(AtomicUsize::new(0));
        let site = site(cache, renders.clone());
        let crowd: Vec<_> = (0..8)
            .map(|_| tokio::spawn(body_of(site.clone())))
            .collect();
        for asked in crowd {
            assert_eq!(asked.await.unwrap().0, "versión 1");
        }
        assert_eq!(renders.load(Ordering::SeqCst), 1);
    }

    fn page(bytes: usize) -> Arc<Entry> {
        Arc::new(Entry {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: Bytes::from(vec![b'x'; bytes]),
            etag: HeaderValue::from_static("\"x\""),
            stored: Instant::now(),
            fresh_for: TTL,
        })
    }

    /// The bytes the cache really holds, counted page by page.
    fn held(cache: &PageCache) -> usize {
        let pages = cache.pages.read().unwrap();
        pages.by_key.iter().map(|(k, e)| size_of(k, e)).sum()
    }

    /// The bytes the cache counts against its budget.
    fn counted(cache: &PageCache) -> usize {
        cache.pages.read().unwrap().bytes
    }

    #[test]
    fn a_crowd_of_different_searches_never_holds_more_than_the_byte_budget() {
        let cache = PageCache::with_budget(10_000);
        for i in 0..100 {
            let key = format!("/candidaturas?q=busqueda{i}|gz");
            cache.put(key.clone(), page(1_000));
            assert!(held(&cache) <= 10_000, "{} bytes held", held(&cache));
            assert_eq!(held(&cache), counted(&cache));
            // The page just stored is served from the cache.
            assert!(cache.get(&key).is_some());
        }
        // The same page stored again counts once.
        let before = held(&cache);
        cache.put("/candidaturas?q=busqueda99|gz".into(), page(1_000));
        assert_eq!(held(&cache), before);
        assert_eq!(held(&cache), counted(&cache));
        // A page larger than the whole budget is served but not kept.
        cache.put("/enorme|gz".into(), page(20_000));
        assert!(cache.get("/enorme|gz").is_none());
        assert_eq!(held(&cache), counted(&cache));
    }

    #[test]
    fn pages_stored_together_expire_apart() {
        let lives: Vec<Duration> = (0..1000)
            .map(|i| fresh_for(&format!("/candidaturas/{i}|gz")))
            .collect();
        let (shortest, longest) = (lives.iter().min().unwrap(), lives.iter().max().unwrap());
        assert!(*shortest >= TTL - Duration::from_millis(TTL_SPREAD_MS));
        assert!(*longest <= TTL);
        assert!(
            *longest - *shortest > Duration::from_secs(8),
            "{shortest:?}..{longest:?}"
        );
    }
}
