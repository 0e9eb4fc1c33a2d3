//! `auth` over gRPC, started for real on free ports with its own database, against the real
//! PostgreSQL and Redis, with a clock the tests move.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Duration, Utc};
use conoceles_auth::accounts::Accounts;
use conoceles_auth::domain::Email;
use conoceles_auth::settings::AuthSettings;
use conoceles_kit::access::Role;
use conoceles_kit::clock::ManualClock;
use conoceles_kit::testing::{self, TestDatabase};
use conoceles_kit::{Running, ServiceConfig, ServiceName, Shutdown};
use conoceles_proto::auth::v1 as pb;
use conoceles_proto::auth::v1::auth_service_client::AuthServiceClient;
use conoceles_proto::common::v1 as common;
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

const CAPTURE_SECRET: &str = "capture-secret-for-tests-0123456789";

type Client = AuthServiceClient<InterceptedService<Channel, Bearer>>;

#[derive(Clone)]
struct Bearer(Option<tonic::metadata::AsciiMetadataValue>);

impl tonic::service::Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

struct TestApp {
    db: TestDatabase,
    namespace: String,
    clock: ManualClock,
    settings: AuthSettings,
    accounts: Accounts,
    channel: Channel,
    grpc_addr: std::net::SocketAddr,
    shutdown: Shutdown,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

fn settings() -> AuthSettings {
    AuthSettings::from_lookup(|key| match key {
        "SERVICE_SECRETS" => Some(format!("capture={CAPTURE_SECRET}")),
        "HASH_CONCURRENCY" => Some("2".into()),
        _ => None,
    })
    .unwrap()
}

async fn spawn_app_with(config_change: impl FnOnce(ServiceConfig) -> ServiceConfig) -> TestApp {
    let namespace = testing::unique("t-auth");
    let db = TestDatabase::named("auth");
    let config = config_change(testing::service_config(
        ServiceName::Auth,
        &db.url,
        &namespace,
    ));
    let clock = ManualClock::at(Utc::now());
    let settings = settings();
    let running: Running =
        conoceles_auth::Application::build_with(config, settings.clone(), Arc::new(clock.clone()))
            .await
            .unwrap();
    let accounts = conoceles_auth::accounts(
        running.infrastructure(),
        settings.clone(),
        Arc::new(clock.clone()),
    );
    let grpc_addr = running.grpc_addr();
    let channel = conoceles_kit::grpc::channel(&format!("http://{grpc_addr}")).unwrap();
    let shutdown = running.shutdown();
    let server = tokio::spawn(running.run_until_stopped());
    TestApp {
        db,
        namespace,
        clock,
        settings,
        accounts,
        channel,
        grpc_addr,
        shutdown,
        server,
    }
}

async fn spawn_app() -> TestApp {
    spawn_app_with(|c| c).await
}

impl TestApp {
    fn client(&self, token: Option<&str>) -> Client {
        let bearer = Bearer(token.map(|t| format!("Bearer {t}").parse().unwrap()));
        AuthServiceClient::with_interceptor(self.channel.clone(), bearer)
    }

