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
    let secrets: Vec<(String, String)> = SERVICES
        .iter()
        .map(|name| {
            (
                name.to_string(),
                format!("{name}-secret-{}", testing::unique("s")),
            )
        })
        .collect();
    let all_secrets = secrets
        .iter()
        .map(|(name, secret)| format!("{name}={secret}"))
        .collect::<Vec<_>>()
        .join(",");
    // auth first: the others verify tokens with its keys.
    let mut auth_url = String::new();
    let mut processes: Vec<ServiceProcess> = Vec::new();
    for ((name, db), (_, secret)) in SERVICES.iter().zip(&databases).zip(&secrets) {
        let mut env = vec![
            ("DATABASE_URL", db.url.clone()),
            ("AMQP_URL", testing::amqp_url()),
            ("AMQP_NAMESPACE", namespace.clone()),
            ("REDIS_URL", testing::redis_url()),
            ("REDIS_KEY_PREFIX", format!("{namespace}:{name}:")),
            ("SERVICE_SECRET", secret.clone()),
            ("AUTH_GRPC_URL", auth_url.clone()),
        ];
        if *name == "auth" {
            env.push(("SERVICE_SECRETS", all_secrets.clone()));
        }
        if *name == "identity" {
            // A throw-away key-encryption key (id:base64 of 32 bytes).
            env.push(("IDENTITY_KEK", format!("smoke:{}", "A".repeat(43) + "=")));
        }
        let process = ServiceProcess::start(name, &env);
        if *name == "auth" {
            auth_url = format!("http://{}", process.grpc);
        }
        processes.push(process);
    }

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
        if process.name == "publication" {
            // Ready only once its list of profiles is loaded (a required check).
            let body: serde_json::Value =
                client.get(&url).send().await.unwrap().json().await.unwrap();
            let listing = body["checks"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == "listing")
                .unwrap_or_else(|| panic!("publication's readiness checks its list: {body}"))
                .clone();
            assert_eq!(
                (listing["ok"].clone(), listing["required"].clone()),
                (true.into(), true.into())
            );
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
        // The container healthcheck: the binary's own `healthcheck` command asks the ops port.
        let healthcheck = |port: u16| {
            std::process::Command::new(
                conoceles_e2e::binaries_dir().join(format!("conoceles-{}", process.name)),
            )
            .arg("healthcheck")
            .env("OPS_PORT", port.to_string())
            .env("RUST_LOG", "error")
            .output()
            .unwrap()
        };
        let healthy = healthcheck(process.ops.port());
        assert!(
            healthy.status.success(),
            "{}: {}",
            process.name,
            String::from_utf8_lossy(&healthy.stderr)
        );
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let nobody = closed.local_addr().unwrap().port();
        drop(closed);
        assert!(!healthcheck(nobody).status.success(), "{}", process.name);
    }

    // Across processes: an administrator made by the operator command logs in through the
    // capture front, which asks auth with its own service token.
    let admin = std::process::Command::new(conoceles_e2e::binaries_dir().join("conoceles-auth"))
        .args(["create-admin", "admin@smoke.mx"])
        .env("DATABASE_URL", &databases[0].url)
        .env("REDIS_URL", testing::redis_url())
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    assert!(
        admin.status.success(),
        "{}",
        String::from_utf8_lossy(&admin.stderr)
    );
    let password = String::from_utf8(admin.stdout)
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix("Password (change it at first login): ")
                .map(String::from)
        })
        .unwrap();
    let capture = processes.iter().find(|p| p.name == "capture").unwrap();
    let front = format!("http://{}", capture.http.expect("capture serves HTTP"));
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = browser
        .get(format!("{front}/ingresar"))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    let csrf_cookie = form
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let csrf = csrf_cookie.split_once('=').unwrap().1.to_string();
    let login = browser
        .post(format!("{front}/ingresar"))
        .header("cookie", &csrf_cookie)
        .form(&[
            ("email", "admin@smoke.mx"),
            ("password", password.as_str()),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303);
    assert_eq!(login.headers()["location"], "/cuenta/contrasena");

    // Every service exposes the named series: the front's HTTP traffic, auth's gRPC traffic
    // (capture asked it to log the admin in), latency buckets, outbox depth and age, pool use.
    let metrics = |name: &'static str| {
        let process = processes.iter().find(|p| p.name == name).unwrap();
        let url = format!("http://{}/metrics", process.ops);
        let client = client.clone();
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let front_metrics = metrics("capture").await;
    for series in [
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "outbox_pending{service=\"capture\"}",
        "outbox_oldest_age_seconds{service=\"capture\"}",
        "db_pool_connections{service=\"capture\",state=\"idle\"}",
    ] {
        assert!(
            front_metrics.contains(series),
            "capture lacks {series}:\n{front_metrics}"
        );
    }
    let validation_metrics = metrics("validation").await;
    for series in [
        "consumer_queue_depth{consumer=\"validation.curricular\"}",
        "consumer_dead_letter_depth{consumer=\"validation.curricular\"}",
    ] {
        assert!(
            validation_metrics.contains(series),
            "validation lacks {series}:\n{validation_metrics}"
        );
    }
    let auth_metrics = metrics("auth").await;
    for series in [
        "grpc_requests_total",
        "grpc_request_duration_seconds_bucket",
    ] {
        assert!(
            auth_metrics.contains(series),
            "auth lacks {series}:\n{auth_metrics}"
        );
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
    testing::delete_namespace(
        &namespace,
        &[
            "auth.candidacy-accounts",
            "identity.candidacies",
            "capture.reviews",
            "validation.curricular",
            "publication.profiles",
        ],
    )
    .await;
}
