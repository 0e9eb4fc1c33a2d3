//! Publishes the outbox: rows are locked (`FOR UPDATE SKIP LOCKED`, so replicas share the work),
//! published persistent and `mandatory` on a confirm channel, and deleted only once the broker
//! has acknowledged them. A row whose fate is unknown (connection lost before the ack) stays and
//! is published again; consumers deduplicate by `message_id`.
//! Every wait on the broker is bounded (`deadline`): after a timeout the batch's rows stay and
//! the next attempt starts on a fresh connection.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::{BasicProperties, Channel, Confirmation};
use sqlx::postgres::PgListener;
use sqlx::{PgPool, Row};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::backoff::Backoff;
use super::deadline::{BROKER_WAIT, TimedOut, bounded, timed_out};
use super::outbox::NOTIFY_CHANNEL;
use super::{Broker, PROTOBUF_CONTENT_TYPE, headers};

pub struct OutboxRelay {
    pool: PgPool,
    broker: Arc<Broker>,
    batch_size: i64,
    poll_interval: Duration,
}

struct Row_ {
    id: i64,
    message_id: Uuid,
    routing_key: String,
    message_type: String,
    payload: Vec<u8>,
    headers: BTreeMap<String, String>,
}

impl OutboxRelay {
    pub fn new(pool: PgPool, broker: Arc<Broker>) -> Self {
        Self {
            pool,
            broker,
            batch_size: 200,
            poll_interval: Duration::from_secs(1),
        }
    }

    pub fn with_batch_size(mut self, batch_size: i64) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Runs until `shutdown` is cancelled. Broker and database failures are retried with
    /// backoff; nothing is lost, as rows stay in the outbox until acknowledged.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut listener = self.listen().await;
        let mut channel: Option<Channel> = None;
        let mut backoff = Backoff::new();
        loop {
            if shutdown.is_cancelled() {
                break;
            }
            if channel.as_ref().is_none_or(|c| !c.status().connected()) {
                channel = match self.open_channel().await {
                    Ok(c) => Some(c),
                    Err(e) => {
                        tracing::warn!(relay = self.broker.name(), error = %format!("{e:#}"), "outbox relay cannot reach the broker");
                        if timed_out(&e) {
                            self.broker.reset().await;
                        }
                        if backoff.sleep(&shutdown).await {
                            break;
                        }
                        continue;
                    }
                };
            }
            let Some(ch) = channel.as_ref() else { continue };
            // Every broker wait inside is bounded; this bounds the whole batch as a safety net,
            // and says so, should something else hold it.
            let batch = tokio::time::timeout(6 * BROKER_WAIT, self.relay_batch(ch)).await;
            let batch =
                batch.unwrap_or_else(|_| Err(anyhow::Error::new(TimedOut("a whole batch".into()))));
            match batch {
                Ok(outcome) => {
                    if outcome.failed > 0 {
                        if outcome.channel_broken {
                            channel = None;
                        }
                        if outcome.timed_out {
                            self.broker.reset().await;
                        }
                        if backoff.sleep(&shutdown).await {
                            break;
                        }
                        continue;
                    }
                    backoff.reset();
                    if outcome.published as i64 >= self.batch_size {
                        continue; // more may be waiting
                    }
                }
                Err(e) => {
                    tracing::warn!(relay = self.broker.name(), error = %format!("{e:#}"), "outbox relay batch failed");
                    channel = None;
                    if timed_out(&e) {
                        self.broker.reset().await;
                    }
                    if backoff.sleep(&shutdown).await {
                        break;
                    }
                    continue;
                }
            }
            // Idle: wait for a notification, the poll interval, or shutdown.
            let notified = async {
                match listener.as_mut() {
                    Some(l) => l.recv().await.map(|_| ()).map_err(|e| e.to_string()),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(self.poll_interval) => {},
                result = notified => {
                    if result.is_err() {
                        listener = self.listen().await;
                    }
                }
            }
        }
        tracing::info!(relay = self.broker.name(), "outbox relay stopped");
    }

    async fn listen(&self) -> Option<PgListener> {
        let mut listener = PgListener::connect_with(&self.pool).await.ok()?;
        listener.listen(NOTIFY_CHANNEL).await.ok()?;
        Some(listener)
    }

    async fn open_channel(&self) -> anyhow::Result<Channel> {
        let channel = self.broker.channel().await?;
        bounded(
            "enabling confirms",
            channel.confirm_select(ConfirmSelectOptions::default()),
        )
        .await?;
        bounded(
            "declaring the exchanges",
            self.broker.topology().declare_exchanges(&channel),
        )
        .await?;
        Ok(channel)
    }

