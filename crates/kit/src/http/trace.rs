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
/// [`count_requests`]; a layer replaying a stored response (the page cache) keeps it with the
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
/// route) of every request the server answers. The outermost layer of every service's HTTP
/// side, so the autoscaler and the dashboards see the load a cache absorbs.
pub async fn count_requests(request: Request, next: Next) -> Response {
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let route = response
        .extensions()
        .get::<RouteLabel>()
        .map_or(UNROUTED, |r| &r.0);
    let labels = [
        ("method", method.to_string()),
        ("route", route.to_string()),
        ("status", response.status().as_str().to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels[..2])
        .record(started.elapsed().as_secs_f64());
    response
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
