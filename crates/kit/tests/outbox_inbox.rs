//! The outbox and the inbox against the real PostgreSQL and RabbitMQ: nothing lost, nothing
//! applied twice, poison messages dead-lettered while the rest keeps flowing.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use conoceles_kit::amqp::{
    Broker, Consumer, ConsumerSpec, HandleError, Handler, Incoming, OutboxRelay, enqueue,
    pending_count,
};
use conoceles_kit::testing::{self, TcpProxy, TestDatabase};
use lapin::options::{BasicGetOptions, BasicPublishOptions};
use lapin::{BasicProperties, Connection, ConnectionProperties};
use sqlx::{PgConnection, PgPool};
use tokio_util::sync::CancellationToken;

/// Applies each message by inserting a row into `effects`, which has no unique constraint: a
/// second application of the same message would show as a second row.
struct RecordEffect;

/// Fails as a handler does while its dependency restarts: transiently, until `up_at`.
struct DependencyRestarting {
    up_at: Instant,
}

#[async_trait::async_trait]
impl Handler for DependencyRestarting {
    async fn handle(&self, tx: &mut PgConnection, message: &Incoming) -> Result<(), HandleError> {
        if Instant::now() < self.up_at {
            return Err(HandleError::Transient(anyhow::anyhow!(
                "connection refused (the dependency is restarting)"
            )));
        }
        RecordEffect.handle(tx, message).await
    }
}

#[async_trait::async_trait]
impl Handler for RecordEffect {
    async fn handle(&self, tx: &mut PgConnection, message: &Incoming) -> Result<(), HandleError> {
        if message.payload == b"poison" {
            return Err(HandleError::Transient(anyhow::anyhow!(
                "this message always fails"
            )));
        }
        sqlx::query("INSERT INTO effects (message_id, payload) VALUES ($1, $2)")
            .bind(&message.message_id)
            .bind(String::from_utf8_lossy(&message.payload).into_owned())
            .execute(&mut *tx)
            .await?;
        Ok(())
    }
}

async fn effects_table(pool: &PgPool) {
    sqlx::query("CREATE TABLE effects (message_id TEXT NOT NULL, payload TEXT NOT NULL)")
        .execute(pool)
        .await
        .unwrap();
}

