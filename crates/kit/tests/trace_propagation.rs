//! One trace id follows a unit of work across a gRPC call and an AMQP message: the caller's
//! span, the gRPC server span, and the consumer span that handles the event it published.

use std::time::{Duration, Instant};

use conoceles_kit::amqp::{Consumer, ConsumerSpec, HandleError, Handler, Incoming, enqueue};
use conoceles_kit::testing::{self, TestDatabase};
use conoceles_kit::{Infrastructure, ServiceName, ServiceServer};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
use sqlx::PgConnection;
use sqlx::migrate::Migrator;
use tokio::sync::mpsc;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;
use tracing::Instrument;

static NO_MIGRATIONS: Migrator = Migrator::DEFAULT;

/// Reports the trace id it runs under.
struct ReportTrace(mpsc::UnboundedSender<Option<String>>);

#[async_trait::async_trait]
impl Handler for ReportTrace {
    async fn handle(&self, _tx: &mut PgConnection, _message: &Incoming) -> Result<(), HandleError> {
        let _ = self.0.send(conoceles_kit::telemetry::current_trace_id());
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_spans_a_grpc_call_and_an_amqp_message() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let _telemetry = conoceles_kit::telemetry::init_with_provider("test", provider.clone());

    let namespace = testing::unique("t-trace");
    let db = TestDatabase::named("trace");
    let config = testing::service_config(ServiceName::Validation, &db.url, &namespace);
    let infra = Infrastructure::connect(&config, &NO_MIGRATIONS)
        .await
        .unwrap();
    let (sender, mut traces) = mpsc::unbounded_channel();
    let consumer = Consumer::new(
        infra.pool.clone(),
        infra.broker.clone(),
        ConsumerSpec::new("traced", &["test.traced"]),
        ReportTrace(sender),
    );
    consumer.declare().await.unwrap();
    let pool = infra.pool.clone();
    let running = ServiceServer::new(&config, infra)
        .with_outbox_relay()
        .worker("consumer", move |token| consumer.run(token))
        .bind()
        .await
        .unwrap();
    let grpc_url = format!("http://{}", running.grpc_addr());
    let shutdown = running.shutdown();
    let server = tokio::spawn(running.run_until_stopped());

    let root = tracing::info_span!("test-root");
    let root_trace = async {
        let root_trace = conoceles_kit::telemetry::current_trace_id().expect("a trace id");
        let channel = conoceles_kit::grpc::channel(&grpc_url).unwrap();
        let mut health = HealthClient::with_interceptor(
            channel,
            conoceles_kit::telemetry::propagation::grpc_client_interceptor,
        );
        health
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .unwrap();
        let mut tx = pool.begin().await.unwrap();
        enqueue(&mut tx, "test.traced", "test.Event", b"hello")
            .await
            .unwrap();
        tx.commit().await.unwrap();
        root_trace
    }
    .instrument(root)
    .await;

    let consumer_trace = tokio::time::timeout(Duration::from_secs(30), traces.recv())
        .await
        .expect("the consumer handled the event")
        .unwrap();
    assert_eq!(consumer_trace.as_deref(), Some(root_trace.as_str()));

    // The exported spans: the gRPC server span and the consumer span share the root's trace.
    let started = Instant::now();
    let (grpc_span, consume_span) = loop {
        let spans = exporter.get_finished_spans().unwrap();
        let find = |name: &str| {
            spans.iter().find(|s| s.name == name).map(|s| {
                (
                    s.span_context.trace_id().to_string(),
                    s.parent_span_is_remote,
                )
            })
        };
        if let (Some(g), Some(c)) = (
            find("grpc.health.v1.Health/Check"),
            find("consume test.traced"),
        ) {
            break (g, c);
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "spans not exported: {:?}",
            spans.iter().map(|s| s.name.to_string()).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(grpc_span, (root_trace.clone(), true), "gRPC server span");
    assert_eq!(consume_span, (root_trace.clone(), true), "consumer span");

    shutdown.trigger();
    server.await.unwrap().unwrap();
    testing::delete_namespace(&namespace, &["traced"]).await;
    db.drop_database().await;
}