    /// Publishes one batch; returns how many were acknowledged and removed.
    async fn relay_batch(&self, channel: &Channel) -> anyhow::Result<BatchOutcome> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(
            "SELECT id, message_id, routing_key, message_type, payload, headers \
             FROM kit_outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
        )
        .bind(self.batch_size)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Ok(BatchOutcome::default());
        }
        let rows: Vec<Row_> = rows
            .into_iter()
            .map(|r| Row_ {
                id: r.get("id"),
                message_id: r.get("message_id"),
                routing_key: r.get("routing_key"),
                message_type: r.get("message_type"),
                payload: r.get("payload"),
                headers: r
                    .get::<sqlx::types::Json<BTreeMap<String, String>>, _>("headers")
                    .0,
            })
            .collect();

        let exchange = self.broker.topology().events_exchange();
        let mut pending = Vec::with_capacity(rows.len());
        let mut outcome = BatchOutcome::default();
        let mut errors: Vec<(i64, String)> = Vec::new();
        for row in &rows {
            let properties = BasicProperties::default()
                .with_message_id(row.message_id.to_string().into())
                .with_type(row.message_type.as_str().into())
                .with_content_type(PROTOBUF_CONTENT_TYPE.into())
                .with_delivery_mode(2)
                .with_timestamp(chrono::Utc::now().timestamp().max(0) as u64)
                .with_headers(headers::to_field_table(&row.headers));
            if outcome.timed_out {
                // The link is stalled: leave the rest of the batch for the next attempt.
                errors.push((row.id, "not sent: the broker stopped answering".into()));
                continue;
            }
            let publish = bounded(
                "publishing",
                channel.basic_publish(
                    exchange.as_str().into(),
                    row.routing_key.as_str().into(),
                    BasicPublishOptions {
                        mandatory: true,
                        ..Default::default()
                    },
                    &row.payload,
                    properties,
                ),
            )
            .await;
            match publish {
                Ok(confirm) => pending.push((row.id, confirm)),
                Err(e) => {
                    outcome.channel_broken = true;
                    outcome.timed_out |= timed_out(&e);
                    errors.push((row.id, format!("{e:#}")));
                }
            }
        }
        let ids: Vec<i64> = pending.iter().map(|(id, _)| *id).collect();
        let confirms = futures::future::join_all(pending.into_iter().map(|(_, c)| c));
        let results = match tokio::time::timeout(BROKER_WAIT, confirms).await {
            Ok(results) => results,
            Err(_) => {
                // Fate unknown: the rows stay and are published again (consumers deduplicate).
                outcome.channel_broken = true;
                outcome.timed_out = true;
                let error = TimedOut("waiting for confirms".into()).to_string();
                errors.extend(ids.iter().map(|id| (*id, error.clone())));
                Vec::new()
            }
        };
        let mut acked = Vec::new();
        let mut returned: HashSet<String> = HashSet::new();
        for (id, result) in ids.into_iter().zip(results) {
            match result {
                Ok(Confirmation::Ack(ret)) => {
                    if let Some(ret) = ret {
                        // A return is attached to a confirm, not necessarily its own message's.
                        if let Some(mid) = ret.delivery.properties.message_id() {
                            returned.insert(mid.to_string());
                        }
                    }
                    acked.push(id);
                }
                Ok(Confirmation::Nack(_)) => errors.push((id, "nacked by the broker".into())),
                Ok(Confirmation::NotRequested) => {
                    outcome.channel_broken = true;
                    errors.push((id, "confirms not enabled on the channel".into()));
                }
                Err(e) => {
                    outcome.channel_broken = true;
                    errors.push((id, e.to_string()));
                }
            }
        }
        if !returned.is_empty() {
            let by_id: std::collections::HashMap<i64, String> = rows
                .iter()
                .map(|r| (r.id, r.message_id.to_string()))
                .collect();
            acked.retain(|id| {
                let keep = !returned.contains(&by_id[id]);
                if !keep {
                    errors.push((*id, "unroutable (returned by the broker)".into()));
                }
                keep
            });
        }
        if !acked.is_empty() {
            sqlx::query("DELETE FROM kit_outbox WHERE id = ANY($1)")
                .bind(&acked)
                .execute(&mut *tx)
                .await?;
        }
        for (id, error) in &errors {
            sqlx::query(
                "UPDATE kit_outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1",
            )
            .bind(id)
            .bind(error)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        outcome.published = acked.len();
        outcome.failed = errors.len();
        tracing::debug!(
            relay = self.broker.name(),
            published = outcome.published,
            failed = outcome.failed,
            "outbox batch relayed"
        );
        metrics::counter!("outbox_published_total").increment(acked.len() as u64);
        if !errors.is_empty() {
            metrics::counter!("outbox_publish_failures_total").increment(errors.len() as u64);
            tracing::warn!(
                failed = errors.len(),
                first_error = %errors[0].1,
                "some outbox events were not confirmed; they stay for the next attempt"
            );
        }
        Ok(outcome)
    }
}

#[derive(Default)]
struct BatchOutcome {
    published: usize,
    failed: usize,
    channel_broken: bool,
    /// The broker stopped answering: the connection is dropped, not just the channel.
    timed_out: bool,
}
