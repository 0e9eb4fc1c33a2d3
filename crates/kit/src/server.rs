//! The process shell every service runs in: connects the infrastructure, binds the ops, gRPC
//! and (for the fronts) HTTP listeners, runs background workers, and shuts all of it down in
//! order when asked.
//!
//! Listeners are bound in [`ServiceServer::bind`], so a test can configure port 0 and read the
//! real addresses from [`Running`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures::FutureExt;
use futures::future::BoxFuture;
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::service::Routes;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::access::{GrpcAccessLayer, KeySet, PersonSessions, Policy};
use crate::amqp::{Broker, OutboxRelay};
use crate::cache::Cache;
use crate::config::ServiceConfig;
use crate::ops::{self, Check, OpsState};
use crate::shutdown::Shutdown;

/// The service's connections to PostgreSQL, RabbitMQ and Redis.
#[derive(Clone)]
pub struct Infrastructure {
    pub pool: PgPool,
    pub broker: Arc<Broker>,
    pub cache: Cache,
}

impl Infrastructure {
    /// Creates the database if missing and migrates it; the broker and the cache connect
    /// lazily, so the service starts while they are down and reports it on `/readyz`.
    pub async fn connect(
        config: &ServiceConfig,
        migrator: &'static Migrator,
    ) -> anyhow::Result<Self> {
        let pool = crate::db::connect_and_migrate(
            &config.database_url,
            config.database_max_connections,
            migrator,
        )
        .await?;
        let broker = Broker::new(
            config.amqp_url.clone(),
            &config.amqp_namespace,
            format!("conoceles-{}", config.service),
        );
        let cache = Cache::connect(&config.redis_url, config.redis_key_prefix.clone())?;
        Ok(Self {
            pool,
            broker,
            cache,
        })
    }

    /// `/readyz` checks: database, broker and cache.
    pub fn readiness_checks(&self) -> Vec<(&'static str, Check)> {
        let pool = self.pool.clone();
        let broker = self.broker.clone();
        let cache = self.cache.clone();
        vec![
            (
                "database",
                Arc::new(move || {
                    let pool = pool.clone();
                    async move {
                        sqlx::query("SELECT 1").execute(&pool).await?;
                        Ok(())
                    }
                    .boxed()
                }) as Check,
            ),
            (
                "broker",
                Arc::new(move || {
                    let broker = broker.clone();
                    async move { broker.check().await }.boxed()
                }),
            ),
            (
                "cache",
                Arc::new(move || {
                    let cache = cache.clone();
                    async move { cache.ping().await }.boxed()
                }),
            ),
        ]
    }

    /// Closes the connections, waiting at most a few seconds for each.
    pub async fn close(&self) {
        let limit = Duration::from_secs(3);
        if tokio::time::timeout(limit, self.broker.close())
            .await
            .is_err()
        {
            tracing::warn!("broker connection did not close in time");
        }
        if tokio::time::timeout(limit, self.pool.close())
            .await
            .is_err()
        {
            tracing::warn!("database connections still in use at shutdown");
        }
    }
}

type Worker = Box<dyn FnOnce(CancellationToken) -> BoxFuture<'static, ()> + Send>;

