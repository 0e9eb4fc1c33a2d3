//! Hostile clients against the whole system as processes, with a published demo election:
//! schemathesis fuzzes every OpenAPI document (publication, statistics, capture), authenticated
//! as an administrator, and the MDN HTTP Observatory grades both fronts behind a local TLS
//! endpoint. `make test` installs both tools first (`deploy/python-deps.sh`,
//! `deploy/browser-deps.sh`).

use std::path::{Path, PathBuf};
use std::process::Command;

use conoceles_e2e::ProcessStack;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `st run` against the OpenAPI document of `base`: every check, by default (no server error, status codes,
/// content types, bodies and headers as documented, invalid input refused, valid input
/// accepted, authentication not ignored), every phase, a fixed seed so a run can be repeated.
/// Returns whether it passed and its report.
/// Operations are chosen by name (`METHOD /path`): `only` when given, else all but `excluded`.
/// Settings common to every run are in `tests/schemathesis.toml`.
fn schemathesis(
    base: &str,
    token: &str,
    candidacy: &str,
    work: &Path,
    only: &[&str],
    excluded: &[&str],
) -> (bool, String) {
    let mut command = Command::new(root().join(".run/python/bin/st"));
    command
        .env("CONOCELES_CANDIDACY", candidacy)
        .arg("--config-file")
        .arg(root().join("tests/schemathesis.toml"))
        .args(["run", &format!("{base}/api/v1/openapi.json"), "--url", base])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args([
            "--max-examples",
            "25",
            "--seed",
            "20260607",
            "--workers",
            "2",
        ])
        .args(["--generation-database", "none", "--request-timeout", "20"])
        .args(["--no-color", "--wait-for-schema", "30"]);
    for name in only {
        command.args(["--include-name", name]);
    }
    for name in excluded {
        command.args(["--exclude-name", name]);
    }
    let output = command
        .current_dir(work)
        .output()
        .expect("schemathesis runs (deploy/python-deps.sh installs it)");
    let report = conoceles_e2e::printed(&output);
    (output.status.success(), report)
}

/// The part of a schemathesis report that says what failed (its FAILURES section), else the
/// report's last lines.
fn what_failed(report: &str) -> String {
    let lines: Vec<&str> = report.lines().collect();
    let heading = |name: &str| {
        lines
            .iter()
            .position(|l| l.starts_with('=') && l.contains(name))
    };
    let part = match (heading(" FAILURES "), heading(" SUMMARY ")) {
        (Some(from), Some(to)) if from < to => &lines[from..to],
        _ => &lines[lines.len().saturating_sub(30)..],
    };
    part.join("\n")
}

/// A failure shown as written (a test's `Err` is printed with `Debug`), without a panic's
/// backtrace after it: the verdict is the last thing the run prints.
struct Verdict(String);

impl std::fmt::Debug for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_api_survives_schemathesis_and_both_fronts_score_a_plus_in_the_observatory()
-> Result<(), Verdict> {
    let stack = ProcessStack::start("hostile");
    let admin_password = stack.create_admin("admin@hostil.mx");
    // The demo election captured, and the passing questionnaires approved and published.
    stack.publish_demo(1).await;
    let site = ProcessStack::http(&stack.publication);
    let capture = ProcessStack::http(&stack.capture);
    let statistics = ProcessStack::http(&stack.statistics);
    let token = stack.api_token("admin@hostil.mx", &admin_password).await;
    let party_email = stack.generated_party_account("MORENA").await;
    let capture_db = sqlx::PgPool::connect(stack.database_url("capture"))
        .await
        .unwrap();
    let candidacy: uuid::Uuid = sqlx::query_scalar(
        "SELECT id FROM candidacies WHERE postulant_code = 'MORENA' AND status <> 'withdrawn' \
         ORDER BY external_id LIMIT 1",
    )
    .fetch_one(&capture_db)
    .await
    .unwrap();
    capture_db.close().await;
    let candidacy = candidacy.to_string();
    let party_password = stack.reset_password(&party_email);
    let party_token = stack.api_token(&party_email, &party_password).await;

    let work = std::env::temp_dir().join(format!("{}-schemathesis", stack.namespace));
    std::fs::create_dir_all(&work).unwrap();
    // The read-only APIs first; capture's (which the administrator may change) last, the
    // party's own operations with a party's session. Signing in is left out: each attempt costs
    // an argon2 hash, and its answers are tested elsewhere.
    const PARTY_ONLY: [&str; 5] = [
        "GET /api/v1/bulk/template.csv",
        "POST /api/v1/bulk",
        "PUT /api/v1/candidacies/{id}/curricula/{role}/sections/{section}",
        "PUT /api/v1/candidacies/{id}/curricula/{role}/photo",
        "POST /api/v1/candidacies/{id}/submissions",
    ];
    let admin_excluded: Vec<&str> = PARTY_ONLY
        .iter()
        .copied()
        .chain(["POST /api/v1/sessions"])
        .collect();
    let mut failures = Vec::new();
    for (name, base, who, only, excluded) in [
        ("publication", &site, &token, &[][..], &[][..]),
        ("statistics", &statistics, &token, &[][..], &[][..]),
        (
            "capture (administrator)",
            &capture,
            &token,
            &[][..],
            &admin_excluded[..],
        ),
        (
            "capture (party)",
            &capture,
            &party_token,
            &PARTY_ONLY[..],
            &[][..],
        ),
    ] {
        let (ok, report) = schemathesis(base, who, &candidacy, &work, only, excluded);
        eprintln!("== schemathesis: {name} ==\n{report}");
        if !ok {
            failures.push(format!("schemathesis, {name}:\n{}", what_failed(&report)));
        }
    }
    let _ = std::fs::remove_dir_all(&work);

    let observatory = Command::new("node")
        .args(["--test", "--test-reporter=spec", "observatory.test.mjs"])
        .current_dir(root().join("tests/browser"))
        .env("SITE_URL", &site)
        .env("CAPTURE_URL", &capture)
        .output()
        .expect("node runs");
    let observatory_report = conoceles_e2e::printed(&observatory);
    eprintln!("== HTTP Observatory ==\n{observatory_report}");
    stack.stop().await;

    if !observatory.status.success() {
        failures.push(format!("the Observatory scan:\n{observatory_report}"));
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Verdict(failures.join("\n\n")))
    }
}
