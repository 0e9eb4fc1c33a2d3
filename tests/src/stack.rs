//! The whole system as processes: the six service binaries, each on free ports with its own
//! fresh database, sharing one broker namespace, wired to each other as in production.

use std::process::Command;
use std::time::Duration;

use conoceles_kit::testing::{self, TestDatabase};

use crate::ServiceProcess;

/// The consumers the six services declare (deleted with the namespace at the end).
const CONSUMERS: [&str; 6] = [
    "auth.candidacy-accounts",
    "identity.candidacies",
    "capture.reviews",
    "validation.curricular",
    "publication.profiles",
    "statistics.changes",
];

pub struct ProcessStack {
    pub namespace: String,
    pub auth: ServiceProcess,
    pub identity: ServiceProcess,
    pub capture: ServiceProcess,
    pub validation: ServiceProcess,
    pub statistics: ServiceProcess,
    pub publication: ServiceProcess,
    /// The services' databases, by service name.
    pub databases: Vec<(&'static str, TestDatabase)>,
    /// Each service's environment, to start it again.
    environments: Vec<(&'static str, Vec<(&'static str, String)>)>,
}

impl ProcessStack {
    /// Starts the six services (names of databases and broker objects start with `label`).
    pub fn start(label: &str) -> Self {
        let namespace = testing::unique(&format!("t-{label}"));
        let databases: Vec<(&'static str, TestDatabase)> = crate::SERVICES
            .iter()
            .map(|name| (*name, TestDatabase::named(&format!("{label}_{name}"))))
            .collect();
        let secret = |name: &str| format!("{name}-secret-{}", testing::unique("p"));
        let (capture_secret, validation_secret, publication_secret, statistics_secret) = (
            secret("capture"),
            secret("validation"),
            secret("publication"),
            secret("statistics"),
        );
        let db = |name: &str| {
            databases
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, d)| d.url.clone())
                .expect("a database per service")
        };
        let common = |name: &str| {
            vec![
                ("DATABASE_URL", db(name)),
                ("AMQP_URL", testing::amqp_url()),
                ("AMQP_NAMESPACE", namespace.clone()),
                ("REDIS_URL", testing::redis_url()),
                ("REDIS_KEY_PREFIX", format!("{namespace}:{name}:")),
            ]
        };
        let mut auth_env = common("auth");
        auth_env.push((
            "SERVICE_SECRETS",
            format!(
                "capture={capture_secret},validation={validation_secret},\
                 publication={publication_secret},statistics={statistics_secret}"
            ),
        ));
        let auth = ServiceProcess::start("auth", &auth_env);
        let auth_url = format!("http://{}", auth.grpc);
        let mut identity_env = common("identity");
        identity_env.push(("AUTH_GRPC_URL", auth_url.clone()));
        identity_env.push(("IDENTITY_KEK", format!("{label}:{}", "A".repeat(43) + "=")));
        let identity = ServiceProcess::start("identity", &identity_env);
        let identity_url = format!("http://{}", identity.grpc);
        // capture and validation call each other, and capture calls statistics, which calls
        // capture: validation's and statistics' gRPC ports are chosen first (never the defaults,
        // which a `make run` beside the tests holds).
        let validation_port = testing::reserve_port();
        let validation_url = format!("http://127.0.0.1:{validation_port}");
        let statistics_port = testing::reserve_port();
        let statistics_url = format!("http://127.0.0.1:{statistics_port}");
        let mut capture_env = common("capture");
        capture_env.extend([
            ("SERVICE_SECRET", capture_secret),
            ("AUTH_GRPC_URL", auth_url.clone()),
            ("IDENTITY_GRPC_URL", identity_url.clone()),
            ("VALIDATION_GRPC_URL", validation_url.clone()),
            ("STATISTICS_GRPC_URL", statistics_url.clone()),
        ]);
        let capture = ServiceProcess::start("capture", &capture_env);
        let capture_url = format!("http://{}", capture.grpc);
        let mut validation_env = common("validation");
        validation_env.extend([
            ("SERVICE_SECRET", validation_secret),
            ("AUTH_GRPC_URL", auth_url.clone()),
            ("IDENTITY_GRPC_URL", identity_url.clone()),
            ("CAPTURE_GRPC_URL", capture_url.clone()),
            ("GRPC_PORT", validation_port.to_string()),
        ]);
        let validation = ServiceProcess::start("validation", &validation_env);
        let mut statistics_env = common("statistics");
        statistics_env.extend([
            ("SERVICE_SECRET", statistics_secret),
            ("AUTH_GRPC_URL", auth_url.clone()),
            ("IDENTITY_GRPC_URL", identity_url.clone()),
            ("CAPTURE_GRPC_URL", capture_url.clone()),
            ("VALIDATION_GRPC_URL", validation_url),
            ("GRPC_PORT", statistics_port.to_string()),
        ]);
        let statistics = ServiceProcess::start("statistics", &statistics_env);
        let mut publication_env = common("publication");
        publication_env.extend([
            ("SERVICE_SECRET", publication_secret),
            ("AUTH_GRPC_URL", auth_url),
            ("IDENTITY_GRPC_URL", identity_url),
            ("CAPTURE_GRPC_URL", capture_url),
            ("STATISTICS_GRPC_URL", statistics_url),
        ]);
        let publication = ServiceProcess::start("publication", &publication_env);
        let environments = vec![
            ("auth", auth_env),
            ("identity", identity_env),
            ("capture", capture_env),
            ("validation", validation_env),
            ("statistics", statistics_env),
            ("publication", publication_env),
        ];
        Self {
            namespace,
            auth,
            identity,
            capture,
            validation,
            statistics,
            publication,
            databases,
            environments,
        }
    }

    /// The running process of `service`.
    pub fn process(&mut self, service: &str) -> &mut ServiceProcess {
        match service {
            "auth" => &mut self.auth,
            "identity" => &mut self.identity,
            "capture" => &mut self.capture,
            "validation" => &mut self.validation,
            "statistics" => &mut self.statistics,
            "publication" => &mut self.publication,
            other => panic!("no service {other}"),
        }
    }

    /// Kills `service` at once (SIGKILL) and starts it again on the same ports, as an
    /// orchestrator would after a crash.
    /// Returns what the killed process logged.
    pub fn crash_and_restart(&mut self, service: &'static str, down_for: Duration) -> Vec<String> {
        let process = self.process(service);
        process.kill();
        let log = process.drain_log();
        let ports = ports_of(process);
        std::thread::sleep(down_for);
        let mut env = self
            .environments
            .iter()
            .find(|(n, _)| *n == service)
            .map(|(_, e)| e.clone())
            .expect("the service's environment");
        env.extend(ports);
        *self.process(service) = ServiceProcess::start(service, &env);
        log
    }

    /// Stops `service` (SIGTERM) and starts it again on the same ports with `extra` in its
    /// environment (kept for later restarts): `CLOCK_OFFSET_SECONDS` walks its calendar.
    pub fn restart_with(&mut self, service: &'static str, extra: &[(&'static str, String)]) {
        let process = self.process(service);
        process.terminate(Duration::from_secs(10));
        let ports = ports_of(process);
        let (_, env) = self
            .environments
            .iter_mut()
            .find(|(n, _)| *n == service)
            .expect("the service's environment");
        env.retain(|(key, _)| !extra.iter().any(|(k, _)| k == key));
        env.extend(extra.iter().cloned());
        let mut env = env.clone();
        env.extend(ports);
        *self.process(service) = ServiceProcess::start(service, &env);
    }

    /// The database URL of `service`.
    pub fn database_url(&self, service: &str) -> &str {
        self.databases
            .iter()
            .find(|(n, _)| *n == service)
            .map(|(_, d)| d.url.as_str())
            .expect("a database per service")
    }

    /// Runs a command of a service binary (`conoceles-<service> <args>`) on its database and
    /// returns what it printed; panics with its errors when it fails.
    pub fn command(&self, service: &str, args: &[&str]) -> String {
        let output = Command::new(crate::binaries_dir().join(format!("conoceles-{service}")))
            .args(args)
            .env("DATABASE_URL", self.database_url(service))
            .env("RUST_LOG", "error")
            .output()
            .expect("the service binary runs");
        assert!(
            output.status.success(),
            "conoceles-{service} {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Creates an administrator and returns the password it prints (to change at first login).
    pub fn create_admin(&self, email: &str) -> String {
        password_in(&self.command("auth", &["create-admin", email]))
    }

    /// Resets an account's password and returns the new one.
    pub fn reset_password(&self, email: &str) -> String {
        password_in(&self.command("auth", &["reset-password", email]))
    }

    /// The email of the account auth generated for the party `code`, once the demo's events
    /// have reached it.
    pub async fn generated_party_account(&self, code: &str) -> String {
        let party = self.postulant_id(code).await;
        let auth = sqlx::PgPool::connect(self.database_url("auth"))
            .await
            .expect("auth's database");
        let started = std::time::Instant::now();
        let email = loop {
            let found: Option<String> = sqlx::query_scalar(
                "SELECT a.email FROM accounts a JOIN generated_accounts g ON g.account_id = a.id \
                 WHERE g.kind = 'party' AND g.party_id = $1",
            )
            .bind(party)
            .fetch_optional(&auth)
            .await
            .expect("auth's accounts");
            if let Some(email) = found {
                break email;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the party's account was not generated"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        auth.close().await;
        email
    }

    /// The demo's questionnaires captured and submitted, the passing ones approved until the
    /// public API lists at least `at_least` candidacies.
    pub async fn publish_demo(&self, at_least: i64) {
        self.publish_process("coahuila", at_least).await;
    }

    /// As [`Self::publish_demo`], for the demo process `name` (`coahuila`, `sonora`).
    pub async fn publish_process(&self, name: &str, at_least: i64) {
        self.command("capture", &["seed-demo", &format!("--process={name}")]);
        let site = Self::http(&self.publication);
        let client = reqwest::Client::new();
        let started = std::time::Instant::now();
        loop {
            self.command("validation", &["approve-passing"]);
            let total = match client
                .get(format!("{site}/api/v1/candidacies"))
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => r
                    .json::<serde_json::Value>()
                    .await
                    .ok()
                    .and_then(|v| v["total"].as_i64())
                    .unwrap_or(0),
                _ => 0,
            };
            if total >= at_least {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "only {total} published"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// The candidacy with the registry id `external_id` in capture, if it is there.
    pub async fn candidacy_registered_as(&self, external_id: &str) -> Option<uuid::Uuid> {
        let capture = sqlx::PgPool::connect(self.database_url("capture"))
            .await
            .expect("capture's database");
        let candidacy = sqlx::query_scalar("SELECT id FROM candidacies WHERE external_id = $1")
            .bind(external_id)
            .fetch_optional(&capture)
            .await
            .expect("capture answers");
        capture.close().await;
        candidacy
    }

    /// The id of the postulant `code` in capture.
    pub async fn postulant_id(&self, code: &str) -> uuid::Uuid {
        let capture = sqlx::PgPool::connect(self.database_url("capture"))
            .await
            .expect("capture's database");
        let id = sqlx::query_scalar("SELECT id FROM postulants WHERE code = $1")
            .bind(code)
            .fetch_one(&capture)
            .await
            .expect("the postulant");
        capture.close().await;
        id
    }

    /// The first live candidacy of the postulant `code` (by registry id) in capture.
    pub async fn first_candidacy(&self, code: &str) -> uuid::Uuid {
        let capture = sqlx::PgPool::connect(self.database_url("capture"))
            .await
            .expect("capture's database");
        let candidacy = sqlx::query_scalar(
            "SELECT id FROM candidacies WHERE postulant_code = $1 AND status <> 'withdrawn' \
             ORDER BY external_id LIMIT 1",
        )
        .bind(code)
        .fetch_one(&capture)
        .await
        .expect("a candidacy of the postulant");
        capture.close().await;
        candidacy
    }

    /// What capture's API answers `POST /api/v1/sessions` for `email` and `password`
    /// (`token`, `must_change_password`), the password left as it is.
    pub async fn api_session(&self, email: &str, password: &str) -> serde_json::Value {
        reqwest::Client::new()
            .post(format!("{}/api/v1/sessions", Self::http(&self.capture)))
            .json(&serde_json::json!({ "email": email, "password": password }))
            .send()
            .await
            .expect("capture answers")
            .json()
            .await
            .expect("a JSON answer")
    }

    /// A session token of capture's API (`POST /api/v1/sessions`) for `email`; a password given
    /// by someone else (as `create_admin` and `reset_password` print) is changed first, through
    /// the API, as a program has to before doing anything else.
    pub async fn api_token(&self, email: &str, password: &str) -> String {
        let client = reqwest::Client::new();
        let capture = Self::http(&self.capture);
        let session = self.api_session(email, password).await;
        if session["must_change_password"] == true {
            let changed: serde_json::Value = client
                .post(format!("{capture}/api/v1/account/password"))
                .bearer_auth(session["token"].as_str().expect("a session token"))
                .json(&serde_json::json!({
                    "current_password": password,
                    "new_password": format!("{password} cambiada en la prueba"),
                }))
                .send()
                .await
                .expect("capture answers")
                .json()
                .await
                .expect("a JSON answer");
            return changed["token"]
                .as_str()
                .expect("a new session token")
                .to_string();
        }
        session["token"]
            .as_str()
            .expect("a session token")
            .to_string()
    }

    /// `http://host:port` of a service's HTTP server.
    pub fn http(process: &ServiceProcess) -> String {
        format!("http://{}", process.http.expect("an HTTP server"))
    }

    /// Stops every service (SIGTERM, publication first), then drops the databases and the
    /// broker namespace.
    pub async fn stop(mut self) {
        for process in [
            &mut self.publication,
            &mut self.statistics,
            &mut self.validation,
            &mut self.capture,
            &mut self.identity,
            &mut self.auth,
        ] {
            process.terminate(Duration::from_secs(10));
        }
        for (_, db) in &self.databases {
            db.drop_database().await;
        }
        testing::delete_namespace(&self.namespace, &CONSUMERS).await;
    }
}

/// A running process's ports, to start it again on the same ones.
fn ports_of(process: &ServiceProcess) -> [(&'static str, String); 3] {
    [
        ("GRPC_PORT", process.grpc.port().to_string()),
        ("OPS_PORT", process.ops.port().to_string()),
        (
            "HTTP_PORT",
            process.http.map_or(0, |a| a.port()).to_string(),
        ),
    ]
}

fn password_in(output: &str) -> String {
    output
        .lines()
        .find_map(|l| {
            l.strip_prefix("Password (change it at first login): ")
                .map(String::from)
        })
        .expect("the command prints the password")
}
