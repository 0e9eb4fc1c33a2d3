//! The electoral process around the demo's happy path, over the six service binaries as an
//! electoral body runs them: the registry's file brings a late registration (approved days ago,
//! its accounts already late) and a coalition candidacy assigned by agreement to one member
//! party; the unit extends a deadline; a published candidacy is substituted and the public site
//! follows; a submitted one is substituted and its pending review superseded; identity answers
//! sent after approval reach the public profile; a re-import brings a substitution and a
//! cancellation, previewed first. Bad input at each step gets a clear Spanish error and changes
//! nothing.
//!
//! The calendar is walked by restarting `capture` with its clock moved (`CLOCK_OFFSET_SECONDS`,
//! read by `conoceles_kit::clock::now`); the other dates are relative to today (an approval ten
//! days ago is past its three delivery days).

use std::time::{Duration, Instant};

use conoceles_e2e::ProcessStack;
use serde_json::{Value, json};

const HEADER: &str = "id_registro,cargo,principio,circunscripcion,postulante,posicion_lista,\
propietario_nombre,propietario_sexo,propietario_fecha_nacimiento,suplente_nombre,suplente_sexo,\
suplente_fecha_nacimiento,accion_afirmativa,fecha_aprobacion,estatus,partido_responsable";

/// The demo process a run walks: its name for `seed-demo --process=`, its coalition (PAN is a
/// member and has no district candidacy of its own in either demo) and its registry prefix.
struct Demo {
    process: &'static str,
    coalition: &'static str,
    prefix: &'static str,
}

const COAHUILA: Demo = Demo {
    process: "coahuila",
    coalition: "COA1",
    prefix: "COAH26-",
};

/// Deputies and ayuntamientos, 15 natural days of capture from the accounts' delivery.
const SONORA: Demo = Demo {
    process: "sonora",
    coalition: "COA2",
    prefix: "SON27-",
};

struct Api {
    base: String,
    token: String,
    client: reqwest::Client,
}

