//! Nothing lost and nothing applied twice when service processes crash (SIGKILL, restarted on
//! the same ports as an orchestrator would) or freeze (SIGSTOP, then SIGCONT) while
//! submissions and approvals flow through the real binaries. `make soak` adds the faults of
//! the infrastructure itself (`SOAK_INFRA=1`): RabbitMQ killed with `kill -9` and restarted,
//! PostgreSQL stopped at once and restarted, Redis down for 30 s. Those stop the machine's
//! shared servers, so they never run beside other tests.

use std::collections::HashSet;
use std::process::Command;
use std::time::{Duration, Instant};

use conoceles_e2e::ProcessStack;
use sqlx::PgPool;
use uuid::Uuid;

async fn pool(stack: &ProcessStack, service: &str) -> PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(stack.database_url(service))
        .await
        .unwrap()
}

async fn ids(pool: &PgPool, sql: &str) -> HashSet<Uuid> {
    sqlx::query_scalar(sql)
        .fetch_all(pool)
        .await
        .map(|v: Vec<Uuid>| v.into_iter().collect())
        .unwrap_or_default()
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap_or(-1)
}

/// Waits until `done` holds or `limit` passes; returns whether it held.
async fn eventually<F, Fut>(limit: Duration, mut done: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while started.elapsed() < limit {
        if done().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    false
}

fn sh(script: &str) {
    let status = Command::new("bash").args(["-c", script]).status().unwrap();
    assert!(status.success(), "{script}");
}

/// The faults of the machine's servers (`make soak` only); the project's own script starts
/// each again.
async fn infrastructure_faults(log: &mut Vec<String>) {
    let up = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../deploy/local-infra.sh up >/dev/null"
    );
    // RabbitMQ killed outright, started again after 2 s.
    sh(&format!("pkill -9 -x beam.smp; sleep 2; {up}"));
    log.push("rabbitmq killed and restarted".into());
    // PostgreSQL stopped at once (no checkpoint), started again after 2 s.
    sh(&format!(
        "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql | head -1) main stop -m immediate; \
         sleep 2; {up}"
    ));
    log.push("postgresql stopped immediately and restarted".into());
    // Redis down for 30 s.
    sh(&format!(
        "redis-cli shutdown nosave >/dev/null 2>&1; sleep 30; {up}"
    ));
    log.push("redis down 30 s".into());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_lost_or_applied_twice_when_services_crash_or_freeze() {
    let mut stack = ProcessStack::start("faults");
    let capture = pool(&stack, "capture").await;
    let validation = pool(&stack, "validation").await;
    let publication = pool(&stack, "publication").await;
    let mut log = Vec::new();

    // Submissions: the demo's questionnaires, written in capture's database with their events in
    // its outbox; capture's relay carries them to validation. Both crash on the way.
    // `make soak` grows one party to SOAK_CANDIDACIES candidacies (six in seven submitted).
    let grow: usize = std::env::var("SOAK_CANDIDACIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    stack.command("capture", &["seed-demo", &format!("--grow=PVEM:{grow}")]);
    // Waits grow with the load (the debug build handles a few dozen a second).
    let scale = |base: u64| Duration::from_secs(base + grow as u64 / 5);
    let submitted = ids(
        &capture,
        "SELECT candidacy_id FROM submissions WHERE round = 1",
    )
    .await;
    assert!(submitted.len() > 50, "the demo submits its questionnaires");
    // What the killed processes logged, shown if a submission goes missing.
    let mut killed_logs = stack.crash_and_restart("capture", Duration::from_millis(300));
    log.push("capture (relay of submissions) killed and restarted".into());
    killed_logs.extend(stack.crash_and_restart("validation", Duration::from_millis(500)));
    log.push("validation (consumer of submissions) killed and restarted".into());
    let arrived = eventually(scale(90), || async {
        count(&validation, "SELECT count(*) FROM reviews").await == submitted.len() as i64
    })
    .await;
    if !arrived {
        let reviewed = ids(&validation, "SELECT candidacy_id FROM reviews").await;
        let missing: Vec<Uuid> = submitted.difference(&reviewed).copied().collect();
        let who: Vec<(String, String)> = sqlx::query_as(
            "SELECT postulant_code, office_code FROM candidacies WHERE id = ANY($1)",
        )
        .bind(&missing)
        .fetch_all(&capture)
        .await
        .unwrap();
        let log: Vec<&String> = killed_logs
            .iter()
            .filter(|l| l.contains("WARN") || l.contains("ERROR"))
            .collect();
        panic!(
            "every submission reached validation's queue: missing {who:?} of {}, {} events still in capture's outbox; warnings of the killed processes: {log:?}",
            submitted.len(),
            count(&capture, "SELECT count(*) FROM kit_outbox").await
        );
    }

    // Approvals, while publication is frozen and validation (their relay) crashes.
    stack.command("validation", &["approve-passing"]);
    stack.publication.signal("STOP");
    log.push("publication frozen (SIGSTOP) 3 s".into());
    stack.crash_and_restart("validation", Duration::from_millis(200));
    log.push("validation (relay of approvals) killed and restarted".into());
    tokio::time::sleep(Duration::from_secs(3)).await;
    stack.publication.signal("CONT");
    stack.crash_and_restart("publication", Duration::from_millis(200));
    log.push("publication (consumer of approvals) killed and restarted".into());
    if std::env::var("SOAK_INFRA").is_ok_and(|v| v == "1") {
        infrastructure_faults(&mut log).await;
    }
    stack.command("validation", &["approve-passing"]);

    // Every approval reaches the public read model and capture; every outbox drains.
    let approved = ids(
        &validation,
        "SELECT candidacy_id FROM reviews WHERE status = 'approved'",
    )
    .await;
    assert!(
        !approved.is_empty(),
        "the passing submissions were approved"
    );
    eventually(scale(120), || async {
        ids(
            &publication,
            "SELECT candidacy_id FROM profiles WHERE withdrawn_at IS NULL",
        )
        .await
            == approved
            && count(&capture, "SELECT count(*) FROM kit_outbox").await == 0
            && count(&validation, "SELECT count(*) FROM kit_outbox").await == 0
    })
    .await;
    let published = ids(
        &publication,
        "SELECT candidacy_id FROM profiles WHERE withdrawn_at IS NULL",
    )
    .await;
    let approved_in_capture = ids(
        &capture,
        "SELECT id FROM candidacies WHERE status = 'approved'",
    )
    .await;
    let lost: Vec<&Uuid> = approved
        .iter()
        .filter(|id| !published.contains(id) || !approved_in_capture.contains(id))
        .collect();
    let duplicated = count(
        &publication,
        "SELECT count(*) FROM (SELECT candidacy_id FROM profile_log WHERE action = 'published' \
         GROUP BY 1 HAVING count(*) > 1) x",
    )
    .await
        + count(
            &capture,
            "SELECT count(*) FROM (SELECT candidacy_id FROM status_changes WHERE status = 'approved' \
             GROUP BY 1 HAVING count(*) > 1) x",
        )
        .await;
    let stuck = count(&capture, "SELECT count(*) FROM kit_outbox").await
        + count(&validation, "SELECT count(*) FROM kit_outbox").await;
    use std::io::Write;
    let _ = writeln!(
        std::io::stdout().lock(),
        "process faults: {}; submitted {}, approved {}, published {}; lost {}, duplicated {}, stuck {}",
        log.join(", "),
        submitted.len(),
        approved.len(),
        published.len(),
        lost.len(),
        duplicated,
        stuck
    );
    capture.close().await;
    validation.close().await;
    publication.close().await;
    stack.stop().await;
    assert!(lost.is_empty(), "approved but lost: {lost:?}");
    assert_eq!(duplicated, 0, "an effect applied twice");
    assert_eq!(stuck, 0, "events left in an outbox");
}

/// The public site needs only its database to answer citizens: with capture gone and the
/// broker and Redis out of its reach, publication is ready and serves pages, the API and open
/// data (approvals wait in the broker meanwhile).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_site_serves_with_capture_the_broker_and_redis_down() {
    let mut stack = ProcessStack::start("site-alone");
    stack.publish_demo(20).await;
    let client = reqwest::Client::new();
    let site = ProcessStack::http(stack.process("publication"));
    let started = Instant::now();
    while client
        .get(format!("{site}/datos/SHA256SUMS"))
        .send()
        .await
        .map_or(true, |r| r.status() != 200)
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "open data generated"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let candidacy = stack.first_candidacy("PAN").await;

    stack.process("capture").kill();
    stack.restart_with(
        "publication",
        &[
            ("AMQP_URL", "amqp://guest:guest@127.0.0.1:1/%2f".to_string()),
            ("REDIS_URL", "redis://127.0.0.1:1/".to_string()),
        ],
    );
    let ops = format!("http://{}", stack.process("publication").ops);
    let started = Instant::now();
    let readiness = loop {
        let answer = client.get(format!("{ops}/readyz")).send().await;
        if let Ok(r) = answer
            && r.status() == 200
        {
            break r.json::<serde_json::Value>().await.unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "publication ready without broker and Redis"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let down: Vec<&str> = readiness["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(down, ["broker", "cache"], "{readiness}");

    let site = ProcessStack::http(stack.process("publication"));
    for path in [
        "/".to_string(),
        "/candidaturas".to_string(),
        format!("/candidaturas/{candidacy}"),
        "/api/v1/candidacies".to_string(),
        "/datos".to_string(),
        "/datos/candidaturas.csv".to_string(),
        "/datos/SHA256SUMS.sig".to_string(),
    ] {
        let answer = client.get(format!("{site}{path}")).send().await.unwrap();
        assert_eq!(answer.status(), 200, "{path}");
    }
    stack.stop().await;
}
