//! The identity service for real: `auth` (for the token keys) and `identity` on free ports with
//! their own databases, candidacies arriving as events through RabbitMQ, calls signed as the
//! services that make them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use conoceles_auth::settings::AuthSettings;
use conoceles_identity::crypto::{Kek, Keyring};
use conoceles_identity::store::Identity;
use conoceles_kit::access::token::ISSUER;
use conoceles_kit::access::{Actor, Claims, Role, TokenSigner};
use conoceles_kit::amqp::{Broker, OutboxRelay, enqueue_event};
use conoceles_kit::clock::SystemClock;
use conoceles_kit::testing::{self, TestDatabase};
use conoceles_kit::{ServiceConfig, ServiceName, Shutdown};
use conoceles_proto::common::v1 as common;
use conoceles_proto::events::v1 as events;
use conoceles_proto::identity::v1 as pb;
use conoceles_proto::identity::v1::identity_service_client::IdentityServiceClient;
use tonic::Code;
use tonic::transport::Channel;
use uuid::Uuid;

const SEED: [u8; 32] = [7; 32];

struct Stack {
    namespace: String,
    signer: TokenSigner,
    kek: String,
    identity_addr: std::net::SocketAddr,
    identity_db: String,
    pool: sqlx::PgPool,
    producer: sqlx::PgPool,
    stop_relay: tokio_util::sync::CancellationToken,
    stops: Vec<(Shutdown, tokio::task::JoinHandle<anyhow::Result<()>>)>,
    databases: Vec<TestDatabase>,
}

struct Candidacy {
    id: Uuid,
    holder: Uuid,
}

async fn spawn() -> Stack {
    use base64::Engine;
    let namespace = testing::unique("t-identity");
    let auth_db = TestDatabase::named("identity_auth");
    let identity_db = TestDatabase::named("identity");
    let settings = AuthSettings::from_lookup(|key| match key {
        "AUTH_SIGNING_KEY" => Some(base64::engine::general_purpose::STANDARD.encode(SEED)),
        _ => None,
    })
    .unwrap();
    let auth = conoceles_auth::Application::build_with(
        testing::service_config(ServiceName::Auth, &auth_db.url, &namespace),
        settings,
        Arc::new(SystemClock),
    )
    .await
    .unwrap();
    let kek = Kek::generate("k1");
    let kek_env = kek.to_env();
    let identity = conoceles_identity::Application::build_with(
        ServiceConfig {
            auth_url: format!("http://{}", auth.grpc_addr()),
            ..testing::service_config(ServiceName::Identity, &identity_db.url, &namespace)
        },
        Keyring {
            current: kek,
            previous: vec![],
        },
    )
    .await
    .unwrap();
    let identity_addr = identity.grpc_addr();
    let pool = identity.infrastructure().pool.clone();
    let (producer_db, producer) = TestDatabase::create("identity_producer").await;
    let broker = Broker::new(testing::amqp_url().into(), &namespace, "test-producer");
    let stop_relay = tokio_util::sync::CancellationToken::new();
    tokio::spawn(OutboxRelay::new(producer.clone(), broker).run(stop_relay.clone()));
    let mut stops = Vec::new();
    for running in [auth, identity] {
        let shutdown = running.shutdown();
        stops.push((shutdown, tokio::spawn(running.run_until_stopped())));
    }
    Stack {
        namespace,
        signer: TokenSigner::from_seed(SEED),
        kek: kek_env,
        identity_addr,
        identity_db: identity_db.url.clone(),
        pool,
        producer,
        stop_relay,
        stops,
        databases: vec![auth_db, identity_db, producer_db],
    }
}

impl Stack {
    fn token(&self, service: &str, act: Option<Actor>) -> String {
        let now = chrono::Utc::now().timestamp();
        self.signer.sign(&Claims {
            iss: ISSUER.into(),
            sub: service.into(),
            aud: "identity".into(),
            iat: now,
            exp: now + 120,
            jti: Uuid::now_v7().to_string(),
            act,
        })
    }

    async fn client(&self) -> IdentityServiceClient<Channel> {
        IdentityServiceClient::connect(format!("http://{}", self.identity_addr))
            .await
            .unwrap()
    }

    fn request<T>(&self, message: T, service: &str, act: Option<Actor>) -> tonic::Request<T> {
        conoceles_kit::access::with_bearer(message, &self.token(service, act))
    }