    /// A token minted the way the capture service gets one.
    async fn capture_token(&self, session_token: &str) -> String {
        self.client(None)
            .mint_service_token(pb::MintServiceTokenRequest {
                audience: "auth".into(),
                service: "capture".into(),
                secret: CAPTURE_SECRET.into(),
                session_token: session_token.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .token
    }

    /// The client the capture front uses on its own behalf.
    async fn front(&self) -> Client {
        let token = self.capture_token("").await;
        self.client(Some(&token))
    }

    async fn create(
        &self,
        email: &str,
        role: Role,
        party: Option<uuid::Uuid>,
        candidacy: Option<uuid::Uuid>,
    ) -> String {
        let (_, password) = self
            .accounts
            .create(
                None,
                &Email::parse(email).unwrap(),
                role,
                party,
                candidacy,
                None,
            )
            .await
            .unwrap();
        password.expose().to_string()
    }

    async fn login(&self, email: &str, password: &str) -> Result<pb::LoginResponse, tonic::Status> {
        self.login_from(email, password, "192.0.2.10").await
    }

    async fn login_from(
        &self,
        email: &str,
        password: &str,
        address: &str,
    ) -> Result<pb::LoginResponse, tonic::Status> {
        self.front()
            .await
            .login(pb::LoginRequest {
                email: email.into(),
                password: password.into(),
                client_address: address.into(),
            })
            .await
            .map(|r| r.into_inner())
    }

    async fn resolve(&self, session: &str) -> Result<pb::ResolveSessionResponse, tonic::Status> {
        self.front()
            .await
            .resolve_session(pb::ResolveSessionRequest {
                session_token: session.into(),
            })
            .await
            .map(|r| r.into_inner())
    }

    async fn stop(self) {
        self.shutdown.trigger();
        self.server.await.unwrap().unwrap();
        self.db.drop_database().await;
        testing::delete_namespace(&self.namespace, &[conoceles_auth::generated::CONSUMER]).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_forces_a_password_change_that_revokes_every_session_then_logout() {
    let app = spawn_app().await;
    let password = app.create("ana@iec.org.mx", Role::Admin, None, None).await;

    let first = app.login("ANA@iec.org.mx ", &password).await.unwrap();
    let second = app.login("ana@iec.org.mx", &password).await.unwrap();
    let account = first.account.clone().unwrap();
    assert!(
        account.must_change_password,
        "a generated password must be changed"
    );
    assert_eq!(account.role(), common::Role::Admin);
    assert!(first.session_token.len() >= 43, "at least 256 bits");
    assert!(app.resolve(&first.session_token).await.is_ok());

    let changed = app
        .front()
        .await
        .change_password(pb::ChangePasswordRequest {
            session_token: first.session_token.clone(),
            current_password: password.clone(),
            new_password: "una frase larga y fácil de recordar".into(),
        })
        .await
        .unwrap()
        .into_inner();
    for old in [&first.session_token, &second.session_token] {
        let err = app.resolve(old).await.unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated);
    }
    let fresh = app.resolve(&changed.session_token).await.unwrap();
    assert!(!fresh.account.unwrap().must_change_password);

    assert_eq!(
        app.login("ana@iec.org.mx", &password)
            .await
            .unwrap_err()
            .code(),
        Code::Unauthenticated
    );
    let again = app
        .login("ana@iec.org.mx", "una frase larga y fácil de recordar")
        .await
        .unwrap();

    app.front()
        .await
        .logout(pb::LogoutRequest {
            session_token: again.session_token.clone(),
        })
        .await
        .unwrap();
    assert_eq!(
        app.resolve(&again.session_token).await.unwrap_err().code(),
        Code::Unauthenticated
    );

    // The audit has the story, and no password or token in it.
    let audit: Vec<(String, String)> =
        sqlx::query_as("SELECT action, detail::text FROM audit_log ORDER BY id")
            .fetch_all(&app.accounts.pool)
            .await
            .unwrap();
    let actions: Vec<&str> = audit.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "account_created",
            "login",
            "login",
            "password_changed",
            "login_failed",
            "login",
            "logout"
        ]
    );
    let dump = format!("{audit:?}");
    assert!(!dump.contains(&password) && !dump.contains(&again.session_token));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expire_when_idle_and_at_their_absolute_limit() {
    let app = spawn_app().await;
    let password = app
        .create("rev@iec.org.mx", Role::Reviewer, None, None)
        .await;

    let idle = app.login("rev@iec.org.mx", &password).await.unwrap();
    app.clock.advance(Duration::minutes(29));
    assert!(
        app.resolve(&idle.session_token).await.is_ok(),
        "29 minutes idle is fine"
    );
    app.clock.advance(Duration::minutes(31));
    assert_eq!(
        app.resolve(&idle.session_token).await.unwrap_err().code(),
        Code::Unauthenticated
    );

    let busy = app.login("rev@iec.org.mx", &password).await.unwrap();
    for _ in 0..35 {
        app.clock.advance(Duration::minutes(20));
        assert!(
            app.resolve(&busy.session_token).await.is_ok(),
            "in use: stays alive"
        );
    }
    // 35 × 20 min = 11 h 40 min; past 12 h the session ends however busy it is.
    app.clock.advance(Duration::minutes(25));
    assert_eq!(
        app.resolve(&busy.session_token).await.unwrap_err().code(),
        Code::Unauthenticated
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failures_block_the_account_with_a_retry_time() {
    let app = spawn_app().await;
    let password = app
        .create(
            "partido@pri.org.mx",
            Role::Party,
            Some(uuid::Uuid::now_v7()),
            None,
        )
        .await;
    for _ in 0..5 {
        let err = app
            .login("partido@pri.org.mx", "no es la contraseña")
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated);
        assert_eq!(err.message(), "Correo o contraseña incorrectos.");
    }
    let blocked = app
        .login("partido@pri.org.mx", &password)
        .await
        .unwrap_err();
    assert_eq!(blocked.code(), Code::ResourceExhausted);
    assert!(
        blocked
            .message()
            .starts_with("Demasiados intentos fallidos. Intente de nuevo en"),
        "{}",
        blocked.message()
    );
    let retry: u64 = blocked
        .metadata()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=15 * 60).contains(&retry));
    app.stop().await;
}

/// The hostile tester's H1: five wrong passwords from anywhere locked a party out for 15
/// minutes, again and again. Now the guesser's own address waits, longer each time; the party
/// from its address logs in; and even when many addresses guess at once the party waits a
/// minute at most.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_delay_the_guesser_not_the_person_they_target() {
    let app = spawn_app().await;
    let password = app
        .create(
            "partido@pt.org.mx",
            Role::Party,
            Some(uuid::Uuid::now_v7()),
            None,
        )
        .await;
    let guess = |address: &'static str| app.login_from("partido@pt.org.mx", "adivinanza", address);
    for _ in 0..5 {
        assert_eq!(
            guess("203.0.113.66").await.unwrap_err().code(),
            Code::Unauthenticated
        );
    }
    let waits = |status: &tonic::Status| -> u64 {
        status
            .metadata()
            .get("retry-after")
            .unwrap()
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let first = guess("203.0.113.66").await.unwrap_err();
    assert_eq!(first.code(), Code::ResourceExhausted);
    assert!((1..=30).contains(&waits(&first)), "{}", waits(&first));
    // The party, from its own address, is not delayed.
    app.login_from("partido@pt.org.mx", &password, "198.51.100.20")
        .await
        .expect("the targeted party logs in from its address");
    // The guesser's next wait is longer.
    app.clock.advance(Duration::seconds(31));
    assert_eq!(
        guess("203.0.113.66").await.unwrap_err().code(),
        Code::Unauthenticated
    );
    let second = guess("203.0.113.66").await.unwrap_err();
    assert!(waits(&second) > 30, "{}", waits(&second));
    // Many addresses guessing: the account as a whole is slowed, by a minute at most.
    for i in 0..30 {
        let _ = app
            .login_from(
                "partido@pt.org.mx",
                "adivinanza",
                &format!("203.0.113.{}", 100 + i),
            )
            .await;
    }
    let slowed = app
        .login_from("partido@pt.org.mx", &password, "198.51.100.20")
        .await
        .unwrap_err();
    assert_eq!(slowed.code(), Code::ResourceExhausted);
    assert!(waits(&slowed) <= 60, "{}", waits(&slowed));
    app.clock.advance(Duration::seconds(61));
    app.login_from("partido@pt.org.mx", &password, "198.51.100.20")
        .await
        .expect("after a minute the party is in");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_logins_go_on_and_a_guesser_is_still_slowed() {
    let app = spawn_app_with(|c| ServiceConfig {
        redis_url: "redis://127.0.0.1:1/".to_string().into(),
        ..c
    })
    .await;
    let password = app
        .create("est@iec.org.mx", Role::Statistician, None, None)
        .await;
    app.login_from("est@iec.org.mx", &password, "198.51.100.7")
        .await
        .expect("logs in while Redis is down");
    // A guesser from one address: five failures free, then delays, counted in this replica.
    for _ in 0..5 {
        let wrong = app
            .login_from("est@iec.org.mx", "adivinanza", "203.0.113.9")
            .await
            .unwrap_err();
        assert_eq!(wrong.code(), Code::Unauthenticated);
    }
    let slowed = app
        .login_from("est@iec.org.mx", "adivinanza", "203.0.113.9")
        .await
        .unwrap_err();
    assert_eq!(slowed.code(), Code::ResourceExhausted);
    // The person, from their own address, is not.
    app.login_from("est@iec.org.mx", &password, "198.51.100.7")
        .await
        .expect("the account's owner logs in from their address");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_creates_and_locks_accounts_and_others_cannot() {
    let app = spawn_app().await;
    let admin_password = app
        .create("admin@iec.org.mx", Role::Admin, None, None)
        .await;
    let admin = app
        .login("admin@iec.org.mx", &admin_password)
        .await
        .unwrap();
    let as_admin = app.client(Some(&app.capture_token(&admin.session_token).await));

    let created = as_admin
        .clone()
        .create_account(pb::CreateAccountRequest {
            email: "revisora@iec.org.mx".into(),
            role: common::Role::Reviewer as i32,
            scope: None,
        })
        .await
        .unwrap()
        .into_inner();
    let reviewer = app
        .login("revisora@iec.org.mx", &created.initial_password)
        .await
        .unwrap();
    assert_eq!(
        reviewer.account.clone().unwrap().role(),
        common::Role::Reviewer
    );

    let duplicate = as_admin
        .clone()
        .create_account(pb::CreateAccountRequest {
            email: "REVISORA@iec.org.mx".into(),
            role: common::Role::Reviewer as i32,
            scope: None,
        })
        .await
        .unwrap_err();
    assert_eq!(duplicate.code(), Code::AlreadyExists);

    // A reviewer acting through the front cannot create accounts.
    let as_reviewer = app.client(Some(&app.capture_token(&reviewer.session_token).await));
    let refused = as_reviewer
        .clone()
        .create_account(pb::CreateAccountRequest {
            email: "otra@iec.org.mx".into(),
            role: common::Role::Admin as i32,
            scope: None,
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);

    // Locking revokes the sessions and refuses logins.
    as_admin
        .clone()
        .lock_account(pb::LockAccountRequest {
            account_id: created.account.unwrap().id,
            reason: "prueba".into(),
        })
        .await
        .unwrap();
    assert_eq!(
        app.resolve(&reviewer.session_token)
            .await
            .unwrap_err()
            .code(),
        Code::Unauthenticated
    );
    let locked = app
        .login("revisora@iec.org.mx", &created.initial_password)
        .await
        .unwrap_err();
    assert_eq!(locked.code(), Code::PermissionDenied);
    assert!(locked.message().contains("bloqueada"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_tokens_are_checked_on_every_call() {
    let app = spawn_app().await;
    // Bad service secret.
    let err = app
        .client(None)
        .mint_service_token(pb::MintServiceTokenRequest {
            audience: "auth".into(),
            service: "capture".into(),
            secret: "wrong-secret-0123456789".into(),
            session_token: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);

    let ask = |client: Client| async move {
        client
            .clone()
            .resolve_session(pb::ResolveSessionRequest {
                session_token: "x".into(),
            })
            .await
            .unwrap_err()
    };
    let denied = |status: &tonic::Status| {
        status
            .metadata()
            .get(conoceles_kit::access::DENIED_MARKER)
            .is_some()
    };

    // No token.
    let status = ask(app.client(None)).await;
    assert!(denied(&status) && status.code() == Code::Unauthenticated);

    // A token for another audience.
    let for_identity = app
        .client(None)
        .mint_service_token(pb::MintServiceTokenRequest {
            audience: "identity".into(),
            service: "capture".into(),
            secret: CAPTURE_SECRET.into(),
            session_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .token;
    let status = ask(app.client(Some(&for_identity))).await;
    assert!(denied(&status) && status.code() == Code::Unauthenticated);

    // Signed by a key auth does not know.
    let stranger = conoceles_kit::access::TokenSigner::generate();
    let caller = conoceles_kit::access::Caller {
        service: Some("capture".into()),
        actor: None,
    };
    let forged = conoceles_kit::access::matrix::token_for(&stranger, &caller, "auth").unwrap();
    let status = ask(app.client(Some(&forged))).await;
    assert!(denied(&status) && status.code() == Code::Unauthenticated);

    // Expired: minted, then the server's clock… is the wall clock for tokens; a token whose
    // exp is in the past is refused.
    let now = Utc::now().timestamp();
    let expired = app.settings.signer.sign(&conoceles_kit::access::Claims {
        iss: conoceles_kit::access::token::ISSUER.into(),
        sub: "capture".into(),
        aud: "auth".into(),
        iat: now - 600,
        exp: now - 300,
        jti: "expired".into(),
        act: None,
    });
    let status = ask(app.client(Some(&expired))).await;
    assert!(denied(&status) && status.code() == Code::Unauthenticated);

    // The right token passes the layer (and the handler says the session is unknown).
    let good = app.capture_token("").await;
    let status = ask(app.client(Some(&good))).await;
    assert!(!denied(&status));
    assert_eq!(status.code(), Code::Unauthenticated);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_method_admits_exactly_the_callers_its_policy_declares() {
    let app = spawn_app().await;
    conoceles_kit::access::matrix::assert_grpc_matrix(
        app.grpc_addr,
        &conoceles_auth::policy::policy(),
        "conoceles.auth.v1",
        &app.settings.signer,
        "auth",
    )
    .await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_create_admin_command_makes_an_account_that_can_log_in() {
    let app = spawn_app().await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_conoceles-auth"))
        .args(["create-admin", "titular@iec.org.mx"])
        .env("DATABASE_URL", &app.db.url)
        .env("REDIS_URL", testing::redis_url())
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let password = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Password (change it at first login): "))
        .unwrap();
    let login = app.login("titular@iec.org.mx", password).await.unwrap();
    assert_eq!(login.account.unwrap().role(), common::Role::Admin);

    let again = std::process::Command::new(env!("CARGO_BIN_EXE_conoceles-auth"))
        .args(["create-admin", "titular@iec.org.mx"])
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    assert!(
        !again.status.success(),
        "a second admin with the same email is refused"
    );
    let _ = HashMap::<(), ()>::new();
    app.stop().await;
}

mod generated_accounts {
    use super::*;
    use conoceles_kit::amqp::{Broker, OutboxRelay, enqueue_event};
    use conoceles_proto::events::v1 as events;
    use conoceles_proto::routing_keys;
    use std::time::{Duration as StdDuration, Instant};
    use tokio_util::sync::CancellationToken;

    fn ts(at: chrono::DateTime<Utc>) -> prost_types::Timestamp {
        prost_types::Timestamp {
            seconds: at.timestamp(),
            nanos: 0,
        }
    }

    async fn wait_for_accounts(app: &TestApp, expected: i64) {
        let started = Instant::now();
        loop {
            let count: i64 = sqlx::query_scalar("SELECT count(*) FROM generated_accounts")
                .fetch_one(&app.accounts.pool)
                .await
                .unwrap();
            if count == expected {
                return;
            }
            assert!(
                started.elapsed() < StdDuration::from_secs(30),
                "{count} generated accounts, expected {expected}"
            );
            tokio::time::sleep(StdDuration::from_millis(100)).await;
        }
    }

    async fn wait_for_lock(app: &TestApp, locked: i64) {
        let started = Instant::now();
        loop {
            let count: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM accounts a JOIN generated_accounts g ON g.account_id = a.id WHERE a.locked_at IS NOT NULL",
            )
            .fetch_one(&app.accounts.pool)
            .await
            .unwrap();
            if count == locked {
                return;
            }
            assert!(
                started.elapsed() < StdDuration::from_secs(30),
                "{count} locked, expected {locked}"
            );
            tokio::time::sleep(StdDuration::from_millis(100)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn candidacy_events_generate_accounts_sheets_and_substitution_locks_the_old_one() {
        let app = spawn_app().await;
        // A stand-in producer (the capture service's outbox) on the same broker namespace.
        let (producer_db, producer) = TestDatabase::create("producer").await;
        let broker = Broker::new(testing::amqp_url().into(), &app.namespace, "test-producer");
        let stop = CancellationToken::new();
        let relay =
            tokio::spawn(OutboxRelay::new(producer.clone(), broker.clone()).run(stop.clone()));

        let party = uuid::Uuid::now_v7();
        let candidacy = uuid::Uuid::now_v7();
        let holder = uuid::Uuid::now_v7();
        let registered = events::CandidacyRegistered {
            dimensions: Some(common::CandidacyDimensions {
                candidacy_id: Some(common::CandidacyId::from(candidacy)),
                office: "Diputación local MR".into(),
                constituency: "Distrito 03".into(),
                postulant: "PAN".into(),
                ..Default::default()
            }),
            holder_id: Some(common::PersonId::from(holder)),
            responsible_party_id: Some(common::PartyId::from(party)),
            approved_at: Some(ts(Utc::now() - Duration::days(4))),
            ..Default::default()
        };
        // Published twice (a redelivery after a producer retry): still one set of accounts.
        for _ in 0..2 {
            let mut tx = producer.begin().await.unwrap();
            enqueue_event(&mut tx, routing_keys::CANDIDACY_REGISTERED, &registered)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        wait_for_accounts(&app, 2).await;
        tokio::time::sleep(StdDuration::from_millis(300)).await;
        wait_for_accounts(&app, 2).await;

        let admin_password = app
            .create("admin@iec.org.mx", Role::Admin, None, None)
            .await;
        let admin = app
            .login("admin@iec.org.mx", &admin_password)
            .await
            .unwrap();
        let as_admin = app.client(Some(&app.capture_token(&admin.session_token).await));
        let party_id = Some(common::PartyId::from(party));

        let late = as_admin
            .clone()
            .list_generated_accounts(pb::ListGeneratedAccountsRequest {
                party_id: None,
                only_late: true,
            })
            .await
            .unwrap()
            .into_inner()
            .accounts;
        assert_eq!(late.len(), 2, "approved 4 days ago and not delivered: late");
        let candidacy_row = late.iter().find(|g| g.kind == "candidacy").unwrap();
        assert_eq!(candidacy_row.label, "Diputación local MR — Distrito 03");

        // Before the sheet, the generated accounts cannot log in.
        let candidacy_email = candidacy_row.account.as_ref().unwrap().email.clone();
        assert_eq!(
            app.login(&candidacy_email, "cualquier-cosa")
                .await
                .unwrap_err()
                .code(),
            Code::Unauthenticated
        );

        let sheet = as_admin
            .clone()
            .issue_credential_sheet(pb::IssueCredentialSheetRequest {
                party_id: party_id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(sheet.credentials.len(), 2);
        let holder_password = sheet
            .credentials
            .iter()
            .find(|c| c.account.as_ref().unwrap().kind == "candidacy")
            .unwrap()
            .password
            .clone();
        let holder_login = app.login(&candidacy_email, &holder_password).await.unwrap();
        let scope = holder_login.account.clone().unwrap().scope.unwrap();
        assert_eq!(scope.candidacy_id.unwrap().value, candidacy.to_string());
        assert_eq!(scope.party_id.unwrap().value, party.to_string());
        // A sheet issued again (the first was lost) gives new passwords and ends every session
        // opened with the old ones.
        let reissued = as_admin
            .clone()
            .issue_credential_sheet(pb::IssueCredentialSheetRequest {
                party_id: party_id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(reissued.credentials.len(), 2);
        assert_eq!(
            app.resolve(&holder_login.session_token)
                .await
                .unwrap_err()
                .code(),
            Code::Unauthenticated,
            "the session opened with the lost sheet's password"
        );
        let holder_password = reissued
            .credentials
            .iter()
            .find(|c| c.account.as_ref().unwrap().kind == "candidacy")
            .unwrap()
            .password
            .clone();
        let holder_login = app.login(&candidacy_email, &holder_password).await.unwrap();

        let marked = as_admin
            .clone()
            .mark_credentials_delivered(pb::MarkCredentialsDeliveredRequest {
                party_id: party_id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .marked;
        assert_eq!(marked, 2);

        // Substitution: the old holder's account is locked, the new person gets one.
        let new_holder = uuid::Uuid::now_v7();
        let substituted = events::CandidacySubstituted {
            candidacy_id: Some(common::CandidacyId::from(candidacy)),
            replaced_person_id: Some(common::PersonId::from(holder)),
            new_person_id: Some(common::PersonId::from(new_holder)),
            person_role: common::PersonRole::Holder as i32,
            reason: "renuncia".into(),
            occurred_at: Some(ts(Utc::now())),
            ..Default::default()
        };
        let mut tx = producer.begin().await.unwrap();
        enqueue_event(&mut tx, routing_keys::CANDIDACY_SUBSTITUTED, &substituted)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        wait_for_accounts(&app, 3).await;
        wait_for_lock(&app, 1).await;
        assert_eq!(
            app.resolve(&holder_login.session_token)
                .await
                .unwrap_err()
                .code(),
            Code::Unauthenticated
        );
        assert_eq!(
            app.login(&candidacy_email, &holder_password)
                .await
                .unwrap_err()
                .code(),
            Code::PermissionDenied
        );
        let second_sheet = as_admin
            .clone()
            .issue_credential_sheet(pb::IssueCredentialSheetRequest {
                party_id: party_id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            second_sheet.credentials.len(),
            1,
            "only the new person's account is pending"
        );
        let new_credential = &second_sheet.credentials[0];
        let new_email = new_credential
            .account
            .as_ref()
            .unwrap()
            .account
            .as_ref()
            .unwrap()
            .email
            .clone();
        assert_ne!(new_email, candidacy_email);
        assert!(
            app.login(&new_email, &new_credential.password)
                .await
                .is_ok(),
            "the new person can log in"
        );

        // Cancellation locks what is left of the candidacy.
        let mut tx = producer.begin().await.unwrap();
        enqueue_event(
            &mut tx,
            routing_keys::CANDIDACY_CANCELLED,
            &events::CandidacyCancelled {
                candidacy_id: Some(common::CandidacyId::from(candidacy)),
                reason: "cancelación".into(),
                occurred_at: Some(ts(Utc::now())),
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        wait_for_lock(&app, 2).await;

        stop.cancel();
        relay.await.unwrap();
        broker.close().await;
        producer.close().await;
        producer_db.drop_database().await;
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reset_password_command_gives_a_locked_out_admin_a_new_password() {
    let app = spawn_app().await;
    app.create("olvido@iec.org.mx", Role::Admin, None, None)
        .await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_conoceles-auth"))
        .args(["reset-password", "olvido@iec.org.mx"])
        .env("DATABASE_URL", &app.db.url)
        .env("REDIS_URL", testing::redis_url())
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let password = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Password (change it at first login): "))
        .unwrap();
    let login = app.login("olvido@iec.org.mx", password).await.unwrap();
    assert!(login.account.unwrap().must_change_password);
    app.stop().await;
}

/// An operator's mistake on the command line gets the parser's message and usage and exit code
/// 2, before any connection: no panic, no backtrace, no half-done work.
#[test]
fn the_operators_commands_explain_themselves_and_refuse_a_wrong_argument_clearly() {
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_conoceles-auth"))
            .args(args)
            .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
            .output()
            .unwrap()
    };
    let help = run(&["--help"]);
    assert!(help.status.success());
    let help = String::from_utf8(help.stdout).unwrap();
    for command in ["create-admin", "reset-password", "healthcheck", "migrate"] {
        assert!(help.contains(command), "--help lists {command}: {help}");
    }

    let typo = run(&["creat-admin", "titular@iec.org.mx"]);
    assert_eq!(typo.status.code(), Some(2));
    let stderr = String::from_utf8(typo.stderr).unwrap();
    assert!(
        stderr.contains("unrecognized subcommand 'creat-admin'"),
        "{stderr}"
    );
    assert!(
        stderr.contains("create-admin"),
        "the likely command is suggested: {stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );

    let not_an_email = run(&["create-admin", "titular"]);
    assert_eq!(not_an_email.status.code(), Some(2));
    let stderr = String::from_utf8(not_an_email.stderr).unwrap();
    assert!(
        stderr.contains("El correo electrónico no es válido."),
        "{stderr}"
    );

    let missing = run(&["reset-password"]);
    assert_eq!(missing.status.code(), Some(2));
    let stderr = String::from_utf8(missing.stderr).unwrap();
    assert!(
        stderr.contains("<EMAIL>"),
        "the usage names what is missing: {stderr}"
    );
}
