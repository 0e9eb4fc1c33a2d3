//! The idempotent consumer: each delivery's effect and its `kit_inbox` row commit in one
//! transaction, then the message is acknowledged. A redelivered message whose inbox row exists is
//! acknowledged without running the effect again (at-least-once delivery, exactly-once effect).
//! A handler that fails for a transient reason retries in place with backoff (for up to 30 s),
//! then gets the message back until the queue's delivery limit, after which RabbitMQ
//! dead-letters it; a message that can never succeed is rejected straight to the
//! dead-letter queue. Either way the consumer goes on with the next message.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions, BasicRejectOptions,
};
use lapin::types::FieldTable;
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::backoff::Backoff;
use super::deadline::{bounded, timed_out};
use super::{Broker, headers};
use crate::telemetry::propagation;

/// A delivered event, as a handler sees it.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub message_id: String,
    pub routing_key: String,
    pub message_type: Option<String>,
    pub payload: Vec<u8>,
    /// How many times the broker delivered it before (0 on the first delivery).
    pub delivery_count: i64,
    pub headers: BTreeMap<String, String>,
}

impl Incoming {
    /// Decodes the protobuf payload; a payload that does not decode is permanent (poison).
    pub fn decode<M: prost::Message + Default>(&self) -> Result<M, HandleError> {
        M::decode(self.payload.as_slice())
            .map_err(|e| HandleError::Permanent(anyhow::anyhow!("undecodable payload: {e}")))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// Worth retrying (a dependency was down); the broker redelivers up to the delivery limit.
    #[error("transient: {0:#}")]
    Transient(anyhow::Error),
    /// Will never succeed (malformed message): dead-lettered at once.
    #[error("permanent: {0:#}")]
    Permanent(anyhow::Error),
}

impl From<sqlx::Error> for HandleError {
    fn from(e: sqlx::Error) -> Self {
        HandleError::Transient(e.into())
    }
}

/// What a consumer does with one message, inside the transaction that records it in the inbox.
#[async_trait::async_trait]
pub trait Handler: Send + Sync + 'static {
    async fn handle(&self, tx: &mut PgConnection, message: &Incoming) -> Result<(), HandleError>;
}

#[derive(Debug, Clone)]
pub struct ConsumerSpec {
    /// Names the queue (`<ns>.<name>`) and the inbox rows, e.g. `validation.curricular`.
    pub name: String,
    pub routing_keys: Vec<String>,
    pub prefetch: u16,
    pub delivery_limit: i32,
    /// How long a transient failure is retried in place before the message goes back to the
    /// broker (default 30 s).
    pub patience: std::time::Duration,
}

impl ConsumerSpec {
    pub fn new(name: impl Into<String>, routing_keys: &[&str]) -> Self {
        Self {
            name: name.into(),
            routing_keys: routing_keys.iter().map(|k| k.to_string()).collect(),
            prefetch: 32,
            delivery_limit: 5,
            patience: std::time::Duration::from_secs(30),
        }
    }

    pub fn with_patience(mut self, patience: std::time::Duration) -> Self {
        self.patience = patience;
        self
    }

    pub fn with_delivery_limit(mut self, limit: i32) -> Self {
        self.delivery_limit = limit;
        self
    }
}

/// Not generic over its handler, and its futures boxed: the consuming loop (lapin, sqlx) is
/// compiled once, in the kit, instead of again in every service (see [`crate::server::block_on`]).
pub struct Consumer {
    pool: PgPool,
    broker: Arc<Broker>,
    spec: ConsumerSpec,
    handler: Box<dyn Handler>,
}

enum Outcome {
    Done,
    Duplicate,
    Retry(String),
    DeadLetter(String),
}

impl Consumer {
    pub fn new(
        pool: PgPool,
        broker: Arc<Broker>,
        spec: ConsumerSpec,
        handler: impl Handler,
    ) -> Self {
        Self {
            pool,
            broker,
            spec,
            handler: Box::new(handler),
        }
    }

    /// Declares the consumer's queues (so events published before it first runs are kept).
    pub async fn declare(&self) -> anyhow::Result<()> {
        let channel = self.broker.channel().await?;
        self.broker
            .topology()
            .declare_consumer(
                &channel,
                &self.spec.name,
                &self.spec.routing_keys,
                self.spec.delivery_limit,
            )
            .await?;
        let _ = channel.close(200, "declared".into()).await;
        Ok(())
    }

