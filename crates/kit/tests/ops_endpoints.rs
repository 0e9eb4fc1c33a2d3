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

/// The request metrics count every answer at the outermost layer: a page a cache answers before
/// routing (a 304 here), a request shed under load, a path of no route, and the routed page
/// with its route's label.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_is_counted_even_those_given_before_routing() {
    use axum::routing::get;
    let namespace = testing::unique("t-ops-count");
    let db = TestDatabase::named("opscount");
    let config = testing::service_config(ServiceName::Publication, &db.url, &namespace);
    let infra = Infrastructure::connect(&config, &NO_MIGRATIONS)
        .await
        .unwrap();
    // A stand-in for the page cache and the load shedder, both outside the routes.
    let before_routing = |request: axum::extract::Request, next: axum::middleware::Next| async move {
        if request.headers().contains_key("if-none-match") {
            return http::StatusCode::NOT_MODIFIED.into_response();
        }
        if request.headers().contains_key("x-shed") {
            return http::StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        next.run(request).await
    };
    use axum::response::IntoResponse;
    let site = axum::Router::new()
        .route("/candidaturas/{id}", get(|| async { "perfil" }))
        .route_layer(axum::middleware::from_fn(
            conoceles_kit::http::trace_requests,
        ))
        .layer(axum::middleware::from_fn(before_routing));
    let running = ServiceServer::new(&config, infra)
        .http(site)
        .bind()
        .await
        .unwrap();
    let ops = format!("http://{}", running.ops_addr());
    let site = format!("http://{}", running.http_addr().unwrap());
    let shutdown = running.shutdown();
    let server = tokio::spawn(running.run_until_stopped());

    let client = reqwest::Client::new();
    for (path, header, expected) in [
        ("/candidaturas/1", None, 200),
        ("/candidaturas/2", None, 200),
        ("/candidaturas/1", Some(("if-none-match", "\"a\"")), 304),
        ("/candidaturas/1", Some(("x-shed", "1")), 503),
        ("/no-existe", None, 404),
    ] {
        let mut request = client.get(format!("{site}{path}"));
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
        assert_eq!(request.send().await.unwrap().status(), expected, "{path}");
    }
    let metrics = reqwest::get(format!("{ops}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let count = |route: &str, status: &str| {
        let series =
            format!("http_requests_total{{method=\"GET\",route=\"{route}\",status=\"{status}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(series.as_str()))
            .unwrap_or_else(|| panic!("no {series}in:\n{metrics}"))
            .trim()
            .to_string()
    };
    assert_eq!(count("/candidaturas/{id}", "200"), "2");
    assert_eq!(count("unrouted", "304"), "1");
    assert_eq!(count("unrouted", "503"), "1");
    assert_eq!(count("unrouted", "404"), "1");

    shutdown.trigger();
    server.await.unwrap().unwrap();
    db.drop_database().await;
    testing::delete_namespace(&namespace, &[]).await;
}
