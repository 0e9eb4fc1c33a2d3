//! The page cache for campaign peaks: successful `GET` responses of the site and the JSON API
//! are kept in process, whole (headers included), keyed by path and query, and served again
//! with an `ETag` (`304` on revalidation) until the read model's version moves (every replica
//! polls it, so a change anywhere empties every cache within half a second) or 30 seconds pass
//! (the publication window opening changes no version).
//!
//! Each page is kept as rendered and compressed, as nginx's `gzip_static` and `brotli_static`
//! keep files: brotli and gzip are made once, the first time a client that takes them asks,
//! and every later answer is the stored bytes. Which one a client gets follows its
//! `Accept-Encoding` ([`Encoding::negotiate`]); every answer says `Vary: Accept-Encoding` and
//! each encoding has its own `ETag`.
//!
//! A page asked by many at once while it is not cached (everyone opening the same link after a
//! debate) is rendered once: the first request renders it, the others wait for it and are
//! answered from the cache. A page whose 30 seconds passed (the read model unchanged) is served
//! as it is, to everyone, while it is rendered again in the background; and pages stored together
//! do not expire together
//! (each lives 20 to 30 s, by its key): a crowd on a thousand pages never finds them all gone in
//! the same instant.
//!
//! The cache is bounded twice: at most 20,000 pages and at most a budget of bytes
//! (`PAGE_CACHE_MIB`, default 48 MiB: bodies in every encoding kept, their headers and keys).
//! Whichever bound a new page would pass, the pages stored longest ago leave first, down to
//! three quarters of it: every search is a page of its own, and a crowd of different searches
//! must not grow the process by its answers (docs/benchmarks.md, "Where publication's memory
//! goes").
//!
//! The path of a hit is what nginx does for a static file, as nearly as a middleware can: one
//! lookup by the request's own path and query (no key built), the stored headers cloned at once
//! (no header inserted one by one), the stored body shared (docs/benchmarks.md, "Cached pages
//! against nginx").

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use conoceles_kit::http::RouteLabel;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

const TTL: Duration = Duration::from_secs(30);
/// Up to this much less than [`TTL`], by key, so pages stored together expire apart.
const TTL_SPREAD_MS: u64 = 10_000;
const MAX_ENTRIES: usize = 20_000;
/// The bytes of the pages kept (bodies in every encoding, headers and keys), by default.
pub const DEFAULT_BUDGET_MIB: usize = 48;
const MAX_BODY: usize = 4 * 1024 * 1024;
/// What a page's headers take, counted against the budget (a `HeaderMap` of a dozen headers).
const HEADERS_BYTES: usize = 1024;
/// Brotli's quality for pages compressed as they are first asked (11 is for files compressed
/// once ahead of time; 5 compresses a 7 KB page in a fraction of a millisecond, within a few per
/// cent of 11's size).
const BROTLI_QUALITY: u32 = 5;