pub struct ServiceServer {
    config: ServiceConfig,
    infra: Infrastructure,
    shutdown: Shutdown,
    checks: Vec<(&'static str, Check)>,
    not_required: Vec<&'static str>,
    routes: Routes,
    http: Option<axum::Router>,
    workers: Vec<(&'static str, Worker)>,
    access: Option<(Policy, Arc<KeySet>)>,
    sessions: Option<Arc<dyn PersonSessions>>,
}

impl ServiceServer {
    /// A server over `infra`, whose database, broker and cache `/readyz` checks.
    pub fn new(config: &ServiceConfig, infra: Infrastructure) -> Self {
        Self {
            config: config.clone(),
            checks: infra.readiness_checks(),
            not_required: Vec::new(),
            infra,
            shutdown: Shutdown::new(),
            routes: Routes::default(),
            http: None,
            workers: Vec::new(),
            access: None,
            sessions: None,
        }
    }

    /// gRPC also admits people's session tokens (for rules with [`crate::access::Rule::or_people`]).
    pub fn grpc_sessions(mut self, sessions: Arc<dyn PersonSessions>) -> Self {
        self.sessions = Some(sessions);
        self
    }

    /// Who may call the gRPC methods, and the keys that verify callers' tokens. Without it,
    /// every method but health and reflection is refused.
    pub fn access(mut self, policy: Policy, keys: Arc<KeySet>) -> Self {
        self.access = Some((policy, keys));
        self
    }

    /// An extra `/readyz` check (e.g. a gRPC dependency).
    pub fn readiness(mut self, name: &'static str, check: Check) -> Self {
        self.checks.push((name, check));
        self
    }

    /// Checks of `/readyz` the service answers its users without (e.g. the public site with
    /// the broker or the cache down): reported, but the pod stays ready and keeps its traffic.
    pub fn serves_without(mut self, names: &[&'static str]) -> Self {
        self.not_required.extend_from_slice(names);
        self
    }

    /// Relays the service's outbox to the broker (services that emit events).
    pub fn with_outbox_relay(self) -> Self {
        let relay = OutboxRelay::new(self.infra.pool.clone(), self.infra.broker.clone());
        self.worker("outbox-relay", move |token| relay.run(token))
    }

    /// The service's own gRPC services (health and reflection are added by the server).
    pub fn grpc(mut self, routes: Routes) -> Self {
        self.routes = routes;
        self
    }

    /// The public HTTP router (only services with an HTTP port).
    pub fn http(mut self, router: axum::Router) -> Self {
        self.http = Some(router);
        self
    }

    /// A background task (outbox relay, consumer) that stops when the token is cancelled.
    pub fn worker<F, Fut>(mut self, name: &'static str, run: F) -> Self
    where
        F: FnOnce(CancellationToken) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        self.workers
            .push((name, Box::new(move |token| run(token).boxed())));
        self
    }

    /// Binds every listener and starts serving.
    ///
    /// Boxed, like [`Running::run_until_stopped`], so that the servers' code (axum, hyper,
    /// tonic, h2) is compiled once, in the kit, rather than again in every service that awaits it
    /// (a release build instantiates an upstream crate's async code in each crate that polls it).
    pub fn bind(self) -> BoxFuture<'static, anyhow::Result<Running>> {
        self.start().boxed()
    }

    async fn start(self) -> anyhow::Result<Running> {
        let address = self.config.bind_address;
        let ports = self.config.ports;
        let ops_listener = bind(address, ports.ops, "ops").await?;
        let grpc_listener = bind(address, ports.grpc, "gRPC").await?;
        let http_listener = match (ports.http, &self.http) {
            (Some(port), Some(_)) => Some(bind(address, port, "HTTP").await?),
            _ => None,
        };
        let ops_addr = ops_listener.local_addr()?;
        let grpc_addr = grpc_listener.local_addr()?;
        let http_addr = http_listener.as_ref().map(|l| l.local_addr()).transpose()?;

        let stop = self.shutdown.token();
        // The ops port outlives the others so `/readyz` says 503 while they drain.
        let ops_stop = CancellationToken::new();
        let ops_state = OpsState::new(self.checks, self.shutdown.clone())
            .not_required(&self.not_required)
            .sampling(self.infra.pool.clone(), self.config.service.as_str());
        let ops_router = ops::router(ops_state);
        let ops_task = tokio::spawn({
            let ops_stop = ops_stop.clone();
            async move {
                axum::serve(ops_listener, ops_router)
                    .with_graceful_shutdown(ops_stop.cancelled_owned())
                    .await
                    .context("ops server failed")
            }
        });

        let (routes, health) = crate::grpc::with_health_and_reflection(self.routes)?;
        let (policy, keys) = match self.access {
            Some(access) => access,
            None => (Policy::new(), KeySet::from_auth(&self.config.auth_url)?),
        };
        let access = GrpcAccessLayer::with_sessions(
            policy,
            keys,
            self.config.service.as_str(),
            self.sessions,
        );
        let incoming =
            tonic::transport::server::TcpIncoming::from(grpc_listener).with_nodelay(Some(true));
        let grpc_task = tokio::spawn({
            let stop = stop.clone();
            async move {
                tonic::transport::Server::builder()
                    .trace_fn(crate::grpc::server_span)
                    .layer(access)
                    .add_routes(routes)
                    .serve_with_incoming_shutdown(incoming, stop.cancelled_owned())
                    .await
                    .context("gRPC server failed")
            }
        });

        let mut servers: Vec<(&'static str, JoinHandle<anyhow::Result<()>>)> =
            vec![("grpc", grpc_task)];
        if let (Some(listener), Some(router)) = (http_listener, self.http) {
            let stop = stop.clone();
            let max_connections = self
                .config
                .max_connections
                .unwrap_or(crate::http::serve::DEFAULT_MAX_CONNECTIONS);
            let router = router
                .layer(axum::middleware::from_fn(crate::http::security_headers))
                .layer(axum::Extension(crate::http::TrustedProxies(
                    std::sync::Arc::new(self.config.trusted_proxies.clone()),
                )));
            servers.push((
                "http",
                tokio::spawn(async move {
                    crate::http::serve::serve(listener, router, max_connections, stop)
                        .await
                        .context("HTTP server failed")
                }),
            ));
        }
        let workers = self
            .workers
            .into_iter()
            .map(|(name, run)| (name, tokio::spawn(run(stop.clone()))))
            .collect();

        tracing::info!(
            service = %self.config.service,
            ops = %ops_addr,
            grpc = %grpc_addr,
            http = %http_addr.map(|a| a.to_string()).unwrap_or_default(),
            endpoints = %self.config.describe_endpoints(),
            "service started"
        );
        Ok(Running {
            service: self.config.service.as_str(),
            infra: self.infra,
            ops_addr,
            grpc_addr,
            http_addr,
            shutdown: self.shutdown,
            grace: self.config.shutdown_grace,
            health,
            servers,
            workers,
            ops_task,
            ops_stop,
        })
    }
}

async fn bind(address: std::net::IpAddr, port: u16, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind((address, port))
        .await
        .with_context(|| format!("cannot listen for {what} on {address}:{port}"))
}

/// A started service.
pub struct Running {
    service: &'static str,
    infra: Infrastructure,
    ops_addr: SocketAddr,
    grpc_addr: SocketAddr,
    http_addr: Option<SocketAddr>,
    shutdown: Shutdown,
    grace: Duration,
    health: HealthReporter,
    servers: Vec<(&'static str, JoinHandle<anyhow::Result<()>>)>,
    workers: Vec<(&'static str, JoinHandle<()>)>,
    ops_task: JoinHandle<anyhow::Result<()>>,
    ops_stop: CancellationToken,
}

impl Running {
    pub fn ops_addr(&self) -> SocketAddr {
        self.ops_addr
    }

    pub fn grpc_addr(&self) -> SocketAddr {
        self.grpc_addr
    }

    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http_addr
    }

    pub fn shutdown(&self) -> Shutdown {
        self.shutdown.clone()
    }

    pub fn infrastructure(&self) -> &Infrastructure {
        &self.infra
    }

    /// Serves until shutdown is triggered, then: readiness and gRPC health go NOT_SERVING,
    /// servers stop accepting and drain, workers finish their current message, all within the
    /// grace period.
    pub fn run_until_stopped(self) -> BoxFuture<'static, anyhow::Result<()>> {
        self.stop_when_asked().boxed()
    }

    async fn stop_when_asked(self) -> anyhow::Result<()> {
        self.shutdown.triggered().await;
        tracing::info!(service = self.service, "shutting down");
        self.health
            .set_service_status("", ServingStatus::NotServing)
            .await;
        let deadline = tokio::time::Instant::now() + self.grace;
        let mut failure = None;
        for (name, mut handle) in self.servers {
            match tokio::time::timeout_at(deadline, &mut handle).await {
                Ok(Ok(Ok(()))) => {}
                Ok(Ok(Err(e))) => failure = Some(e),
                Ok(Err(e)) => failure = Some(anyhow::anyhow!("{name} server panicked: {e}")),
                Err(_) => {
                    tracing::warn!(server = name, "did not drain within the grace period");
                    handle.abort();
                }
            }
        }
        for (name, mut handle) in self.workers {
            match tokio::time::timeout_at(deadline, &mut handle).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(worker = name, error = %e, "worker panicked"),
                Err(_) => {
                    tracing::warn!(
                        worker = name,
                        "did not stop within the grace period; aborted"
                    );
                    handle.abort();
                }
            }
        }
        self.infra.close().await;
        self.ops_stop.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(1), self.ops_task).await;
        tracing::info!(service = self.service, "stopped");
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Runs a binary's command on a multi-threaded runtime, as `#[tokio::main]` would. Each service
/// library calls it from a non-generic `cli::main` that is the binary's whole `main`: a release
/// build compiles generic and async code again in every crate that instantiates it, so the
/// service's async code is then compiled once, in its library, instead of twice.
pub fn block_on(
    command: impl std::future::Future<Output = anyhow::Result<()>>,
) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(command)
}

/// What a service's `main` does: configuration from the environment, telemetry, build, serve
/// until SIGTERM or Ctrl-C, flush telemetry.
pub async fn run_main<F, Fut>(service: crate::ServiceName, build: F) -> anyhow::Result<()>
where
    F: FnOnce(ServiceConfig) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Running>>,
{
    let config = ServiceConfig::from_env(service)?;
    let mut telemetry = crate::telemetry::init(service.as_str(), config.otlp_endpoint.as_deref())?;
    let result = async {
        let running = build(config).await?;
        running.shutdown().listen_for_signals();
        running.run_until_stopped().await
    }
    .await;
    if let Err(e) = &result {
        tracing::error!(error = %format!("{e:#}"), "service failed");
    }
    telemetry.shutdown();
    result
}
