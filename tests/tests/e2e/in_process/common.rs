//! The test stack shared by the front and capture tests: `auth` and `capture` started for real
//! on free ports, each with its own database, against the real PostgreSQL, Redis and RabbitMQ;
//! and a minimal browser.

use base64::Engine;
use std::collections::HashMap;
use std::sync::Arc;

use conoceles_auth::accounts::Accounts;
use conoceles_auth::domain::Email;
use conoceles_auth::settings::AuthSettings;
use conoceles_kit::access::Role;
use conoceles_kit::clock::SystemClock;
use conoceles_kit::testing::{self, TestDatabase};
use conoceles_kit::{ServiceConfig, ServiceName, Shutdown};
use reqwest::StatusCode;
use reqwest::redirect::Policy;

pub const PUBLICATION_SECRET: &str = "publication-secret-for-front-test-01";
pub const VALIDATION_SECRET: &str = "validation-secret-for-front-tests-01";
pub const CAPTURE_SECRET: &str = "capture-secret-for-front-tests-0123";
pub const STATISTICS_SECRET: &str = "statistics-secret-for-front-tests-01";

pub struct Stack {
    pub capture_pool: sqlx::PgPool,
    pub namespace: String,
    pub base: String,
    pub accounts: Accounts,
    pub identity_pool: sqlx::PgPool,
    pub identity_db_url: String,
    pub capture_db_url: String,
    pub validation_db_url: String,
    pub publication_db_url: String,
    pub publication_pool: sqlx::PgPool,
    /// The citizens' site.
    pub site: String,
    /// The statisticians' API.
    pub statistics: String,
    /// `host:port` of the statistics, validation and publication gRPC servers.
    pub statistics_grpc: String,
    pub validation_grpc: String,
    pub publication_grpc: String,
    /// gRPC addresses (`http://…`) of auth, identity and capture, for tests that call them.
    pub auth_grpc: String,
    pub identity_grpc: String,
    pub capture_grpc: String,
    pub policy: conoceles_kit::access::Policy,
    pub stops: Vec<(Shutdown, tokio::task::JoinHandle<anyhow::Result<()>>)>,
    pub databases: Vec<TestDatabase>,
}

/// The seed of auth's signing key in the stack (so tests can mint any caller's token).
pub const SIGNING_SEED: [u8; 32] = [7; 32];

pub async fn spawn_stack() -> Stack {
    spawn_stack_with(None).await
}

/// The stack, every service reaching RabbitMQ at `amqp_url` when given (a faulty proxy).
pub async fn spawn_stack_with(amqp_url: Option<String>) -> Stack {
    spawn(amqp_url, None).await
}

/// The stack, capture sending its mail to the SMTP server at `smtp_url`.
pub async fn spawn_stack_mailing(smtp_url: String) -> Stack {
    spawn(None, Some(smtp_url)).await
}

