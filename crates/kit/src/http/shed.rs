//! Load shedding for a public front: at most `max` requests in the works at once; beyond that,
//! an immediate `503` with `Retry-After`, so a peak beyond capacity costs the excess a quick
//! refusal instead of costing everyone a growing queue (and the process its memory).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct InFlight(Arc<Semaphore>);

impl InFlight {
    pub fn new(max: usize) -> Self {
        Self(Arc::new(Semaphore::new(max.max(1))))
    }

    /// The configured limit (`ServiceConfig::max_in_flight`), or `default`.
    pub fn configured(max: Option<usize>, default: usize) -> Self {
        Self::new(max.unwrap_or(default))
    }
}

/// `axum::middleware::from_fn_with_state(InFlight::new(n), shed)`.
pub async fn shed(State(limit): State<InFlight>, request: Request, next: Next) -> Response {
    match limit.0.clone().try_acquire_owned() {
        Ok(permit) => {
            let response = next.run(request).await;
            drop(permit);
            response
        }
        Err(_) => {
            metrics::counter!("http_requests_shed_total").increment(1);
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [
                    (header::RETRY_AFTER, "1"),
                    (header::CACHE_CONTROL, "no-store"),
                    (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                ],
                "El sitio está muy solicitado en este momento. Intente de nuevo en unos segundos.",
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    #[tokio::test]
    async fn beyond_the_limit_requests_are_refused_at_once_and_served_again_after() {
        let release = Arc::new(tokio::sync::Notify::new());
        let entered = Arc::new(tokio::sync::Notify::new());
        let app = axum::Router::new()
            .route(
                "/",
                axum::routing::get({
                    let (release, entered) = (release.clone(), entered.clone());
                    move || async move {
                        entered.notify_one();
                        release.notified().await;
                        "hecho"
                    }
                }),
            )
            .layer(axum::middleware::from_fn_with_state(InFlight::new(1), shed));
        let request = || {
            Request::builder()
                .uri("/")
                .body(axum::body::Body::empty())
                .unwrap()
        };
        let first = tokio::spawn(app.clone().oneshot(request()));
        entered.notified().await;
        let refused = app.clone().oneshot(request()).await.unwrap();
        assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(refused.headers()[header::RETRY_AFTER], "1");
        release.notify_one();
        assert_eq!(first.await.unwrap().unwrap().status(), StatusCode::OK);
        let after = tokio::spawn(app.clone().oneshot(request()));
        entered.notified().await;
        release.notify_one();
        assert_eq!(after.await.unwrap().unwrap().status(), StatusCode::OK);
    }
}
