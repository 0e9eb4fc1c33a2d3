//! A `dns:///` address spreads a client's calls over every backend its name resolves to, and
//! follows the backends as they come and go.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tonic::transport::Endpoint;
use tonic_health::ServingStatus;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus as Answer;
use tonic_health::pb::health_client::HealthClient;

/// A gRPC backend whose health for the service `who` tells which backend answered: the first
/// says SERVING, the second NOT_SERVING.
async fn backend(status: ServingStatus) -> SocketAddr {
    let (reporter, service) = tonic_health::server::health_reporter();
    reporter.set_service_status("who", status).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _reporter = reporter;
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await
            .unwrap();
    });
    address
}

fn endpoint(url: String) -> anyhow::Result<Endpoint> {
    Ok(Endpoint::from_shared(url)?.timeout(Duration::from_secs(2)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_are_spread_over_every_resolved_backend_and_follow_the_answer() {
    let first = backend(ServingStatus::Serving).await;
    let second = backend(ServingStatus::NotServing).await;
    let answer = Arc::new(Mutex::new(HashSet::from([first, second])));
    let resolver = answer.clone();
    let channel = conoceles_kit::grpc::balance::balanced(
        move || {
            let found = resolver.lock().unwrap().clone();
            async move { Ok(found) }
        },
        "backends".into(),
        endpoint,
        Duration::from_millis(100),
    );
    let mut client = HealthClient::new(channel);
    let mut ask = async move |calls: usize| {
        let mut seen = HashSet::new();
        for _ in 0..calls {
            let status = client
                .check(HealthCheckRequest {
                    service: "who".into(),
                })
                .await
                .unwrap()
                .into_inner()
                .status();
            seen.insert(status);
        }
        seen
    };
    assert_eq!(
        ask(40).await,
        HashSet::from([Answer::Serving, Answer::NotServing]),
        "both backends answered"
    );

    // The first backend leaves the name (its pod is stopping): calls go to the other only.
    *answer.lock().unwrap() = HashSet::from([second]);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(ask(20).await, HashSet::from([Answer::NotServing]));

    // An empty answer keeps what was known.
    answer.lock().unwrap().clear();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(ask(5).await, HashSet::from([Answer::NotServing]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dns_address_is_resolved_by_the_system() {
    let only = backend(ServingStatus::Serving).await;
    let channel =
        conoceles_kit::grpc::channel(&format!("dns:///localhost:{}", only.port())).unwrap();
    let answer = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: "who".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.status(), Answer::Serving);
    assert!(conoceles_kit::grpc::channel("dns:///localhost").is_err());
}
