//! Browser journeys: the real `auth` and `capture` binaries, and headless Chromium driven by
//! playwright-core (`tests/browser/*.test.mjs`, run with node's test runner).
//! `make test` installs Chromium and the npm packages first (`deploy/browser-deps.sh`).

use std::path::PathBuf;
use std::process::Command;

use conoceles_e2e::ProcessStack;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_journeys_pass_in_headless_chromium() {
    let browser_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser");
    assert!(
        browser_dir.join("node_modules/playwright-core").exists()
            && PathBuf::from("/usr/bin/chromium").exists(),
        "browser test dependencies are missing: run deploy/browser-deps.sh (make test does)"
    );
    let stack = ProcessStack::start("browser");
    let password = stack.create_admin("admin@navegador.mx");

    // The demo election: its candidacies reach auth as events, which generates the parties'
    // accounts; the journey uses Morena's, with a password set as the admin's reset would.
    stack.command("capture", &["seed-demo", "--without-answers"]);
    let party_email = stack.generated_party_account("MORENA").await;
    let party_password = stack.reset_password(&party_email);
    // A second admin reviews the submissions (admins may review).
    let reviewer_password = stack.create_admin("revision@navegador.mx");
    // And a third issues the requirements to the parties.
    let unit_password = stack.create_admin("unidad@navegador.mx");
    let photo = std::env::temp_dir().join(format!("{}-foto.jpg", stack.namespace));
    std::fs::write(&photo, conoceles_e2e::sample_jpeg(640, 800)).unwrap();

    let output = Command::new("node")
        .args([
            "--test",
            "--test-reporter=spec",
            "login.test.mjs",
            "capture.test.mjs",
            "unit.test.mjs",
        ])
        .current_dir(&browser_dir)
        .env("CAPTURE_URL", ProcessStack::http(&stack.capture))
        .env("ADMIN_EMAIL", "admin@navegador.mx")
        .env("ADMIN_PASSWORD", &password)
        .env("PARTY_EMAIL", &party_email)
        .env("PARTY_PASSWORD", &party_password)
        .env("PHOTO_PATH", &photo)
        .env("REVIEWER_EMAIL", "revision@navegador.mx")
        .env("REVIEWER_PASSWORD", &reviewer_password)
        .env("UNIT_EMAIL", "unidad@navegador.mx")
        .env("UNIT_PASSWORD", &unit_password)
        .env("SCREENSHOT_DIR", conoceles_e2e::screenshot_dir())
        .output()
        .expect("node runs");
    let report = conoceles_e2e::printed(&output);
    eprintln!("{report}");

    // The citizens' journey: the demo's other questionnaires are captured and submitted, the
    // passing ones approved, and the public site shows them.
    let site = ProcessStack::http(&stack.publication);
    let citizen = if output.status.success() {
        stack.publish_demo(40).await;
        // Open data is regenerated within a second or two.
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        let run = Command::new("node")
            .args(["--test", "--test-reporter=spec", "citizen.test.mjs"])
            .current_dir(&browser_dir)
            .env("SITE_URL", &site)
            .env("SCREENSHOT_DIR", conoceles_e2e::screenshot_dir())
            .output()
            .expect("node runs");
        let citizen_report = conoceles_e2e::printed(&run);
        eprintln!("{citizen_report}");
        Some((run.status.success(), citizen_report))
    } else {
        None
    };

    let _ = std::fs::remove_file(&photo);
    stack.stop().await;
    assert!(
        output.status.success(),
        "browser journeys failed:\n{report}"
    );
    let (ok, citizen_report) = citizen.expect("the citizens' journey ran");
    assert!(ok, "the citizens' journey failed:\n{citizen_report}");
}

