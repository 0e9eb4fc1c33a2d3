//! The ops port: `/healthz` (the process is alive), `/readyz` (what the service needs to answer
//! its users reachable, and not shutting down; the other checks reported) and `/metrics`
//! (Prometheus text format). Kept apart from public traffic.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use futures::future::BoxFuture;
use http::{StatusCode, header};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::Serialize;

use crate::shutdown::Shutdown;

/// A named dependency check for `/readyz`.
pub type Check = Arc<dyn Fn() -> BoxFuture<'static, anyhow::Result<()>> + Send + Sync>;

#[derive(Clone)]
pub struct OpsState {
    checks: Arc<Vec<(&'static str, Check)>>,
    /// Checks reported on `/readyz` whose failure does not make the service unready.
    not_required: Arc<Vec<&'static str>>,
    shutdown: Shutdown,
    metrics: PrometheusHandle,
    /// Sampled at each scrape: outbox depth and age, connection pool use.
    sampled: Option<(sqlx::PgPool, &'static str)>,
}

impl OpsState {
    pub fn new(checks: Vec<(&'static str, Check)>, shutdown: Shutdown) -> Self {
        Self {
            checks: Arc::new(checks),
            not_required: Arc::default(),
            shutdown,
            metrics: prometheus_handle(),
            sampled: None,
        }
    }

    /// Checks that are reported but not required to be ready (what the service answers its
    /// users without).
    pub fn not_required(mut self, names: &[&'static str]) -> Self {
        self.not_required = Arc::new(names.to_vec());
        self
    }

    /// Also reports the service's outbox and connection pool, labelled with its name.
    pub fn sampling(mut self, pool: sqlx::PgPool, service: &'static str) -> Self {
        self.sampled = Some((pool, service));
        self
    }
}

/// Latency buckets (seconds) for every `*_duration_seconds` histogram.
const BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

async fn sample(pool: &sqlx::PgPool, service: &'static str) {
    let outbox: Result<(i64, Option<f64>), _> = sqlx::query_as(
        "SELECT count(*), EXTRACT(EPOCH FROM now() - min(created_at))::float8 FROM kit_outbox",
    )
    .fetch_one(pool)
    .await;
    if let Ok((pending, oldest)) = outbox {
        metrics::gauge!("outbox_pending", "service" => service).set(pending as f64);
        metrics::gauge!("outbox_oldest_age_seconds", "service" => service)
            .set(oldest.unwrap_or(0.0));
    }
    let (size, idle) = (pool.size() as f64, pool.num_idle() as f64);
    metrics::gauge!("db_pool_connections", "service" => service, "state" => "idle").set(idle);
    metrics::gauge!("db_pool_connections", "service" => service, "state" => "in_use")
        .set(size - idle);
}

/// The process-wide Prometheus recorder (installed once, shared by every app in the process).
pub fn prometheus_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&BUCKETS)
                .expect("non-empty buckets")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (e.g. by a test harness); then our
            // handle still renders what is recorded through it.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

pub fn router(state: OpsState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok"
}

#[derive(Serialize)]
struct Readiness {
    ready: bool,
    checks: Vec<CheckResult>,
}

#[derive(Serialize)]
struct CheckResult {
    name: &'static str,
    ok: bool,
    /// Whether the service is unready without it.
    required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

async fn readyz(State(state): State<OpsState>) -> impl IntoResponse {
    if state.shutdown.is_triggered() {
        let body = Readiness {
            ready: false,
            checks: vec![CheckResult {
                name: "shutdown",
                ok: false,
                required: true,
                error: Some("shutting down".into()),
            }],
        };
        return (StatusCode::SERVICE_UNAVAILABLE, Json(body));
    }
    let runs = state.checks.iter().map(|(name, check)| {
        let fut = check();
        let required = !state.not_required.contains(name);
        async move {
            let outcome = match tokio::time::timeout(Duration::from_secs(3), fut).await {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(format!("{e:#}")),
                Err(_) => Some("timed out".into()),
            };
            CheckResult {
                name,
                ok: outcome.is_none(),
                required,
                error: outcome,
            }
        }
    });
    let checks = futures::future::join_all(runs).await;
    let ready = checks.iter().all(|c| c.ok || !c.required);
    for failed in checks.iter().filter(|c| !c.ok) {
        tracing::warn!(check = failed.name, error = ?failed.error, "readiness check failed");
    }
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(Readiness { ready, checks }))
}

async fn metrics_text(State(state): State<OpsState>) -> impl IntoResponse {
    crate::allocator::record();
    if let Some((pool, service)) = &state.sampled {
        let _ = tokio::time::timeout(Duration::from_secs(2), sample(pool, service)).await;
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