    /// Publishes `candidacy.registered` events and waits until identity has them.
    async fn register(&self, election: Uuid, count: usize, party: Uuid) -> Vec<Candidacy> {
        let mut out = Vec::new();
        let mut tx = self.producer.begin().await.unwrap();
        for i in 0..count {
            let c = Candidacy {
                id: Uuid::now_v7(),
                holder: Uuid::now_v7(),
            };
            enqueue_event(
                &mut tx,
                conoceles_proto::routing_keys::CANDIDACY_REGISTERED,
                &events::CandidacyRegistered {
                    dimensions: Some(common::CandidacyDimensions {
                        candidacy_id: Some(common::CandidacyId::from(c.id)),
                        election_id: Some(common::ElectionId::from(election)),
                        office: "diputacion_mr".into(),
                        principle: common::Principle::Mr as i32,
                        constituency: format!("{:02}", i % 4 + 1),
                        postulant: "PT".into(),
                        holder_sex: if i % 2 == 0 {
                            common::Sex::Woman
                        } else {
                            common::Sex::Man
                        } as i32,
                        holder_age: 25 + i as u32,
                        affirmative_action: if i == 0 {
                            "indigena".into()
                        } else {
                            String::new()
                        },
                    }),
                    holder_id: Some(common::PersonId::from(c.holder)),
                    responsible_party_id: Some(common::PartyId::from(party)),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
            out.push(c);
        }
        tx.commit().await.unwrap();
        let last = out.last().unwrap().id;
        self.wait_for(
            &format!("SELECT count(*) FROM candidacies WHERE id = '{last}'"),
            1,
        )
        .await;
        out
    }

    async fn wait_for(&self, sql: &str, expected: i64) {
        let started = std::time::Instant::now();
        loop {
            let n: i64 = sqlx::query_scalar(sql).fetch_one(&self.pool).await.unwrap();
            if n == expected {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "timed out: {sql} = {n}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn stop(self) {
        self.stop_relay.cancel();
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
            ],
        )
        .await;
    }
}

fn party(party: Uuid) -> Option<Actor> {
    Some(Actor {
        account_id: Uuid::now_v7(),
        role: Role::Party,
        party_id: Some(party),
        candidacy_id: None,
    })
}

fn answer(question: &str, option: &str) -> pb::Answer {
    pb::Answer {
        question_id: question.into(),
        option_ids: vec![option.into()],
        ..Default::default()
    }
}

fn declined(question: &str) -> pb::Answer {
    pb::Answer {
        question_id: question.into(),
        declined: true,
        ..Default::default()
    }
}

/// A complete questionnaire: `indigenous` as given, migrant with a marker as the country, the
/// rest declined.
fn questionnaire(indigenous: &str, marker: &str) -> Vec<pb::Answer> {
    let mut answers = vec![
        answer("indigenous", indigenous),
        answer("migrant", "yes"),
        pb::Answer {
            question_id: "migrant_country".into(),
            free_text: marker.into(),
            ..Default::default()
        },
        answer("migrant_years", "1_5"),
        declined("migrant_reason"),
    ];
    if indigenous == "yes" {
        answers.push(declined("indigenous_language"));
    }
    for q in [
        "disability",
        "afro_mexican",
        "sexual_diversity",
        "age_group",
        "income",
        "birth_state",
    ] {
        answers.push(declined(q));
    }
    answers
}

fn consents(publication: bool, statistics: bool) -> pb::Consents {
    let now = Some(conoceles_kit::proto_time::to_proto(chrono::Utc::now()));
    pb::Consents {
        processing_at: now,
        publication_at: if publication { now } else { None },
        statistics_at: if statistics { now } else { None },
        given_by: "declaration".into(),
    }
}

async fn submit(
    stack: &Stack,
    c: &Candidacy,
    answers: Vec<pb::Answer>,
    consents: pb::Consents,
    acting_party: Uuid,
) -> Result<pb::SubmitQuestionnaireResponse, tonic::Status> {
    let mut client = stack.client().await;
    client
        .submit_questionnaire(stack.request(
            pb::SubmitQuestionnaireRequest {
                candidacy_id: Some(common::CandidacyId::from(c.id)),
                person_id: Some(common::PersonId::from(c.holder)),
                definition_version: 1,
                consents: Some(consents),
                answers,
            },
            "capture",
            party(acting_party),
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn definition(stack: &Stack, election: Uuid) {
    let mut client = stack.client().await;
    let d = client
        .get_definition(stack.request(
            pb::GetDefinitionRequest {
                election_id: Some(common::ElectionId::from(election)),
            },
            "capture",
            None,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(d.version, 1);
    assert!(d.definition_json.contains("birth_state"));
}

async fn publishable(
    stack: &Stack,
    c: &Candidacy,
) -> Result<pb::GetPublishableAnswersResponse, tonic::Status> {
    stack
        .client()
        .await
        .get_publishable_answers(stack.request(
            pb::GetPublishableAnswersRequest {
                candidacy_id: Some(common::CandidacyId::from(c.id)),
                person_id: None,
            },
            "publication",
            None,
        ))
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_sealed_submitted_once_published_only_with_consent_and_survive_rotation() {
    let stack = spawn().await;
    let election = Uuid::now_v7();
    let (ours, theirs) = (Uuid::now_v7(), Uuid::now_v7());
    let c = stack.register(election, 3, ours).await;
    definition(&stack, election).await;

    let marker = format!("canario-{}", Uuid::now_v7().simple());
    // Another party cannot submit for our candidacy.
    let refused = submit(
        &stack,
        &c[0],
        questionnaire("no", &marker),
        consents(true, true),
        theirs,
    )
    .await;
    assert_eq!(refused.unwrap_err().code(), Code::NotFound);
    // Without consent to processing, nothing is stored.
    let mut no_consent = consents(true, true);
    no_consent.processing_at = None;
    let refused = submit(
        &stack,
        &c[0],
        questionnaire("no", &marker),
        no_consent,
        ours,
    )
    .await;
    assert_eq!(refused.unwrap_err().code(), Code::InvalidArgument);
    // Without saying who gives the consents (the person or a declaration), nothing is stored.
    let mut unsaid = consents(true, true);
    unsaid.given_by = String::new();
    let refused = submit(&stack, &c[0], questionnaire("no", &marker), unsaid, ours).await;
    let refused = refused.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);

    let receipt = submit(
        &stack,
        &c[0],
        questionnaire("no", &marker),
        consents(true, true),
        ours,
    )
    .await
    .unwrap();
    assert_eq!(receipt.receipt_sha256.len(), 64);
    // Recorded as the party's declaration that it holds the signed consent.
    let given_by: String =
        sqlx::query_scalar("SELECT consent_given_by FROM questionnaires WHERE person_id = $1")
            .bind(c[0].holder)
            .fetch_one(&stack.pool)
            .await
            .unwrap();
    assert_eq!(given_by, "declaration");
    // One opportunity only.
    let again = submit(
        &stack,
        &c[0],
        questionnaire("yes", "otra"),
        consents(true, true),
        ours,
    )
    .await;
    assert_eq!(again.unwrap_err().code(), Code::AlreadyExists);
    // Without publication consent, nothing is publishable.
    let second_marker = format!("canario-{}", Uuid::now_v7().simple());
    submit(
        &stack,
        &c[1],
        questionnaire("yes", &second_marker),
        consents(false, true),
        ours,
    )
    .await
    .unwrap();

    // A dump of the database shows no answer in clear.
    let dump = std::process::Command::new("pg_dump")
        .arg(&stack.identity_db)
        .output()
        .expect("pg_dump runs");
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let dump = String::from_utf8_lossy(&dump.stdout);
    assert!(dump.contains("answers"), "the dump has the answers table");
    assert!(!dump.contains(&marker) && !dump.contains(&second_marker));

    // Publication gets the consented answers (and the affirmative action), and nothing else.
    let published = publishable(&stack, &c[0]).await.unwrap();
    assert_eq!(published.affirmative_action, "indigena");
    assert!(published.answers.iter().any(|a| a.free_text == marker));
    assert!(publishable(&stack, &c[1]).await.unwrap().answers.is_empty());
    // Capture's token cannot read answers.
    let status = stack
        .client()
        .await
        .get_publishable_answers(stack.request(
            pb::GetPublishableAnswersRequest {
                candidacy_id: Some(common::CandidacyId::from(c[0].id)),
                person_id: None,
            },
            "capture",
            None,
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM access_audit WHERE purpose = 'publication'")
            .fetch_one(&stack.pool)
            .await
            .unwrap();
    assert_eq!(audited, 1, "every read of answers is audited");

    // Rotation: a new key-encryption key re-wraps every data key; answers stay readable with
    // the new key alone.
    let rotated = Identity {
        pool: stack.pool.clone(),
        keys: Arc::new(Keyring {
            current: Kek::generate("k2"),
            previous: vec![Kek::parse(&stack.kek).unwrap()],
        }),
    };
    assert_eq!(rotated.rotate().await.unwrap(), 2);
    let k2_only = Identity {
        pool: stack.pool.clone(),
        keys: Arc::new(Keyring {
            current: Kek::parse(&rotated.keys.current.to_env()).unwrap(),
            previous: vec![],
        }),
    };
    let caller = conoceles_kit::access::Caller {
        service: Some("publication".into()),
        actor: None,
    };
    let (_, answers) = k2_only.publishable(&caller, c[0].id, None).await.unwrap();
    assert_eq!(answers["migrant_country"].free_text, marker);

    // A ciphertext moved to another candidate does not open.
    sqlx::query("UPDATE questionnaires SET publication_consent_at = now() WHERE person_id = $1")
        .bind(c[1].holder)
        .execute(&stack.pool)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE answers SET sealed = (SELECT sealed FROM answers WHERE person_id = $1 AND question_id = 'migrant_country'), \
         nonce = (SELECT nonce FROM answers WHERE person_id = $1 AND question_id = 'migrant_country') \
         WHERE person_id = $2 AND question_id = 'migrant_country'",
    )
    .bind(c[0].holder)
    .bind(c[1].holder)
    .execute(&stack.pool)
    .await
    .unwrap();
    assert!(k2_only.publishable(&caller, c[1].id, None).await.is_err());
    // Every read and change of answers went to the access audit, an append-only hash chain:
    // rewriting is refused, and a line changed behind the refusal breaks the chain.
    let lines = conoceles_identity::store::verify_audit(&stack.pool)
        .await
        .unwrap();
    assert!(lines >= 3, "{lines} audit lines");
    let rewrite = sqlx::query("UPDATE access_audit SET purpose = 'nada'")
        .execute(&stack.pool)
        .await;
    assert!(rewrite.is_err(), "the audit is append-only");
    sqlx::query("ALTER TABLE access_audit DISABLE TRIGGER access_audit_no_rewrite")
        .execute(&stack.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE access_audit SET detail = 'borrado' WHERE chain_seq = 2")
        .execute(&stack.pool)
        .await
        .unwrap();
    let broken = conoceles_identity::store::verify_audit(&stack.pool)
        .await
        .unwrap_err();
    assert!(broken.to_string().contains("line 2"), "{broken}");
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregates_are_suppressed_and_withdrawn_candidacies_vanish_at_once() {
    let stack = spawn().await;
    let election = Uuid::now_v7();
    let ours = Uuid::now_v7();
    let c = stack.register(election, 14, ours).await;
    // 3 women and 11 others answer "yes"/"no" so that some cells are small.
    for (i, candidacy) in c.iter().enumerate() {
        let indigenous = if i < 3 { "yes" } else { "no" };
        submit(
            &stack,
            candidacy,
            questionnaire(indigenous, "x"),
            consents(false, true),
            ours,
        )
        .await
        .unwrap();
    }
    // Without statistics consent, a person is not counted.
    let table_at = |filters: HashMap<String, String>, at: Option<chrono::DateTime<chrono::Utc>>| {
        let request = stack.request(
            pb::GetAggregateTableRequest {
                election_id: Some(common::ElectionId::from(election)),
                table: "identity.indigenous.by_sex".into(),
                filters,
                at: at.map(conoceles_kit::proto_time::to_proto),
            },
            "statistics",
            None,
        );
        async {
            stack
                .client()
                .await
                .get_aggregate_table(request)
                .await
                .map(tonic::Response::into_inner)
        }
    };
    let table = |filters: HashMap<String, String>| table_at(filters, None);
    let t = table(HashMap::new()).await.unwrap();
    assert_eq!(t.n, Some(14));
    assert_eq!(t.answered, Some(14));
    let find = |t: &pb::GetAggregateTableResponse, option: &str, sex: &str| {
        t.cells
            .iter()
            .find(|c| c.dimensions["option"] == option && c.dimensions["sex"] == sex)
            .cloned()
            .unwrap()
    };
    // "yes" among women is 2 (candidacies 0 and 2): suppressed, and so is its complement and
    // every value that would let it be recomputed.
    let yes_women = find(&t, "yes", "mujer");
    assert!(yes_women.suppressed && yes_women.count.is_none());
    for line_is_safe in ["mujer", "hombre", "*"] {
        let hidden = t
            .cells
            .iter()
            .filter(|c| c.dimensions["sex"] == line_is_safe && c.suppressed)
            .count();
        assert_ne!(hidden, 1, "a lone hidden value in column {line_is_safe}");
    }
    let grand = find(&t, "*", "*");
    assert_eq!(grand.count, Some(14));

    // Statistics only: capture's token is refused; unknown tables are not served.
    let refused = stack
        .client()
        .await
        .get_aggregate_table(stack.request(
            pb::GetAggregateTableRequest {
                election_id: Some(common::ElectionId::from(election)),
                table: "identity.indigenous.by_sex".into(),
                filters: HashMap::new(),
                at: None,
            },
            "capture",
            None,
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    let mut bogus = pb::GetAggregateTableRequest {
        election_id: Some(common::ElectionId::from(election)),
        table: "identity.migrant_country.by_sex".into(),
        filters: HashMap::new(),
        at: None,
    };
    let unknown = stack
        .client()
        .await
        .get_aggregate_table(stack.request(bogus.clone(), "statistics", None))
        .await
        .unwrap_err();
    assert_eq!(
        unknown.code(),
        Code::NotFound,
        "free text is never tabulated"
    );
    bogus.table = "identity.indigenous.by_name".into();
    assert!(
        stack
            .client()
            .await
            .get_aggregate_table(stack.request(bogus, "statistics", None))
            .await
            .is_err()
    );

    // Filters: only the table's own dimension, naming one of its groups; the same values as
    // the whole table. Anything else is refused with its reason in the status message.
    let women = table(HashMap::from([("sex".to_string(), "mujer".to_string())]))
        .await
        .unwrap();
    assert!(
        women
            .cells
            .iter()
            .all(|c| c.dimensions["sex"] == "mujer" || c.dimensions["sex"] == "*")
    );
    for cell in women
        .cells
        .iter()
        .filter(|c| c.dimensions["sex"] == "mujer")
    {
        assert_eq!(
            cell.count,
            find(&t, &cell.dimensions["option"], "mujer").count
        );
    }
    let isolating = table(HashMap::from([
        ("postulant".to_string(), "PT".to_string()),
        ("constituency".to_string(), "01".to_string()),
    ]))
    .await
    .unwrap_err();
    assert_eq!(isolating.code(), Code::InvalidArgument);
    assert!(
        isolating
            .message()
            .contains("solo se filtra por su propia dimensión"),
        "{}",
        isolating.message()
    );
    let unknown_group = table(HashMap::from([("sex".to_string(), "otro".to_string())]))
        .await
        .unwrap_err();
    assert_eq!(unknown_group.code(), Code::InvalidArgument);
    assert!(
        unknown_group.message().contains("«otro» no es un grupo"),
        "{}",
        unknown_group.message()
    );
    // A cut-off in the future is refused; a past one answers the table as it was published
    // then (never a fresh count a guard did not compare), and before any release it says so.
    let at = |at: chrono::DateTime<chrono::Utc>| table_at(HashMap::new(), Some(at));
    let future = at(chrono::Utc::now() + chrono::Duration::hours(1))
        .await
        .unwrap_err();
    assert_eq!(future.code(), Code::InvalidArgument);
    assert!(future.message().contains("futuro"), "{}", future.message());
    let before = at(chrono::Utc::now() - chrono::Duration::days(1))
        .await
        .unwrap_err();
    assert_eq!(before.code(), Code::NotFound);
    assert!(
        before.message().contains("aún no se había publicado"),
        "{}",
        before.message()
    );
    let published_at = conoceles_kit::proto_time::from_proto(t.cut_off.as_ref()).unwrap();

    // Cancelling a candidacy blocks its answers at once: out of the tables and the status.
    let mut tx = stack.producer.begin().await.unwrap();
    enqueue_event(
        &mut tx,
        conoceles_proto::routing_keys::CANDIDACY_CANCELLED,
        &events::CandidacyCancelled {
            candidacy_id: Some(common::CandidacyId::from(c[0].id)),
            reason: "renuncia".into(),
            occurred_at: Some(conoceles_kit::proto_time::to_proto(chrono::Utc::now())),
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    stack
        .wait_for(
            &format!(
                "SELECT count(*) FROM persons WHERE id = '{}' AND blocked_at IS NOT NULL",
                c[0].holder
            ),
            1,
        )
        .await;
    let after = table(HashMap::new()).await.unwrap();
    // One person less: the population moved by fewer than k since it was published, so the
    // table is suppressed whole — its n, answered and grand total too (they would tell, by
    // difference, that one person left and what they had answered).
    assert_eq!(
        (after.n, after.answered, after.declined),
        (None, None, None)
    );
    assert!(find(&after, "*", "*").count.is_none());
    // Differencing: the two tables are one person apart. Subtracting one from the other must
    // not tell what that person answered: every value published in both is the same, and what
    // moved is hidden.
    let mut now_hidden = 0;
    for cell in after
        .cells
        .iter()
        .filter(|c| c.dimensions["option"] != "*" || c.dimensions["sex"] != "*")
    {
        let before = find(&t, &cell.dimensions["option"], &cell.dimensions["sex"]);
        match (before.count, cell.count) {
            (Some(a), Some(b)) => assert_eq!(a, b, "{:?} moved and was published", cell.dimensions),
            (Some(_), None) => now_hidden += 1,
            _ => {}
        }
    }
    assert!(
        now_hidden > 0,
        "the values that moved were published before and are hidden now"
    );
    // As of the first release's cut-off: that release, not a new count.
    let then = at(published_at + chrono::Duration::milliseconds(1))
        .await
        .unwrap();
    assert_eq!(then.n, Some(14));
    assert_eq!(then.cells, t.cells);
    let status = stack
        .client()
        .await
        .get_completion_status(stack.request(
            pb::GetCompletionStatusRequest {
                candidacy_ids: vec![common::CandidacyId::from(c[0].id)],
            },
            "capture",
            None,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!status.statuses[0].submitted);

    // After the retention period the answers are deleted, and the deletion is audited.
    sqlx::query("UPDATE persons SET delete_after = now() - interval '1 minute' WHERE id = $1")
        .bind(c[0].holder)
        .execute(&stack.pool)
        .await
        .unwrap();
    let identity = Identity {
        pool: stack.pool.clone(),
        keys: Arc::new(Keyring {
            current: Kek::parse(&stack.kek).unwrap(),
            previous: vec![],
        }),
    };
    assert_eq!(
        identity.delete_expired(chrono::Utc::now()).await.unwrap(),
        1
    );
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM answers WHERE person_id = $1")
        .bind(c[0].holder)
        .fetch_one(&stack.pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
    let audited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM access_audit WHERE purpose = 'deletion'")
            .fetch_one(&stack.pool)
            .await
            .unwrap();
    assert_eq!(audited, 1);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_corrects_once_through_capture() {
    let stack = spawn().await;
    let election = Uuid::now_v7();
    let ours = Uuid::now_v7();
    let c = stack.register(election, 1, ours).await;
    submit(
        &stack,
        &c[0],
        questionnaire("no", "x"),
        consents(true, true),
        ours,
    )
    .await
    .unwrap();
    let admin = Some(Actor {
        account_id: Uuid::now_v7(),
        role: Role::Admin,
        party_id: None,
        candidacy_id: None,
    });
    let correction = |reference: &str| pb::ApplyCorrectionRequest {
        candidacy_id: Some(common::CandidacyId::from(c[0].id)),
        person_id: Some(common::PersonId::from(c[0].holder)),
        request_reference: reference.into(),
        reason: "La persona pidió corregir su autoadscripción.".into(),
        answers: questionnaire("yes", "x"),
    };
    // Only the admin, through capture.
    let refused = stack
        .client()
        .await
        .apply_correction(stack.request(correction("OF-1"), "capture", party(ours)))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    stack
        .client()
        .await
        .apply_correction(stack.request(correction("OF-1"), "capture", admin.clone()))
        .await
        .unwrap();
    let second = stack
        .client()
        .await
        .apply_correction(stack.request(correction("OF-2"), "capture", admin))
        .await
        .unwrap_err();
    assert_eq!(second.code(), Code::FailedPrecondition);
    assert!(second.message().contains("única corrección"));
    let published = publishable(&stack, &c[0]).await.unwrap();
    assert!(
        published
            .answers
            .iter()
            .any(|a| a.question_id == "indigenous" && a.option_ids == ["yes"])
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_method_admits_exactly_the_callers_its_policy_declares() {
    let stack = spawn().await;
    conoceles_kit::access::matrix::assert_grpc_matrix(
        stack.identity_addr,
        &conoceles_identity::policy::policy(),
        "conoceles.identity.v1",
        &stack.signer,
        "identity",
    )
    .await;
    stack.stop().await;
}

fn admin() -> Option<Actor> {
    Some(Actor {
        account_id: Uuid::now_v7(),
        role: Role::Admin,
        party_id: None,
        candidacy_id: None,
    })
}

impl Stack {
    /// Announces the election's settings as capture does and waits until identity has them.
    async fn announce(
        &self,
        election: Uuid,
        retention_days: u32,
        protection: common::IdentityProtection,
    ) {
        let mut tx = self.producer.begin().await.unwrap();
        enqueue_event(
            &mut tx,
            conoceles_proto::routing_keys::ELECTION_UPDATED,
            &events::ElectionUpdated {
                election_id: Some(common::ElectionId::from(election)),
                name: "Proceso local".into(),
                retention_days,
                identity_protection: Some(protection),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        self.wait_for(
            &format!(
                "SELECT count(*) FROM elections WHERE id = '{election}' AND retention_days = {retention_days}"
            ),
            1,
        )
        .await;
    }

    async fn private_release(
        &self,
        election: Uuid,
        act: Option<Actor>,
    ) -> Result<pb::LedgerEntry, tonic::Status> {
        self.client()
            .await
            .create_private_release(self.request(
                pb::CreatePrivateReleaseRequest {
                    election_id: Some(common::ElectionId::from(election)),
                },
                "capture",
                act,
            ))
            .await
            .map(|r| r.into_inner().entry.unwrap())
    }

    async fn ledger(&self, election: Uuid) -> pb::GetPrivacyLedgerResponse {
        self.client()
            .await
            .get_privacy_ledger(self.request(
                pb::GetPrivacyLedgerRequest {
                    election_id: Some(common::ElectionId::from(election)),
                },
                "statistics",
                None,
            ))
            .await
            .unwrap()
            .into_inner()
    }
}

fn private(rho_budget: f64, rho_per_release: f64) -> common::IdentityProtection {
    common::IdentityProtection {
        method: Some(common::identity_protection::Method::DifferentialPrivacy(
            common::DifferentialPrivacy {
                rho_budget,
                rho_per_release,
                delta: 1e-6,
                detail_threshold: 5,
            },
        )),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_releases_spend_the_budget_keep_a_ledger_and_regenerate_identically() {
    let stack = spawn().await;
    let election = Uuid::now_v7();
    let ours = Uuid::now_v7();
    stack.announce(election, 90, private(2.0, 1.0)).await;
    let c = stack.register(election, 14, ours).await;
    for (i, candidacy) in c.iter().enumerate() {
        let indigenous = if i < 3 { "yes" } else { "no" };
        submit(
            &stack,
            candidacy,
            questionnaire(indigenous, "x"),
            consents(i % 4 == 0, true),
            ours,
        )
        .await
        .unwrap();
    }
    let table = || {
        let request = stack.request(
            pb::GetAggregateTableRequest {
                election_id: Some(common::ElectionId::from(election)),
                table: "identity.migrant_years.by_sex".into(),
                filters: HashMap::new(),
                at: None,
            },
            "statistics",
            None,
        );
        async {
            stack
                .client()
                .await
                .get_aggregate_table(request)
                .await
                .map(tonic::Response::into_inner)
        }
    };
    // Reading spends nothing: before the unit's first release there is nothing to read.
    let none = table().await.unwrap_err();
    assert_eq!(none.code(), Code::NotFound);
    assert!(
        none.message().contains("privacidad diferencial"),
        "{}",
        none.message()
    );

    // Only the unit's administrators release.
    let refused = stack.private_release(election, None).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    let first = stack.private_release(election, admin()).await.unwrap();
    assert_eq!(first.sequence, 1);
    assert!((first.rho - 1.0).abs() < 1e-9 && (first.rho_total - 1.0).abs() < 1e-9);
    assert!(first.epsilon_total > 1.0 && first.noise_scale > 0.0);
    assert!(first.families.contains(&"migrant".to_string()));

    let t = table().await.unwrap();
    assert_eq!(t.release.as_ref().unwrap().release_id, first.release_id);
    assert!(matches!(
        t.protection.unwrap().method,
        Some(common::identity_protection::Method::DifferentialPrivacy(_))
    ));
    assert!(t.n.is_some() && t.n_half_width_90 > 0.0);
    // Every shown count carries its interval, and the groups add up to the margin.
    let count = |option: &str, sex: &str| {
        t.cells
            .iter()
            .find(|c| c.dimensions["option"] == option && c.dimensions["sex"] == sex)
            .unwrap_or_else(|| panic!("{option} {sex}"))
            .clone()
    };
    let margin = count("1_5", "*");
    assert!(margin.half_width_90 > 0.0 && margin.count.is_some());
    let groups: Vec<&str> = t
        .cells
        .iter()
        .filter(|c| c.dimensions["option"] == "1_5" && c.dimensions["sex"] != "*")
        .map(|c| c.dimensions["sex"].as_str())
        .collect();
    assert!(
        groups.contains(&"mujer") && groups.contains(&"hombre"),
        "{groups:?}"
    );
    let coarse = groups.iter().any(|g| count("1_5", g).coarsened);
    if !coarse {
        let sum: u64 = groups.iter().map(|g| count("1_5", g).count.unwrap()).sum();
        assert_eq!(Some(sum), margin.count);
    }
    // Answers published with consent are never noised below: 4 holders (0, 4, 8, 12) said
    // "1_5" publicly.
    assert!(margin.count.unwrap() >= 4);

    // The same reading again is the same release (nothing re-drawn).
    let again = table().await.unwrap();
    assert_eq!(again.cells, t.cells);

    // A second release spends the rest; a third is refused and changes nothing.
    let second = stack.private_release(election, admin()).await.unwrap();
    assert!((second.rho_total - 2.0).abs() < 1e-9);
    assert_ne!(second.hash, first.hash);
    let third = stack.private_release(election, admin()).await.unwrap_err();
    assert_eq!(third.code(), Code::FailedPrecondition);
    assert!(
        third.message().contains("presupuesto"),
        "{}",
        third.message()
    );
    let ledger = stack.ledger(election).await;
    assert_eq!(ledger.entries.len(), 2);
    assert!(ledger.rho_remaining.abs() < 1e-9);
    assert_eq!(ledger.entries[0], first);

    // A release regenerates identically from its sealed draw.
    let identity = Identity {
        pool: stack.pool.clone(),
        keys: Arc::new(Keyring {
            current: Kek::parse(&stack.kek).unwrap(),
            previous: vec![],
        }),
    };
    let release: Uuid = first.release_id.parse().unwrap();
    let published = identity.published(release).await.unwrap();
    assert_eq!(published.len(), first.families.len());
    assert_eq!(identity.regenerate(release).await.unwrap(), published);
    // A new key-encryption key re-wraps the draws with the answers; the old one can go.
    let next = Kek::generate("k2");
    let rotating = Identity {
        pool: stack.pool.clone(),
        keys: Arc::new(Keyring {
            current: Kek::parse(&next.to_env()).unwrap(),
            previous: vec![Kek::parse(&stack.kek).unwrap()],
        }),
    };
    // 14 persons' answers and both releases' eight draws.
    assert_eq!(rotating.rotate().await.unwrap(), 14 + 2 * 8);
    let only_new = Identity {
        pool: stack.pool.clone(),
        keys: Arc::new(Keyring {
            current: next,
            previous: vec![],
        }),
    };
    assert_eq!(only_new.regenerate(release).await.unwrap(), published);
    assert_eq!(only_new.verify_releases().await.unwrap(), (2, 16));
    // A published count changed afterwards is found.
    sqlx::query(
        "UPDATE release_snapshots SET cells = jsonb_set(cells, '{0,count}', '999') \
         WHERE release_id = $1 AND family = 'migrant'",
    )
    .bind(release)
    .execute(&stack.pool)
    .await
    .unwrap();
    let broken = only_new.verify_releases().await.unwrap_err().to_string();
    assert!(
        broken.contains("does not regenerate as published"),
        "{broken}"
    );

    // The ledger cannot be rewritten, and the method is fixed once released.
    let rewrite = sqlx::query("DELETE FROM privacy_ledger")
        .execute(&stack.pool)
        .await;
    assert!(rewrite.is_err());
    stack
        .announce(
            election,
            60,
            common::IdentityProtection {
                method: Some(common::identity_protection::Method::Suppression(
                    common::CellSuppression { threshold: 5 },
                )),
            },
        )
        .await;
    assert!(table().await.unwrap().release.is_some());
    stack.stop().await;
}