/// A content coding the cache keeps a page in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl Encoding {
    /// The coding to answer a request's `Accept-Encoding` with (RFC 9110 §12.5.3): the
    /// accepted one of highest quality among brotli and gzip, brotli on a tie (it is
    /// smaller); a coding not named takes the quality of `*` if there is one; a quality of 0
    /// refuses. Without the header, or when both are refused, the page as it is.
    pub fn negotiate(accept_encoding: Option<&str>) -> Encoding {
        let (br, gzip) = Self::qualities(accept_encoding);
        if br > 0.0 && br >= gzip {
            Encoding::Brotli
        } else if gzip > 0.0 {
            Encoding::Gzip
        } else {
            Encoding::Identity
        }
    }

    /// Whether a client takes gzip (for files kept only gzipped, such as open data).
    pub fn takes_gzip(accept_encoding: Option<&str>) -> bool {
        Self::qualities(accept_encoding).1 > 0.0
    }

    /// The qualities an `Accept-Encoding` value gives brotli and gzip (0: not taken).
    fn qualities(accept_encoding: Option<&str>) -> (f32, f32) {
        let Some(value) = accept_encoding else {
            return (0.0, 0.0);
        };
        let (mut br, mut gzip, mut any) = (None, None, None);
        for coding in value.split(',') {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let mut quality = 1.0f32;
            for p in parts {
                if let Some(q) = p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")) {
                    // A quality that does not parse is not a quality: the coding is not taken.
                    quality = q
                        .trim()
                        .parse::<f32>()
                        .ok()
                        .filter(|q| (0.0..=1.0).contains(q))
                        .unwrap_or(0.0);
                }
            }
            let slot = if name.eq_ignore_ascii_case("br") {
                &mut br
            } else if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
                &mut gzip
            } else if name == "*" {
                &mut any
            } else {
                continue;
            };
            *slot = Some(slot.map_or(quality, |q: f32| q.max(quality)));
        }
        (br.or(any).unwrap_or(0.0), gzip.or(any).unwrap_or(0.0))
    }

    fn content_coding(self) -> Option<&'static str> {
        match self {
            Encoding::Identity => None,
            Encoding::Gzip => Some("gzip"),
            Encoding::Brotli => Some("br"),
        }
    }

    fn compress(self, body: &[u8]) -> Bytes {
        let compressed = match self {
            Encoding::Identity => return Bytes::copy_from_slice(body),
            Encoding::Gzip => {
                let mut w = flate2::write::GzEncoder::new(
                    Vec::with_capacity(body.len() / 3),
                    flate2::Compression::default(),
                );
                w.write_all(body).and_then(|()| w.finish())
            }
            Encoding::Brotli => {
                let mut w = brotli::CompressorWriter::new(
                    Vec::with_capacity(body.len() / 3),
                    4096,
                    BROTLI_QUALITY,
                    22,
                );
                w.write_all(body).map(|()| w.into_inner())
            }
        };
        Bytes::from(compressed.expect("compressing into memory does not fail"))
    }
}

/// A page in one encoding: its body and the whole set of headers it is answered with.
struct Representation {
    headers: HeaderMap,
    body: Bytes,
    etag: HeaderValue,
}

impl Representation {
    fn new(status_headers: &HeaderMap, body: Bytes, etag: &str, encoding: Encoding) -> Self {
        let mut headers = status_headers.clone();
        let etag = match encoding.content_coding() {
            None => format!("\"{etag}\""),
            Some(coding) => format!("\"{etag}-{coding}\""),
        };
        let etag = HeaderValue::from_str(&etag).expect("hex is a valid header value");
        headers.insert(header::ETAG, etag.clone());
        if let Some(coding) = encoding.content_coding() {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
        }
        Self {
            headers,
            body,
            etag,
        }
    }

    fn size(&self) -> usize {
        self.body.len() + HEADERS_BYTES
    }
}

struct Entry {
    status: StatusCode,
    /// The page's headers without `ETag`, `Content-Encoding` or `Content-Length`.
    headers: HeaderMap,
    /// The hex digest its `ETag`s are made from.
    digest: String,
    identity: Representation,
    gzip: OnceLock<Representation>,
    brotli: OnceLock<Representation>,
    stored: Instant,
    fresh_for: Duration,
    /// The route that rendered it, for the request metrics of its hits.
    route: Option<RouteLabel>,
}

impl Entry {
    fn new(
        status: StatusCode,
        mut headers: HeaderMap,
        body: Bytes,
        fresh_for: Duration,
        route: Option<RouteLabel>,
    ) -> Self {
        headers.remove(header::CONTENT_LENGTH);
        headers.remove(header::CONTENT_ENCODING);
        let digest = hex::encode(&Sha256::digest(&body)[..16]);
        Self {
            identity: Representation::new(&headers, body, &digest, Encoding::Identity),
            status,
            headers,
            digest,
            gzip: OnceLock::new(),
            brotli: OnceLock::new(),
            stored: Instant::now(),
            fresh_for,
            route,
        }
    }

    fn fresh(&self) -> bool {
        self.stored.elapsed() < self.fresh_for
    }