async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !condition().await {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn broker_addr() -> SocketAddr {
    let url = testing::amqp_url();
    let host_port = url
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("127.0.0.1:5672");
    host_port.parse().expect("TEST_AMQP_URL has host:port")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_events_survive_broker_connection_cuts_exactly_once() {
    let namespace = testing::unique("t-outbox");
    let consumer_name = "effects";
    let (producer_db, producer_pool) = TestDatabase::create("producer").await;
    let (consumer_db, consumer_pool) = TestDatabase::create("consumer").await;
    effects_table(&consumer_pool).await;

    // The producer reaches the broker through a proxy the test can cut.
    let proxy = TcpProxy::start(broker_addr()).await;
    let vhost = testing::amqp_url().rsplit('/').next().unwrap().to_string();
    let proxied_url = format!("amqp://guest:guest@{}/{vhost}", proxy.addr());
    let producer_broker = Broker::new(proxied_url.into(), &namespace, "test-producer");
    let consumer_broker = Broker::new(testing::amqp_url().into(), &namespace, "test-consumer");

    let consumer = Consumer::new(
        consumer_pool.clone(),
        consumer_broker.clone(),
        ConsumerSpec::new(consumer_name, &["test.#"]),
        RecordEffect,
    );
    consumer.declare().await.unwrap();
    let stop = CancellationToken::new();
    let consumer_task = tokio::spawn(consumer.run(stop.clone()));
    let relay_task = tokio::spawn(
        OutboxRelay::new(producer_pool.clone(), producer_broker.clone())
            .with_batch_size(50)
            .run(stop.clone()),
    );

    // 1,000 events, one business transaction each, enqueued steadily while the broker
    // connection is cut twice; events keep being written during the cuts.
    let producer = tokio::spawn({
        let pool = producer_pool.clone();
        async move {
            for n in 0..1000 {
                let mut tx = pool.begin().await.unwrap();
                enqueue(
                    &mut tx,
                    "test.created",
                    "test.Event",
                    format!("event-{n}").as_bytes(),
                )
                .await
                .unwrap();
                tx.commit().await.unwrap();
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
        }
    });
    let mut waiting_during_cuts = Vec::new();
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(800)).await;
        proxy.cut();
        tokio::time::sleep(Duration::from_millis(700)).await;
        waiting_during_cuts.push(pending_count(&producer_pool).await.unwrap());
        proxy.restore();
    }
    producer.await.unwrap();
    assert!(
        waiting_during_cuts.iter().all(|&n| n > 0),
        "events were held in the outbox while the broker was unreachable: {waiting_during_cuts:?}"
    );

    wait_until("every event applied", Duration::from_secs(90), || async {
        let applied: i64 = sqlx::query_scalar("SELECT count(DISTINCT message_id) FROM effects")
            .fetch_one(&consumer_pool)
            .await
            .unwrap();
        applied == 1000 && pending_count(&producer_pool).await.unwrap() == 0
    })
    .await;

    assert_eq!(proxy.cuts(), 2, "the broker connection was cut twice");
    assert!(
        proxy.connections() >= 3,
        "the relay reconnected after each cut ({} connections)",
        proxy.connections()
    );
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM effects")
        .fetch_one(&consumer_pool)
        .await
        .unwrap();
    assert_eq!(total, 1000, "every effect applied exactly once");
    let distinct_payloads: i64 = sqlx::query_scalar("SELECT count(DISTINCT payload) FROM effects")
        .fetch_one(&consumer_pool)
        .await
        .unwrap();
    assert_eq!(distinct_payloads, 1000, "no event lost");
    assert_eq!(pending_count(&producer_pool).await.unwrap(), 0);

    // A redelivered copy of an applied message changes nothing: publish a duplicate, then a
    // sentinel behind it in the same queue; once the sentinel is applied, the duplicate was seen.
    let already: String = sqlx::query_scalar("SELECT message_id FROM effects LIMIT 1")
        .fetch_one(&consumer_pool)
        .await
        .unwrap();
    let conn = Connection::connect(&testing::amqp_url(), ConnectionProperties::default())
        .await
        .unwrap();
    let channel = conn.create_channel().await.unwrap();
    for (id, body) in [(already.as_str(), "duplicate"), ("sentinel-1", "sentinel")] {
        channel
            .basic_publish(
                format!("{namespace}.events").into(),
                "test.created".into(),
                BasicPublishOptions::default(),
                body.as_bytes(),
                BasicProperties::default().with_message_id(id.into()),
            )
            .await
            .unwrap();
    }
    wait_until("the sentinel", Duration::from_secs(20), || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM effects WHERE payload = 'sentinel'")
            .fetch_one(&consumer_pool)
            .await
            .unwrap()
            == 1
    })
    .await;
    let duplicates: i64 =
        sqlx::query_scalar("SELECT count(*) FROM effects WHERE payload = 'duplicate'")
            .fetch_one(&consumer_pool)
            .await
            .unwrap();
    assert_eq!(duplicates, 0, "a duplicate message_id has no effect");

    stop.cancel();
    consumer_task.await.unwrap();
    relay_task.await.unwrap();
    let _ = conn.close(200, "done".into()).await;
    producer_broker.close().await;
    consumer_broker.close().await;
    producer_pool.close().await;
    consumer_pool.close().await;
    testing::delete_namespace(&namespace, &[consumer_name]).await;
    producer_db.drop_database().await;
    consumer_db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_message_is_dead_lettered_and_the_others_flow() {
    let namespace = testing::unique("t-poison");
    let consumer_name = "effects";
    let (db, pool) = TestDatabase::create("poison").await;
    effects_table(&pool).await;
    let broker = Broker::new(testing::amqp_url().into(), &namespace, "test-poison");
    let consumer = Consumer::new(
        pool.clone(),
        broker.clone(),
        ConsumerSpec::new(consumer_name, &["test.#"])
            .with_delivery_limit(2)
            .with_patience(Duration::from_millis(300)),
        RecordEffect,
    );
    consumer.declare().await.unwrap();
    let stop = CancellationToken::new();
    let consumer_task = tokio::spawn(consumer.run(stop.clone()));
    let relay_task = tokio::spawn(OutboxRelay::new(pool.clone(), broker.clone()).run(stop.clone()));

    let mut tx = pool.begin().await.unwrap();
    enqueue(&mut tx, "test.created", "test.Event", b"good-1")
        .await
        .unwrap();
    let poison_id = enqueue(&mut tx, "test.created", "test.Event", b"poison")
        .await
        .unwrap();
    for n in 2..=5 {
        enqueue(
            &mut tx,
            "test.created",
            "test.Event",
            format!("good-{n}").as_bytes(),
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();

    let topology = broker.topology().clone();
    let dead_queue = topology.dead_letter_queue(consumer_name);
    let conn = Connection::connect(&testing::amqp_url(), ConnectionProperties::default())
        .await
        .unwrap();
    let channel = conn.create_channel().await.unwrap();
    let started = Instant::now();
    let dead = loop {
        if let Some(message) = channel
            .basic_get(dead_queue.as_str().into(), BasicGetOptions { no_ack: true })
            .await
            .unwrap()
        {
            break message;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out waiting for the poison message in the dead-letter queue"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(dead.delivery.data, b"poison");
    assert_eq!(
        dead.delivery
            .properties
            .message_id()
            .as_ref()
            .map(|m| m.to_string()),
        Some(poison_id.to_string())
    );

    wait_until("the good messages", Duration::from_secs(30), || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM effects")
            .fetch_one(&pool)
            .await
            .unwrap()
            == 5
    })
    .await;
    let poison_effects: i64 =
        sqlx::query_scalar("SELECT count(*) FROM effects WHERE payload = 'poison'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(poison_effects, 0);

    // The consumer is still alive and consuming after the poison message.
    let mut tx = pool.begin().await.unwrap();
    enqueue(&mut tx, "test.created", "test.Event", b"after")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    wait_until(
        "a message after the poison one",
        Duration::from_secs(30),
        || async {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM effects WHERE payload = 'after'")
                .fetch_one(&pool)
                .await
                .unwrap()
                == 1
        },
    )
    .await;

    stop.cancel();
    consumer_task.await.unwrap();
    relay_task.await.unwrap();
    let _ = conn.close(200, "done".into()).await;
    broker.close().await;
    pool.close().await;
    testing::delete_namespace(&namespace, &[consumer_name]).await;
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_waits_out_a_dependency_restart_instead_of_using_up_its_deliveries() {
    let namespace = testing::unique("t-patience");
    let consumer_name = "effects";
    let (db, pool) = TestDatabase::create("patience").await;
    effects_table(&pool).await;
    let broker = Broker::new(testing::amqp_url().into(), &namespace, "test-patience");
    // Two deliveries at most, and the dependency down for 3 s: requeued at once, the message
    // would be dead-lettered within milliseconds.
    let consumer = Consumer::new(
        pool.clone(),
        broker.clone(),
        ConsumerSpec::new(consumer_name, &["test.#"]).with_delivery_limit(2),
        DependencyRestarting {
            up_at: Instant::now() + Duration::from_secs(3),
        },
    );
    consumer.declare().await.unwrap();
    let stop = CancellationToken::new();
    let consumer_task = tokio::spawn(consumer.run(stop.clone()));
    let relay_task = tokio::spawn(OutboxRelay::new(pool.clone(), broker.clone()).run(stop.clone()));
    let mut tx = pool.begin().await.unwrap();
    enqueue(&mut tx, "test.created", "test.Event", b"submitted")
        .await
        .unwrap();
    tx.commit().await.unwrap();

    wait_until("the message applied", Duration::from_secs(30), || async {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM effects")
            .fetch_one(&pool)
            .await
            .unwrap()
            == 1
    })
    .await;
    let conn = Connection::connect(&testing::amqp_url(), ConnectionProperties::default())
        .await
        .unwrap();
    let channel = conn.create_channel().await.unwrap();
    let dead = channel
        .basic_get(
            broker
                .topology()
                .dead_letter_queue(consumer_name)
                .as_str()
                .into(),
            BasicGetOptions { no_ack: true },
        )
        .await
        .unwrap();
    assert!(dead.is_none(), "nothing dead-lettered");

    stop.cancel();
    consumer_task.await.unwrap();
    relay_task.await.unwrap();
    let _ = conn.close(200, "done".into()).await;
    broker.close().await;
    pool.close().await;
    testing::delete_namespace(&namespace, &[consumer_name]).await;
    db.drop_database().await;
}
