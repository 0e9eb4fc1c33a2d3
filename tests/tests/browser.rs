//! Browser journeys: the real `auth` and `capture` binaries, and headless Chromium driven by
//! playwright-core (`tests/browser/*.test.mjs`, run with node's test runner).
//! `make test` installs Chromium and the npm packages first (`deploy/browser-deps.sh`).

use std::path::PathBuf;
use std::process::Command;

use conoceles_e2e::ServiceProcess;
use conoceles_kit::testing::{self, TestDatabase};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_journeys_pass_in_headless_chromium() {
    let browser_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser");
    assert!(
        browser_dir.join("node_modules/playwright-core").exists()
            && PathBuf::from("/usr/bin/chromium").exists(),
        "browser test dependencies are missing: run deploy/browser-deps.sh (make test does)"
    );
    let namespace = testing::unique("t-browser");
    let auth_db = TestDatabase::named("browser_auth");
    let capture_db = TestDatabase::named("browser_capture");
    let identity_db = TestDatabase::named("browser_identity");
    let validation_db = TestDatabase::named("browser_validation");
    let publication_db = TestDatabase::named("browser_publication");
    let statistics_db = TestDatabase::named("browser_statistics");
    let publication_secret = format!("publication-secret-{}", testing::unique("b"));
    let statistics_secret = format!("statistics-secret-{}", testing::unique("b"));
    let secret = format!("capture-secret-{}", testing::unique("b"));
    let validation_secret = format!("validation-secret-{}", testing::unique("b"));
    let common = |db: &TestDatabase, name: &str| {
        vec![
            ("DATABASE_URL", db.url.clone()),
            ("AMQP_URL", testing::amqp_url()),
            ("AMQP_NAMESPACE", namespace.clone()),
            ("REDIS_URL", testing::redis_url()),
            ("REDIS_KEY_PREFIX", format!("{namespace}:{name}:")),
        ]
    };
    let mut auth_env = common(&auth_db, "auth");
    auth_env.push((
        "SERVICE_SECRETS",
        format!(
            "capture={secret},validation={validation_secret},publication={publication_secret},statistics={statistics_secret}"
        ),
    ));
    let mut auth = ServiceProcess::start("auth", &auth_env);
    let auth_url = format!("http://{}", auth.grpc);
    let mut identity_env = common(&identity_db, "identity");
    identity_env.push(("AUTH_GRPC_URL", auth_url.clone()));
    identity_env.push(("IDENTITY_KEK", format!("browser:{}", "A".repeat(43) + "=")));
    let mut identity = ServiceProcess::start("identity", &identity_env);
    // capture and validation call each other: validation's gRPC port is chosen first.
    let validation_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut capture_env = common(&capture_db, "capture");
    capture_env.push(("SERVICE_SECRET", secret.clone()));
    capture_env.push(("AUTH_GRPC_URL", auth_url.clone()));
    capture_env.push(("IDENTITY_GRPC_URL", format!("http://{}", identity.grpc)));
    capture_env.push((
        "VALIDATION_GRPC_URL",
        format!("http://127.0.0.1:{validation_port}"),
    ));
    let mut capture = ServiceProcess::start("capture", &capture_env);
    let mut validation_env = common(&validation_db, "validation");
    validation_env.push(("SERVICE_SECRET", validation_secret.clone()));
    validation_env.push(("AUTH_GRPC_URL", auth_url.clone()));
    validation_env.push(("IDENTITY_GRPC_URL", format!("http://{}", identity.grpc)));
    validation_env.push(("CAPTURE_GRPC_URL", format!("http://{}", capture.grpc)));
    validation_env.push(("GRPC_PORT", validation_port.to_string()));
    let mut validation = ServiceProcess::start("validation", &validation_env);
    let mut statistics_env = common(&statistics_db, "statistics");
    statistics_env.push(("SERVICE_SECRET", statistics_secret.clone()));
    statistics_env.push(("AUTH_GRPC_URL", auth_url.clone()));
    statistics_env.push(("IDENTITY_GRPC_URL", format!("http://{}", identity.grpc)));
    statistics_env.push(("CAPTURE_GRPC_URL", format!("http://{}", capture.grpc)));
    statistics_env.push((
        "VALIDATION_GRPC_URL",
        format!("http://127.0.0.1:{validation_port}"),
    ));
    let mut statistics = ServiceProcess::start("statistics", &statistics_env);
    let mut publication_env = common(&publication_db, "publication");
    publication_env.push(("SERVICE_SECRET", publication_secret.clone()));
    publication_env.push(("AUTH_GRPC_URL", auth_url.clone()));
    publication_env.push(("IDENTITY_GRPC_URL", format!("http://{}", identity.grpc)));
    publication_env.push(("CAPTURE_GRPC_URL", format!("http://{}", capture.grpc)));
    publication_env.push(("STATISTICS_GRPC_URL", format!("http://{}", statistics.grpc)));
    let mut publication = ServiceProcess::start("publication", &publication_env);

    let admin = Command::new(conoceles_e2e::binaries_dir().join("conoceles-auth"))
        .args(["create-admin", "admin@navegador.mx"])
        .env("DATABASE_URL", &auth_db.url)
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

    // The demo election: its candidacies reach auth as events, which generates the parties'
    // accounts; the journey uses Morena's, with a password set as the admin's reset would.
    let seeded = Command::new(conoceles_e2e::binaries_dir().join("conoceles-capture"))
        .args(["seed-demo", "--without-answers"])
        .env("DATABASE_URL", &capture_db.url)
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let party_email = generated_party_account(&capture_db.url, &auth_db.url, "MORENA").await;
    let reset = Command::new(conoceles_e2e::binaries_dir().join("conoceles-auth"))
        .args(["reset-password", &party_email])
        .env("DATABASE_URL", &auth_db.url)
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    let party_password = String::from_utf8(reset.stdout)
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix("Password (change it at first login): ")
                .map(String::from)
        })
        .expect("reset-password prints the new password");
    // A second admin reviews the submissions (admins may review).
    let reviewer = Command::new(conoceles_e2e::binaries_dir().join("conoceles-auth"))
        .args(["create-admin", "revision@navegador.mx"])
        .env("DATABASE_URL", &auth_db.url)
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    let reviewer_password = String::from_utf8(reviewer.stdout)
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix("Password (change it at first login): ")
                .map(String::from)
        })
        .expect("create-admin prints the password");
    let photo = std::env::temp_dir().join(format!("{namespace}-foto.jpg"));
    std::fs::write(&photo, conoceles_e2e::sample_jpeg(640, 800)).unwrap();

    let output = Command::new("node")
        .args([
            "--test",
            "--test-reporter=spec",
            "login.test.mjs",
            "capture.test.mjs",
        ])
        .current_dir(&browser_dir)
        .env(
            "CAPTURE_URL",
            format!("http://{}", capture.http.expect("capture HTTP")),
        )
        .env("ADMIN_EMAIL", "admin@navegador.mx")
        .env("ADMIN_PASSWORD", &password)
        .env("PARTY_EMAIL", &party_email)
        .env("PARTY_PASSWORD", &party_password)
        .env("PHOTO_PATH", &photo)
        .env("REVIEWER_EMAIL", "revision@navegador.mx")
        .env("REVIEWER_PASSWORD", &reviewer_password)
        .env("SCREENSHOT_DIR", std::env::temp_dir())
        .output()
        .expect("node runs");
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("{report}");

    // The citizens' journey: the demo's other questionnaires are captured and submitted, the
    // passing ones approved, and the public site shows them.
    let site = format!("http://{}", publication.http.expect("publication HTTP"));
    let citizen = if output.status.success() {
        let seeded = Command::new(conoceles_e2e::binaries_dir().join("conoceles-capture"))
            .arg("seed-demo")
            .env("DATABASE_URL", &capture_db.url)
            .env("RUST_LOG", "error")
            .output()
            .unwrap();
        assert!(
            seeded.status.success(),
            "{}",
            String::from_utf8_lossy(&seeded.stderr)
        );
        let client = reqwest::Client::new();
        let started = std::time::Instant::now();
        loop {
            let approved = Command::new(conoceles_e2e::binaries_dir().join("conoceles-validation"))
                .arg("approve-passing")
                .env("DATABASE_URL", &validation_db.url)
                .env("RUST_LOG", "error")
                .output()
                .unwrap();
            assert!(
                approved.status.success(),
                "{}",
                String::from_utf8_lossy(&approved.stderr)
            );
            let total = client
                .get(format!("{site}/api/v1/candidacies"))
                .send()
                .await
                .ok()
                .and_then(|r| r.status().is_success().then_some(r));
            let total = match total {
                Some(r) => r
                    .json::<serde_json::Value>()
                    .await
                    .ok()
                    .and_then(|v| v["total"].as_i64())
                    .unwrap_or(0),
                None => 0,
            };
            if total >= 40 {
                break;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(90),
                "only {total} published"
            );
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
        // Open data is regenerated within a second or two.
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        let run = Command::new("node")
            .args(["--test", "--test-reporter=spec", "citizen.test.mjs"])
            .current_dir(&browser_dir)
            .env("SITE_URL", &site)
            .output()
            .expect("node runs");
        let citizen_report = format!(
            "{}\n{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
        eprintln!("{citizen_report}");
        Some((run.status.success(), citizen_report))
    } else {
        None
    };

    let _ = std::fs::remove_file(&photo);
    publication.terminate(std::time::Duration::from_secs(10));
    statistics.terminate(std::time::Duration::from_secs(10));
    validation.terminate(std::time::Duration::from_secs(10));
    capture.terminate(std::time::Duration::from_secs(10));
    identity.terminate(std::time::Duration::from_secs(10));
    auth.terminate(std::time::Duration::from_secs(10));
    for db in [
        auth_db,
        capture_db,
        identity_db,
        validation_db,
        publication_db,
        statistics_db,
    ] {
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
            "statistics.changes",
        ],
    )
    .await;
    assert!(
        output.status.success(),
        "browser journeys failed:\n{report}"
    );
    let (ok, citizen_report) = citizen.expect("the citizens' journey ran");
    assert!(ok, "the citizens' journey failed:\n{citizen_report}");
}

/// The email of the account auth generated for the party `code`, once the demo's events have
/// reached it.
async fn generated_party_account(capture_url: &str, auth_url: &str, code: &str) -> String {
    let capture = sqlx::PgPool::connect(capture_url).await.unwrap();
    let party: uuid::Uuid = sqlx::query_scalar("SELECT id FROM postulants WHERE code = $1")
        .bind(code)
        .fetch_one(&capture)
        .await
        .unwrap();
    capture.close().await;
    let auth = sqlx::PgPool::connect(auth_url).await.unwrap();
    let started = std::time::Instant::now();
    let email = loop {
        let found: Option<String> = sqlx::query_scalar(
            "SELECT a.email FROM accounts a JOIN generated_accounts g ON g.account_id = a.id \
             WHERE g.kind = 'party' AND g.party_id = $1",
        )
        .bind(party)
        .fetch_optional(&auth)
        .await
        .unwrap();
        if let Some(email) = found {
            break email;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "the party's account was not generated"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    auth.close().await;
    email
}