    /// The page in `encoding`, compressed now if it is the first time (the bytes it adds are
    /// counted in `grown`).
    fn representation(&self, encoding: Encoding, grown: &AtomicUsize) -> &Representation {
        let slot = match encoding {
            Encoding::Identity => return &self.identity,
            Encoding::Gzip => &self.gzip,
            Encoding::Brotli => &self.brotli,
        };
        slot.get_or_init(|| {
            let body = encoding.compress(&self.identity.body);
            let made = Representation::new(&self.headers, body, &self.digest, encoding);
            grown.fetch_add(made.size(), Ordering::Relaxed);
            made
        })
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

/// The pages kept, by key, and the bytes they were stored with (keys, headers, the page as
/// rendered).
#[derive(Default)]
struct Pages {
    by_key: HashMap<String, Arc<Entry>>,
    bytes: usize,
}

pub struct PageCache {
    version: AtomicI64,
    pages: std::sync::RwLock<Pages>,
    /// The bytes of the encodings made since the cache was last emptied.
    compressed: AtomicUsize,
    budget: usize,
    /// Keys being rendered right now, each with the lock its other requests wait on.
    filling: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Default for PageCache {
    fn default() -> Self {
        Self::with_budget(DEFAULT_BUDGET_MIB * 1024 * 1024)
    }
}

/// What a page takes in the cache when stored, as counted against its budget.
fn size_of(key: &str, entry: &Entry) -> usize {
    key.len() + entry.identity.size()
}

/// The outcomes of the cache, counted once each (a handle looked up once, not per request).
struct Counters {
    hit: metrics::Counter,
    stale: metrics::Counter,
    miss: metrics::Counter,
}

static COUNTERS: LazyLock<Counters> = LazyLock::new(|| Counters {
    hit: metrics::counter!("cache_requests_total", "result" => "hit"),
    stale: metrics::counter!("cache_requests_total", "result" => "stale"),
    miss: metrics::counter!("cache_requests_total", "result" => "miss"),
});

impl PageCache {
    /// A cache holding at most `mib` MiB of pages.
    pub fn with_budget_mib(mib: usize) -> Self {
        Self::with_budget(mib * 1024 * 1024)
    }

    fn with_budget(bytes: usize) -> Self {
        Self {
            version: AtomicI64::default(),
            pages: Default::default(),
            compressed: AtomicUsize::new(0),
            budget: bytes,
            filling: Default::default(),
        }
    }

    fn clear(&self) {
        let mut pages = self.pages.write().expect("cache lock");
        *pages = Pages::default();
        self.compressed.store(0, Ordering::Relaxed);
    }

    /// The bytes held now (every encoding made), for the `page_cache_bytes` gauge.
    pub fn bytes(&self) -> usize {
        self.pages.read().expect("cache lock").bytes + self.compressed.load(Ordering::Relaxed)
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

    /// Keeps `entry`; when it would pass either bound, the pages stored longest ago go first,
    /// down to three quarters of both (emptying it all made every page of a crowd's working set
    /// a miss at once: docs/benchmarks.md, "Cached pages against nginx"). A page larger than the
    /// whole budget is not kept.
    fn put(&self, key: String, entry: Arc<Entry>) {
        let size = size_of(&key, &entry);
        if size > self.budget {
            return;
        }
        let mut pages = self.pages.write().expect("cache lock");
        if let Some(replaced) = pages.by_key.remove(&key) {
            pages.bytes -= size_of(&key, &replaced);
            self.forget_compressed(&replaced);
        }
        let held = pages.bytes + self.compressed.load(Ordering::Relaxed);
        if pages.by_key.len() >= MAX_ENTRIES || held + size > self.budget {
            self.evict_oldest(&mut pages);
        }
        pages.by_key.insert(key, entry);
        pages.bytes += size;
    }

    /// Removes the pages stored longest ago until three quarters of each bound are left.
    fn evict_oldest(&self, pages: &mut Pages) {
        let (keep_bytes, keep_entries) = (self.budget / 4 * 3, MAX_ENTRIES / 4 * 3);
        let mut by_age: Vec<(Instant, String)> = pages
            .by_key
            .iter()
            .map(|(k, e)| (e.stored, k.clone()))
            .collect();
        by_age.sort_unstable();
        for (_, key) in by_age {
            let held = pages.bytes + self.compressed.load(Ordering::Relaxed);
            if held <= keep_bytes && pages.by_key.len() <= keep_entries {
                break;
            }
            if let Some(gone) = pages.by_key.remove(&key) {
                pages.bytes -= size_of(&key, &gone);
                self.forget_compressed(&gone);
            }
        }
    }

    /// Takes the encodings made of a page that leaves off the bytes counted.
    fn forget_compressed(&self, entry: &Entry) {
        let made: usize = [entry.gzip.get(), entry.brotli.get()]
            .into_iter()
            .flatten()
            .map(Representation::size)
            .sum();
        let _ = self
            .compressed
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| {
                Some(c.saturating_sub(made))
            });
    }

    /// Empties the cache whenever the read model's version moves (polled every `every`), and
    /// whenever the encodings made since pass the budget.
    pub async fn watch(self: Arc<Self>, pool: PgPool, every: Duration, stop: CancellationToken) {
        loop {
            if let Ok(v) = crate::open_data::version(&pool).await
                && self.version.swap(v, Ordering::SeqCst) != v
            {
                self.clear();
            }
            if self.bytes() > self.budget {
                self.evict_oldest(&mut self.pages.write().expect("cache lock"));
            }
            metrics::gauge!("page_cache_bytes").set(self.bytes() as f64);
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

/// What a request asks of a cached page: its encoding, and the tags it already holds.
struct Asked {
    encoding: Encoding,
    if_none_match: Option<HeaderValue>,
}

impl Asked {
    fn of(request: &Request) -> Self {
        let headers = request.headers();
        Self {
            encoding: Encoding::negotiate(
                headers
                    .get(header::ACCEPT_ENCODING)
                    .and_then(|v| v.to_str().ok()),
            ),
            if_none_match: headers.get(header::IF_NONE_MATCH).cloned(),
        }
    }
}

fn replay(cache: &PageCache, entry: &Entry, asked: &Asked) -> Response {
    let shown = entry.representation(asked.encoding, &cache.compressed);
    let revalidated = asked
        .if_none_match
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/").as_bytes() == shown.etag.as_bytes())
        });
    if revalidated {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        *response.headers_mut() = shown.headers.clone();
        response.headers_mut().remove(header::CONTENT_TYPE);
        response.headers_mut().remove(header::CONTENT_ENCODING);
        labelled(response, entry)
    } else {
        let mut response = Response::new(Body::from(shown.body.clone()));
        *response.status_mut() = entry.status;
        *response.headers_mut() = shown.headers.clone();
        labelled(response, entry)
    }
}

fn labelled(mut response: Response, entry: &Entry) -> Response {
    if let Some(route) = &entry.route {
        response.extensions_mut().insert(route.clone());
    }
    response
}

/// The middleware: serve from the cache, or run the site and keep a successful answer.
pub async fn layer(State(cache): State<Arc<PageCache>>, request: Request, next: Next) -> Response {
    if !cacheable(&request) {
        return next.run(request).await;
    }
    let asked = Asked::of(&request);
    let key = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let stored = cache.get(key);
    if let Some(entry) = stored.as_ref().filter(|e| e.fresh()) {
        COUNTERS.hit.increment(1);
        return replay(&cache, entry, &asked);
    }
    let key = key.to_string();
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
        COUNTERS.stale.increment(1);
        return replay(&cache, &stale, &asked);
    }
    // Not cached at all: rendered once, for everyone asking meanwhile.
    let _rendering = lock.lock_owned().await;
    if let Some(entry) = cache.get(&key).filter(|e| e.fresh()) {
        // Rendered by the request this one waited for.
        COUNTERS.hit.increment(1);
        return replay(&cache, &entry, &asked);
    }
    COUNTERS.miss.increment(1);
    match render(&cache, key, request, next).await {
        Ok(entry) => replay(&cache, &entry, &asked),
        Err(response) => response,
    }
}

/// Runs the site for `request` and keeps a successful answer under `key`; any other answer is
/// handed back as it is. The site is asked for the page uncompressed: the cache compresses it.
async fn render(
    cache: &PageCache,
    key: String,
    mut request: Request,
    next: Next,
) -> Result<Arc<Entry>, Response> {
    request.headers_mut().remove(header::ACCEPT_ENCODING);
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
    parts
        .headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("public, max-age=30"));
    parts
        .headers
        .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    let entry = Arc::new(Entry::new(
        parts.status,
        parts.headers,
        body,
        fresh_for(&key),
        parts.extensions.get::<RouteLabel>().cloned(),
    ));
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
    fn each_client_gets_the_coding_it_takes_best() {
        use Encoding::*;
        for (asked, got) in [
            (None, Identity),
            (Some(""), Identity),
            (Some("identity"), Identity),
            (Some("gzip"), Gzip),
            (Some("GZIP"), Gzip),
            (Some("x-gzip"), Gzip),
            (Some("gzip, deflate, br"), Brotli),
            (Some("gzip, deflate, br, zstd"), Brotli),
            (Some("br;q=0.5, gzip"), Gzip),
            (Some("br;q=0, gzip;q=0"), Identity),
            (Some("br; q=0.0, gzip"), Gzip),
            (Some("*"), Brotli),
            (Some("*;q=0.2, gzip"), Gzip),
            (Some("br;q=0, *"), Gzip),
            (Some("gzip;q=nonsense"), Identity),
            (Some("x-gzip-not, deflate"), Identity),
        ] {
            assert_eq!(Encoding::negotiate(asked), got, "{asked:?}");
        }
    }

    proptest::proptest! {
        /// Whatever a client sends, it never gets a coding it refused (quality 0) or did not
        /// name (without `*`).
        #[test]
        fn a_refused_or_unnamed_coding_is_never_sent(
            codings in proptest::collection::vec(
                (proptest::sample::select(vec!["br", "gzip", "GZip", "*", "deflate", "identity", "x-gzip"]),
                 proptest::option::of(proptest::sample::select(vec!["0", "0.0", "0.5", "1", "x", "2"]))),
                0..5)
        ) {
            let value = codings
                .iter()
                .map(|(c, q)| match q { Some(q) => format!("{c};q={q}"), None => c.to_string() })
                .collect::<Vec<_>>()
                .join(", ");
            let takes = |name: &str| {
                codings.iter().any(|(c, q)| {
                    (c.eq_ignore_ascii_case(name) || (name == "gzip" && *c == "x-gzip") || *c == "*")
                        && q.is_none_or(|q| q.parse::<f32>().is_ok_and(|q| q > 0.0 && q <= 1.0))
                })
            };
            match Encoding::negotiate(Some(&value)) {
                Encoding::Brotli => proptest::prop_assert!(takes("br"), "{value}"),
                Encoding::Gzip => proptest::prop_assert!(takes("gzip"), "{value}"),
                Encoding::Identity => {}
            }
        }
    }

    #[tokio::test]
    async fn a_page_is_sent_in_the_coding_asked_with_its_own_tag_and_revalidates() {
        use std::io::Read;
        let cache = Arc::new(PageCache::default());
        let renders = Arc::new(AtomicUsize::new(0));
        let site = site(cache.clone(), renders.clone());
        let ask = |encoding: &str, tag: Option<&str>| {
            let mut request = Request::get("/pagina").header(header::ACCEPT_ENCODING, encoding);
            if let Some(tag) = tag {
                request = request.header(header::IF_NONE_MATCH, tag);
            }
            let site = site.clone();
            let request = request.body(Body::empty()).unwrap();
            async move {
                let response = site.oneshot(request).await.unwrap();
                let (parts, body) = response.into_parts();
                (parts, axum::body::to_bytes(body, MAX_BODY).await.unwrap())
            }
        };
        let (plain, plain_body) = ask("identity", None).await;
        assert_eq!(plain_body, "versión 1");
        assert!(plain.headers.get(header::CONTENT_ENCODING).is_none());
        let (gz, gz_body) = ask("gzip", None).await;
        assert_eq!(gz.headers[header::CONTENT_ENCODING], "gzip");
        let mut unzipped = String::new();
        flate2::read::GzDecoder::new(&gz_body[..])
            .read_to_string(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, "versión 1");
        let (br, br_body) = ask("gzip, deflate, br", None).await;
        assert_eq!(br.headers[header::CONTENT_ENCODING], "br");
        let mut unbrotli = String::new();
        brotli::Decompressor::new(&br_body[..], 4096)
            .read_to_string(&mut unbrotli)
            .unwrap();
        assert_eq!(unbrotli, "versión 1");
        // One render for the three; each answer varies by encoding and has a tag of its own.
        assert_eq!(renders.load(Ordering::SeqCst), 1);
        let tags: Vec<_> = [&plain, &gz, &br]
            .iter()
            .map(|p| p.headers[header::ETAG].clone())
            .collect();
        assert!(
            tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2],
            "{tags:?}"
        );
        for p in [&plain, &gz, &br] {
            assert_eq!(p.headers[header::VARY], "accept-encoding");
        }
        // A client revalidating its own copy gets 304; a tag of another encoding does not match.
        let br_tag = tags[2].to_str().unwrap();
        let (revalidated, body) = ask("br", Some(br_tag)).await;
        assert_eq!(revalidated.status, StatusCode::NOT_MODIFIED);
        assert!(body.is_empty());
        assert_eq!(revalidated.headers[header::ETAG], br_tag);
        let (other, _) = ask("gzip", Some(br_tag)).await;
        assert_eq!(other.status, StatusCode::OK);
        // The encodings made count against the budget.
        assert!(cache.bytes() >= plain_body.len() + gz_body.len() + br_body.len());
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

    #[tokio::test]
    async fn a_hit_and_a_304_carry_the_route_of_the_page_for_the_request_metrics() {
        let cache = Arc::new(PageCache::default());
        let site = Router::new()
            .route("/candidaturas/{id}", get(|| async { "perfil" }))
            .route_layer(axum::middleware::from_fn(
                conoceles_kit::http::trace_requests,
            ))
            .layer(axum::middleware::from_fn_with_state(cache, layer));
        let ask = |etag: Option<&str>| {
            let mut request = Request::get("/candidaturas/7");
            if let Some(etag) = etag {
                request = request.header(header::IF_NONE_MATCH, etag);
            }
            site.clone().oneshot(request.body(Body::empty()).unwrap())
        };
        let rendered = ask(None).await.unwrap();
        let etag = rendered.headers()[header::ETAG]
            .to_str()
            .unwrap()
            .to_owned();
        for response in [
            rendered,
            ask(None).await.unwrap(),
            ask(Some(&etag)).await.unwrap(),
        ] {
            assert_eq!(
                response.extensions().get::<RouteLabel>().map(|r| &*r.0),
                Some("/candidaturas/{id}"),
                "{}",
                response.status()
            );
        }
        assert_eq!(
            ask(Some(&etag)).await.unwrap().status(),
            StatusCode::NOT_MODIFIED
        );
    }

    fn page(bytes: usize) -> Arc<Entry> {
        Arc::new(Entry::new(
            StatusCode::OK,
            HeaderMap::new(),
            Bytes::from(vec![b'x'; bytes]),
            TTL,
            None,
        ))
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
        // Full, it let the pages stored longest ago go, not every page: the latest are kept.
        assert!(cache.get("/candidaturas?q=busqueda0|gz").is_none());
        assert!(cache.get("/candidaturas?q=busqueda98|gz").is_some());
        assert!(cache.pages.read().unwrap().by_key.len() > 1);
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
