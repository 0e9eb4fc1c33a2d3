//! Redis: one multiplexed, auto-reconnecting connection per process and the service's key
//! prefix, so tests and services never step on each other's keys.

use std::time::Duration;

use anyhow::Context;
use redis::aio::ConnectionManager;
use secrecy::{ExposeSecret, SecretString};

#[derive(Clone)]
pub struct Cache {
    conn: ConnectionManager,
    prefix: String,
}

impl Cache {
    pub fn connect(url: &SecretString, prefix: impl Into<String>) -> anyhow::Result<Self> {
        let client =
            redis::Client::open(url.expose_secret()).context("REDIS_URL is not a valid URL")?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(2);
        // Lazy: the service starts even while Redis is down; readiness reports it.
        let conn = ConnectionManager::new_lazy_with_config(client, config)
            .context("cannot set up the Redis connection")?;
        Ok(Self {
            conn,
            prefix: prefix.into(),
        })
    }

    /// The full key for `name` under this service's prefix.
    pub fn key(&self, name: &str) -> String {
        format!("{}{}", self.prefix, name)
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A connection handle (cheap to clone) for commands.
    pub fn connection(&self) -> ConnectionManager {
        self.conn.clone()
    }

    pub async fn ping(&self) -> anyhow::Result<()> {
        let mut conn = self.conn.clone();
        let reply: String = tokio::time::timeout(
            Duration::from_secs(2),
            redis::cmd("PING").query_async(&mut conn),
        )
        .await
        .context("Redis did not answer PING in time")??;
        anyhow::ensure!(reply == "PONG", "unexpected PING reply {reply:?}");
        Ok(())
    }
}
