//! Helpers for tests that run against the real PostgreSQL, RabbitMQ and Redis: a throw-away
//! database per test, a unique AMQP namespace and Redis prefix, a configuration on free ports,
//! and a TCP proxy that can cut a connection on demand.
//!
//! The base URLs come from `TEST_DATABASE_URL` (default
//! `postgres://conoceles:conoceles@127.0.0.1:5432/postgres`, a role with CREATEDB),
//! `TEST_AMQP_URL` (default: the `conoceles-test` virtual host) and `TEST_REDIS_URL`.

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use sqlx::postgres::PgConnectOptions;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::config::{ServiceConfig, ServiceName};

pub fn database_base_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://conoceles:conoceles@127.0.0.1:5432/postgres".into())
}

/// Tests use the `conoceles-test` virtual host, which `make test` empties before each run.
pub fn amqp_url() -> String {
    std::env::var("TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/conoceles-test".into())
}

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into())
}

/// A short unique suffix for names.
pub fn unique(label: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{label}_{}", &id[..12])
}

/// A free port for a server a test starts later (when another service must know its address
/// first). Chosen at random below the kernel's ephemeral range (32768 and up), where the
/// outgoing connections of every test running meanwhile take their local ports, so the port is
/// still free when the server binds it.
pub fn reserve_port() -> u16 {
    loop {
        let candidate = 20_000 + (uuid::Uuid::new_v4().as_u128() % 12_000) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", candidate)).is_ok() {
            return candidate;
        }
    }
}

/// A database that exists for one test (`cktest_<label>_<random>`); `make test` drops leftovers.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    /// Only names the database: the service under test creates it, as in production.
    pub fn named(label: &str) -> Self {
        let name = format!("cktest_{}", unique(label));
        let base = database_base_url();
        let (server, _) = base
            .rsplit_once('/')
            .expect("TEST_DATABASE_URL ends with /<database>");
        let url = format!("{server}/{name}");
        Self { name, url }
    }

    /// Creates the database and returns a pool to it.
    pub async fn create(label: &str) -> (Self, sqlx::PgPool) {
        let db = Self::named(label);
        let options = PgConnectOptions::from_str(&db.url).expect("valid URL");
        crate::db::ensure_database(&options)
            .await
            .expect("create test database");
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(10)
            .connect_with(options)
            .await
            .expect("connect to test database");
        crate::messaging_schema::apply(&pool)
            .await
            .expect("messaging schema");
        (db, pool)
    }

    pub async fn drop_database(&self) {
        let _ = crate::db::drop_database(&self.url).await;
    }
}

/// A configuration for `service` on free ports, with its own database, AMQP namespace and
/// Redis prefix.
pub fn service_config(service: ServiceName, database_url: &str, namespace: &str) -> ServiceConfig {
    let vars = [
        ("HTTP_PORT", "0".to_string()),
        ("OPS_PORT", "0".to_string()),
        ("GRPC_PORT", "0".to_string()),
        ("DATABASE_URL", database_url.to_string()),
        ("AMQP_URL", amqp_url()),
        ("AMQP_NAMESPACE", namespace.to_string()),
        ("REDIS_URL", redis_url()),
        ("REDIS_KEY_PREFIX", format!("{namespace}:{service}:")),
        ("SHUTDOWN_GRACE_SECONDS", "5".to_string()),
    ];
    ServiceConfig::from_lookup(service, |key| {
        vars.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone())
    })
    .expect("valid test configuration")
}

/// Deletes the exchanges and queues of a test namespace.
pub async fn delete_namespace(namespace: &str, consumers: &[&str]) {
    use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
    let Ok(conn) =
        lapin::Connection::connect(&amqp_url(), lapin::ConnectionProperties::default()).await
    else {
        return;
    };
    let Ok(channel) = conn.create_channel().await else {
        return;
    };
    let topology = crate::amqp::Topology::new(namespace);
    let mut queues = vec![topology.unroutable_queue()];
    for consumer in consumers {
        queues.push(topology.consumer_queue(consumer));
        queues.push(topology.dead_letter_queue(consumer));
    }
    for queue in queues {
        let _ = channel
            .queue_delete(queue.into(), QueueDeleteOptions::default())
            .await;
    }
    for exchange in [
        topology.events_exchange(),
        topology.dead_exchange(),
        topology.unroutable_exchange(),
    ] {
        let _ = channel
            .exchange_delete(exchange.into(), ExchangeDeleteOptions::default())
            .await;
    }
    let _ = conn.close(200, "cleanup".into()).await;
}

/// A TCP proxy in front of a server. [`TcpProxy::cut`] drops every open connection and refuses
/// new ones until [`TcpProxy::restore`], which is what a network partition looks like to the
/// client, without touching the server other tests share.
pub struct TcpProxy {
    addr: SocketAddr,
    down: Arc<AtomicBool>,
    generation: Arc<std::sync::Mutex<CancellationToken>>,
    cuts: Arc<AtomicUsize>,
    connections: Arc<AtomicUsize>,
    stop: CancellationToken,
}

impl TcpProxy {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let down = Arc::new(AtomicBool::new(false));
        let generation = Arc::new(std::sync::Mutex::new(CancellationToken::new()));
        let cuts = Arc::new(AtomicUsize::new(0));
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = CancellationToken::new();
        tokio::spawn({
            let (down, generation, stop) = (down.clone(), generation.clone(), stop.clone());
            let connections = connections.clone();
            async move {
                loop {
                    let accepted = tokio::select! {
                        _ = stop.cancelled() => break,
                        accepted = listener.accept() => accepted,
                    };
                    let Ok((client, _)) = accepted else { continue };
                    if down.load(Ordering::SeqCst) {
                        drop(client);
                        continue;
                    }
                    connections.fetch_add(1, Ordering::SeqCst);
                    let token = generation.lock().expect("proxy lock").clone();
                    tokio::spawn(pipe(client, target, token));
                }
            }
        });
        Self {
            addr,
            down,
            generation,
            cuts,
            connections,
            stop,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes every proxied connection and refuses new ones.
    pub fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        let mut current = self.generation.lock().expect("proxy lock");
        current.cancel();
        *current = CancellationToken::new();
        self.cuts.fetch_add(1, Ordering::SeqCst);
    }

    pub fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }

    /// Connections accepted while up (each reconnection counts).
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub fn cuts(&self) -> usize {
        self.cuts.load(Ordering::SeqCst)
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.stop.cancel();
        self.generation.lock().expect("proxy lock").cancel();
    }
}

async fn pipe(mut client: TcpStream, target: SocketAddr, cut: CancellationToken) {
    let Ok(mut server) = TcpStream::connect(target).await else {
        return;
    };
    tokio::select! {
        _ = cut.cancelled() => {}
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
    }
}
