//! What "nothing lost" rests on, asserted against the real servers: PostgreSQL writes through
//! (`fsync`, `synchronous_commit`, `full_page_writes` on), the broker's queues are durable, and
//! the relay publishes persistent messages.

use std::time::{Duration, Instant};

use conoceles_kit::amqp::{
    Broker, Consumer, ConsumerSpec, HandleError, Handler, Incoming, OutboxRelay, enqueue,
};
use conoceles_kit::testing::{self, TestDatabase};
use lapin::options::BasicGetOptions;
use sqlx::PgConnection;
use tokio_util::sync::CancellationToken;

struct Nothing;

#[async_trait::async_trait]
impl Handler for Nothing {
    async fn handle(&self, _tx: &mut PgConnection, _message: &Incoming) -> Result<(), HandleError> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_syncs_queues_are_durable_and_messages_persistent() {
    let (db, pool) = TestDatabase::create("durability").await;
    for setting in ["fsync", "synchronous_commit", "full_page_writes"] {
        let value: String = sqlx::query_scalar(&format!("SHOW {setting}"))
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(value, "on", "PostgreSQL {setting}");
    }

    let namespace = testing::unique("t-durable");
    let broker = Broker::new(testing::amqp_url().into(), &namespace, "test-durability");
    let consumer = Consumer::new(
        pool.clone(),
        broker.clone(),
        ConsumerSpec::new("durable", &["test.kept"]),
        Nothing,
    );
    consumer.declare().await.unwrap();
    // A message nobody is bound for lands in the unroutable queue: read it there as it left.
    let mut tx = pool.begin().await.unwrap();
    enqueue(&mut tx, "test.unbound", "test.Event", b"kept")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let stop = CancellationToken::new();
    let relay = tokio::spawn(OutboxRelay::new(pool.clone(), broker.clone()).run(stop.clone()));
    let channel = broker.channel().await.unwrap();
    let queue = broker.topology().unroutable_queue();
    let started = Instant::now();
    let delivery = loop {
        if let Ok(Some(message)) = channel
            .basic_get(queue.as_str().into(), BasicGetOptions { no_ack: true })
            .await
        {
            break message.delivery;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the message never arrived"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(delivery.properties.delivery_mode(), &Some(2), "persistent");
    stop.cancel();
    relay.await.unwrap();

    // Every queue of the namespace is durable (asked of the broker itself).
    let listed = std::process::Command::new("rabbitmqctl")
        .args([
            "list_queues",
            "-q",
            "-p",
            "conoceles-test",
            "name",
            "durable",
        ])
        .output();
    if let Ok(out) = listed
        && out.status.success()
    {
        let text = String::from_utf8_lossy(&out.stdout);
        let ours: Vec<&str> = text.lines().filter(|l| l.starts_with(&namespace)).collect();
        assert!(ours.len() >= 3, "queues of the namespace: {text}");
        for line in ours {
            assert!(line.trim_end().ends_with("true"), "not durable: {line}");
        }
    } else {
        panic!("rabbitmqctl is needed to ask the broker about its queues");
    }
    testing::delete_namespace(&namespace, &["durable"]).await;
    db.drop_database().await;
}
