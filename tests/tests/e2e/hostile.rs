//! Hostile clients against the whole system as processes, with a published demo election:
//! schemathesis fuzzes every OpenAPI document (publication, statistics, capture), authenticated
//! as an administrator, and the MDN HTTP Observatory grades both fronts behind a local TLS
//! endpoint; and the probes of the hostile test of issue #26, repeated. `make test` installs both
//! tools first (`deploy/python-deps.sh`,
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
    let candidacy = stack.first_candidacy("MORENA").await;
    let candidacy = candidacy.to_string();
    let party_password = stack.reset_password(&party_email);
    let party_token = stack.api_token(&party_email, &party_password).await;

    let work = std::env::temp_dir().join(format!("{}-schemathesis", stack.namespace));
    std::fs::create_dir_all(&work).unwrap();
    // The read-only APIs first; capture's (which the administrator may change) last, the
    // party's own operations with a party's session. Signing in and changing the password are
    // left out: each attempt costs an argon2 hash (and a change would end the session the run
    // uses); their answers are tested elsewhere.
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
        .chain(["POST /api/v1/sessions", "POST /api/v1/account/password"])
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

/// The probes of the hostile test that found issue #26, repeated against the six binaries on
/// loopback, bounded (about a minute): each must be held as `docs/resilience.md` says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_probes_that_once_got_through_are_held() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut stack = ProcessStack::start("probes");
    // As behind the documented ingress: capture believes X-Forwarded-For from loopback only.
    stack.restart_with("capture", &[("TRUSTED_PROXIES", "127.0.0.1".into())]);
    let capture = ProcessStack::http(&stack.capture);
    let site = ProcessStack::http(&stack.publication);
    let statistics = ProcessStack::http(&stack.statistics);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut failures: Vec<String> = Vec::new();
    let mut check = |held: bool, what: String| {
        eprintln!("{} {what}", if held { "held:" } else { "GOT THROUGH:" });
        if !held {
            failures.push(what);
        }
    };

    // M3: a service refuses a secret the repository publishes without the development flag.
    let refused = Command::new(conoceles_e2e::binaries_dir().join("conoceles-capture"))
        .env_clear()
        .env("SERVICE_SECRET", "demo-capture-change-me")
        .env("DATABASE_URL", stack.database_url("capture"))
        .output()
        .expect("capture runs");
    let said = conoceles_e2e::printed(&refused);
    check(
        !refused.status.success() && said.contains("CONOCELES_ALLOW_DEMO_SECRETS"),
        "M3 a published demo secret stops the service".into(),
    );

    // H1: a guesser from one address is slowed; the person, from theirs, signs in at once.
    let admin_password = stack.create_admin("admin@sondeo.mx");
    let token = stack.api_token("admin@sondeo.mx", &admin_password).await;
    let admin_password = format!("{admin_password} cambiada en la prueba");
    let sign_in = |from: &'static str, password: String| {
        client
            .post(format!("{capture}/api/v1/sessions"))
            .header("x-forwarded-for", from)
            .json(&serde_json::json!({ "email": "admin@sondeo.mx", "password": password }))
            .send()
    };
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(
            sign_in("203.0.113.7", "no es la contraseña".into())
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    let owner = sign_in("198.51.100.9", admin_password.clone())
        .await
        .unwrap()
        .status();
    check(
        statuses.ends_with(&[429, 429]) && owner == reqwest::StatusCode::CREATED,
        format!("H1 the guesser got {statuses:?}; the person, from elsewhere, {owner}"),
    );

    // The demo's candidacies and MORENA's generated account, its password reset by the unit.
    stack.command("capture", &["seed-demo", "--process=coahuila"]);
    let party_email = stack.generated_party_account("MORENA").await;
    let party_password = stack.reset_password(&party_email);

    // L2: before changing the given password, the API and statistics refuse with the reason.
    let first = stack.api_session(&party_email, &party_password).await;
    let unchanged = first["token"].as_str().unwrap().to_string();
    let listed = client
        .get(format!("{capture}/api/v1/candidacies"))
        .bearer_auth(&unchanged)
        .send()
        .await
        .unwrap();
    check(
        listed.status() == reqwest::StatusCode::FORBIDDEN,
        format!(
            "L2 the API before the first password change: {}",
            listed.status()
        ),
    );
    // L8: a common password is refused.
    let weak = client
        .post(format!("{capture}/api/v1/account/password"))
        .bearer_auth(&unchanged)
        .json(
            &serde_json::json!({ "current_password": party_password, "new_password": "12345678" }),
        )
        .send()
        .await
        .unwrap()
        .status();
    check(
        weak == reqwest::StatusCode::UNPROCESSABLE_ENTITY,
        format!("L8 `12345678` as a password: {weak}"),
    );
    let party_token = stack.api_token(&party_email, &party_password).await;
    let candidacy = stack.first_candidacy("MORENA").await;

    // M1: ten concurrent 7.8 MB photos from one party are refused while read, one at a time.
    let before = stack.capture.peak_rss_mib();
    let photo = format!("{capture}/api/v1/candidacies/{candidacy}/curricula/holder/photo");
    // Their own client: a connection the server closed before the body was sent must not be
    // handed to the next request from the pool.
    let uploader = reqwest::Client::new();
    let uploads: Vec<_> = (0..10)
        .map(|_| {
            let request = uploader
                .put(&photo)
                .bearer_auth(&party_token)
                .body(vec![0xFF_u8; 7_800_000]);
            tokio::spawn(async move { request.send().await.map_or(0, |r| r.status().as_u16()) })
        })
        .collect();
    let mut answered: Vec<u16> = Vec::new();
    for upload in uploads {
        answered.push(upload.await.unwrap_or(0));
    }
    let after = stack.capture.peak_rss_mib();
    check(
        // 0: the server answered before the client had sent the rest, and closed.
        answered.iter().all(|s| [0, 422, 429].contains(s))
            && answered.contains(&422)
            && after < before + 100,
        format!("M1 ten 7.8 MB photos: {answered:?}; capture's peak memory {before} → {after} MiB"),
    );

    // M1: the same person 19,000 times in a bulk file is refused by line, promptly.
    let template = client
        .get(format!("{capture}/api/v1/bulk/template.csv"))
        .bearer_auth(&party_token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut lines = template.trim_start_matches('\u{feff}').lines();
    let header = lines.next().unwrap().to_string();
    // The person's identifier and role, every field left empty (a short row, as the tester's).
    let person: Vec<&str> = lines.next().unwrap().splitn(3, ',').take(2).collect();
    // The header's cells as CSV reads them (Spanish column names may hold quoted commas).
    let columns = csv::Reader::from_reader(header.as_bytes())
        .headers()
        .unwrap()
        .len();
    let row = format!("{}{}", person.join(","), ",".repeat(columns - 2));
    let mut file = header + "\r\n";
    for _ in 0..19_000 {
        file.push_str(&row);
        file.push_str("\r\n");
    }
    let started = Instant::now();
    let bulk = client
        .post(format!("{capture}/api/v1/bulk"))
        .bearer_auth(&party_token)
        .header("content-type", "text/csv")
        .body(file)
        .send()
        .await
        .unwrap();
    let took = started.elapsed();
    let status = bulk.status();
    let outcome: serde_json::Value = bulk.json().await.unwrap_or_default();
    let repeated = outcome["errors"]
        .as_array()
        .map_or(0, |e| e.iter().filter(|e| e["column"] == "persona").count());
    check(
        status == reqwest::StatusCode::UNPROCESSABLE_ENTITY
            && repeated == 18_999
            && took < Duration::from_secs(60),
        format!(
            "M1 a 19,000-row bulk file: {status}, {repeated} repeated rows refused, in {took:?}"
        ),
    );

    // L1: the browser's cookie does not write through the API from another site.
    let cross_site = client
        .post(format!("{capture}/api/v1/bulk"))
        .header("cookie", format!("__Host-conoceles_sesion={party_token}"))
        .header("content-type", "text/plain")
        .header("origin", "https://evil.example")
        .body("candidatura,persona\r\n")
        .send()
        .await
        .unwrap()
        .status();
    check(
        cross_site == reqwest::StatusCode::FORBIDDEN,
        format!("L1 a cross-site write with the cookie: {cross_site}"),
    );

    // L2 again: statistics with the session of an administrator who has not changed theirs.
    let fresh_password = stack.create_admin("otra@sondeo.mx");
    let fresh = stack.api_session("otra@sondeo.mx", &fresh_password).await;
    let tables = client
        .get(format!("{statistics}/api/v1/tables"))
        .bearer_auth(fresh["token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .status();
    let with_changed = client
        .get(format!("{statistics}/api/v1/tables"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .status();
    check(
        tables == reqwest::StatusCode::FORBIDDEN && with_changed == reqwest::StatusCode::OK,
        format!("L2 statistics before the change {tables}, after {with_changed}"),
    );

    // M2: after signing in, only local paths are followed.
    let form = client
        .get(format!("{capture}/ingresar"))
        .send()
        .await
        .unwrap();
    let login_cookie = form
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|c| c.to_str().ok())
        .filter_map(|c| c.split(';').next())
        .collect::<Vec<_>>()
        .join("; ");
    let page = form.text().await.unwrap();
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_string();
    let signed_in = client
        .post(format!(
            "{capture}/ingresar?siguiente=%2F%09%2Fevil.example%2Fx"
        ))
        .header("cookie", login_cookie)
        .form(&[
            ("email", "admin@sondeo.mx"),
            ("password", admin_password.as_str()),
            ("csrf", csrf.as_str()),
            ("siguiente", "/\t/evil.example/x"),
        ])
        .send()
        .await
        .unwrap();
    let location = signed_in
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default()
        .to_string();
    check(
        signed_in.status() == reqwest::StatusCode::SEE_OTHER
            && location.starts_with('/')
            && !location.contains("evil"),
        format!(
            "M2 siguiente=/<TAB>/evil.example/x: {} to {location:?}",
            signed_in.status()
        ),
    );

    // H2: invented methods and a 60 KB one leave the metrics as they were.
    let metrics = || {
        let url = format!("http://{}/metrics", stack.publication.ops);
        let client = client.clone();
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let address = stack.publication.http.unwrap();
    for i in 0..200 {
        let mut tcp = tokio::net::TcpStream::connect(address).await.unwrap();
        let request = format!("PROBE{i} / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let _ = tcp.write_all(request.as_bytes()).await;
        let mut sink = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(2), tcp.read_to_end(&mut sink)).await;
    }
    let mut tcp = tokio::net::TcpStream::connect(address).await.unwrap();
    let long = format!("{} / HTTP/1.1\r\nHost: x\r\n\r\n", "M".repeat(60 * 1024));
    let _ = tcp.write_all(long.as_bytes()).await;
    drop(tcp);
    let text = metrics().await;
    check(
        text.contains("method=\"OTHER\"")
            && !text.contains("PROBE")
            && !text.contains("MMMMMMMM")
            && text.len() < 200 * 1024,
        format!(
            "H2 /metrics after 200 invented methods: {} bytes",
            text.len()
        ),
    );

    // L3: `GZIP` in capitals does not poison the plain copy of a cached page.
    let _ = client
        .get(format!("{site}/"))
        .header("accept-encoding", "GZIP")
        .send()
        .await;
    let plain = client
        .get(format!("{site}/"))
        .header("accept-encoding", "identity")
        .send()
        .await
        .unwrap();
    check(
        plain.headers().get("content-encoding").is_none(),
        "L3 the plain page after a `GZIP` request".into(),
    );

    // L6: a client dripping one header every two seconds is cut off.
    let mut tcp = tokio::net::TcpStream::connect(address).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let cut = loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        if tcp.write_all(b"X-Goteo: 1\r\n").await.is_err() {
            break true;
        }
        let mut byte = [0_u8; 1];
        match tokio::time::timeout(Duration::from_millis(10), tcp.read(&mut byte)).await {
            Ok(Ok(_)) | Ok(Err(_)) => break true,
            Err(_) if started.elapsed() > Duration::from_secs(30) => break false,
            Err(_) => {}
        }
    };
    check(
        cut && started.elapsed() < Duration::from_secs(20),
        format!("L6 a dripping client cut off after {:?}", started.elapsed()),
    );

    stack.stop().await;
    assert!(failures.is_empty(), "got through:\n{}", failures.join("\n"));
}
