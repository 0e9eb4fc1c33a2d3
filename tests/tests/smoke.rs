//! The six service binaries start on free ports against fresh databases, report ready, answer
//! gRPC health, and stop within 10 s of SIGTERM.

use std::time::{Duration, Instant};

use conoceles_e2e::{SERVICES, ServiceProcess};
use conoceles_kit::testing::{self, TestDatabase};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_services_start_report_ready_and_stop_on_sigterm() {
    let namespace = testing::unique("t-smoke");
    let databases: Vec<TestDatabase> = SERVICES
        .iter()
        .map(|name| TestDatabase::named(&format!("smoke_{name}")))
        .collect();
    let mut processes: Vec<ServiceProcess> = SERVICES
        .iter()
        .zip(&databases)
        .map(|(name, db)| {
            ServiceProcess::start(
                name,
                &[
                    ("DATABASE_URL", db.url.clone()),
                    ("AMQP_URL", testing::amqp_url()),
                    ("AMQP_NAMESPACE", namespace.clone()),
                    ("REDIS_URL", testing::redis_url()),
                    ("REDIS_KEY_PREFIX", format!("{namespace}:{name}:")),
                ],
            )
        })
        .collect();

    let client = reqwest::Client::new();
    for process in &processes {
        let url = format!("http://{}/readyz", process.ops);
        let started = Instant::now();
        loop {
            let status = client
                .get(&url)
                .send()
                .await
                .map(|r| r.status().as_u16())
                .ok();
            if status == Some(200) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{} not ready: {status:?}",
                process.name
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let channel = conoceles_kit::grpc::channel(&format!("http://{}", process.grpc)).unwrap();
        let answer = HealthClient::new(channel)
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .unwrap_or_else(|e| panic!("{} gRPC health: {e}", process.name))
            .into_inner();
        assert_eq!(answer.status(), ServingStatus::Serving, "{}", process.name);
    }

    for process in &mut processes {
        let started = Instant::now();
        let status = process
            .terminate(Duration::from_secs(10))
            .unwrap_or_else(|| panic!("{} did not stop within 10 s of SIGTERM", process.name));
        assert!(status.success(), "{} exited with {status}", process.name);
        let log = process.drain_log();
        assert!(
            log.iter().any(|line| line.contains("\"stopped\"")),
            "{} logged its orderly stop (took {:?})",
            process.name,
            started.elapsed()
        );
    }

    for db in &databases {
        db.drop_database().await;
    }
    testing::delete_namespace(&namespace, &[]).await;
}
