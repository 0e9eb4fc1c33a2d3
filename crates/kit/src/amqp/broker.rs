//! One broker connection per process, re-established on demand after a failure. Producers and
//! consumers ask it for channels; readiness asks it whether the broker is reachable.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use lapin::{Channel, Connection, ConnectionProperties};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;

use super::Topology;
use super::deadline::bounded;

pub struct Broker {
    url: SecretString,
    name: String,
    topology: Topology,
    current: Mutex<Option<Arc<Connection>>>,
}

impl Broker {
    /// `name` labels the connection in the broker's management UI (e.g. `capture`).
    pub fn new(url: SecretString, namespace: &str, name: impl Into<String>) -> Arc<Self> {
        Arc::new(Self {
            url,
            name: name.into(),
            topology: Topology::new(namespace),
            current: Mutex::new(None),
        })
    }

    /// The connection's label (the service's name).
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// The live connection, reconnecting if the previous one died.
    pub async fn connection(&self) -> anyhow::Result<Arc<Connection>> {
        let mut current = self.current.lock().await;
        if let Some(conn) = current.as_ref()
            && conn.status().connected()
        {
            return Ok(conn.clone());
        }
        *current = None;
        let properties =
            ConnectionProperties::default().with_connection_name(self.name.clone().into());
        let conn = tokio::time::timeout(
            Duration::from_secs(10),
            Connection::connect(&with_heartbeat(self.url.expose_secret()), properties),
        )
        .await
        .context("timed out connecting to RabbitMQ")?
        .context("cannot connect to RabbitMQ")?;
        let conn = Arc::new(conn);
        *current = Some(conn.clone());
        Ok(conn)
    }

    /// A new channel on the live connection. A connection that does not open a channel in time
    /// is dropped (it is stalled even if it looks connected).
    pub async fn channel(&self) -> anyhow::Result<Channel> {
        let conn = self.connection().await?;
        match self.open_on(&conn).await {
            Ok(channel) => Ok(channel),
            Err(first) => {
                // The connection may have died since the status check; retry once on a new one.
                self.forget(&conn).await;
                let conn = self.connection().await?;
                self.open_on(&conn)
                    .await
                    .with_context(|| format!("cannot open a channel ({first:#})"))
            }
        }
    }

    async fn open_on(&self, conn: &Connection) -> anyhow::Result<Channel> {
        bounded("opening a channel", conn.create_channel()).await
    }

    /// Drops the current connection whatever its status says, so the next caller connects
    /// afresh (after a wait on it timed out). Closing it is attempted, not awaited for long.
    pub async fn reset(&self) {
        let stale = self.current.lock().await.take();
        if let Some(conn) = stale {
            tracing::warn!(connection = %self.name, "dropping a broker connection that stopped answering");
            let _ = tokio::time::timeout(Duration::from_secs(1), conn.close(200, "stalled".into()))
                .await;
        }
    }

    /// Drops `conn` if it is still the current connection (after an error on it).
    pub async fn forget(&self, conn: &Arc<Connection>) {
        let mut current = self.current.lock().await;
        if current.as_ref().is_some_and(|c| Arc::ptr_eq(c, conn)) {
            *current = None;
        }
    }

    /// Readiness: the broker answers (connecting if needed).
    pub async fn check(&self) -> anyhow::Result<()> {
        self.connection().await.map(|_| ())
    }

    pub async fn close(&self) {
        if let Some(conn) = self.current.lock().await.take() {
            let _ = conn.close(200, "shutdown".into()).await;
        }
    }
}

/// Adds a 10 s heartbeat unless the URL sets one, so a silently dead peer is noticed.
fn with_heartbeat(url: &str) -> String {
    if url.contains("heartbeat=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&heartbeat=10")
    } else {
        format!("{url}?heartbeat=10")
    }
}
