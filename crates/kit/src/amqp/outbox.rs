//! The transactional outbox: an event is written in the same transaction as the business change
//! that caused it; the [relay](super::OutboxRelay) publishes it later with confirms.

use std::collections::BTreeMap;

use sqlx::PgConnection;
use uuid::Uuid;

use crate::telemetry::propagation;

/// Channel the relay listens on to publish without waiting for its next poll.
pub(crate) const NOTIFY_CHANNEL: &str = "kit_outbox";

/// Adds an event to the outbox inside the caller's transaction. The current trace context is
/// stored with it so the consumer's span continues the producer's trace.
pub async fn enqueue(
    conn: &mut PgConnection,
    routing_key: &str,
    message_type: &str,
    payload: &[u8],
) -> sqlx::Result<Uuid> {
    let message_id = Uuid::now_v7();
    let mut headers = BTreeMap::new();
    propagation::inject_current(&mut headers);
    sqlx::query(
        "INSERT INTO kit_outbox (message_id, routing_key, message_type, payload, headers) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(message_id)
    .bind(routing_key)
    .bind(message_type)
    .bind(payload)
    .bind(sqlx::types::Json(&headers))
    .execute(&mut *conn)
    .await?;
    wake_relay(conn).await?;
    Ok(message_id)
}

/// [`enqueue`] for a protobuf event: the AMQP `type` is the message's full protobuf name.
pub async fn enqueue_event<M: prost::Message + prost::Name>(
    conn: &mut PgConnection,
    routing_key: &str,
    event: &M,
) -> sqlx::Result<Uuid> {
    enqueue(conn, routing_key, &M::full_name(), &event.encode_to_vec()).await
}

/// Adds many events of one kind in a single statement (bulk imports); same guarantees as
/// [`enqueue`].
pub async fn enqueue_many<M: prost::Message + prost::Name>(
    conn: &mut PgConnection,
    routing_key: &str,
    events: &[M],
) -> sqlx::Result<Vec<Uuid>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = events.iter().map(|_| Uuid::now_v7()).collect();
    let payloads: Vec<Vec<u8>> = events.iter().map(|e| e.encode_to_vec()).collect();
    let mut headers = BTreeMap::new();
    propagation::inject_current(&mut headers);
    sqlx::query(
        "INSERT INTO kit_outbox (message_id, routing_key, message_type, payload, headers) \
         SELECT m, $2, $3, p, $5 FROM UNNEST($1::uuid[], $4::bytea[]) AS t(m, p)",
    )
    .bind(&ids)
    .bind(routing_key)
    .bind(M::full_name())
    .bind(&payloads)
    .bind(sqlx::types::Json(&headers))
    .execute(&mut *conn)
    .await?;
    wake_relay(conn).await?;
    Ok(ids)
}

/// Wakes the relay at commit, instead of at its next poll.
async fn wake_relay(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(NOTIFY_CHANNEL)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// How many events wait in the outbox (ops metric, tests).
pub async fn pending_count(pool: &sqlx::PgPool) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM kit_outbox")
        .fetch_one(pool)
        .await
}
