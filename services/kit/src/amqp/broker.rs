//! One broker connection per process, re-established on demand after a failure. Producers and
//! consumers ask it for channels; readiness asks it whether the broker is reachable.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use lapin::{Channel, Connection, ConnectionProperties};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;

use super::Topology;

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

    /// A new channel on the live connection.
    pub async fn channel(&self) -> anyhow::Result<Channel> {
        let conn = self.connection().await?;
        match conn.create_channel().await {
            Ok(channel) => Ok(channel),
            Err(first) => {
                // The connection may have died since the status check; retry once on a new one.
                self.forget(&conn).await;
                let conn = self.connection().await?;
                conn.create_channel()
                    .await
                    .with_context(|| format!("cannot open a channel ({first})"))
            }
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
