//! One span per HTTP request, named by its route, parented on an incoming `traceparent`, with
//! request metrics per route.

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

pub async fn trace_requests(request: Request, next: Next) -> Response {
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let span = tracing::info_span!(
        "http",
        otel.name = %format!("{method} {route}"),
        otel.kind = "server",
        http.request.method = %method,
        http.route = %route,
        http.response.status_code = tracing::field::Empty,
    );
    propagation::set_parent_from_http(&span, request.headers());
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    span.record("http.response.status_code", status);
    let labels = [
        ("method", method.to_string()),
        ("route", route),
        ("status", status.to_string()),
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