    /// Declares the queues while the service starts, so events published as soon as it is
    /// ready are kept for it. A broker that does not answer in a few seconds is only logged: the
    /// consumer declares again when it connects.
    pub fn declare_at_start(&self) -> BoxFuture<'_, ()> {
        self.declare_or_log().boxed()
    }

    async fn declare_or_log(&self) {
        match tokio::time::timeout(std::time::Duration::from_secs(5), self.declare()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::warn!(consumer = %self.spec.name, error = %format!("{e:#}"), "queues not declared at start")
            }
            Err(_) => {
                tracing::warn!(consumer = %self.spec.name, "queues not declared at start: broker too slow")
            }
        }
    }

    /// Consumes until `shutdown`; reconnects after broker failures. The message being handled
    /// when shutdown arrives is finished first.
    pub fn run(self, shutdown: CancellationToken) -> BoxFuture<'static, ()> {
        self.consume_until(shutdown).boxed()
    }

    async fn consume_until(self, shutdown: CancellationToken) {
        let mut backoff = Backoff::new();
        while !shutdown.is_cancelled() {
            match self.consume(&shutdown).await {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!(consumer = %self.spec.name, error = %format!("{e:#}"), "consumer lost its channel; reconnecting");
                    if timed_out(&e) {
                        self.broker.reset().await;
                    }
                    if backoff.sleep(&shutdown).await {
                        break;
                    }
                }
            }
        }
        tracing::info!(consumer = %self.spec.name, "consumer stopped");
    }

    async fn consume(&self, shutdown: &CancellationToken) -> anyhow::Result<()> {
        let topology = self.broker.topology().clone();
        let channel = self.broker.channel().await?;
        bounded(
            "declaring the queues",
            topology.declare_consumer(
                &channel,
                &self.spec.name,
                &self.spec.routing_keys,
                self.spec.delivery_limit,
            ),
        )
        .await?;
        bounded(
            "setting the prefetch",
            channel.basic_qos(self.spec.prefetch, BasicQosOptions::default()),
        )
        .await?;
        let mut deliveries = bounded(
            "subscribing",
            channel.basic_consume(
                topology.consumer_queue(&self.spec.name).into(),
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            ),
        )
        .await?;
        // The watchdog: a subscription over a link that stalled without closing receives
        // nothing, however many messages wait. Messages ready at two checks in a row with none
        // delivered between them mean the subscription is dead: it is dropped and made again.
        let mut depth_every = tokio::time::interval(std::time::Duration::from_secs(5));
        depth_every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut delivered = false;
        let mut waiting_before = false;
        loop {
            let next = tokio::select! {
                _ = shutdown.cancelled() => {
                    let _ = channel.close(200, "shutdown".into()).await;
                    return Ok(());
                }
                _ = depth_every.tick() => {
                    let ready = self.report_depth().await?;
                    let waiting = ready > 0 && !delivered;
                    if waiting && waiting_before {
                        anyhow::bail!("{ready} messages wait in the queue and none was delivered");
                    }
                    waiting_before = waiting;
                    delivered = false;
                    continue;
                }
                next = deliveries.next() => next,
            };
            match next {
                Some(Ok(delivery)) => {
                    delivered = true;
                    self.process(delivery, shutdown).await?
                }
                Some(Err(e)) => return Err(e.into()),
                None => anyhow::bail!("the broker closed the consumer"),
            }
        }
    }

    /// Consumer lag: messages waiting in the queue and in its dead-letter queue (asked on a
    /// channel of its own, so a refusal cannot close the consuming one). Returns the messages
    /// ready in the queue (0 if the broker refused to say); an error if it did not answer.
    async fn report_depth(&self) -> anyhow::Result<u32> {
        let channel = self.broker.channel().await?;
        let mut ready = 0;
        let topology = self.broker.topology();
        let name = self.spec.name.clone();
        for (queue, gauge) in [
            (topology.consumer_queue(&name), "consumer_queue_depth"),
            (
                topology.dead_letter_queue(&name),
                "consumer_dead_letter_depth",
            ),
        ] {
            let passive = lapin::options::QueueDeclareOptions {
                passive: true,
                ..Default::default()
            };
            let declared = bounded(
                "asking a queue's depth",
                channel.queue_declare(queue.as_str().into(), passive, FieldTable::default()),
            )
            .await;
            match declared {
                Ok(q) => {
                    metrics::gauge!(gauge, "consumer" => name.clone())
                        .set(f64::from(q.message_count()));
                    if gauge == "consumer_queue_depth" {
                        ready = q.message_count();
                    }
                }
                Err(e) if timed_out(&e) => return Err(e),
                Err(_) => break,
            }
        }
        let _ = bounded("closing a channel", channel.close(200, "depth".into())).await;
        Ok(ready)
    }

    async fn process(
        &self,
        delivery: Delivery,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<()> {
        let properties = &delivery.properties;
        let headers_table = properties.headers().as_ref();
        let message = Incoming {
            message_id: properties
                .message_id()
                .as_ref()
                .map(|m| m.to_string())
                .unwrap_or_default(),
            routing_key: delivery.routing_key.to_string(),
            message_type: properties.kind().as_ref().map(|k| k.to_string()),
            payload: delivery.data.clone(),
            delivery_count: headers::delivery_count(headers_table),
            headers: headers::string_headers(headers_table),
        };
        let span = tracing::info_span!(
            "consume",
            otel.name = %format!("consume {}", message.routing_key),
            otel.kind = "consumer",
            consumer = %self.spec.name,
            routing_key = %message.routing_key,
            message_id = %message.message_id,
            delivery_count = message.delivery_count,
        );
        propagation::set_parent_from_map(&span, &message.headers);
        let outcome = self
            .apply_patiently(&message, shutdown)
            .instrument(span.clone())
            .await;
        let consumer = self.spec.name.clone();
        // The acknowledgement awaits: the span is attached to the future, never entered across
        // an await (a guard held over an await corrupts the span registry). It is bounded like
        // every broker wait: an acknowledgement lost on a stalled link would otherwise hold the
        // consumer, and its watchdog, forever; the message, unacknowledged, comes back and the
        // inbox recognises it.
        async move {
            match outcome {
                Outcome::Done => {
                    metrics::counter!("consumer_processed_total", "consumer" => consumer)
                        .increment(1);
                    bounded("acknowledging", delivery.ack(BasicAckOptions::default())).await?;
                }
                Outcome::Duplicate => {
                    metrics::counter!("consumer_duplicates_total", "consumer" => consumer)
                        .increment(1);
                    tracing::debug!("duplicate delivery acknowledged without effect");
                    bounded("acknowledging", delivery.ack(BasicAckOptions::default())).await?;
                }
                Outcome::Retry(reason) => {
                    metrics::counter!("consumer_redeliveries_total", "consumer" => consumer)
                        .increment(1);
                    tracing::warn!(%reason, "handler failed; the message will be redelivered");
                    bounded(
                        "giving a message back",
                        delivery.nack(BasicNackOptions {
                            requeue: true,
                            ..Default::default()
                        }),
                    )
                    .await?;
                }
                Outcome::DeadLetter(reason) => {
                    metrics::counter!("consumer_dead_letters_total", "consumer" => consumer)
                        .increment(1);
                    tracing::error!(%reason, "message dead-lettered");
                    bounded(
                        "dead-lettering a message",
                        delivery.reject(BasicRejectOptions { requeue: false }),
                    )
                    .await?;
                }
            }
            anyhow::Ok(())
        }
        .instrument(span)
        .await
    }

    /// A transient failure (a dependency down or restarting) is retried here with backoff,
    /// holding the message, for up to the spec's `patience`; only then does the message go back to the
    /// broker, where each redelivery counts towards the delivery limit. Requeued at once, a
    /// message would use up its deliveries in milliseconds and be dead-lettered while the
    /// dependency restarts.
    async fn apply_patiently(&self, message: &Incoming, shutdown: &CancellationToken) -> Outcome {
        let started = std::time::Instant::now();
        let mut backoff = Backoff::new();
        loop {
            let outcome = self.apply(message).await;
            match &outcome {
                Outcome::Retry(reason) if started.elapsed() < self.spec.patience => {
                    tracing::warn!(%reason, "handler failed; retrying in place");
                    if backoff.sleep(shutdown).await {
                        return outcome;
                    }
                }
                _ => return outcome,
            }
        }
    }

    async fn apply(&self, message: &Incoming) -> Outcome {
        if message.message_id.is_empty() {
            return Outcome::DeadLetter("message without message_id".into());
        }
        let mut tx = match self.pool.begin().await {
            Ok(tx) => tx,
            Err(e) => return Outcome::Retry(format!("database unavailable: {e}")),
        };
        let inserted = sqlx::query(
            "INSERT INTO kit_inbox (consumer, message_id, routing_key) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&self.spec.name)
        .bind(&message.message_id)
        .bind(&message.routing_key)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(r) if r.rows_affected() == 0 => return Outcome::Duplicate,
            Ok(_) => {}
            Err(e) => return Outcome::Retry(format!("inbox insert failed: {e}")),
        }
        match self.handler.handle(&mut tx, message).await {
            Ok(()) => match tx.commit().await {
                Ok(()) => Outcome::Done,
                Err(e) => Outcome::Retry(format!("commit failed: {e}")),
            },
            Err(HandleError::Transient(e)) => Outcome::Retry(format!("{e:#}")),
            Err(HandleError::Permanent(e)) => Outcome::DeadLetter(format!("{e:#}")),
        }
    }
}
