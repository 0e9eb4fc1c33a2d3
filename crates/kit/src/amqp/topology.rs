//! Names and declarations of exchanges and queues, derived from one namespace so tests can run
//! side by side on the same broker (`AMQP_NAMESPACE`).

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{Channel, ExchangeKind};

#[derive(Debug, Clone)]
pub struct Topology {
    namespace: String,
}

impl Topology {
    pub fn new(namespace: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
        }
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The topic exchange every event is published to (`conoceles.events`).
    pub fn events_exchange(&self) -> String {
        format!("{}.events", self.namespace)
    }

    /// Where consumers' queues dead-letter poison messages (`conoceles.dead`).
    pub fn dead_exchange(&self) -> String {
        format!("{}.dead", self.namespace)
    }

    /// Alternate exchange of the events exchange: a message no queue is bound for is kept here
    /// instead of being dropped.
    pub fn unroutable_exchange(&self) -> String {
        format!("{}.unroutable", self.namespace)
    }

    pub fn unroutable_queue(&self) -> String {
        self.unroutable_exchange()
    }

    pub fn consumer_queue(&self, consumer: &str) -> String {
        format!("{}.{consumer}", self.namespace)
    }

    pub fn dead_letter_queue(&self, consumer: &str) -> String {
        format!("{}.{consumer}.dead", self.namespace)
    }

    /// Declares the exchanges (idempotent; every producer and consumer calls it on connect).
    pub async fn declare_exchanges(&self, channel: &Channel) -> lapin::Result<()> {
        let durable = ExchangeDeclareOptions {
            durable: true,
            ..Default::default()
        };
        channel
            .exchange_declare(
                self.unroutable_exchange().into(),
                ExchangeKind::Fanout,
                durable,
                FieldTable::default(),
            )
            .await?;
        channel
            .queue_declare(
                self.unroutable_queue().into(),
                QueueDeclareOptions::durable(),
                quorum_arguments(None),
            )
            .await?;
        channel
            .queue_bind(
                self.unroutable_queue().into(),
                self.unroutable_exchange().into(),
                "".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        let mut events_args = FieldTable::default();
        events_args.insert(
            "alternate-exchange".into(),
            AMQPValue::LongString(LongString::from(self.unroutable_exchange())),
        );
        channel
            .exchange_declare(
                self.events_exchange().into(),
                ExchangeKind::Topic,
                durable,
                events_args,
            )
            .await?;
        channel
            .exchange_declare(
                self.dead_exchange().into(),
                ExchangeKind::Topic,
                durable,
                FieldTable::default(),
            )
            .await?;
        Ok(())
    }

    /// Declares a consumer's quorum queue (delivery limit, dead-lettering to its own
    /// dead-letter queue) bound to `routing_keys`.
    pub async fn declare_consumer(
        &self,
        channel: &Channel,
        consumer: &str,
        routing_keys: &[String],
        delivery_limit: i32,
    ) -> lapin::Result<()> {
        self.declare_exchanges(channel).await?;
        let dead_queue = self.dead_letter_queue(consumer);
        channel
            .queue_declare(
                dead_queue.as_str().into(),
                QueueDeclareOptions::durable(),
                quorum_arguments(None),
            )
            .await?;
        channel
            .queue_bind(
                dead_queue.as_str().into(),
                self.dead_exchange().into(),
                consumer.into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        let queue = self.consumer_queue(consumer);
        let mut args = quorum_arguments(Some(delivery_limit));
        args.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString(LongString::from(self.dead_exchange())),
        );
        args.insert(
            "x-dead-letter-routing-key".into(),
            AMQPValue::LongString(LongString::from(consumer)),
        );
        channel
            .queue_declare(queue.as_str().into(), QueueDeclareOptions::durable(), args)
            .await?;
        for key in routing_keys {
            channel
                .queue_bind(
                    queue.as_str().into(),
                    self.events_exchange().into(),
                    key.as_str().into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
        }
        Ok(())
    }
}

fn quorum_arguments(delivery_limit: Option<i32>) -> FieldTable {
    let mut args = FieldTable::default();
    args.insert(
        "x-queue-type".into(),
        AMQPValue::LongString(LongString::from("quorum")),
    );
    if let Some(limit) = delivery_limit {
        args.insert("x-delivery-limit".into(), AMQPValue::LongInt(limit));
    }
    args
}
