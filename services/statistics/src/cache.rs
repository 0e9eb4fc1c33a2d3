//! Results cached in Redis per table, filters and cut-off. A table "as of now" is keyed by the
//! change version, which the consumer `statistics.changes` bumps on every event that moves a
//! count, so a change invalidates it at once; a table as of a past cut-off cannot change and is
//! kept for a day.

use conoceles_kit::amqp::{HandleError, Handler, Incoming};
use conoceles_kit::cache::Cache;
use conoceles_proto::routing_keys;
use redis::AsyncCommands;
use sqlx::PgConnection;

pub const CONSUMER: &str = "statistics.changes";
pub const ROUTING_KEYS: [&str; 9] = [
    routing_keys::CANDIDACY_REGISTERED,
    routing_keys::CANDIDACY_SUBSTITUTED,
    routing_keys::CANDIDACY_CANCELLED,
    routing_keys::CURRICULAR_SUBMITTED,
    routing_keys::CURRICULAR_OBSERVED,
    routing_keys::CANDIDACY_APPROVED,
    routing_keys::CANDIDACY_CORRECTED,
    routing_keys::IDENTITY_SUBMITTED,
    routing_keys::IDENTITY_CORRECTED,
];

#[derive(Clone)]
pub struct Results {
    pub cache: Cache,
}

impl Results {
    pub async fn version(&self) -> i64 {
        let mut conn = self.cache.connection();
        conn.get::<_, Option<i64>>(self.cache.key("version"))
            .await
            .ok()
            .flatten()
            .unwrap_or(0)
    }

    pub async fn get(&self, key: &str) -> Option<String> {
        let mut conn = self.cache.connection();
        let hit: Option<String> = conn.get(self.cache.key(key)).await.ok().flatten();
        metrics::counter!("cache_requests_total", "result" => if hit.is_some() { "hit" } else { "miss" })
            .increment(1);
        hit
    }

    pub async fn put(&self, key: &str, value: &str, seconds: u64) {
        let mut conn = self.cache.connection();
        let _: Result<(), _> = conn.set_ex(self.cache.key(key), value, seconds).await;
    }
}

/// Bumps the change version on every event that moves a count.
pub struct Changes {
    pub results: Results,
}

#[async_trait::async_trait]
impl Handler for Changes {
    async fn handle(&self, _tx: &mut PgConnection, _message: &Incoming) -> Result<(), HandleError> {
        let mut conn = self.results.cache.connection();
        conn.incr::<_, _, i64>(self.results.cache.key("version"), 1)
            .await
            .map_err(|e| HandleError::Transient(e.into()))?;
        Ok(())
    }
}