async fn spawn(amqp_url: Option<String>, smtp_url: Option<String>) -> Stack {
    let service_config = |service: ServiceName, database_url: &str, namespace: &str| {
        let mut config = testing::service_config(service, database_url, namespace);
        if let Some(url) = &amqp_url {
            config.amqp_url = url.clone().into();
        }
        config
    };
    let namespace = testing::unique("t-front");
    let auth_db = TestDatabase::named("front_auth");
    let capture_db = TestDatabase::named("front_capture");
    let settings = AuthSettings::from_lookup(|key| match key {
        "SERVICE_SECRETS" => Some(format!(
            "capture={CAPTURE_SECRET},validation={VALIDATION_SECRET},publication={PUBLICATION_SECRET},statistics={STATISTICS_SECRET}"
        )),
        "HASH_CONCURRENCY" => Some("2".into()),
        "AUTH_SIGNING_KEY" => Some(base64::engine::general_purpose::STANDARD.encode(SIGNING_SEED)),
        _ => None,
    })
    .unwrap();
    let auth = conoceles_auth::Application::build_with(
        service_config(ServiceName::Auth, &auth_db.url, &namespace),
        settings.clone(),
        Arc::new(SystemClock),
    )
    .await
    .unwrap();
    let accounts = conoceles_auth::accounts(auth.infrastructure(), settings, Arc::new(SystemClock));
    let identity_db = TestDatabase::named("front_identity");
    let identity = conoceles_identity::Application::build_with(
        ServiceConfig {
            auth_url: format!("http://{}", auth.grpc_addr()),
            ..service_config(ServiceName::Identity, &identity_db.url, &namespace)
        },
        conoceles_identity::crypto::Keyring {
            current: conoceles_identity::crypto::Kek::generate("test"),
            previous: vec![],
        },
    )
    .await
    .unwrap();
    let identity_pool = identity.infrastructure().pool.clone();
    // validation and capture call each other: validation's port is chosen first.
    let validation_port = testing::reserve_port();
    let statistics_port = testing::reserve_port();
    let capture_config = ServiceConfig {
        auth_url: format!("http://{}", auth.grpc_addr()),
        identity_url: format!("http://{}", identity.grpc_addr()),
        validation_url: format!("http://127.0.0.1:{validation_port}"),
        statistics_url: format!("http://127.0.0.1:{statistics_port}"),
        service_secret: Some(CAPTURE_SECRET.to_string().into()),
        smtp_url: smtp_url.map(Into::into),
        mail_from: "Unidad de Transparencia <transparencia@iec.org.mx>".into(),
        ..service_config(ServiceName::Capture, &capture_db.url, &namespace)
    };
    let capture = conoceles_capture::Application::build(capture_config)
        .await
        .unwrap();
    let validation_db = TestDatabase::named("front_validation");
    let mut validation_config = ServiceConfig {
        auth_url: format!("http://{}", auth.grpc_addr()),
        identity_url: format!("http://{}", identity.grpc_addr()),
        capture_url: format!("http://{}", capture.grpc_addr()),
        service_secret: Some(VALIDATION_SECRET.to_string().into()),
        ..service_config(ServiceName::Validation, &validation_db.url, &namespace)
    };
    validation_config.ports.grpc = validation_port;
    let validation = conoceles_validation::Application::build(validation_config)
        .await
        .unwrap();
    let statistics_db = TestDatabase::named("front_statistics");
    let mut statistics_config = ServiceConfig {
        auth_url: format!("http://{}", auth.grpc_addr()),
        identity_url: format!("http://{}", identity.grpc_addr()),
        capture_url: format!("http://{}", capture.grpc_addr()),
        validation_url: format!("http://127.0.0.1:{validation_port}"),
        service_secret: Some(STATISTICS_SECRET.to_string().into()),
        ..service_config(ServiceName::Statistics, &statistics_db.url, &namespace)
    };
    statistics_config.ports.grpc = statistics_port;
    let statistics = conoceles_statistics::Application::build(statistics_config)
        .await
        .unwrap();
    let statistics_grpc = format!("127.0.0.1:{statistics_port}");
    let validation_grpc = format!("127.0.0.1:{validation_port}");
    let statistics_base = format!("http://{}", statistics.http_addr().unwrap());
    let publication_db = TestDatabase::named("front_publication");
    let publication = conoceles_publication::Application::build(ServiceConfig {
        auth_url: format!("http://{}", auth.grpc_addr()),
        identity_url: format!("http://{}", identity.grpc_addr()),
        capture_url: format!("http://{}", capture.grpc_addr()),
        statistics_url: format!("http://{}", statistics.grpc_addr()),
        service_secret: Some(PUBLICATION_SECRET.to_string().into()),
        ..service_config(ServiceName::Publication, &publication_db.url, &namespace)
    })
    .await
    .unwrap();
    let site = format!("http://{}", publication.http_addr().unwrap());
    let publication_grpc = publication.grpc_addr().to_string();
    let base = format!("http://{}", capture.http_addr().unwrap());
    let auth_grpc = format!("http://{}", auth.grpc_addr());
    let identity_grpc = format!("http://{}", identity.grpc_addr());
    let capture_grpc = format!("http://{}", capture.grpc_addr());
    let capture_pool = capture.infrastructure().pool.clone();
    let publication_pool = publication.infrastructure().pool.clone();
    // The same declaration the running front uses.
    let policy = conoceles_capture::http::policy();
    let mut stops = Vec::new();
    for running in [auth, identity, capture, validation, publication, statistics] {
        let shutdown = running.shutdown();
        stops.push((shutdown, tokio::spawn(running.run_until_stopped())));
    }
    Stack {
        capture_pool,
        namespace,
        base,
        accounts,
        identity_pool,
        identity_db_url: identity_db.url.clone(),
        capture_db_url: capture_db.url.clone(),
        validation_db_url: validation_db.url.clone(),
        publication_db_url: publication_db.url.clone(),
        publication_pool,
        policy,
        stops,
        site,
        statistics: statistics_base,
        statistics_grpc,
        validation_grpc,
        publication_grpc,
        auth_grpc,
        identity_grpc,
        capture_grpc,
        databases: vec![
            auth_db,
            identity_db,
            capture_db,
            validation_db,
            publication_db,
            statistics_db,
        ],
    }
}

