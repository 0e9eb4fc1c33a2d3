//! Candidacy import and the demo election against a real database: all errors at once, nothing
//! half imported, idempotent re-import, one `candidacy.registered` per new candidacy.

use conoceles_capture::domain::{election, import};
use conoceles_capture::tools::demo::{DEMO_ELECTION, seed};
use conoceles_kit::testing::TestDatabase;

async fn database() -> (TestDatabase, sqlx::PgPool) {
    let db = TestDatabase::named("import");
    let pool = conoceles_kit::db::connect_and_migrate(
        &db.url.clone().into(),
        5,
        &conoceles_capture::domain::MIGRATOR,
    )
    .await
    .unwrap();
    (db, pool)
}

async fn count(pool: &sqlx::PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_election_loads_once_with_one_event_per_candidacy() {
    let (db, pool) = database().await;
    let first = seed(&pool).await.unwrap();
    assert_eq!((first.created, first.updated, first.unchanged), (102, 0, 0));
    assert_eq!(count(&pool, "SELECT count(*) FROM candidacies").await, 102);
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM constituencies WHERE kind = 'district'"
        )
        .await,
        16
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM constituencies WHERE kind = 'municipality'"
        )
        .await,
        38
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM kit_outbox WHERE routing_key = 'candidacy.registered'"
        )
        .await,
        102
    );
    let again = seed(&pool).await.unwrap();
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 102));
    // What the unit did since is never undone by loading the demo again.
    let first: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM candidacies ORDER BY external_id LIMIT 1")
            .fetch_one(&pool)
            .await
            .unwrap();
    conoceles_capture::domain::candidacies::substitute(
        &pool,
        first,
        "holder",
        &import::PersonRow {
            full_name: "Quien Sustituye".into(),
            sex: "mujer".into(),
            birth_date: chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap(),
        },
        "renuncia",
        None,
    )
    .await
    .unwrap();
    let third = seed(&pool).await.unwrap();
    assert_eq!(
        (third.created, third.substituted, third.unchanged),
        (0, 0, 102)
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM persons WHERE full_name = 'Quien Sustituye' AND active"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM kit_outbox WHERE routing_key = 'candidacy.registered'"
        )
        .await,
        102,
        "no event for an unchanged row"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM kit_outbox WHERE routing_key = 'election.updated'"
        )
        .await,
        4,
        "the new election is announced when created, and again at the end of each of the three \
         seeds (with its address for errors and its places)"
    );

    // Coalition candidacies are captured by the responsible party (PRI).
    let coalition_party: uuid::Uuid =
        sqlx::query_scalar("SELECT p.id FROM postulants p WHERE p.code = 'PRI'")
            .fetch_one(&pool)
            .await
            .unwrap();
    let catalog = election::catalog(&pool, DEMO_ELECTION).await.unwrap();
    assert_eq!(catalog.postulants["COA1"], coalition_party);
    pool.close().await;
    db.drop_database().await;
}

