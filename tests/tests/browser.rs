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
    let secret = format!("capture-secret-{}", testing::unique("b"));
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
    auth_env.push(("SERVICE_SECRETS", format!("capture={secret}")));
    let mut auth = ServiceProcess::start("auth", &auth_env);
    let mut capture_env = common(&capture_db, "capture");
    capture_env.push(("SERVICE_SECRET", secret.clone()));
    capture_env.push(("AUTH_GRPC_URL", format!("http://{}", auth.grpc)));
    let mut capture = ServiceProcess::start("capture", &capture_env);

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

    let output = Command::new("node")
        .args(["--test", "--test-reporter=spec"])
        .current_dir(&browser_dir)
        .env(
            "CAPTURE_URL",
            format!("http://{}", capture.http.expect("capture HTTP")),
        )
        .env("ADMIN_EMAIL", "admin@navegador.mx")
        .env("ADMIN_PASSWORD", &password)
        .env("SCREENSHOT_DIR", std::env::temp_dir())
        .output()
        .expect("node runs");
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    eprintln!("{report}");

    capture.terminate(std::time::Duration::from_secs(10));
    auth.terminate(std::time::Duration::from_secs(10));
    auth_db.drop_database().await;
    capture_db.drop_database().await;
    testing::delete_namespace(&namespace, &["auth.candidacy-accounts"]).await;
    assert!(
        output.status.success(),
        "browser journeys failed:\n{report}"
    );
}
