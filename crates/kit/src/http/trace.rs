//! One span per HTTP request, named by its route, parented on an incoming `traceparent`; and the
//! request metrics, counted at the outermost layer so that every answer is in them: pages served
//! from a cache, 304s, requests shed under load, 404s of no route.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use crate::telemetry::propagation;

/// The methods a label may name; any other folds into `OTHER` (a client can invent methods,
/// and every distinct label is a time series held until restart).
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// A request method as a metric label: one of [`METHODS`], else `OTHER`.
pub fn method_label(method: &http::Method) -> &'static str {
    METHODS
        .iter()
        .find(|m| **m == method.as_str())
        .copied()
        .unwrap_or("OTHER")
}

/// The route that answered a response, left in its extensions by [`trace_requests`] for
/// [`CountRequests`]; a layer replaying a stored response (the page cache) keeps it with the
/// response and puts it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteLabel(pub Arc<str>);

/// The `route` label of what no route answered: shed before routing, or a path of no route.
pub const UNROUTED: &str = "unrouted";

/// A span per routed request (a route layer: it runs only when a route matched).
pub async fn trace_requests(request: Request, next: Next) -> Response {
    let method = method_label(request.method());
    let route: Arc<str> = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| Arc::from(UNROUTED), |p| Arc::from(p.as_str()));
    let span = tracing::info_span!(
        "http",
        otel.name = %format!("{method} {route}"),
        otel.kind = "server",
        http.request.method = %method,
        http.route = %route,
        http.response.status_code = tracing::field::Empty,
    );
    propagation::set_parent_from_http(&span, request.headers());
    let mut response = next.run(request).instrument(span.clone()).await;
    span.record("http.response.status_code", response.status().as_u16());
    response.extensions_mut().insert(RouteLabel(route));
    response
}

/// `http_requests_total` (method, route, status) and `http_request_duration_seconds` (method,
/// route) of every request the server answers: a service around the whole router
/// (`http::serve`), so the autoscaler and the dashboards see the load a cache absorbs.
///
/// Cheap on purpose: a cached page costs microseconds, so there is no boxing here, and each
/// worker thread keeps the handles of the series it has recorded (a registry lookup with
/// freshly made label strings per request cost a third of a cached page's throughput).
#[derive(Clone)]
pub struct CountRequests<S> {
    inner: S,
}

impl<S> CountRequests<S> {
    pub fn new(inner: S) -> Self {
        Self { inner }
    }
}

impl<S, B> tower::Service<Request> for CountRequests<S>
where
    S: tower::Service<Request, Response = http::Response<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Counted<S::Future>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        Counted {
            method: method_label(request.method()),
            started: Instant::now(),
            inner: self.inner.call(request),
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`CountRequests`].
    pub struct Counted<F> {
        #[pin]
        inner: F,
        method: &'static str,
        started: Instant,
    }
}

impl<F, B, E> std::future::Future for Counted<F>
where
    F: std::future::Future<Output = Result<http::Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        if let Ok(response) = &result {
            record(
                this.method,
                response.extensions().get::<RouteLabel>(),
                response.status().as_u16(),
                this.started.elapsed(),
            );
        }
        std::task::Poll::Ready(result)
    }
}

/// The series of one method, route and status.
type Series = (metrics::Counter, metrics::Histogram);
/// Each thread's handles, by method, route and status.
type SeriesByLabels = std::collections::HashMap<(&'static str, Arc<str>, u16), Series>;

thread_local! {
    static SERIES: std::cell::RefCell<SeriesByLabels> = std::cell::RefCell::default();
    static UNROUTED_LABEL: Arc<str> = Arc::from(UNROUTED);
}

fn record(
    method: &'static str,
    route: Option<&RouteLabel>,
    status: u16,
    took: std::time::Duration,
) {
    let route = route.map_or_else(|| UNROUTED_LABEL.with(Arc::clone), |r| r.0.clone());
    SERIES.with(|series| {
        let mut series = series.borrow_mut();
        let (count, duration) =
            series
                .entry((method, route, status))
                .or_insert_with_key(|(method, route, status)| {
                    let labels = [
                        ("method", method.to_string()),
                        ("route", route.to_string()),
                        ("status", status.to_string()),
                    ];
                    (
                        metrics::counter!("http_requests_total", &labels),
                        metrics::histogram!("http_request_duration_seconds", &labels[..2]),
                    )
                });
        count.increment(1);
        duration.record(took.as_secs_f64());
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invented_methods_fold_into_one_label() {
        assert_eq!(method_label(&http::Method::GET), "GET");
        for invented in ["FOO", "X".repeat(60_000).as_str(), "get"] {
            let method = http::Method::from_bytes(invented.as_bytes()).unwrap();
            assert_eq!(
                method_label(&method),
                "OTHER",
                "{}",
                &invented[..3.min(invented.len())]
            );
        }
    }
}