const HEADER: &str = "id_registro,cargo,principio,circunscripcion,postulante,posicion_lista,propietario_nombre,propietario_sexo,propietario_fecha_nacimiento,suplente_nombre,suplente_sexo,suplente_fecha_nacimiento,accion_afirmativa\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twelve_errors_are_reported_at_once_and_nothing_is_imported() {
    let (db, pool) = database().await;
    seed(&pool).await.unwrap();
    let before = count(&pool, "SELECT count(*) FROM candidacies").await;
    let catalog = election::catalog(&pool, DEMO_ELECTION).await.unwrap();
    let file = format!(
        "{HEADER}\
X-1,senaduria,mr,01,PAN,,Ana López Díaz,mujer,1980-01-01,,,,\n\
X-2,diputacion_mr,rp,01,PAN,,Ana López Díaz,mujer,1980-01-02,,,,\n\
X-3,diputacion_mr,mr,99,PAN,,Ana López Díaz,mujer,1980-01-03,,,,\n\
X-4,diputacion_mr,mr,02,PARTIDO_X,,Ana López Díaz,mujer,1980-01-04,,,,\n\
X-5,diputacion_rp,rp,RP,MORENA,,Ana López Díaz,mujer,1980-01-05,,,,\n\
X-6,diputacion_mr,mr,04,PAN,,,mujer,1980-01-06,,,,\n\
X-7,diputacion_mr,mr,05,PAN,,Ana López Díaz,otro,1980-01-07,,,,\n\
X-8,diputacion_mr,mr,06,PAN,,Ana López Díaz,mujer,01/02/1980,,,,\n\
X-9,diputacion_mr,mr,07,PAN,,Ana López Díaz,mujer,2015-01-01,,,,\n\
X-10,diputacion_mr,mr,08,PAN,,Ana López Díaz,mujer,1980-01-10,,,,heroica\n\
X-10,diputacion_mr,mr,09,PAN,,Ana López Díaz,mujer,1980-01-11,,,,\n\
X-12,diputacion_rp,rp,RP,PT,200,Ana López Díaz,mujer,1980-01-12,,,,\n\
X-13,diputacion_mr,mr,10,PAN,,Ana López Díaz,mujer,1980-01-13,,,,\n"
    );
    let errors = import::parse(file.as_bytes(), &catalog).unwrap_err();
    let found: Vec<(usize, &str)> = errors.iter().map(|e| (e.line, e.column.as_str())).collect();
    assert_eq!(
        found,
        [
            (2, "cargo"),
            (3, "principio"),
            (4, "circunscripcion"),
            (5, "postulante"),
            (6, "posicion_lista"),
            (7, "propietario_nombre"),
            (8, "propietario_sexo"),
            (9, "propietario_fecha_nacimiento"),
            (10, "propietario_fecha_nacimiento"),
            (11, "accion_afirmativa"),
            (12, "id_registro"),
            (13, "posicion_lista"),
        ],
        "{errors:#?}"
    );
    assert!(errors.iter().all(|e| !e.message.is_empty()));
    assert_eq!(
        errors[10].to_string(),
        "Línea 12, columna «id_registro»: El identificador se repite (ya aparece en la línea 11)."
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM candidacies").await,
        before,
        "nothing imported"
    );
    pool.close().await;
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_different_person_in_a_seat_is_a_substitution_and_a_corrected_sex_an_update() {
    let (db, pool) = database().await;
    seed(&pool).await.unwrap();
    let catalog = election::catalog(&pool, DEMO_ELECTION).await.unwrap();
    let demo = include_str!("../../demo/candidaturas.csv");
    let first_row = demo.lines().nth(1).unwrap();
    let mut fields: Vec<&str> = first_row.split(',').collect();
    let replaced = fields[6].to_string();
    fields[6] = "Persona Distinta Del Registro";
    let file = format!("{HEADER}{}\n", fields.join(","));
    let rows = import::parse(file.as_bytes(), &catalog).unwrap();
    // The preview says so and changes nothing.
    let preview = import::preview(&pool, DEMO_ELECTION, &catalog, &rows)
        .await
        .unwrap();
    assert_eq!((preview.substituted, preview.updated), (1, 0));
    assert_eq!(preview.changes[0].action, "substituted");
    assert!(
        preview.changes[0]
            .detail
            .contains("Persona Distinta Del Registro")
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM kit_outbox WHERE routing_key = 'candidacy.substituted'"
        )
        .await,
        0,
        "a preview announces nothing"
    );
    let summary = import::apply(&pool, DEMO_ELECTION, &catalog, &rows, None)
        .await
        .unwrap();
    assert_eq!(
        (
            summary.created,
            summary.updated,
            summary.substituted,
            summary.unchanged
        ),
        (0, 0, 1, 0)
    );
    // Never an overwrite: the replaced person stays, inactive, and the substitution is
    // announced (new account, old one locked, identity answers blocked downstream).
    assert_eq!(
        count(
            &pool,
            &format!("SELECT count(*) FROM persons WHERE full_name = '{replaced}' AND NOT active")
        )
        .await,
        1
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM persons WHERE full_name = 'Persona Distinta Del Registro' AND active").await,
        1
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM kit_outbox WHERE routing_key = 'candidacy.substituted'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM kit_outbox WHERE routing_key = 'candidacy.registered'"
        )
        .await,
        102,
        "no new registration"
    );
    // The same person with the sex corrected is an update in place.
    fields[7] = if fields[7] == "mujer" {
        "hombre"
    } else {
        "mujer"
    };
    let file = format!("{HEADER}{}\n", fields.join(","));
    let rows = import::parse(file.as_bytes(), &catalog).unwrap();
    let catalog = election::catalog(&pool, DEMO_ELECTION).await.unwrap();
    let summary = import::apply(&pool, DEMO_ELECTION, &catalog, &rows, None)
        .await
        .unwrap();
    assert_eq!((summary.updated, summary.substituted), (1, 0));
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM kit_outbox WHERE routing_key = 'candidacy.substituted'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM candidacy_history WHERE action = 'updated_by_import'"
        )
        .await,
        2
    );
    // A file from before the substitution would bring the replaced person back: refused, with
    // the reason, nothing changed.
    let catalog = election::catalog(&pool, DEMO_ELECTION).await.unwrap();
    let stale = format!("{HEADER}{first_row}\n");
    let errors = import::parse(stale.as_bytes(), &catalog).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].column, "propietario_nombre");
    assert!(
        errors[0]
            .message
            .contains("fue sustituida en esta candidatura"),
        "{errors:?}"
    );
    pool.close().await;
    db.drop_database().await;
}