/// The password the test helpers change a generated one to.
pub const CHANGED_PASSWORD: &str = "mi nueva contraseña segura";

impl Stack {
    /// What the capture API answers `POST /api/v1/sessions` (`token`, `must_change_password`).
    pub async fn api_session(&self, email: &str, password: &str) -> serde_json::Value {
        reqwest::Client::new()
            .post(format!("{}/api/v1/sessions", self.base))
            .json(&serde_json::json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// A bearer token of the capture API for a new account, after changing its generated
    /// password through the API, as a program would before doing anything else.
    pub async fn api_token(&self, email: &str, role: Role) -> String {
        let password = self.account(email, role).await;
        let client = reqwest::Client::new();
        let session = self.api_session(email, &password).await;
        assert_eq!(session["must_change_password"], true, "{session}");
        let changed = client
            .post(format!("{}/api/v1/account/password", self.base))
            .bearer_auth(session["token"].as_str().unwrap())
            .json(&serde_json::json!({
                "current_password": password,
                "new_password": CHANGED_PASSWORD,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(changed.status(), reqwest::StatusCode::OK);
        let changed: serde_json::Value = changed.json().await.unwrap();
        changed["token"].as_str().unwrap().to_string()
    }

    pub async fn account(&self, email: &str, role: Role) -> String {
        let scope_party = matches!(role, Role::Party | Role::Candidate).then(uuid::Uuid::now_v7);
        let scope_candidacy = (role == Role::Candidate).then(uuid::Uuid::now_v7);
        self.account_scoped(email, role, scope_party, scope_candidacy)
            .await
    }

    /// An account with the given scope; returns its generated password.
    pub async fn account_scoped(
        &self,
        email: &str,
        role: Role,
        scope_party: Option<uuid::Uuid>,
        scope_candidacy: Option<uuid::Uuid>,
    ) -> String {
        let (_, password) = self
            .accounts
            .create(
                None,
                &Email::parse(email).unwrap(),
                role,
                scope_party,
                scope_candidacy,
                None,
            )
            .await
            .unwrap();
        password.expose().to_string()
    }

    /// The election's capture window (SQL expressions such as `now() - interval '1 day'`), and
    /// every candidacy on it (the demo is imported after the window opened, so its candidacies
    /// start with the deadline of a late registration).
    pub async fn set_window(&self, opens: &str, closes: &str) {
        sqlx::query(&format!(
            "UPDATE elections SET capture_opens_at = {opens}, capture_closes_at = {closes}"
        ))
        .execute(&self.capture_pool)
        .await
        .unwrap();
        sqlx::query("UPDATE candidacies SET capture_deadline = NULL")
            .execute(&self.capture_pool)
            .await
            .unwrap();
    }

    /// The id of the postulant `code` (a party, coalition or independent).
    pub async fn party_id(&self, code: &str) -> uuid::Uuid {
        sqlx::query_scalar("SELECT id FROM postulants WHERE code = $1")
            .bind(code)
            .fetch_one(&self.capture_pool)
            .await
            .unwrap()
    }

    /// A live candidacy of the postulant (e.g. `MORENA`, or the coalition `COA1`).
    pub async fn candidacy_of(&self, postulant: &str) -> uuid::Uuid {
        sqlx::query_scalar(
            "SELECT id FROM candidacies WHERE postulant_code = $1 AND status <> 'withdrawn' ORDER BY external_id LIMIT 1",
        )
        .bind(postulant)
        .fetch_one(&self.capture_pool)
        .await
        .unwrap()
    }

    /// Moves every candidacy's history `days` into the past (as if the election had been loaded
    /// then), for cut-offs between then and now.
    pub async fn age_status_changes(&self, days: i32) {
        sqlx::query(
            "UPDATE status_changes SET changed_at = changed_at - make_interval(days => $1)",
        )
        .bind(days)
        .execute(&self.capture_pool)
        .await
        .unwrap();
    }

    /// The public site's publication start, `days` from now (negative: already started), as
    /// publication's copy of the election has it.
    pub async fn publication_starts_in_days(&self, days: i32) {
        sqlx::query(
            "UPDATE elections SET publication_starts_at = now() + make_interval(days => $1)",
        )
        .bind(days)
        .execute(&self.publication_pool)
        .await
        .unwrap();
    }

    /// The candidacy's holder's name as capture has it now.
    pub async fn holder(&self, candidacy: uuid::Uuid) -> String {
        conoceles_capture::domain::candidacies::holder_names(&self.capture_pool, &[candidacy])
            .await
            .unwrap()
            .remove(&candidacy)
            .expect("the candidacy has an active holder")
    }

    pub fn browser(&self) -> Browser {
        Browser::at(&self.base)
    }

    /// A citizen's browser on the public site.
    pub fn citizen(&self) -> Browser {
        Browser::at(&self.site)
    }

    pub async fn stop(self) {
        for (shutdown, handle) in self.stops.into_iter().rev() {
            shutdown.trigger();
            handle.await.unwrap().unwrap();
        }
        for db in self.databases {
            db.drop_database().await;
        }
        testing::delete_namespace(
            &self.namespace,
            &[
                conoceles_auth::generated::CONSUMER,
                conoceles_identity::events::CONSUMER,
                conoceles_capture::consumers::reviews::CONSUMER,
                conoceles_validation::submitted::CONSUMER,
                conoceles_publication::events::CONSUMER,
                conoceles_statistics::cache::CONSUMER,
            ],
        )
        .await;
    }
}

/// A minimal browser: keeps cookies (including `Secure` ones over plain HTTP on loopback, as
/// browsers do for localhost), does not follow redirects.
pub struct Browser {
    pub base: String,
    pub client: reqwest::Client,
    pub cookies: HashMap<String, String>,
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    /// What follows `prefix` in the page's first link that starts with it (an id in a path).
    pub fn first_link(&self, prefix: &str) -> String {
        let marker = format!("href=\"{prefix}");
        self.body
            .split(&marker)
            .nth(1)
            .and_then(|after| after.split('"').next())
            .unwrap_or_else(|| panic!("no link to {prefix}… in {}", self.body))
            .to_string()
    }

    /// What follows `prefix` in the link of the row that shows `text` (the last such link
    /// before the text).
    pub fn link_before(&self, text: &str, prefix: &str) -> String {
        let marker = format!("href=\"{prefix}");
        self.body
            .split(text)
            .next()
            .and_then(|before| before.rsplit(&marker).next())
            .and_then(|after| after.split('"').next())
            .unwrap_or_else(|| panic!("no link to {prefix}… before {text} in {}", self.body))
            .to_string()
    }

    pub fn hidden(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no field {name} in {}", self.body))
            + marker.len();
        self.body[start..].split('"').next().unwrap().to_string()
    }
}

impl Browser {
    /// A browser without cookies that does not follow redirects, on `base`.
    pub fn at(base: &str) -> Self {
        Browser {
            base: base.to_string(),
            client: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
        }
    }
    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let mut request = request.build().unwrap();
        // A browser on this site's own pages says so (an explicit `api_from` keeps its own).
        if !request.headers().contains_key("sec-fetch-site") {
            request
                .headers_mut()
                .insert("sec-fetch-site", "same-origin".parse().unwrap());
        }
        request
            .headers_mut()
            .insert("cookie", self.cookie_header().parse().unwrap());
        let response = self.client.execute(request).await.unwrap();
        for set in response.headers().get_all("set-cookie") {
            let set = set.to_str().unwrap();
            let (pair, attributes) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        Page {
            status: response.status(),
            location: response
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string()),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.client.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let request = self.client.post(format!("{}{path}", self.base)).form(form);
        self.send(request).await
    }

    /// A form post of owned pairs (forms built in the test).
    pub async fn post_pairs(&mut self, path: &str, form: &[(String, String)]) -> Page {
        let request = self.client.post(format!("{}{path}", self.base)).form(form);
        self.send(request).await
    }

    pub async fn put(&mut self, path: &str) -> Page {
        let request = self.client.put(format!("{}{path}", self.base));
        self.send(request).await
    }

    pub async fn multipart(&mut self, path: &str, form: reqwest::multipart::Form) -> Page {
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .multipart(form);
        self.send(request).await
    }

    /// A JSON API call with the session cookie, as the site's own pages make it (the browser
    /// says `Sec-Fetch-Site: same-origin`); returns the status and the parsed body.
    pub async fn api(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (StatusCode, serde_json::Value) {
        self.api_from("same-origin", method, path, body).await
    }

    /// A JSON API call with the session cookie from a page of another site (`cross-site`).
    pub async fn api_from(
        &mut self,
        fetch_site: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (StatusCode, serde_json::Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("sec-fetch-site", fetch_site);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let page = self.send(request).await;
        let json = serde_json::from_str(&page.body).unwrap_or(serde_json::Value::Null);
        (page.status, json)
    }

    pub async fn login(&mut self, email: &str, password: &str) -> Page {
        let form = self.get("/ingresar").await;
        let csrf = form.hidden("csrf");
        self.post(
            "/ingresar",
            &[("email", email), ("password", password), ("csrf", &csrf)],
        )
        .await
    }

    /// Logs in and changes the generated password; returns the new one.
    pub async fn first_login(&mut self, email: &str, password: &str) -> String {
        let login = self.login(email, password).await;
        assert_eq!(login.status, StatusCode::SEE_OTHER);
        assert_eq!(
            login.location.as_deref(),
            Some("/cuenta/contrasena"),
            "first login forces a change"
        );
        let page = self.get("/cuenta/contrasena").await;
        assert!(page.body.contains("cambie la contraseña que recibió"));
        let new = CHANGED_PASSWORD;
        let changed = self
            .post(
                "/cuenta/contrasena",
                &[
                    ("csrf", &page.hidden("csrf")),
                    ("current", password),
                    ("new", new),
                    ("confirm", new),
                ],
            )
            .await;
        assert_eq!(changed.status, StatusCode::SEE_OTHER, "{}", changed.body);
        new.to_string()
    }
}

/// A queue of the test's own bound to one routing key of the namespace's events exchange.
pub struct EventTap {
    conn: lapin::Connection,
    channel: lapin::Channel,
    queue: String,
    routing_key: String,
}

impl EventTap {
    pub async fn bind(namespace: &str, routing_key: &str) -> Self {
        let conn = lapin::Connection::connect(
            &testing::amqp_url(),
            lapin::ConnectionProperties::default(),
        )
        .await
        .unwrap();
        let channel = conn.create_channel().await.unwrap();
        let topology = conoceles_kit::amqp::Topology::new(namespace);
        topology.declare_exchanges(&channel).await.unwrap();
        let queue = format!("{namespace}.test-{}", routing_key.replace('.', "-"));
        channel
            .queue_declare(
                queue.as_str().into(),
                Default::default(),
                Default::default(),
            )
            .await
            .unwrap();
        channel
            .queue_bind(
                queue.as_str().into(),
                topology.events_exchange().into(),
                routing_key.into(),
                Default::default(),
                Default::default(),
            )
            .await
            .unwrap();
        Self {
            conn,
            channel,
            queue,
            routing_key: routing_key.to_string(),
        }
    }

    async fn get(&self) -> Option<Vec<u8>> {
        self.channel
            .basic_get(
                self.queue.as_str().into(),
                lapin::options::BasicGetOptions { no_ack: true },
            )
            .await
            .unwrap()
            .map(|m| m.delivery.data)
    }

    /// The next event's payload, waiting up to 20 s.
    pub async fn next(&self) -> Vec<u8> {
        let started = std::time::Instant::now();
        loop {
            if let Some(data) = self.get().await {
                return data;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(20),
                "no {} event",
                self.routing_key
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Whether no further event arrives within half a second.
    pub async fn nothing_more(&self) -> bool {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        self.get().await.is_none()
    }

    pub async fn close(self) {
        let _ = self
            .channel
            .queue_delete(self.queue.as_str().into(), Default::default())
            .await;
        let _ = self.conn.close(200, "done".into()).await;
    }
}

/// Every log line the in-process services write, at debug level and above, with span fields:
/// installed once per test process (each test runs in its own process).
#[derive(Clone)]
pub struct LogCapture(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogCapture {
    pub fn install() -> Self {
        let capture = LogCapture(Arc::default());
        let writer = capture.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init()
            .expect("no other subscriber in this test process");
        capture
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// A TCP proxy that can cut every connection through it and refuse new ones for a while, or
/// hold every chunk of bytes it forwards for a while: the network failures between a service
/// and the broker, for the fault-injection tests.
pub struct FaultyProxy {
    pub addr: std::net::SocketAddr,
    cut: tokio::sync::broadcast::Sender<()>,
    refusing: Arc<std::sync::atomic::AtomicBool>,
    /// Milliseconds each forwarded chunk waits, in both directions (0: none).
    latency_ms: Arc<std::sync::atomic::AtomicU64>,
    pub cuts: Arc<std::sync::atomic::AtomicUsize>,
    pub slowdowns: Arc<std::sync::atomic::AtomicUsize>,
}

/// Forwards one direction of a connection, holding each chunk for the proxy's current latency.
async fn forward(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    latency_ms: Arc<std::sync::atomic::AtomicU64>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buffer = vec![0_u8; 16 * 1024];
    while let Ok(read @ 1..) = from.read(&mut buffer).await {
        let hold = latency_ms.load(std::sync::atomic::Ordering::SeqCst);
        if hold > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(hold)).await;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

impl FaultyProxy {
    pub async fn start(upstream: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (cut, _) = tokio::sync::broadcast::channel::<()>(4);
        let refusing = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let latency_ms = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (cut_tx, refusing_flag, latency) = (cut.clone(), refusing.clone(), latency_ms.clone());
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                if refusing_flag.load(std::sync::atomic::Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let mut cut = cut_tx.subscribe();
                let (upstream, latency) = (upstream.clone(), latency.clone());
                tokio::spawn(async move {
                    let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let (client_read, client_write) = client.into_split();
                    let (server_read, server_write) = server.into_split();
                    tokio::select! {
                        _ = async {
                            tokio::join!(
                                forward(client_read, server_write, latency.clone()),
                                forward(server_read, client_write, latency),
                            )
                        } => {}
                        _ = cut.recv() => {}
                    }
                });
            }
        });
        Self {
            addr,
            cut,
            refusing,
            latency_ms,
            cuts: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
            slowdowns: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
        }
    }

    /// Drops every open connection and refuses new ones for `outage`. The link is restored
    /// even if the caller is cancelled mid-way (an aborted fault task must not leave the broker
    /// unreachable for the rest of the run).
    pub async fn outage(&self, outage: std::time::Duration) {
        self.refusing
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let _restore = OnDrop(|| {
            self.refusing
                .store(false, std::sync::atomic::Ordering::SeqCst)
        });
        let _ = self.cut.send(());
        self.cuts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        tokio::time::sleep(outage).await;
    }

    /// Holds every chunk forwarded, both ways, for `latency` during `period`; connections stay
    /// open. Restored on cancellation too.
    pub async fn slowdown(&self, latency: std::time::Duration, period: std::time::Duration) {
        let millis = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        self.latency_ms
            .store(millis, std::sync::atomic::Ordering::SeqCst);
        let _restore = OnDrop(|| {
            self.latency_ms
                .store(0, std::sync::atomic::Ordering::SeqCst)
        });
        self.slowdowns
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        tokio::time::sleep(period).await;
    }
}

/// Runs its closure when dropped, whether the scope ended or its future was cancelled.
struct OnDrop<F: FnMut()>(F);

impl<F: FnMut()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        (self.0)()
    }
}

/// A real SMTP server on loopback (`deploy/mail-sink.py`, aiosmtpd) that keeps every message it
/// accepts, decoded, in a folder of its own.
pub struct MailSink {
    pub port: u16,
    dir: std::path::PathBuf,
    child: Option<std::process::Child>,
}

/// A message as the sink received it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Received {
    pub to: Vec<String>,
    pub from: String,
    pub subject: String,
    pub body: String,
}

impl MailSink {
    /// A port for the sink, with nothing listening there yet (a mail server that is down).
    pub fn reserve() -> Self {
        let dir = std::env::temp_dir().join(testing::unique("correo"));
        std::fs::create_dir_all(&dir).unwrap();
        Self {
            port: testing::reserve_port(),
            dir,
            child: None,
        }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Starts the server and waits until it accepts connections.
    pub async fn start(&mut self) {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let child = std::process::Command::new(root.join(".run/python/bin/python"))
            .arg(root.join("deploy/mail-sink.py"))
            .args(["--port", &self.port.to_string()])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("the mail sink starts (deploy/python-deps.sh installs aiosmtpd)");
        self.child = Some(child);
        let started = std::time::Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(20),
                "the mail sink never listened"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Every message received so far.
    pub fn received(&self) -> Vec<Received> {
        let mut names: Vec<_> = std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
            .collect()
    }

    /// Waits (up to 30 s) until a received message to `to` has `needle` in its subject.
    pub async fn wait_for(&self, to: &str, needle: &str) -> Received {
        let started = std::time::Instant::now();
        loop {
            if let Some(m) = self
                .received()
                .into_iter()
                .find(|m| m.to.iter().any(|t| t == to) && m.subject.contains(needle))
            {
                return m;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "no message to {to} about {needle:?}; received: {:#?}",
                self.received()
            );
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
}

impl Drop for MailSink {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
