//! The ops port and gRPC health of a service built on kit, against the real servers.

use std::time::Duration;

use conoceles_kit::testing::{self, TestDatabase};
use conoceles_kit::{Infrastructure, ServiceConfig, ServiceName, ServiceServer};
use sqlx::migrate::Migrator;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

static NO_MIGRATIONS: Migrator = Migrator::DEFAULT;

async fn readyz(base: &str) -> (u16, serde_json::Value) {
    let response = reqwest::get(format!("{base}/readyz")).await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_creates_its_database_and_reports_ready_then_stops() {
    let namespace = testing::unique("t-ops");
    let db = TestDatabase::named("ops");
    let config = testing::service_config(ServiceName::Auth, &db.url, &namespace);
    let infra = Infrastructure::connect(&config, &NO_MIGRATIONS)
        .await
        .unwrap();

    // The database did not exist: connecting created it, with the messaging tables.
    let outbox: Option<String> = sqlx::query_scalar("SELECT to_regclass('kit_outbox')::text")
        .fetch_one(&infra.pool)
        .await
        .unwrap();
    assert_eq!(outbox.as_deref(), Some("kit_outbox"));

    let running = ServiceServer::new(&config, infra).bind().await.unwrap();
    let ops = format!("http://{}", running.ops_addr());
    let grpc = format!("http://{}", running.grpc_addr());
    let shutdown = running.shutdown();
    let server = tokio::spawn(running.run_until_stopped());

    let healthz = reqwest::get(format!("{ops}/healthz")).await.unwrap();
    assert_eq!(healthz.status(), 200);
    let (status, body) = readyz(&ops).await;
    assert_eq!(status, 200, "{body}");
    let names: Vec<&str> = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["database", "broker", "cache"]);

    let metrics = reqwest::get(format!("{ops}/metrics")).await.unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(
        metrics.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );

    let mut health = HealthClient::new(conoceles_kit::grpc::channel(&grpc).unwrap());
    let answer = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.status(), ServingStatus::Serving);

    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("stops within the grace period")
        .unwrap()
        .unwrap();
    assert!(
        reqwest::get(format!("{ops}/healthz")).await.is_err(),
        "the ops port is closed after shutdown"
    );
    db.drop_database().await;
    testing::delete_namespace(&namespace, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_fails_and_names_the_dependency_that_is_down() {
    let namespace = testing::unique("t-ops-down");
    let db = TestDatabase::named("opsdown");
    let base = testing::service_config(ServiceName::Identity, &db.url, &namespace);
    // Nothing listens on port 1: the cache is "down".
    let config = ServiceConfig {
        redis_url: "redis://127.0.0.1:1/".to_string().into(),
        ..base
    };
    let infra = Infrastructure::connect(&config, &NO_MIGRATIONS)
        .await
        .unwrap();
    let running = ServiceServer::new(&config, infra).bind().await.unwrap();
    let ops = format!("http://{}", running.ops_addr());
    let shutdown = running.shutdown();
    let server = tokio::spawn(running.run_until_stopped());

    let (status, body) = readyz(&ops).await;
    assert_eq!(status, 503, "{body}");
    let failing: Vec<&str> = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(failing, ["cache"]);

    shutdown.trigger();
    server.await.unwrap().unwrap();
    db.drop_database().await;
    testing::delete_namespace(&namespace, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_that_serves_without_the_broker_and_the_cache_stays_ready_and_says_they_are_down()
{
    let namespace = testing::unique("t-ops-degraded");
    let db = TestDatabase::named("opsdegraded");
    let base = testing::service_config(ServiceName::Publication, &db.url, &namespace);
    // Nothing listens on port 1: broker and cache are "down".
    let config = ServiceConfig {
        redis_url: "redis://127.0.0.1:1/".to_string().into(),
        amqp_url: "amqp://guest:guest@127.0.0.1:1/%2f".to_string().into(),
        ..base
    };
    let infra = Infrastructure::connect(&config, &NO_MIGRATIONS)
        .await
        .unwrap();
    let running = ServiceServer::new(&config, infra)
        .serves_without(&["broker", "cache"])
        .bind()
        .await
        .unwrap();
    let ops = format!("http://{}", running.ops_addr());
    let shutdown = running.shutdown();
    let server = tokio::spawn(running.run_until_stopped());

    let (status, body) = readyz(&ops).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ready"], true);
    let down: Vec<(&str, bool)> = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| {
            (
                c["name"].as_str().unwrap(),
                c["required"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(down, [("broker", false), ("cache", false)]);

    shutdown.trigger();
    server.await.unwrap().unwrap();
    db.drop_database().await;
}