/// The registry's columns beyond ours: a cancelled row cancels, the coalition agreement's
/// member party captures its candidacy, the approval date sets the accounts' delivery deadline
/// (end of the third natural day after it, election zone), and one person in two seats is an
/// error that stops the whole file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_rows_coalition_agreements_approval_dates_and_one_person_one_seat() {
    use conoceles_proto::events::v1::CandidacyRegistered;
    use prost::Message;
    let (db, pool) = database().await;
    seed(&pool).await.unwrap();
    let catalog = election::catalog(&pool, DEMO_ELECTION).await.unwrap();
    let header = format!(
        "{},fecha_aprobacion,estatus,partido_responsable\n",
        HEADER.trim_end()
    );
    let demo = include_str!("../../demo/candidaturas.csv");
    // The coalition's candidacy of district 01 cancelled, and a new one registered in its
    // seat, assigned by the agreement to PAN and approved on 30 November.
    let first = demo.lines().nth(1).unwrap();
    assert!(first.contains(",01,COA1,"));
    let file = format!(
        "{header}{first},,cancelada,\n\
X-1,diputacion_mr,mr,01,COA1,,Laura Núñez Vega,mujer,1979-03-03,,,,,2026-11-30,,PAN\n"
    );
    // Someone who already holds a seat cannot take another one.
    let taken = demo.lines().nth(3).unwrap().split(',').collect::<Vec<_>>();
    let two_seats = format!(
        "{file}X-2,diputacion_rp,rp,RP,PAN,4,{},{},{},,,,,,,\n",
        taken[6], taken[7], taken[8]
    );
    let errors = import::parse(two_seats.as_bytes(), &catalog).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].message.contains("no puede ocupar dos lugares"),
        "{errors:?}"
    );
    let not_a_member = file.replace(",PAN\n", ",MORENA\n");
    let errors = import::parse(not_a_member.as_bytes(), &catalog).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].column, "partido_responsable", "{errors:?}");

    let rows = import::parse(file.as_bytes(), &catalog).unwrap();
    let summary = import::apply(&pool, DEMO_ELECTION, &catalog, &rows, None)
        .await
        .unwrap();
    assert_eq!((summary.created, summary.cancelled), (1, 1), "{summary:?}");
    let first_id = first.split(',').next().unwrap();
    let status: String =
        sqlx::query_scalar("SELECT status FROM candidacies WHERE external_id = $1")
            .bind(first_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(status, "withdrawn");
    // The agreement's party captures it; the coalition stays its postulant.
    let (postulant, responsible): (String, uuid::Uuid) = sqlx::query_as(&format!(
        "SELECT c.postulant_code, {} FROM candidacies c WHERE c.external_id = 'X-1'",
        conoceles_capture::domain::curricular::RESPONSIBLE_PARTY
    ))
    .fetch_one(&pool)
    .await
    .unwrap();
    let pan: uuid::Uuid = sqlx::query_scalar("SELECT id FROM postulants WHERE code = 'PAN'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!((postulant.as_str(), responsible), ("COA1", pan));
    let payload: Vec<u8> = sqlx::query_scalar(
        "SELECT payload FROM kit_outbox WHERE routing_key = 'candidacy.registered' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    let event = CandidacyRegistered::decode(payload.as_slice()).unwrap();
    assert_eq!(event.responsible_party_id.unwrap().value, pan.to_string());
    // Coahuila is UTC−6: approved 30 November, accounts due when 4 December starts there.
    let approved = conoceles_kit::proto_time::from_proto(event.approved_at.as_ref()).unwrap();
    let due = conoceles_kit::proto_time::from_proto(event.accounts_due_at.as_ref()).unwrap();
    assert_eq!(approved.to_rfc3339(), "2026-11-30T06:00:00+00:00");
    assert_eq!(due.to_rfc3339(), "2026-12-04T06:00:00+00:00");
    pool.close().await;
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn substitution_and_cancellation_keep_history_and_emit_their_events() {
    use conoceles_capture::domain::candidacies::{self, Filters};
    use conoceles_capture::domain::import::PersonRow;
    use conoceles_kit::ErrorCode;

    let (db, pool) = database().await;
    seed(&pool).await.unwrap();
    let morena = candidacies::list(
        &pool,
        DEMO_ELECTION,
        &Filters {
            postulant: "morena".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(morena.len(), 16 + 3, "16 districts and 3 list places");
    let target = &morena[0];

    let new_holder = PersonRow {
        full_name: "Persona Sustituta Ejemplo".into(),
        sex: "mujer".into(),
        birth_date: chrono::NaiveDate::from_ymd_opt(1985, 3, 3).unwrap(),
    };
    candidacies::substitute(&pool, target.id, "holder", &new_holder, "renuncia", None)
        .await
        .unwrap();
    let listed = candidacies::list(
        &pool,
        DEMO_ELECTION,
        &Filters {
            postulant: "MORENA".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        listed.iter().find(|c| c.id == target.id).unwrap().holder,
        "Persona Sustituta Ejemplo"
    );
    assert_eq!(
        count(
            &pool,
            &format!(
                "SELECT count(*) FROM persons WHERE candidacy_id = '{}' AND role = 'holder'",
                target.id
            )
        )
        .await,
        2,
        "the replaced person stays in the history"
    );
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM kit_outbox WHERE routing_key = 'candidacy.substituted'"
        )
        .await,
        1
    );

    candidacies::cancel(
        &pool,
        target.id,
        "cancelación por resolución del Consejo",
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        count(
            &pool,
            "SELECT count(*) FROM kit_outbox WHERE routing_key = 'candidacy.cancelled'"
        )
        .await,
        1
    );
    let again = candidacies::cancel(&pool, target.id, "otra vez", None)
        .await
        .unwrap_err();
    assert_eq!(again.code(), ErrorCode::FailedPrecondition);
    let late = candidacies::substitute(&pool, target.id, "holder", &new_holder, "tarde", None)
        .await
        .unwrap_err();
    assert_eq!(late.code(), ErrorCode::FailedPrecondition);
    let no_reason = candidacies::cancel(&pool, morena[1].id, " ", None)
        .await
        .unwrap_err();
    assert_eq!(no_reason.code(), ErrorCode::InvalidArgument);

    let withdrawn = candidacies::list(
        &pool,
        DEMO_ELECTION,
        &Filters {
            status: "withdrawn".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(withdrawn.len(), 1);
    let history: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT action FROM candidacy_history WHERE candidacy_id = '{}' ORDER BY id",
        target.id
    ))
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(history, ["registered", "substituted", "cancelled"]);
    pool.close().await;
    db.drop_database().await;
}

/// The statisticians' curricular profile: every active person of a candidacy in force counted
/// once, in the age band of their age on the day the capture closes (the birthday itself
/// included), with the education they saved; the same counts as a person-by-person tally.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_curricular_profile_counts_each_person_once_in_the_age_band_of_the_closing_day() {
    use chrono::{Datelike, Months, NaiveDate};
    use std::collections::BTreeMap;
    let (db, pool) = database().await;
    seed(&pool).await.unwrap();
    let closes: NaiveDate =
        sqlx::query_scalar("SELECT capture_closes_at::date FROM elections WHERE id = $1")
            .bind(DEMO_ELECTION)
            .fetch_one(&pool)
            .await
            .unwrap();
    let persons: Vec<uuid::Uuid> =
        sqlx::query_scalar("SELECT id FROM persons WHERE active ORDER BY id LIMIT 6")
            .fetch_all(&pool)
            .await
            .unwrap();
    // Born on the closing day 30 and 60 years before (30 and 60 that day), the day after (29
    // and 59), a newborn and a person of 100.
    let years_before = |years: u32| closes.checked_sub_months(Months::new(12 * years)).unwrap();
    let births = [
        years_before(30),
        years_before(30).succ_opt().unwrap(),
        years_before(60),
        years_before(60).succ_opt().unwrap(),
        closes,
        years_before(100),
    ];
    for (person, birth) in persons.iter().zip(births) {
        sqlx::query("UPDATE persons SET birth_date = $2 WHERE id = $1")
            .bind(person)
            .bind(birth)
            .execute(&pool)
            .await
            .unwrap();
    }
    sqlx::query(
        "INSERT INTO curricular_sections (person_id, section, fields, complete, saved_at) \
         VALUES ($1, 'education', '{\"level\": \"licenciatura\", \"status\": \"titulado\"}', true, now())",
    )
    .bind(persons[0])
    .execute(&pool)
    .await
    .unwrap();
    // A withdrawn candidacy's persons are not counted.
    let withdrawn: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM persons WHERE active \
         AND candidacy_id = (SELECT candidacy_id FROM persons WHERE id = $1)",
    )
    .bind(persons[5])
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(withdrawn >= 1);
    sqlx::query(
        "UPDATE candidacies SET status = 'withdrawn', withdrawn_at = now() \
         WHERE id = (SELECT candidacy_id FROM persons WHERE id = $1)",
    )
    .bind(persons[5])
    .execute(&pool)
    .await
    .unwrap();

    let band = |birth: NaiveDate| {
        let birthday_to_come = (closes.month(), closes.day()) < (birth.month(), birth.day());
        match closes.year() - birth.year() - i32::from(birthday_to_come) {
            ..30 => "18-29",
            30..40 => "30-39",
            40..50 => "40-49",
            50..60 => "50-59",
            _ => "60+",
        }
    };
    use sqlx::Row;
    let tallied = sqlx::query(
        "SELECT c.office_code, c.postulant_code, p.sex, p.role, p.birth_date, \
                s.fields->>'level' AS level, s.fields->>'status' AS status \
         FROM persons p JOIN candidacies c ON c.id = p.candidacy_id \
         LEFT JOIN curricular_sections s ON s.person_id = p.id AND s.section = 'education' \
         WHERE p.active AND c.status <> 'withdrawn' AND c.election_id = $1",
    )
    .bind(DEMO_ELECTION)
    .fetch_all(&pool)
    .await
    .unwrap();
    let mut expected = BTreeMap::new();
    for person in tallied {
        let text = |column: &str| person.get::<String, _>(column);
        let or_missing = |column: &str| {
            person
                .get::<Option<String>, _>(column)
                .unwrap_or_else(|| "sin_dato".into())
        };
        let key = [
            text("office_code"),
            text("postulant_code"),
            text("sex"),
            text("role"),
            or_missing("level"),
            or_missing("status"),
            band(person.get("birth_date")).to_string(),
        ];
        *expected.entry(key).or_insert(0u64) += 1;
    }
    let counted: BTreeMap<[String; 7], u64> =
        conoceles_capture::domain::profile_counts::counts(&pool, DEMO_ELECTION)
            .await
            .unwrap()
            .into_iter()
            .map(|r| {
                let key = [
                    r.office,
                    r.postulant,
                    r.sex,
                    r.role,
                    r.education_level,
                    r.education_status,
                    r.age_band,
                ];
                (key, r.count)
            })
            .collect();
    assert_eq!(counted, expected);
    let active: i64 = count(&pool, "SELECT count(*) FROM persons WHERE active").await;
    assert_eq!(counted.values().sum::<u64>() as i64, active - withdrawn);
    for wanted in ["18-29", "30-39", "50-59", "60+"] {
        assert!(counted.keys().any(|k| k[6] == wanted), "no {wanted} band");
    }
    assert!(
        counted
            .keys()
            .any(|k| k[4] == "licenciatura" && k[5] == "titulado")
    );
    pool.close().await;
    db.drop_database().await;
}

/// A substitution at any stage of the questionnaire gives the new person a fresh one: back to
/// capture, earlier rounds superseded (never published), a deadline of the new person's own;
/// an alternate who answers no questionnaire changes none of that. The unit extends one
/// candidacy's deadline with a reason, later than the one in force and never past the
/// election's outer bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_substitution_at_any_stage_restarts_the_questionnaire_with_its_own_deadline() {
    use chrono::{Duration, Utc};
    use conoceles_capture::domain::candidacies::{self, Filters};
    use conoceles_capture::domain::import::PersonRow;
    use conoceles_capture::domain::{deadlines, profile};
    use conoceles_kit::ErrorCode;

    let (db, pool) = database().await;
    seed(&pool).await.unwrap();
    // The demo was imported after capture opened: each candidacy has the 15 days of a late
    // registration.
    let late: i64 = count(
        &pool,
        "SELECT count(*) FROM candidacies WHERE capture_deadline >= now() + interval '15 days'",
    )
    .await;
    assert_eq!(late, 102);
    // 15 days a substitution gets, in a window that closes in 3 days (candidacies registered
    // before it opened).
    sqlx::query(
        "UPDATE elections SET capture_closes_at = now() + interval '3 days', deadline_days = 15",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("UPDATE candidacies SET capture_deadline = NULL")
        .execute(&pool)
        .await
        .unwrap();
    let morena = candidacies::list(
        &pool,
        DEMO_ELECTION,
        &Filters {
            postulant: "MORENA".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let person = |name: &str| PersonRow {
        full_name: name.into(),
        sex: "mujer".into(),
        birth_date: chrono::NaiveDate::from_ymd_opt(1980, 1, 1).unwrap(),
    };
    let window: chrono::DateTime<Utc> =
        sqlx::query_scalar("SELECT capture_closes_at FROM elections WHERE id = $1")
            .bind(DEMO_ELECTION)
            .fetch_one(&pool)
            .await
            .unwrap();
    for (i, stage) in [
        "not_started",
        "draft",
        "submitted",
        "observed",
        "approved",
        "published",
    ]
    .iter()
    .enumerate()
    {
        let c = morena[i].id;
        let submission = uuid::Uuid::now_v7();
        if *stage != "not_started" && *stage != "draft" {
            sqlx::query(
                "INSERT INTO submissions (id, candidacy_id, round, canonical, content_sha256, submitted_at, submitted_by) \
                 VALUES ($1, $2, 1, '{\"persons\": []}', 'x', now(), $1)",
            )
            .bind(submission)
            .bind(c)
            .execute(&pool)
            .await
            .unwrap();
        }
        sqlx::query(
            "UPDATE candidacies SET status = $2, reopened_sections = '{general}' WHERE id = $1",
        )
        .bind(c)
        .bind(stage)
        .execute(&pool)
        .await
        .unwrap();
        candidacies::substitute(
            &pool,
            c,
            "holder",
            &person("Nueva Persona"),
            "renuncia",
            None,
        )
        .await
        .unwrap();
        let (status, reopened, deadline): (String, Vec<String>, Option<chrono::DateTime<Utc>>) =
            sqlx::query_as(
                "SELECT status, reopened_sections, capture_deadline FROM candidacies WHERE id = $1",
            )
            .bind(c)
            .fetch_one(&pool)
            .await
            .unwrap();
        let expected = if *stage == "not_started" {
            "not_started"
        } else {
            "draft"
        };
        assert_eq!(status, expected, "after a substitution at {stage}");
        assert!(
            reopened.is_empty(),
            "the whole questionnaire opens at {stage}"
        );
        let deadline = deadline.expect("a deadline of its own");
        assert!(
            deadline > window && deadline >= Utc::now() + Duration::days(15),
            "15 natural days from the day after, past the 3-day window: {deadline}"
        );
        if *stage != "not_started" && *stage != "draft" {
            let refused = profile::public_profile(&pool, c, Some(submission))
                .await
                .unwrap_err();
            assert_eq!(refused.code(), ErrorCode::FailedPrecondition, "{stage}");
        }
    }
    // The demo's alternates answer no questionnaire: substituting one restarts nothing.
    let approved = morena[6].id;
    sqlx::query("UPDATE candidacies SET status = 'approved' WHERE id = $1")
        .bind(approved)
        .execute(&pool)
        .await
        .unwrap();
    candidacies::substitute(
        &pool,
        approved,
        "alternate",
        &person("Otra Suplente"),
        "renuncia",
        None,
    )
    .await
    .unwrap();
    let status: String = sqlx::query_scalar("SELECT status FROM candidacies WHERE id = $1")
        .bind(approved)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(status, "approved");
    let payloads: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT payload FROM kit_outbox WHERE routing_key = 'candidacy.substituted' ORDER BY id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let restarted: Vec<bool> = payloads
        .iter()
        .map(|p| {
            <conoceles_proto::events::v1::CandidacySubstituted as prost::Message>::decode(
                p.as_slice(),
            )
            .unwrap()
            .questionnaire_restarted
        })
        .collect();
    assert_eq!(restarted, [true, true, true, true, true, true, false]);

    // Extensions: a reason, later than the deadline in force, not past the outer bound (the
    // start of the day before election day), refused for a cancelled candidacy.
    let c = morena[7].id;
    let now = Utc::now();
    let no_reason = deadlines::extend(&pool, c, now + Duration::days(20), " ", None, now)
        .await
        .unwrap_err();
    assert_eq!(no_reason.code(), ErrorCode::InvalidArgument);
    let earlier = deadlines::extend(&pool, c, now + Duration::days(1), "solicitud", None, now)
        .await
        .unwrap_err();
    assert!(
        earlier
            .messages()
            .join(" ")
            .contains("después del plazo vigente")
    );
    let past = deadlines::extend(&pool, c, now + Duration::days(40), "solicitud", None, now)
        .await
        .unwrap_err();
    assert!(
        past.messages().join(" ").contains("límite de la elección"),
        "{:?}",
        past.messages()
    );
    let until = now + Duration::days(10);
    let before = deadlines::extend(&pool, c, until, "Oficio IEC/UT/12/2027", None, now)
        .await
        .unwrap();
    assert_eq!(before.timestamp(), window.timestamp());
    let (deadline, history): (chrono::DateTime<Utc>, serde_json::Value) = sqlx::query_as(
        "SELECT c.capture_deadline, h.detail FROM candidacies c JOIN candidacy_history h ON h.candidacy_id = c.id \
         WHERE c.id = $1 AND h.action = 'deadline_extended'",
    )
    .bind(c)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(deadline.timestamp(), until.timestamp());
    assert_eq!(history["reason"], "Oficio IEC/UT/12/2027");
    // The extended deadline is the one capture enforces for that candidacy alone.
    let listed = candidacies::list(&pool, DEMO_ELECTION, &Filters::default())
        .await
        .unwrap();
    let of = |id| listed.iter().find(|l| l.id == id).unwrap().capture_deadline;
    assert_eq!(of(c).timestamp(), until.timestamp());
    assert_eq!(of(morena[8].id).timestamp(), window.timestamp());
    candidacies::cancel(&pool, c, "resolución del Consejo", None)
        .await
        .unwrap();
    let cancelled = deadlines::extend(&pool, c, until + Duration::days(1), "otra", None, now)
        .await
        .unwrap_err();
    assert_eq!(cancelled.code(), ErrorCode::FailedPrecondition);
    pool.close().await;
    db.drop_database().await;
}

/// The national registry's export as it comes: one row per person, names split, dates
/// `DD/MM/AAAA`, parties and offices by name, a CURP instead of a birth date, the person who
/// left marked «Sustituido».
const REGISTRY: &str = "\
CARGO,DISTRITO,CIRCUNSCRIPCIÓN,PARTIDO/COALICIÓN,NO. LISTA,TIPO CANDIDATO,NOMBRE(S),PRIMER APELLIDO,SEGUNDO APELLIDO,SEXO,FECHA DE NACIMIENTO,CURP,ESTATUS,FECHA DE APROBACIÓN,ACCIÓN AFIRMATIVA\n\
Diputación local de mayoría relativa,1,,Coalición ilustrativa PRI–PAN–UDC,,PROPIETARIO,Patricia,Reyes,Álvarez,MUJER,15/04/1974,,SUSTITUIDO,30/11/2026,\n\
Diputación local de mayoría relativa,1,,Coalición ilustrativa PRI–PAN–UDC,,PROPIETARIO,Rosa María,Treviño,Garza,MUJER,02/02/1985,,APROBADO,30/11/2026,Persona Indígena\n\
Diputación local de mayoría relativa,1,,Coalición ilustrativa PRI–PAN–UDC,,SUPLENTE,Lucía,Mendoza,Medina,MUJER,05/05/1962,,APROBADO,30/11/2026,\n\
Diputación local de mayoría relativa,01,,Morena,,PROPIETARIO,Santiago,Romero,García,HOMBRE,22/04/1982,,CANCELADO,30/11/2026,\n\
Diputación local de mayoría relativa,01,,Morena,,SUPLENTE,Tomás,Ramírez,Morales,HOMBRE,18/06/1953,,CANCELADO,30/11/2026,\n\
Diputación local de representación proporcional,,,PT,4,PROPIETARIO,Elena,Sánchez,Ortiz,,,SAOE880707MCLNRL02,APROBADO,01/12/2026,\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_national_registrys_own_export_is_read_person_by_person() {
    let (db, pool) = database().await;
    seed(&pool).await.unwrap();
    let catalog = election::catalog(&pool, DEMO_ELECTION).await.unwrap();

    // Bad rows are told in the registry file's own lines and headers, all at once.
    let bad = REGISTRY
        .replace(
            "Rosa María,Treviño,Garza,MUJER",
            "Rosa María,Treviño,Garza,OTRO",
        )
        .replace(",PT,4,PROPIETARIO,", ",PT,4,SUPLENTE,");
    let errors = import::parse(bad.as_bytes(), &catalog).unwrap_err();
    let found: Vec<(usize, &str)> = errors.iter().map(|e| (e.line, e.column.as_str())).collect();
    assert_eq!(found, [(3, "SEXO"), (7, "TIPO CANDIDATO")], "{errors:#?}");
    let bad = REGISTRY.replace(
        "Rosa María,Treviño,Garza,MUJER",
        "Rosa María,Treviño,Garza,OTRO",
    );
    let errors = import::parse(bad.as_bytes(), &catalog).unwrap_err();
    let found: Vec<(usize, &str)> = errors.iter().map(|e| (e.line, e.column.as_str())).collect();
    assert_eq!(found, [(3, "SEXO")], "{errors:#?}");
    assert!(
        errors[0]
            .to_string()
            .starts_with("Línea 3, columna «SEXO»: ")
    );

    let rows = import::parse(REGISTRY.as_bytes(), &catalog).unwrap();
    assert_eq!(rows.len(), 3, "one row per formula: {rows:#?}");
    // Each formula is told by its holder's line in the registry file.
    let lines: Vec<usize> = rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [3, 5, 7]);
    let summary = import::apply(&pool, DEMO_ELECTION, &catalog, &rows, None)
        .await
        .unwrap();
    assert_eq!(
        (summary.created, summary.substituted, summary.cancelled),
        (1, 1, 1),
        "{summary:#?}"
    );
    // The coalition's seat keeps its id, now with the new holder and the same alternate.
    let holders: Vec<(String, String, bool)> = sqlx::query_as(
        "SELECT p.full_name, p.role, p.active FROM persons p JOIN candidacies c ON c.id = p.candidacy_id \
         WHERE c.external_id = 'COAH26-000001' ORDER BY p.role, p.active",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        holders,
        [
            (
                "Lucía Mendoza Medina".to_string(),
                "alternate".to_string(),
                true
            ),
            (
                "Patricia Reyes Álvarez".to_string(),
                "holder".to_string(),
                false
            ),
            (
                "Rosa María Treviño Garza".to_string(),
                "holder".to_string(),
                true
            ),
        ]
    );
    let morena: String =
        sqlx::query_scalar("SELECT status FROM candidacies WHERE external_id = 'COAH26-000002'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(morena, "withdrawn");
    // The new RP seat: birth date and sex read from the CURP.
    let (sex, birth): (String, chrono::NaiveDate) = sqlx::query_as(
        "SELECT p.sex, p.birth_date FROM persons p JOIN candidacies c ON c.id = p.candidacy_id \
         WHERE c.external_id = 'diputacion_rp-RP-PT-4'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (sex.as_str(), birth.to_string().as_str()),
        ("mujer", "1988-07-07")
    );
    // The same export again changes nothing.
    let catalog = election::catalog(&pool, DEMO_ELECTION).await.unwrap();
    let rows = import::parse(REGISTRY.as_bytes(), &catalog).unwrap();
    let again = import::apply(&pool, DEMO_ELECTION, &catalog, &rows, None)
        .await
        .unwrap();
    assert_eq!(
        (
            again.created,
            again.substituted,
            again.cancelled,
            again.updated
        ),
        (0, 0, 0, 0),
        "{again:#?}"
    );
    pool.close().await;
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ayuntamiento_slates_import_by_position_with_every_error_at_once() {
    use conoceles_capture::tools::demo::{SONORA, SONORA_ELECTION, seed_process};
    let (db, pool) = database().await;
    let first = seed_process(&pool, &SONORA).await.unwrap();
    assert_eq!(first.created, 211, "{first:?}");
    // Hermosillo (030): four slates of a presidencia, one sindicatura and eight regidurías of
    // mayoría relativa; three lists of five regidurías of representación proporcional.
    let hermosillo: Vec<(String, i64)> = sqlx::query_as(
        "SELECT office_code, count(*) FROM candidacies WHERE election_id = $1 AND constituency_code = '030' \
         GROUP BY office_code ORDER BY office_code",
    )
    .bind(SONORA_ELECTION)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        hermosillo,
        [
            ("presidencia_municipal".to_string(), 4),
            ("regiduria_mr".to_string(), 32),
            ("regiduria_rp".to_string(), 15),
            ("sindicatura".to_string(), 4),
        ]
    );
    let again = seed_process(&pool, &SONORA).await.unwrap();
    assert_eq!((again.created, again.unchanged), (0, 211));

    // A municipality added to the catalog without its composition.
    let mut conn = pool.acquire().await.unwrap();
    election::load_constituencies(
        &mut conn,
        SONORA_ELECTION,
        "municipality",
        "clave,nombre\n055,San Luis Río Colorado\n",
    )
    .await
    .unwrap();
    drop(conn);
    let catalog = election::catalog(&pool, SONORA_ELECTION).await.unwrap();
    let before = count(&pool, "SELECT count(*) FROM candidacies").await;
    let file = format!(
        "{HEADER}\
A-1,sindicatura,mr,003,PAN,1,Ana López Díaz,mujer,1980-01-01,,,,\n\
A-2,regiduria_mr,mr,003,PAN,1,Bruno López Díaz,hombre,1980-01-02,,,,\n\
B-1,presidencia_municipal,mr,008,PRI,,Carla Ruiz Paz,mujer,1980-01-03,,,,\n\
B-2,regiduria_mr,mr,008,PRI,3,Dario Ruiz Paz,hombre,1980-01-04,,,,\n\
B-3,sindicatura,mr,008,PRI,,Elsa Ruiz Paz,mujer,1980-01-05,,,,\n\
B-4,regiduria_mr,mr,008,PRI,1,Fabián Ruiz Paz,hombre,1980-01-06,,,,\n\
B-5,regiduria_mr,mr,008,PRI,1,Gala Ruiz Paz,mujer,1980-01-07,,,,\n\
C-1,presidencia_municipal,mr,055,PRI,,Hugo Soto Paz,hombre,1980-01-08,,,,\n\
C-2,regiduria_mr,mr,055,PRI,1,Irma Soto Paz,mujer,1980-01-09,,,,\n"
    );
    let errors = import::parse(file.as_bytes(), &catalog).unwrap_err();
    let found: Vec<(usize, &str)> = errors.iter().map(|e| (e.line, e.column.as_str())).collect();
    assert_eq!(
        found,
        [
            (2, "cargo"),
            (5, "posicion_lista"),
            (6, "posicion_lista"),
            (8, "posicion_lista"),
            (10, "circunscripcion"),
        ],
        "{errors:#?}"
    );
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert!(
        messages[0]
            .contains("La planilla de PAN en el municipio 003 no tiene presidencia municipal"),
        "{messages:?}"
    );
    assert!(
        messages[1].contains("tiene 2 regiduría(s) de mayoría relativa: la posición 3 no existe"),
        "{messages:?}"
    );
    assert!(
        messages[2].contains(
            "Indique el número de la posición: 1 (el ayuntamiento tiene 1 sindicatura(s))"
        ),
        "{messages:?}"
    );
    assert!(
        messages[3].contains("ya aparece en la línea 7"),
        "{messages:?}"
    );
    assert!(
        messages[4].contains("no está en el catálogo «ayuntamientos»"),
        "{messages:?}"
    );
    assert_eq!(
        count(&pool, "SELECT count(*) FROM candidacies").await,
        before,
        "nothing imported"
    );

    // A slate captured as a unit: the bulk template of one municipality holds its slate and
    // RP list only, each position named as on the ballot, in ballot order.
    let morena: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM postulants WHERE election_id = $1 AND code = 'MORENA'")
            .bind(SONORA_ELECTION)
            .fetch_one(&pool)
            .await
            .unwrap();
    let actor = conoceles_kit::access::Actor {
        account_id: uuid::Uuid::nil(),
        role: conoceles_kit::access::Role::Party,
        party_id: Some(morena),
        candidacy_id: None,
    };
    let template =
        conoceles_capture::domain::curricular::bulk::template(&pool, &actor, Some("008"))
            .await
            .unwrap();
    let seats: Vec<&str> = template
        .lines()
        .skip(1)
        .filter(|l| l.contains(",titular,"))
        .map(|l| l.split(',').nth(2).unwrap())
        .collect();
    // Bacadéhuachi: a presidencia, one sindicatura, two regidurías MR, one RP.
    assert_eq!(
        seats,
        [
            "Presidencia municipal",
            "Sindicatura 1",
            "Regiduría 1",
            "Regiduría 2",
            "Regiduría RP 1"
        ]
    );
    pool.close().await;
    db.drop_database().await;
}