impl Api {
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("capture answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn import(&self, csv: &str, preview: bool) -> (u16, Value) {
        let response = self
            .client
            .post(format!(
                "{}/api/v1/candidacies/import?preview={preview}",
                self.base
            ))
            .bearer_auth(&self.token)
            .header("content-type", "text/csv")
            .body(csv.to_string())
            .send()
            .await
            .expect("capture answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

/// Waits until `check` holds, for up to 30 s.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < Duration::from_secs(30), "{what}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A district contest with candidacies not yet published lists all of them, each unpublished
/// one with its state, and its page shows the registry's facts.
async fn every_registered_candidacy_is_listed(
    capture: &sqlx::PgPool,
    citizen: &reqwest::Client,
    site: &str,
) {
    let (district, registered): (String, i64) = sqlx::query_as(
        "SELECT constituency_code, count(*) FROM candidacies c WHERE office_code = 'diputacion_mr' \
         AND status <> 'withdrawn' GROUP BY constituency_code \
         HAVING count(*) FILTER (WHERE status NOT IN ('approved', 'published')) > 0 \
         ORDER BY constituency_code LIMIT 1",
    )
    .fetch_one(capture)
    .await
    .unwrap();
    let url = format!("{site}/candidaturas?cargo=diputacion_mr&distrito={district}");
    let started = Instant::now();
    let page = loop {
        let page = body_of(citizen, &url).await;
        if page.matches("<li class=\"tarjeta").count() as i64 == registered {
            break page;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "every registered candidacy of district {district} listed ({registered}): {page}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let states = page.matches("<p class=\"estado\">").count();
    assert!(
        states >= 1,
        "an unpublished candidacy says its state: {page}"
    );
    assert!(
        page.contains("No ha proporcionado su información") || page.contains("En revisión"),
        "{page}"
    );
    // A card whose state the running pipeline cannot change under the test: one not started
    // (one in review may be approved and published between the list and its page).
    let cards: Vec<&str> = page
        .split("<li class=\"tarjeta sin-publicar\">")
        .skip(1)
        .collect();
    let unpublished = cards
        .iter()
        .find(|card| card.contains("No ha proporcionado su información"))
        .or(cards.first())
        .and_then(|card| card.split("href=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .expect("an unpublished card links to its page");
    let registry_page = body_of(citizen, &format!("{site}{unpublished}")).await;
    assert!(
        registry_page.contains("Datos del registro"),
        "{registry_page}"
    );
    // The election's address for reporting errors, the candidacy named in the subject.
    assert!(
        registry_page.contains("href=\"mailto:transparencia@")
            && registry_page.contains("Repórtelo al organismo electoral"),
        "{registry_page}"
    );
}

/// Fetches the first image of `class` on a page of the site.
async fn fetch_src(
    citizen: &reqwest::Client,
    site: &str,
    page: &str,
    class: &str,
) -> reqwest::Response {
    let src = page
        .split(&format!("class=\"{class}\" src=\""))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("an image of class {class}: {page}"));
    citizen.get(format!("{site}{src}")).send().await.unwrap()
}

/// The demo's site says it is a demonstration and carries the body's name, emblem and colour;
/// the cards carry each postulant's emblem and the holder's photo (or a neutral figure).
async fn the_site_is_presented_as_the_bodys(citizen: &reqwest::Client, site: &str) {
    let home = body_of(citizen, &format!("{site}/")).await;
    assert!(home.contains("Sitio de demostración."), "{home}");
    assert!(
        home.contains("Instituto E"),
        "the body's name in the header: {home}"
    );
    let served = fetch_src(citizen, site, &home, "emblema-organismo").await;
    assert_eq!(served.headers()["content-type"], "image/png");
    assert!(served.bytes().await.unwrap().starts_with(b"\x89PNG"));
    let list = body_of(citizen, &format!("{site}/candidaturas")).await;
    assert!(
        list.contains("class=\"emblema\" src=\"/emblemas/postulantes/"),
        "{list}"
    );
    let served = fetch_src(citizen, site, &list, "foto-tarjeta").await;
    assert_eq!(served.status(), 200);
    let kind = served.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(kind == "image/jpeg" || kind == "image/svg+xml", "{kind}");
}

/// The body of a public page (empty when it cannot be read).
async fn body_of(client: &reqwest::Client, url: &str) -> String {
    match client.get(url).send().await {
        Ok(response) => response.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

fn messages(body: &Value) -> String {
    body.to_string()
}

/// Step 4 of the process: a published candidacy is substituted — without a reason, refused;
/// with one, the public site withdraws the replaced person at once and keeps the candidacy in
/// its contest.
async fn a_published_candidacy_is_substituted(
    stack: &mut ProcessStack,
    capture: &sqlx::PgPool,
    unit: &Api,
    site: &str,
    siglado: uuid::Uuid,
    pan_api: &Api,
    demo: &Demo,
) {
    let citizen = &reqwest::Client::new();
    // 4. A published candidacy is substituted: without a reason, refused; with one, the public
    // site withdraws the replaced person at once and keeps the candidacy in its contest.
    let published: uuid::Uuid = sqlx::query_scalar(
        "SELECT id FROM candidacies WHERE status IN ('approved', 'published') ORDER BY external_id LIMIT 1",
    )
    .fetch_one(capture)
    .await
    .unwrap();
    let (old_person, old_name): (uuid::Uuid, String) = sqlx::query_as(
        "SELECT id, full_name FROM persons WHERE candidacy_id = $1 AND role = 'holder' AND active",
    )
    .bind(published)
    .fetch_one(capture)
    .await
    .unwrap();
    let page = format!("{site}/candidaturas/{published}");
    eventually("the candidacy is public", || async {
        body_of(citizen, &page).await.contains(&old_name)
    })
    .await;
    let substitution = format!("/api/v1/candidacies/{published}/substitution");
    let person = |reason: &str| {
        json!({ "role": "holder", "full_name": "Nadia Ugalde Vera", "sex": "mujer",
                "birth_date": "1985-02-03", "reason": reason })
    };
    let (status, body) = unit
        .send(reqwest::Method::POST, &substitution, Some(person("")))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        messages(&body).contains("motivo de la sustitución"),
        "{body}"
    );
    let (status, body) = unit
        .send(
            reqwest::Method::POST,
            &substitution,
            Some(person("Renuncia")),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    eventually("the public page says a substitution is pending", || async {
        body_of(citizen, &page)
            .await
            .contains("la información de la nueva persona está pendiente")
    })
    .await;
    // The open-data files are regenerated (and signed) a moment after each change.
    for file in ["candidaturas.csv", "candidaturas.json", "popolo.json"] {
        let url = format!("{site}/datos/{file}");
        eventually(&format!("{url} forgets the replaced person"), || {
            let (citizen, url, old_name) = (citizen.clone(), url.clone(), old_name.clone());
            async move {
                let body = citizen
                    .get(&url)
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                !body.contains(&old_name) && !body.contains(&old_person.to_string())
            }
        })
        .await;
    }
    for url in [
        page.clone(),
        format!("{site}/api/v1/candidacies/{published}"),
        format!("{site}/fotos/{old_person}"),
    ] {
        let response = citizen.get(&url).send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        assert!(
            !body.contains(&old_name) && !body.contains(&old_person.to_string()),
            "{url} still names the replaced person"
        );
        if url.contains("/api/") || url.contains("/fotos/") {
            assert_eq!(status, 404, "{url}");
        }
    }
    // identity blocked the replaced person's answers; auth locked the old account.
    let identity = sqlx::PgPool::connect(stack.database_url("identity"))
        .await
        .unwrap();
    eventually("identity blocks the replaced person", || {
        let identity = identity.clone();
        async move {
            sqlx::query_scalar::<_, bool>(
                "SELECT blocked_at IS NOT NULL FROM persons WHERE id = $1",
            )
            .bind(old_person)
            .fetch_optional(&identity)
            .await
            .unwrap()
            .unwrap_or(false)
        }
    })
    .await;
    let (status, detail) = unit
        .send(
            reqwest::Method::GET,
            &format!("/api/v1/candidacies/{published}"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        detail["status"], "draft",
        "the new person captures from scratch"
    );

    // A substitution at the submitted stage: the review waiting for the replaced person's
    // questionnaire leaves the reviewers' queue, so it can never be approved for them.
    // PAN captures and submits the coalition candidacy the agreement gave it (the demo's
    // capture, run again, answers every candidacy not started but one in seven, chosen by
    // holder, district and postulant: «Rebeca Tovar Urías» in district 01 is answered in both
    // demos).
    stack.command(
        "capture",
        &["seed-demo", &format!("--process={}", demo.process)],
    );
    let waiting = siglado;
    let (_, detail) = unit
        .send(
            reqwest::Method::GET,
            &format!("/api/v1/candidacies/{waiting}"),
            None,
        )
        .await;
    assert_eq!(detail["status"], "submitted", "{detail}");
    let validation = sqlx::PgPool::connect(stack.database_url("validation"))
        .await
        .unwrap();
    let pending = |candidacy: uuid::Uuid| {
        let validation = validation.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM reviews WHERE candidacy_id = $1 AND status = 'pending'",
            )
            .bind(candidacy)
            .fetch_one(&validation)
            .await
            .unwrap()
        }
    };
    eventually("validation queues the submitted questionnaire", || async {
        pending(waiting).await == 1
    })
    .await;
    let (status, body) = unit
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/candidacies/{waiting}/substitution"),
            Some(
                json!({ "role": "holder", "full_name": "Sara Villalobos Cano", "sex": "mujer",
                         "birth_date": "1986-05-06", "reason": "Renuncia" }),
            ),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    eventually("the replaced person's review is superseded", || async {
        pending(waiting).await == 0
    })
    .await;
    let (_, detail) = unit
        .send(
            reqwest::Method::GET,
            &format!("/api/v1/candidacies/{waiting}"),
            None,
        )
        .await;
    assert_eq!(detail["status"], "draft", "{detail}");
    validation.close().await;

    // Identity answers sent after approval, with consent to publish: on the public profile
    // within seconds, through the form the party's account uses.
    let approved: uuid::Uuid = sqlx::query_scalar(
        "SELECT c.id FROM candidacies c JOIN postulants p ON p.election_id = c.election_id AND p.code = c.postulant_code \
         WHERE c.status IN ('approved', 'published') AND c.postulant_code = 'PAN' AND c.id <> $1 \
         ORDER BY c.external_id LIMIT 1",
    )
    .bind(published)
    .fetch_one(capture)
    .await
    .unwrap();
    let profile = format!("{site}/candidaturas/{approved}");
    eventually("the approved candidacy is public", || {
        let (citizen, profile) = (citizen.clone(), profile.clone());
        async move {
            citizen
                .get(&profile)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
                == 200
        }
    })
    .await;
    let before = citizen
        .get(&profile)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !before.contains("Coahuila de Zaragoza"),
        "no identity answer before"
    );
    let form = format!("{}/captura/{approved}/holder/identidad", unit.base);
    let cookie = format!("__Host-conoceles_sesion={}", pan_api.token);
    let page = pan_api
        .client
        .get(&form)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let hidden = |name: &str| {
        let marker = format!("name=\"{name}\" value=\"");
        let start = page
            .find(&marker)
            .unwrap_or_else(|| panic!("{name} in the form"))
            + marker.len();
        page[start..].split('"').next().unwrap().to_string()
    };
    let mut answers: Vec<(String, String)> = [
        ("csrf", hidden("csrf")),
        ("version", hidden("version")),
        ("accion", "enviar".to_string()),
        ("consent_processing", "si".to_string()),
        ("consent_publication", "si".to_string()),
        ("consent_statistics", "si".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (question, answer) in [
        ("indigenous", "no"),
        ("disability", "no"),
        ("afro_mexican", "no"),
        ("migrant", "no"),
        ("age_group", "neither"),
        ("birth_state", "05"),
        ("sexual_diversity", "__decline"),
        ("income", "__decline"),
    ] {
        answers.push((format!("q.{question}"), answer.to_string()));
    }
    let response = pan_api
        .client
        .post(&form)
        .header("cookie", &cookie)
        .form(&answers)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Cuestionario de identidad enviado"),
        "the receipt"
    );
    eventually("the consented answers reach the public profile", || async {
        body_of(citizen, &profile)
            .await
            .contains("Coahuila de Zaragoza")
    })
    .await;
    identity.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_process_runs_over_the_six_binaries() {
    the_real_process(&COAHUILA).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_process_runs_on_the_municipal_demo_too() {
    the_real_process(&SONORA).await;
}

async fn the_real_process(demo: &Demo) {
    let mut stack = ProcessStack::start(&format!("process-{}", demo.process));
    let admin_password = stack.create_admin("unidad@proceso.mx");
    stack.publish_process(demo.process, 10).await;
    let capture = sqlx::PgPool::connect(stack.database_url("capture"))
        .await
        .unwrap();
    let auth = sqlx::PgPool::connect(stack.database_url("auth"))
        .await
        .unwrap();
    let site = ProcessStack::http(&stack.publication);
    let citizen = reqwest::Client::new();
    let unit = Api {
        base: ProcessStack::http(&stack.capture),
        token: stack.api_token("unidad@proceso.mx", &admin_password).await,
        client: reqwest::Client::new(),
    };

    // 0. Every registered candidacy of a contest is on the public site from the publication
    // start: those without a published version with their state, in the same list.
    every_registered_candidacy_is_listed(&capture, &citizen, &site).await;
    the_site_is_presented_as_the_bodys(&citizen, &site).await;

    // 1. The registry's file: a late registration approved ten days ago (PAN has no district
    // candidacy in the demo) and a coalition candidacy the agreement gives to PAN, whose
    // seat the same file frees by cancelling the coalition's earlier one.
    let today = chrono::Utc::now().date_naive();
    let ten_days_ago = today - chrono::Duration::days(10);
    let coalition: (String, String) = sqlx::query_as(
        "SELECT external_id, constituency_code FROM candidacies WHERE postulant_code = $1 \
         AND office_code = 'diputacion_mr' AND status <> 'withdrawn' ORDER BY external_id LIMIT 1",
    )
    .bind(demo.coalition)
    .fetch_one(&capture)
    .await
    .unwrap();
    let file = format!(
        "{HEADER}\n\
         TARDIA-1,diputacion_mr,mr,05,PAN,,Olga Quiroz Lara,mujer,1983-04-05,,,,,{ten_days_ago},,\n\
         {},diputacion_mr,mr,{},{coa},,Irma Salas Peña,mujer,1977-08-09,,,,,{ten_days_ago},cancelada,\n\
         SIGLADO-1,diputacion_mr,mr,{},{coa},,Rebeca Tovar Urías,mujer,1981-11-12,,,,,{today},,PAN\n",
        coalition.0,
        coalition.1,
        coalition.1,
        coa = demo.coalition
    );
    // The same person in two seats: every error at once, nothing stored.
    let two_seats = format!(
        "{file}TARDIA-2,diputacion_mr,mr,06,PAN,,Olga Quiroz Lara,mujer,1983-04-05,,,,,{today},,\n"
    );
    let (status, body) = unit.import(&two_seats, false).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        messages(&body).contains("no puede ocupar dos lugares"),
        "{body}"
    );
    let (status, preview) = unit.import(&file, true).await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(
        (preview["created"].as_i64(), preview["cancelled"].as_i64()),
        (Some(2), Some(1)),
        "{preview}"
    );
    assert_eq!(
        stack.candidacy_registered_as("TARDIA-1").await,
        None,
        "a preview stores nothing"
    );
    let (status, applied) = unit.import(&file, false).await;
    assert_eq!(status, 200, "{applied}");
    let late = stack.candidacy_registered_as("TARDIA-1").await.unwrap();
    let siglado = stack.candidacy_registered_as("SIGLADO-1").await.unwrap();

    // 2. Accounts: the late registration's are due three natural days after its approval, so
    // already late; the coalition candidacy's belong to PAN.
    let pan = stack.postulant_id("PAN").await;
    eventually("auth generates the new candidacies' accounts", || {
        let auth = auth.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM generated_accounts WHERE candidacy_id = ANY($1)",
            )
            .bind(vec![late, siglado])
            .fetch_one(&auth)
            .await
            .unwrap()
                == 2
        }
    })
    .await;
    let (due, party): (chrono::DateTime<chrono::Utc>, uuid::Uuid) =
        sqlx::query_as("SELECT due_at, party_id FROM generated_accounts WHERE candidacy_id = $1")
            .bind(late)
            .fetch_one(&auth)
            .await
            .unwrap();
    assert!(
        due < chrono::Utc::now(),
        "due {due}: three days after an approval ten days ago"
    );
    assert_eq!(party, pan);
    let siglado_party: uuid::Uuid =
        sqlx::query_scalar("SELECT party_id FROM generated_accounts WHERE candidacy_id = $1")
            .bind(siglado)
            .fetch_one(&auth)
            .await
            .unwrap();
    assert_eq!(
        siglado_party, pan,
        "the agreement's party, not the coalition's default"
    );
    let pan_email = stack.generated_party_account("PAN").await;
    let pan_api = Api {
        base: unit.base.clone(),
        token: stack
            .api_token(&pan_email, &stack.reset_password(&pan_email))
            .await,
        client: reqwest::Client::new(),
    };
    let (status, _) = pan_api
        .send(
            reqwest::Method::GET,
            &format!("/api/v1/candidacies/{siglado}"),
            None,
        )
        .await;
    assert_eq!(
        status, 200,
        "PAN captures the candidacy the agreement gave it"
    );

    // 3. The late registration has a deadline of its own; the unit extends it, with a reason
    // and within the election's outer bound.
    let (_, detail) = unit
        .send(
            reqwest::Method::GET,
            &format!("/api/v1/candidacies/{late}"),
            None,
        )
        .await;
    let own: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(detail["capture_closes_at"].clone()).unwrap();
    assert!(
        own >= chrono::Utc::now() + chrono::Duration::days(15),
        "{own}"
    );
    let extension = format!("/api/v1/candidacies/{late}/deadline-extension");
    let extend = |days: i64, reason: &'static str| {
        let body = json!({ "until": own + chrono::Duration::days(days), "reason": reason });
        unit.send(reqwest::Method::POST, &extension, Some(body))
    };
    let (status, body) = extend(365, "Oficio UT/1/2027").await;
    assert_eq!(status, 422, "{body}");
    assert!(messages(&body).contains("límite de la elección"), "{body}");
    let (status, body) = extend(2, " ").await;
    assert_eq!(status, 422, "{body}");
    assert!(messages(&body).contains("motivo de la prórroga"), "{body}");
    let (status, body) = extend(2, "Oficio UT/2/2027").await;
    assert_eq!(status, 200, "{body}");
    let (_, detail) = unit
        .send(
            reqwest::Method::GET,
            &format!("/api/v1/candidacies/{late}"),
            None,
        )
        .await;
    let extended: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(detail["capture_closes_at"].clone()).unwrap();
    assert_eq!(
        extended.timestamp(),
        (own + chrono::Duration::days(2)).timestamp()
    );

    // Walk the calendar: capture restarted an hour after the demo's candidacies closed (Coahuila:
    // the window's 15 days); the late registration (15 days from its import, extended by 2)
    // still captures. An hour after its extended deadline it closes too.
    let regular: uuid::Uuid = sqlx::query_scalar(
        "SELECT id FROM candidacies WHERE postulant_code = 'PAN' AND external_id LIKE $1 || '%' \
         AND status <> 'withdrawn' ORDER BY external_id LIMIT 1",
    )
    .bind(demo.prefix)
    .fetch_one(&capture)
    .await
    .unwrap();
    let save = |candidacy: uuid::Uuid| {
        let path = format!("/api/v1/candidacies/{candidacy}/curricula/holder/sections/general");
        let pan_api = &pan_api;
        async move {
            let body = json!({ "fields": { "public_email_1": "contacto@pan.mx" } });
            pan_api.send(reqwest::Method::PUT, &path, Some(body)).await
        }
    };
    // The moments are the deadlines the unit's API states: the demo's under the process's own
    // rule (the election's window, or days from the accounts' delivery), the late one extended.
    let closes = |candidacy: uuid::Uuid| {
        let unit = &unit;
        async move {
            let (_, detail) = unit
                .send(
                    reqwest::Method::GET,
                    &format!("/api/v1/candidacies/{candidacy}"),
                    None,
                )
                .await;
            serde_json::from_value::<chrono::DateTime<chrono::Utc>>(
                detail["capture_closes_at"].clone(),
            )
            .unwrap()
        }
    };
    let regular_closes = closes(regular).await;
    assert!(
        regular_closes + chrono::Duration::hours(1) < extended,
        "the late registration closes after the demo's: {regular_closes} < {extended}"
    );
    let offset = |at: chrono::DateTime<chrono::Utc>| (at - chrono::Utc::now()).num_seconds();
    stack.restart_with(
        "capture",
        &[(
            "CLOCK_OFFSET_SECONDS",
            offset(regular_closes + chrono::Duration::hours(1)).to_string(),
        )],
    );
    let (status, body) = save(late).await;
    assert_eq!(status, 200, "the late registration captures: {body}");
    let (status, body) = save(regular).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        messages(&body).contains("El periodo de captura terminó"),
        "{body}"
    );
    // The identity questionnaire closes with the candidacy's own period too.
    let identity_form = pan_api
        .client
        .get(format!("{}/captura/{regular}/titular/identidad", unit.base))
        .header(
            "cookie",
            format!("__Host-conoceles_sesion={}", pan_api.token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(identity_form.status(), 409);
    let page = identity_form.text().await.unwrap();
    assert!(
        page.contains("ya no se puede responder ni enviar el cuestionario de identidad"),
        "{page}"
    );
    stack.restart_with(
        "capture",
        &[(
            "CLOCK_OFFSET_SECONDS",
            offset(extended + chrono::Duration::hours(1)).to_string(),
        )],
    );
    let (status, body) = save(late).await;
    assert_eq!(status, 409, "{body}");
    stack.restart_with("capture", &[("CLOCK_OFFSET_SECONDS", "0".to_string())]);

    a_published_candidacy_is_substituted(
        &mut stack, &capture, &unit, &site, siglado, &pan_api, demo,
    )
    .await;

    // 5. A re-import: a different person in the late registration's seat is a substitution,
    // never an overwrite, and a row the registry cancelled cancels; the file from before the
    // first substitution is refused.
    let reimport = file
        .replace(
            "Olga Quiroz Lara,mujer,1983-04-05",
            "Pilar Ortega Ruiz,mujer,1979-12-01",
        )
        .replace(
            &format!("Rebeca Tovar Urías,mujer,1981-11-12,,,,,{today},,PAN\n"),
            &format!("Sara Villalobos Cano,mujer,1986-05-06,,,,,{today},cancelada,PAN\n"),
        );
    let (status, preview) = unit.import(&reimport, true).await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(
        (
            preview["substituted"].as_i64(),
            preview["cancelled"].as_i64()
        ),
        (Some(1), Some(1)),
        "{preview}"
    );
    let (status, _) = unit.import(&reimport, false).await;
    assert_eq!(status, 200);
    let cancelled: String = sqlx::query_scalar("SELECT status FROM candidacies WHERE id = $1")
        .bind(siglado)
        .fetch_one(&capture)
        .await
        .unwrap();
    assert_eq!(cancelled, "withdrawn");
    let active: String = sqlx::query_scalar(
        "SELECT full_name FROM persons WHERE candidacy_id = $1 AND role = 'holder' AND active",
    )
    .bind(late)
    .fetch_one(&capture)
    .await
    .unwrap();
    assert_eq!(active, "Pilar Ortega Ruiz");
    let (status, body) = unit.import(&file, true).await;
    assert_eq!(status, 422, "{body}");
    assert!(
        messages(&body).contains("fue sustituida en esta candidatura"),
        "{body}"
    );

    capture.close().await;
    auth.close().await;
    stack.stop().await;
}
