//! RabbitMQ (DESIGN §5): one durable topic exchange for events and a dead-letter exchange,
//! quorum queues with a delivery limit, a transactional outbox relayed with publisher confirms,
//! and idempotent consumers backed by an inbox table.

mod backoff;
mod broker;
mod consumer;
mod deadline;
mod headers;
mod outbox;
mod relay;
mod topology;

pub use broker::Broker;
pub use consumer::{Consumer, ConsumerSpec, HandleError, Handler, Incoming};
pub use deadline::BROKER_WAIT;
pub use outbox::{enqueue, enqueue_event, enqueue_many, pending_count};
pub use relay::OutboxRelay;
pub use topology::Topology;

/// `content_type` of every event payload.
pub const PROTOBUF_CONTENT_TYPE: &str = "application/protobuf";