/// The unit gives people their accounts (`roles.test.mjs`): a parity reviewer's, and PAN's
/// credential sheet, whose candidate signs in to their own pages. On a stack of its own: with
/// the party's, the reviewer's and the unit's journeys it passed the three minutes a test is
/// given.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_units_accounts_journey_passes_in_headless_chromium() {
    let browser_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser");
    let stack = ProcessStack::start("browser-roles");
    let accounts_password = stack.create_admin("cuentas@navegador.mx");
    stack.command("capture", &["seed-demo", "--without-answers"]);
    // PAN's sheet lists an account per candidacy: every one generated before it is issued.
    stack.generated_party_account("PAN").await;
    let party = stack.postulant_id("PAN").await;
    let capture = sqlx::PgPool::connect(stack.database_url("capture"))
        .await
        .unwrap();
    let auth = sqlx::PgPool::connect(stack.database_url("auth"))
        .await
        .unwrap();
    let candidacies: i64 =
        sqlx::query_scalar("SELECT count(*) FROM candidacies WHERE postulant_code = 'PAN'")
            .fetch_one(&capture)
            .await
            .unwrap();
    let started = std::time::Instant::now();
    loop {
        let generated: i64 = sqlx::query_scalar(
            "SELECT count(DISTINCT candidacy_id) FROM generated_accounts \
             WHERE kind = 'candidacy' AND party_id = $1",
        )
        .bind(party)
        .fetch_one(&auth)
        .await
        .unwrap();
        if generated >= candidacies {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "{generated} of PAN's {candidacies} candidacy accounts generated"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    capture.close().await;
    auth.close().await;
    let output = Command::new("node")
        .args(["--test", "--test-reporter=spec", "roles.test.mjs"])
        .current_dir(&browser_dir)
        .env("CAPTURE_URL", ProcessStack::http(&stack.capture))
        .env("ACCOUNTS_EMAIL", "cuentas@navegador.mx")
        .env("ACCOUNTS_PASSWORD", &accounts_password)
        .env("SHEET_PARTY", "PAN")
        .env("SHEET_PARTY_NAME", "Partido Acción Nacional")
        .env("SCREENSHOT_DIR", conoceles_e2e::screenshot_dir())
        .output()
        .expect("node runs");
    let report = conoceles_e2e::printed(&output);
    eprintln!("{report}");
    stack.stop().await;
    assert!(
        output.status.success(),
        "the accounts journey failed:\n{report}"
    );
}

/// The party's capture journey (`capture.test.mjs`: questionnaire, photo, preview, receipt,
/// identity questionnaire, an observation round, approval) on the Sonora-like demo, whose
/// parties capture deputies and ayuntamiento slates under days counted from the accounts'
/// delivery.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_capture_journey_passes_on_the_municipal_demo() {
    let browser_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser");
    let stack = ProcessStack::start("browser-sonora");
    stack.command(
        "capture",
        &["seed-demo", "--process=sonora", "--without-answers"],
    );
    let party_email = stack.generated_party_account("MORENA").await;
    let party_password = stack.reset_password(&party_email);
    let reviewer_password = stack.create_admin("revision@sonora.mx");
    let photo = std::env::temp_dir().join(format!("{}-foto.jpg", stack.namespace));
    std::fs::write(&photo, conoceles_e2e::sample_jpeg(640, 800)).unwrap();
    let output = Command::new("node")
        .args(["--test", "--test-reporter=spec", "capture.test.mjs"])
        .current_dir(&browser_dir)
        .env("CAPTURE_URL", ProcessStack::http(&stack.capture))
        .env("PARTY_EMAIL", &party_email)
        .env("PARTY_PASSWORD", &party_password)
        .env("PHOTO_PATH", &photo)
        .env("REVIEWER_EMAIL", "revision@sonora.mx")
        .env("REVIEWER_PASSWORD", &reviewer_password)
        .output()
        .expect("node runs");
    let report = conoceles_e2e::printed(&output);
    eprintln!("{report}");
    let _ = std::fs::remove_file(&photo);
    stack.stop().await;
    assert!(
        output.status.success(),
        "the capture journey failed on the Sonora-like demo:\n{report}"
    );
}
