//! The capture front end to end: a party fills, previews and submits a candidacy and gets its
//! receipt; the event reaches the broker; scope, the capture window and photo checks hold — in
//! the pages and in the JSON API.

use std::io::Cursor;

use super::common::{self, *};
use conoceles_kit::access::Role;
use conoceles_kit::testing;
use reqwest::{Method, StatusCode};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A text of `words` words, each 7 characters without spaces.
pub(super) fn text(words: usize) -> String {
    vec!["palabra"; words].join(" ")
}

/// Every section of the questionnaire, valid with the default bounds.
fn valid_sections() -> Vec<(&'static str, Vec<(&'static str, String)>)> {
    let long = text(60);
    vec![
        (
            "general",
            vec![
                ("private_email", "aclaraciones@ejemplo.mx".into()),
                ("phone_1", "844 123 4567".into()),
                ("facebook", "https://www.facebook.com/candidata".into()),
            ],
        ),
        (
            "education",
            vec![
                ("level", "licenciatura".into()),
                ("status", "titulado".into()),
            ],
        ),
        ("professional", vec![("history", long.clone())]),
        ("political", vec![("trajectory", long.clone())]),
        ("motivation", vec![("reason", long.clone())]),
        (
            "proposals",
            vec![("proposal_1", long.clone()), ("proposal_2", long.clone())],
        ),
        (
            "gender",
            vec![
                ("proposal", long),
                ("target_population", "Mujeres jóvenes del distrito".into()),
            ],
        ),
    ]
}

pub(super) fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 200) as u8, (y % 200) as u8, 120])
    });
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .unwrap();
    out.into_inner()
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image::RgbImage::new(width, height))
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// Today in the demo election's time zone (a date the unit types is the state's date: between
/// 00:00 and 06:00 UTC, Monterrey is still on the day before).
fn today() -> String {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Monterrey)
        .date_naive()
        .format("%Y-%m-%d")
        .to_string()
}

/// The demo election, with its capture window open now.
pub(super) async fn seeded(stack: &Stack) {
    conoceles_capture::tools::demo::seed(&stack.capture_pool)
        .await
        .unwrap();
    stack
        .set_window("now() - interval '1 day'", "now() + interval '10 days'")
        .await;
}

/// A logged-in browser of a party account (password already changed).
pub(super) async fn party_browser(stack: &Stack, code: &str) -> Browser {
    let email = format!("{}@partidos.mx", code.to_lowercase());
    let party = stack.party_id(code).await;
    let password = stack
        .account_scoped(&email, Role::Party, Some(party), None)
        .await;
    let mut browser = stack.browser();
    browser.first_login(&email, &password).await;
    browser
}

pub(super) async fn fill_sections(browser: &mut Browser, candidacy: Uuid) {
    fill_sections_of(browser, candidacy, "holder").await;
}

async fn fill_sections_of(browser: &mut Browser, candidacy: Uuid, role: &str) {
    for (section, fields) in valid_sections() {
        let path = format!("/captura/{candidacy}/{role}/{section}");
        let form = browser.get(&path).await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        let csrf = form.hidden("csrf");
        let mut pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        pairs.push(("csrf", &csrf));
        let saved = browser.post(&path, &pairs).await;
        assert_eq!(
            saved.status,
            StatusCode::SEE_OTHER,
            "{section}: {}",
            saved.body
        );
    }
}

pub(super) async fn upload_photo(
    browser: &mut Browser,
    candidacy: Uuid,
    bytes: Vec<u8>,
    name: &str,
) -> Page {
    upload_photo_of(browser, candidacy, "holder", bytes, name).await
}

async fn upload_photo_of(
    browser: &mut Browser,
    candidacy: Uuid,
    role: &str,
    bytes: Vec<u8>,
    name: &str,
) -> Page {
    let path = format!("/captura/{candidacy}/{role}/foto");
    let csrf = browser.get(&path).await.hidden("csrf");
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf)
        .text("fecha", today())
        .part(
            "foto",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
        );
    browser.multipart(&path, form).await
}

async fn count(stack: &Stack, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&stack.capture_pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_party_fills_previews_and_submits_and_the_event_reaches_the_broker() {
    let stack = spawn_stack().await;
    seeded(&stack).await;
    // A queue of the test's own listens for curricular.submitted.
    let tap = EventTap::bind(&stack.namespace, "curricular.submitted").await;

    // PRI is responsible for the coalition's candidacies: its dashboard lists them.
    let mut party = party_browser(&stack, "PRI").await;
    let candidacy = stack.candidacy_of("COA1").await;
    let home = party.get("/").await;
    assert_eq!(home.location.as_deref(), Some("/captura"));
    let dashboard = party.get("/captura").await;
    assert!(dashboard.body.contains(&format!("/captura/{candidacy}")));
    assert!(dashboard.body.contains("El periodo de captura cierra el"));
    assert!(
        !dashboard
            .body
            .contains(&stack.candidacy_of("MORENA").await.to_string())
    );

    // A section with problems is kept as a draft and every problem is shown beside its field.
    let path = format!("/captura/{candidacy}/holder/general");
    let csrf = party.get(&path).await.hidden("csrf");
    let bad = party
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("private_email", "aclaraciones@ejemplo.mx"),
                ("phone_1", "12345"),
                ("instagram", "https://facebook.com/x"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Debe tener 10 dígitos"), "{}", bad.body);
    assert!(bad.body.contains("Debe ser una dirección de Instagram"));
    assert!(
        bad.body.contains("value=\"12345\""),
        "what was typed is kept"
    );
    // The summary at the top takes the focus and links each field with its problem; the
    // fields ask the phone for the right keyboard.
    let summary = bad
        .body
        .split("role=\"alert\" tabindex=\"-1\" autofocus>")
        .nth(1)
        .expect("a focused error summary")
        .split("</div>")
        .next()
        .unwrap();
    assert!(summary.contains("<a href=\"#phone_1\">"), "{summary}");
    assert!(summary.contains("<a href=\"#instagram\">"), "{summary}");
    assert!(
        bad.body
            .contains("id=\"phone_1\" name=\"phone_1\" type=\"tel\"")
    );
    assert!(
        bad.body
            .contains("id=\"private_email\" name=\"private_email\" type=\"email\"")
    );
    assert!(
        bad.body
            .contains("id=\"instagram\" name=\"instagram\" type=\"url\"")
    );

    fill_sections(&mut party, candidacy).await;
    // The candidacy's page links each part with Spanish addresses (earlier ones still open).
    let overview = party.get(&format!("/captura/{candidacy}")).await;
    assert!(
        overview
            .body
            .contains(&format!("/captura/{candidacy}/titular/datos-generales")),
        "{}",
        overview.body
    );
    assert!(
        overview
            .body
            .contains(&format!("/captura/{candidacy}/titular/foto"))
    );
    assert!(!overview.body.contains("/holder/"));
    // Submission before the photo is refused with what is missing.
    let preview = party
        .get(&format!("/captura/{candidacy}/vista-previa"))
        .await;
    assert!(preview.body.contains("Fotografía"));
    assert!(!preview.body.contains("Enviar cuestionario definitivo"));
    let refused = party
        .post(
            &format!("/captura/{candidacy}/envio"),
            &[("csrf", &preview.hidden("csrf"))],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("falta la fotografía"));

    // A body over the election's photo limit (700 KB) is refused while it is read, with the
    // limit in the message, before megabytes are held.
    let heavy = upload_photo(
        &mut party,
        candidacy,
        vec![0xFF; 3 * 1024 * 1024],
        "foto.jpg",
    )
    .await;
    assert_eq!(
        heavy.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        heavy.body
    );
    assert!(
        heavy.body.contains("La fotografía pesa más de 700 KB"),
        "{}",
        heavy.body
    );

    // A PNG named .jpg is accepted as a PNG; the public derivative is a JPEG.
    let uploaded = upload_photo(&mut party, candidacy, png(800, 1000), "foto.jpg").await;
    assert_eq!(uploaded.status, StatusCode::SEE_OTHER, "{}", uploaded.body);
    let media: String = sqlx::query_scalar(
        "SELECT f.media_type FROM photos f JOIN persons p ON p.id = f.person_id WHERE p.candidacy_id = $1",
    )
    .bind(candidacy)
    .fetch_one(&stack.capture_pool)
    .await
    .unwrap();
    assert_eq!(media, "image/png");
    let image = party
        .get(&format!("/captura/{candidacy}/holder/foto.jpg"))
        .await;
    assert_eq!(image.headers["content-type"], "image/jpeg");

    // The preview shows the public profile, not the private email, and offers the submission.
    let preview = party
        .get(&format!("/captura/{candidacy}/vista-previa"))
        .await;
    assert!(preview.body.contains("https://www.facebook.com/candidata"));
    assert!(preview.body.contains("Licenciatura"));
    assert!(!preview.body.contains("aclaraciones@ejemplo.mx"));
    assert!(preview.body.contains("Enviar cuestionario definitivo"));
    // A confirmation first, saying what cannot be undone; nothing is sent yet.
    let confirm = party
        .post(
            &format!("/captura/{candidacy}/envio"),
            &[("csrf", &preview.hidden("csrf"))],
        )
        .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert!(
        confirm.body.contains("No se puede deshacer."),
        "{}",
        confirm.body
    );
    assert!(
        confirm
            .body
            .contains("Sí, enviar el cuestionario definitivo")
    );
    assert_eq!(
        count(
            &stack,
            &format!("SELECT count(*) FROM submissions WHERE candidacy_id = '{candidacy}'")
        )
        .await,
        0
    );
    let submitted = party
        .post(
            &format!("/captura/{candidacy}/envio"),
            &[("csrf", &confirm.hidden("csrf")), ("confirmado", "si")],
        )
        .await;
    assert_eq!(
        submitted.status,
        StatusCode::SEE_OTHER,
        "{}",
        submitted.body
    );
    let receipt_path = submitted.location.unwrap();
    let receipt = party.get(&receipt_path).await;
    assert!(receipt.body.contains("Acuse de envío"));
    let (sha, canonical): (String, String) =
        sqlx::query_as("SELECT content_sha256, canonical FROM submissions WHERE candidacy_id = $1")
            .bind(candidacy)
            .fetch_one(&stack.capture_pool)
            .await
            .unwrap();
    assert!(receipt.body.contains(&sha));
    assert_eq!(hex::encode(Sha256::digest(canonical.as_bytes())), sha);
    // The receipt through the API: its content hashes to its SHA-256.
    let submission = receipt_path.rsplit('/').next().unwrap();
    let (status, api_receipt) = party
        .api(
            Method::GET,
            &format!("/api/v1/candidacies/{candidacy}/submissions/{submission}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let content = api_receipt["content"].as_str().unwrap();
    assert_eq!(hex::encode(Sha256::digest(content.as_bytes())), sha);
    let parsed: serde_json::Value = serde_json::from_str(content).unwrap();
    assert_eq!(
        parsed["persons"][0]["sections"]["general"]["phone_1"],
        "8441234567"
    );

    // After submission the questionnaire is read-only, and a second submission is refused.
    let csrf = party.get(&path).await.hidden("csrf");
    let locked = party
        .post(
            &path,
            &[("csrf", &csrf), ("private_email", "otra@ejemplo.mx")],
        )
        .await;
    assert_eq!(locked.status, StatusCode::CONFLICT);
    assert!(locked.body.contains("ya fue enviado"));
    let (again, _) = party
        .api(
            Method::POST,
            &format!("/api/v1/candidacies/{candidacy}/submissions"),
            None,
        )
        .await;
    assert_eq!(again, StatusCode::CONFLICT);
    // The browser's cookie does not write through the API from another site's page.
    let (forged, body) = party
        .api_from(
            "cross-site",
            Method::POST,
            &format!("/api/v1/candidacies/{candidacy}/submissions"),
            None,
        )
        .await;
    assert_eq!(forged, StatusCode::FORBIDDEN, "{body}");

    // Exactly one curricular.submitted reaches the broker, with the receipt's hash.
    let delivered = tap.next().await;
    use prost::Message;
    let event =
        conoceles_proto::events::v1::CurricularSubmitted::decode(delivered.as_slice()).unwrap();
    assert_eq!(event.content_sha256, sha);
    assert_eq!(event.round, 1);
    assert_eq!(event.candidacy_id.unwrap().value, candidacy.to_string());
    assert!(tap.nothing_more().await, "exactly one event");
    tap.close().await;
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_parties_and_candidates_are_refused_in_pages_and_api() {
    let stack = spawn_stack().await;
    seeded(&stack).await;
    let theirs = stack.candidacy_of("MORENA").await;
    let ours = stack.candidacy_of("PAN").await;
    let mut pan = party_browser(&stack, "PAN").await;
    // A candidate account of PAN's candidacy.
    let email = "candidata@pan.mx";
    let password = stack
        .account_scoped(
            email,
            Role::Candidate,
            Some(stack.party_id("PAN").await),
            Some(ours),
        )
        .await;
    let mut candidate = stack.browser();
    candidate.first_login(email, &password).await;
    assert_eq!(
        candidate.get(&format!("/captura/{ours}")).await.status,
        StatusCode::OK
    );

    for browser in [&mut pan, &mut candidate] {
        for path in [
            format!("/captura/{theirs}"),
            format!("/captura/{theirs}/holder/general"),
            format!("/captura/{theirs}/vista-previa"),
            format!("/captura/{theirs}/holder/foto"),
        ] {
            let page = browser.get(&path).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        }
        let csrf = browser
            .get(&format!("/captura/{ours}/holder/general"))
            .await
            .hidden("csrf");
        let write = browser
            .post(
                &format!("/captura/{theirs}/holder/general"),
                &[("csrf", &csrf), ("private_email", "intruso@ejemplo.mx")],
            )
            .await;
        assert_eq!(write.status, StatusCode::NOT_FOUND);
        for (method, path, body) in [
            (Method::GET, format!("/api/v1/candidacies/{theirs}"), None),
            (
                Method::PUT,
                format!("/api/v1/candidacies/{theirs}/curricula/holder/sections/general"),
                Some(json!({"fields": {"private_email": "intruso@ejemplo.mx"}})),
            ),
            (
                Method::POST,
                format!("/api/v1/candidacies/{theirs}/submissions"),
                None,
            ),
        ] {
            let (status, body) = browser.api(method, &path, body).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(body["code"], "not_found", "{body}");
        }
        let (_, list) = browser.api(Method::GET, "/api/v1/candidacies", None).await;
        let ids: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        assert!(ids.contains(&ours.to_string().as_str()));
        assert!(!ids.contains(&theirs.to_string().as_str()));
    }
    // The candidate sees only its own candidacy.
    let (_, list) = candidate
        .api(Method::GET, "/api/v1/candidacies", None)
        .await;
    assert_eq!(list["total"], 1);
    assert_eq!(
        count(&stack, "SELECT count(*) FROM curricular_sections").await,
        0,
        "nothing written by the refused attempts"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_captures_with_a_bearer_token_inside_the_window_only() {
    let stack = spawn_stack().await;
    seeded(&stack).await;
    let candidacy = stack.candidacy_of("MC").await;
    let email = "api@mc.mx";
    let password = stack
        .account_scoped(email, Role::Party, Some(stack.party_id("MC").await), None)
        .await;
    // The password must change at first login; then a bearer token works without cookies.
    stack.browser().first_login(email, &password).await;
    let client = reqwest::Client::new();
    let session = stack.api_session(email, CHANGED_PASSWORD).await;
    let token = session["token"].as_str().unwrap().to_string();
    let call = |method: Method, path: String| {
        client
            .request(method, format!("{}{path}", stack.base))
            .bearer_auth(&token)
    };
    let base = format!("/api/v1/candidacies/{candidacy}/curricula/holder");

    // Field rules come back as structured violations; the draft is kept.
    let saved: serde_json::Value = call(Method::PUT, format!("{base}/sections/general"))
        .json(&json!({"fields": {"private_email": "x", "phone_1": "844 000 1111", "tiktok": "https://tiktok.com/@mc"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(saved["complete"], false);
    assert_eq!(saved["violations"][0]["field"], "private_email");
    assert_eq!(saved["fields"]["phone_1"], "8440001111");

    for (section, fields) in valid_sections() {
        let fields: serde_json::Map<String, serde_json::Value> = fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.into()))
            .collect();
        let response: serde_json::Value = call(Method::PUT, format!("{base}/sections/{section}"))
            .json(&json!({ "fields": fields }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(response["complete"], true, "{section}: {response}");
    }

    // Photos: refused ones leave nothing stored; a good one is kept.
    let mut truncated = jpeg(400, 500);
    truncated.truncate(truncated.len() / 2);
    let mut polyglot = jpeg(400, 500);
    polyglot.extend_from_slice(b"<script>alert(1)</script>");
    let old = (chrono::Utc::now().date_naive() - chrono::Duration::days(120)).to_string();
    for (bytes, date, expected) in [
        (
            b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec(),
            today(),
            "JPEG o PNG",
        ),
        (truncated, today(), "dañado"),
        (polyglot, today(), "no son de la imagen"),
        (jpeg(400, 500), old, "tres meses"),
        // Over the election's limit: refused while read, not after holding 3 MB.
        (vec![0xFF; 3 * 1024 * 1024], today(), "pesa más de 700 KB"),
    ] {
        let response = call(Method::PUT, format!("{base}/photo?taken_on={date}"))
            .body(bytes)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(
            body["violations"][0]["message"]
                .as_str()
                .unwrap()
                .contains(expected),
            "{body}"
        );
    }
    assert_eq!(count(&stack, "SELECT count(*) FROM photos").await, 0);
    let ok = call(Method::PUT, format!("{base}/photo?taken_on={}", today()))
        .body(jpeg(900, 1200))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);

    // The capture window, on the server's clock: before and after it, refused and recorded.
    let submissions = format!("/api/v1/candidacies/{candidacy}/submissions");
    for (opens, closes, expected) in [
        (
            "now() + interval '1 day'",
            "now() + interval '2 days'",
            "aún no empieza",
        ),
        (
            "now() - interval '2 days'",
            "now() - interval '1 day'",
            "terminó",
        ),
    ] {
        stack.set_window(opens, closes).await;
        let response = call(Method::POST, submissions.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CONFLICT);
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(
            body["message"].as_str().unwrap().contains(expected),
            "{body}"
        );
    }
    assert_eq!(
        count(&stack, "SELECT count(*) FROM submission_attempts").await,
        2
    );
    assert_eq!(count(&stack, "SELECT count(*) FROM submissions").await, 0);
    stack
        .set_window("now() - interval '1 day'", "now() + interval '1 day'")
        .await;
    let response = call(Method::POST, submissions).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let receipt: serde_json::Value = response.json().await.unwrap();
    let content = receipt["content"].as_str().unwrap();
    assert_eq!(
        hex::encode(Sha256::digest(content.as_bytes())),
        receipt["content_sha256"].as_str().unwrap()
    );
    assert_eq!(count(&stack, "SELECT count(*) FROM submissions").await, 1);
    assert_eq!(
        count(
            &stack,
            "SELECT count(*) FROM candidacy_history WHERE action = 'submitted'"
        )
        .await,
        1
    );

    // The admin sees the refused attempts.
    let admin_password = stack.account("admin@iec.org.mx", Role::Admin).await;
    let mut admin = stack.browser();
    admin.first_login("admin@iec.org.mx", &admin_password).await;
    let attempts = admin.get("/admin/envios-fuera-de-plazo").await;
    assert!(
        attempts
            .body
            .contains("Antes de que abriera el periodo de captura")
    );
    assert!(
        attempts
            .body
            .contains("Después de que cerró el periodo de captura")
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_capture_saves_valid_rows_and_reports_every_problem_at_once() {
    let stack = spawn_stack().await;
    seeded(&stack).await;
    let mut pan = party_browser(&stack, "PAN").await;
    let template = pan.get("/captura/plantilla.csv").await;
    assert_eq!(template.status, StatusCode::OK);
    let mut reader =
        csv::Reader::from_reader(template.body.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader.headers().unwrap().clone();
    let mut rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    let pan_candidacies: i64 = count(
        &stack,
        "SELECT count(*) FROM candidacies WHERE postulant_code = 'PAN' AND status <> 'withdrawn'",
    )
    .await;
    assert_eq!(
        rows.len() as i64,
        pan_candidacies,
        "one row per PAN candidacy (holders)"
    );
    assert!(rows.len() >= 3);
    // Columns named in Spanish, as the screens name the fields («Escolaridad: Grado máximo de
    // estudios»); found here from the field's key.
    let column = |name: &str| {
        let spanish = match name.split_once('.') {
            Some((section, field)) => {
                use conoceles_capture::domain::curricular::Section;
                let section = *Section::ALL.iter().find(|s| s.slug() == section).unwrap();
                conoceles_capture::domain::curricular::bulk::column_name(section, field)
            }
            None => name.to_string(),
        };
        headers
            .iter()
            .position(|h| h == spanish)
            .unwrap_or_else(|| panic!("column {spanish} in {headers:?}"))
    };
    let spanish = |name: &str| headers[column(name)].to_string();
    // The unchanged template uploads without errors: nothing in it is a change.
    {
        let csrf = pan.get("/captura/carga-masiva").await.hidden("csrf");
        let form = reqwest::multipart::Form::new().text("csrf", csrf).part(
            "archivo",
            reqwest::multipart::Part::bytes(template.body.clone().into_bytes())
                .file_name("plantilla.csv"),
        );
        let unchanged = pan.multipart("/captura/carga-masiva", form).await;
        assert_eq!(unchanged.status, StatusCode::OK, "{}", unchanged.body);
        assert!(
            unchanged
                .body
                .contains("Se guardaron como borrador 0 filas (0 secciones); sin problemas."),
            "{}",
            unchanged.body
        );
    }
    let long = text(60);
    // Row 2 (line 2): valid. Row 3: two problems. Row 4: someone else's candidacy.
    rows[0][column("education.level")] = "licenciatura".into();
    rows[0][column("education.status")] = "titulado".into();
    rows[0][column("professional.history")] = long.clone();
    rows[1][column("general.phone_1")] = "12".into();
    rows[1][column("general.private_email")] = "ok@ejemplo.mx".into();
    rows[1][column("education.level")] = "kinder".into();
    rows[1][column("education.status")] = "titulado".into();
    let theirs = stack.candidacy_of("MORENA").await;
    rows[2][column("candidatura")] = theirs.to_string();
    rows[2][column("professional.history")] = long;
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&headers).unwrap();
    for row in &rows {
        writer.write_record(row).unwrap();
    }
    let file = writer.into_inner().unwrap();

    let csrf = pan.get("/captura/carga-masiva").await.hidden("csrf");
    let form = reqwest::multipart::Form::new().text("csrf", csrf).part(
        "archivo",
        reqwest::multipart::Part::bytes(file).file_name("plantilla.csv"),
    );
    let result = pan.multipart("/captura/carga-masiva", form).await;
    assert_eq!(
        result.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        result.body
    );
    assert!(
        result
            .body
            .contains("Se guardaron como borrador 1 fila (2 secciones); 3 problemas."),
        "{}",
        result.body
    );
    assert!(
        result.body.contains(&format!(
            "Línea 3, columna «{}»: Teléfono público 1: Debe tener 10 dígitos",
            spanish("general.phone_1")
        )),
        "{}",
        result.body
    );
    assert!(result.body.contains(&format!(
        "Línea 3, columna «{}»: Grado máximo de estudios: Elija una de las opciones.",
        spanish("education.level")
    )));
    assert!(
        !result.body.contains("education"),
        "no English key is shown"
    );
    assert!(
        result
            .body
            .contains("Línea 4, columna «candidatura»: No existe esa candidatura.")
    );

    let saved_for = |candidacy: String| {
        let pool = stack.capture_pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "SELECT count(*) FROM curricular_sections s JOIN persons p ON p.id = s.person_id \
                 WHERE p.candidacy_id = $1::uuid AND s.complete",
            )
            .bind(candidacy)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert_eq!(saved_for(rows[0][column("candidatura")].clone()).await, 2);
    assert_eq!(
        saved_for(rows[1][column("candidatura")].clone()).await,
        0,
        "a row with problems is not touched"
    );
    assert_eq!(saved_for(theirs.to_string()).await, 0);
    assert_eq!(
        count(&stack, "SELECT count(*) FROM curricular_sections").await,
        2
    );

    // A hostile file: the same person 19,000 times. The copies are refused by line, without
    // saving anything again; the answer is the list, not a minute of writes.
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&headers).unwrap();
    let mut copy = vec![String::new(); headers.len()];
    for name in ["candidatura", "persona"] {
        copy[column(name)] = rows[0][column(name)].clone();
    }
    // A change (what line 2 saved earlier was «licenciatura»).
    copy[column("education.level")] = "maestria".into();
    copy[column("education.status")] = "titulado".into();
    for _ in 0..19_000 {
        writer.write_record(&copy).unwrap();
    }
    let copies = writer.into_inner().unwrap();
    let csrf = pan.get("/captura/carga-masiva").await.hidden("csrf");
    let form = reqwest::multipart::Form::new().text("csrf", csrf).part(
        "archivo",
        reqwest::multipart::Part::bytes(copies).file_name("plantilla.csv"),
    );
    let result = pan.multipart("/captura/carga-masiva", form).await;
    assert_eq!(result.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        result
            .body
            .contains("Se guardaron como borrador 1 fila (1 sección); 18999 problemas."),
        "{}",
        result
            .body
            .split("role=\"status\"")
            .nth(1)
            .unwrap_or(&result.body)
            .chars()
            .take(600)
            .collect::<String>()
    );
    assert!(result.body.contains(
        "Línea 19001, columna «persona»: Esta persona ya tiene la fila 2; deje una sola fila por persona."
    ));
    stack.stop().await;
}

/// Every place outside `identity` where an answer could leak: the capture database, Redis keys
/// and values of the test's prefix, and the events waiting on the broker.
async fn leaks(stack: &Stack, marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    let dump = |url: &str| {
        let out = std::process::Command::new("pg_dump")
            .arg(url)
            .output()
            .expect("pg_dump runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    for (name, url) in [
        ("capture", &stack.capture_db_url),
        ("validation", &stack.validation_db_url),
        ("publication", &stack.publication_db_url),
    ] {
        if dump(url).contains(marker) {
            found.push(format!("{name} database"));
        }
    }
    if dump(&stack.identity_db_url).contains(marker) {
        found.push("identity database (in clear)".into());
    }
    let client = redis::Client::open(testing::redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}*", stack.namespace))
        .query_async(&mut conn)
        .await
        .unwrap();
    for key in keys {
        let value: Option<Vec<u8>> = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap_or(None);
        if key.contains(marker)
            || value.is_some_and(|v| String::from_utf8_lossy(&v).contains(marker))
        {
            found.push(format!("redis key {key}"));
        }
    }
    // Events nobody consumes wait in the unroutable queue: read them all.
    let amqp =
        lapin::Connection::connect(&testing::amqp_url(), lapin::ConnectionProperties::default())
            .await
            .unwrap();
    let channel = amqp.create_channel().await.unwrap();
    let queue = format!("{}.unroutable", stack.namespace);
    while let Ok(Some(message)) = channel
        .basic_get(
            queue.as_str().into(),
            lapin::options::BasicGetOptions { no_ack: true },
        )
        .await
    {
        if String::from_utf8_lossy(&message.delivery.data).contains(marker) {
            found.push(format!("event {:?}", message.delivery.routing_key));
        }
    }
    let _ = amqp.close(200, "done".into()).await;
    found
}

/// Waits until the candidacy has reached identity as an event.
pub(super) async fn known_to_identity(stack: &Stack, candidacy: Uuid) {
    let started = std::time::Instant::now();
    loop {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM candidacies WHERE id = $1")
            .bind(candidacy)
            .fetch_one(&stack.identity_pool)
            .await
            .unwrap();
        if n == 1 {
            return;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "identity never heard of it"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// A complete, valid set of identity answers with the three consents' boxes as given.
pub(super) fn identity_answers(csrf: &str, consents: &[&str]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = [
        ("csrf", csrf),
        ("version", "1"),
        ("q.indigenous", "no"),
        ("q.disability", "__decline"),
        ("q.afro_mexican", "no"),
        ("q.sexual_diversity", "__decline"),
        ("q.migrant", "no"),
        ("q.age_group", "neither"),
        ("q.income", "__decline"),
        ("q.birth_state", "05"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for consent in consents {
        pairs.push((format!("consent_{consent}"), "si".into()));
    }
    pairs
}

pub(super) fn with_action(pairs: &[(String, String)], action: &str) -> Vec<(String, String)> {
    let mut pairs = pairs.to_vec();
    pairs.push(("accion".into(), action.into()));
    pairs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_independent_sends_the_signed_consent_form_and_reads_the_election_notices() {
    let stack = spawn_stack().await;
    seeded(&stack).await;
    let election: Uuid = sqlx::query_scalar("SELECT id FROM elections")
        .fetch_one(&stack.capture_pool)
        .await
        .unwrap();
    // The admin writes the election's notices; markup stays text, overlong text is refused.
    let password = stack.account("avisos@iec.org.mx", Role::Admin).await;
    let mut admin = stack.browser();
    admin.first_login("avisos@iec.org.mx", &password).await;
    let form = admin.get("/admin/avisos").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = form.hidden("csrf");
    let long = "a".repeat(4001);
    let refused = admin
        .post(
            "/admin/avisos",
            &[
                ("csrf", csrf.as_str()),
                ("simplificado", long.as_str()),
                ("integral", ""),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("hasta 4000 caracteres"));
    let saved = admin
        .post(
            "/admin/avisos",
            &[
                ("csrf", csrf.as_str()),
                ("simplificado", "El Instituto trata sus datos <script>x</script>.\r\n\r\nSegundo párrafo del aviso."),
                ("integral", "Aviso integral del Instituto Electoral de Coahuila."),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert!(saved.body.contains("Se guardaron los avisos"));
    let full = stack
        .browser()
        .get(&format!("/aviso-de-privacidad?eleccion={election}"))
        .await;
    assert!(
        full.body
            .contains("Aviso integral del Instituto Electoral de Coahuila.")
    );
    let default = stack.browser().get("/aviso-de-privacidad").await;
    assert!(
        !default
            .body
            .contains("Aviso integral del Instituto Electoral de Coahuila.")
    );

    // The independent candidacy: the notice shows, and sending needs the signed form.
    let candidacy = stack.candidacy_of("IND1").await;
    known_to_identity(&stack, candidacy).await;
    let mut independent = party_browser(&stack, "IND1").await;
    let path = format!("/captura/{candidacy}/holder/identidad");
    let page = independent.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains("El Instituto trata sus datos &#60;script&#62;x&#60;/script&#62;.")
            || page
                .body
                .contains("El Instituto trata sus datos &lt;script&gt;x&lt;/script&gt;."),
        "{}",
        page.body
    );
    assert!(page.body.contains("<p>Segundo párrafo del aviso.</p>"));
    assert!(
        page.body
            .contains(&format!("/aviso-de-privacidad?eleccion={election}"))
    );
    assert!(
        page.body
            .contains("imprima el formato de consentimiento expreso")
    );
    let answers = identity_answers(
        &page.hidden("csrf"),
        &["processing", "publication", "statistics"],
    );
    let without_form = independent
        .post_pairs(&path, &with_action(&answers, "enviar"))
        .await;
    assert_eq!(without_form.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        without_form
            .body
            .contains("formato de consentimiento expreso firmado")
    );

    // The printable form, then uploads checked by content.
    let consent = format!("{path}/consentimiento");
    let printable = independent.get(&consent).await;
    assert_eq!(printable.status, StatusCode::OK);
    assert!(printable.body.contains("Firma autógrafa"));
    let upload = |bytes: Vec<u8>, name: &str| {
        reqwest::multipart::Form::new()
            .text("csrf", printable.hidden("csrf"))
            .part(
                "archivo",
                reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
            )
    };
    let gif = independent
        .multipart(&consent, upload(b"GIF89a\x01\x00".to_vec(), "formato.pdf"))
        .await;
    assert_eq!(gif.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(gif.body.contains("PDF, JPEG o PNG"));
    let pdf =
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
            .to_vec();
    let accepted = independent
        .multipart(&consent, upload(pdf, "formato.pdf"))
        .await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    assert!(accepted.body.contains("Se recibió el formato firmado"));
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM consent_forms WHERE candidacy_id = $1")
            .bind(candidacy)
            .fetch_one(&stack.capture_pool)
            .await
            .unwrap();
    assert_eq!(stored, 1);

    let sent = independent
        .post_pairs(&path, &with_action(&answers, "enviar"))
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert!(sent.body.contains("Cuestionario de identidad enviado"));
    let given_by: String = sqlx::query_scalar(
        "SELECT q.consent_given_by FROM questionnaires q JOIN persons p ON p.id = q.person_id \
         WHERE p.candidacy_id = $1",
    )
    .bind(candidacy)
    .fetch_one(&stack.identity_pool)
    .await
    .unwrap();
    assert_eq!(
        given_by, "declaration",
        "recorded as the party's declaration"
    );
    // After sending, the signed form can no longer be replaced.
    let pdf = b"%PDF-1.4\ntrailer\n%%EOF\n".to_vec();
    let late = independent
        .multipart(&consent, upload(pdf, "otro.pdf"))
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    // Other parties cannot reach it.
    let mut other = party_browser(&stack, "PVEM").await;
    assert_eq!(other.get(&consent).await.status, StatusCode::NOT_FOUND);

    // The unit's archive: the admin finds the form by the person's name and candidacy, opens
    // it in the browser and downloads it, byte for byte; each access is recorded.
    let admin_password = stack.account("archivo@iec.org.mx", Role::Admin).await;
    let mut admin = stack.browser();
    admin
        .first_login("archivo@iec.org.mx", &admin_password)
        .await;
    let holder = stack.holder(candidacy).await;
    let archive = admin.get("/admin/formatos-consentimiento").await;
    assert_eq!(archive.status, StatusCode::OK, "{}", archive.body);
    assert!(archive.body.contains(&holder), "{}", archive.body);
    assert!(
        archive.body.contains("Ver el PDF")
            && archive
                .body
                .contains("<dt>Consultas y descargas</dt><dd>0</dd>")
    );
    let person = archive.first_link("/admin/formatos-consentimiento/");
    let shown = admin
        .get(&format!("/admin/formatos-consentimiento/{person}"))
        .await;
    assert_eq!(shown.status, StatusCode::OK);
    assert_eq!(shown.headers["content-type"], "application/pdf");
    assert!(
        shown.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline;")
    );
    assert!(
        shown.body.starts_with("%PDF-1.4\n1 0 obj"),
        "the stored file, unchanged"
    );
    let saved = admin
        .get(&format!(
            "/admin/formatos-consentimiento/{person}?descargar=1"
        ))
        .await;
    assert!(
        saved.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"formato-consentimiento-")
    );
    assert_eq!(saved.body, shown.body);
    assert!(
        admin
            .get("/admin/formatos-consentimiento")
            .await
            .body
            .contains("<dt>Consultas y descargas</dt><dd>2</dd>")
    );
    // Only the unit's admins: the independent, a party and a reviewer are refused.
    for browser in [&mut independent, &mut other] {
        assert_eq!(
            browser
                .get(&format!("/admin/formatos-consentimiento/{person}"))
                .await
                .status,
            StatusCode::FORBIDDEN
        );
    }
    // The record of accesses cannot be rewritten.
    assert!(
        sqlx::query("DELETE FROM consent_form_access")
            .execute(&stack.capture_pool)
            .await
            .is_err()
    );

    // Cancelled, the candidacy's form stays until the election's retention is over, then goes
    // (as the person's identity answers do), and the deletion is recorded.
    let list = admin.get("/admin/candidaturas").await;
    let cancelled = admin
        .post(
            &format!("/admin/candidaturas/{candidacy}/cancelar"),
            &[
                ("csrf", &list.hidden("csrf")),
                ("motivo", "Renuncia de la persona candidata."),
            ],
        )
        .await;
    assert!(cancelled.status.is_success(), "{}", cancelled.body);
    let now = chrono::Utc::now();
    assert_eq!(
        conoceles_capture::domain::consent_form::delete_expired(&stack.capture_pool, now)
            .await
            .unwrap(),
        0,
        "kept during the retention period"
    );
    let after_retention = now + chrono::Duration::days(91);
    assert_eq!(
        conoceles_capture::domain::consent_form::delete_expired(
            &stack.capture_pool,
            after_retention
        )
        .await
        .unwrap(),
        1
    );
    let gone = admin
        .get(&format!("/admin/formatos-consentimiento/{person}"))
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert!(gone.body.contains("plazo de conservación"));
    let recorded: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM consent_form_access WHERE candidacy_id = $1 ORDER BY id",
    )
    .bind(candidacy)
    .fetch_all(&stack.capture_pool)
    .await
    .unwrap();
    assert_eq!(recorded, ["viewed", "downloaded", "deleted"]);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_party_answers_the_identity_questionnaire_once_and_nothing_leaks_outside_identity() {
    let logs = common::LogCapture::install();
    let stack = spawn_stack().await;
    seeded(&stack).await;
    let candidacy = stack.candidacy_of("PVEM").await;
    known_to_identity(&stack, candidacy).await;
    let mut party = party_browser(&stack, "PVEM").await;
    let path = format!("/captura/{candidacy}/holder/identidad");
    let form = party.get(&path).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("Aviso de privacidad simplificado"));
    assert!(form.body.contains("Prefiero no contestar"));
    // The party's account is not the person's: it declares it holds the signed consents.
    assert!(
        form.body
            .contains("consiente, por escrito, el tratamiento de sus datos")
    );
    assert!(!form.body.contains("Consiento el tratamiento de mis datos"));
    let csrf = form.hidden("csrf");
    let marker = format!("canario{}", Uuid::now_v7().simple());
    let mut answers: Vec<(String, String)> = vec![
        ("csrf".into(), csrf.clone()),
        ("version".into(), "1".into()),
        ("q.indigenous".into(), "no".into()),
        ("q.disability".into(), "__decline".into()),
        ("q.afro_mexican".into(), "no".into()),
        ("q.sexual_diversity".into(), "__decline".into()),
        ("q.migrant".into(), "yes".into()),
        ("q.migrant_country.text".into(), marker.clone()),
        ("q.migrant_years".into(), "6_10".into()),
        ("q.migrant_reason".into(), "work".into()),
        ("q.age_group".into(), "neither".into()),
        ("q.income".into(), "__decline".into()),
        ("q.birth_state".into(), "05".into()),
    ];
    // A draft: kept sealed in identity (never as typed), and back when the page is opened again.
    let saved = party
        .post_pairs(&path, &with_action(&answers, "guardar"))
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert!(
        saved.body.contains("Se guardó el borrador"),
        "{}",
        saved.body
    );
    let sealed: Vec<u8> = sqlx::query_scalar(
        "SELECT d.sealed FROM drafts d JOIN persons p ON p.id = d.person_id WHERE p.candidacy_id = $1",
    )
    .bind(candidacy)
    .fetch_one(&stack.identity_pool)
    .await
    .unwrap();
    assert!(
        !sealed.windows(marker.len()).any(|w| w == marker.as_bytes()),
        "the draft is sealed"
    );
    let reopened = party.get(&path).await;
    assert!(
        reopened
            .body
            .contains("Se recuperó el borrador guardado el")
    );
    assert!(
        reopened.body.contains(&format!("value=\"{marker}\"")),
        "{}",
        reopened.body
    );
    // Without consent to processing, nothing goes further.
    let refused = party
        .post_pairs(&path, &with_action(&answers, "verificar"))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("consentimiento para el tratamiento"));
    answers.push(("consent_processing".into(), "si".into()));
    answers.push(("consent_statistics".into(), "si".into()));
    // A follow-up left empty is named; the answers typed come back.
    let mut missing = answers.clone();
    missing.retain(|(k, _)| k != "q.migrant_years");
    let incomplete = party
        .post_pairs(&path, &with_action(&missing, "verificar"))
        .await;
    assert_eq!(incomplete.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(incomplete.body.contains("Años vividos en el extranjero"));
    // The verification screen shows every answer and carries them to the final submission.
    let check = party
        .post_pairs(&path, &with_action(&answers, "verificar"))
        .await;
    assert_eq!(check.status, StatusCode::OK, "{}", check.body);
    assert!(check.body.contains("Revise sus respuestas"));
    assert!(check.body.contains("De 6 a 10"));
    let sent = party
        .post_pairs(&path, &with_action(&answers, "enviar"))
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    assert!(sent.body.contains("Cuestionario de identidad enviado"));
    let drafts: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM drafts d JOIN persons p ON p.id = d.person_id WHERE p.candidacy_id = $1",
    )
    .bind(candidacy)
    .fetch_one(&stack.identity_pool)
    .await
    .unwrap();
    assert_eq!(drafts, 0, "the draft is deleted on submission");
    assert!(sent.body.contains("Huella SHA-256"));
    assert!(!sent.body.contains(&marker));

    // One opportunity: afterwards the page only says it was sent, and a replay is refused.
    let after = party.get(&path).await;
    assert!(
        after.body.contains("Cuestionario de identidad enviado") && !after.body.contains(&marker)
    );
    let replay = party
        .post_pairs(&path, &with_action(&answers, "enviar"))
        .await;
    assert_eq!(replay.status, StatusCode::CONFLICT);
    let overview = party.get(&format!("/captura/{candidacy}")).await;
    assert!(overview.body.contains("Cuestionario de identidad"));
    assert!(overview.body.contains("enviado"));

    // The answer is in identity, sealed; nowhere else.
    let sealed: i64 = sqlx::query_scalar("SELECT count(*) FROM answers")
        .fetch_one(&stack.identity_pool)
        .await
        .unwrap();
    assert!(sealed >= 10);
    // Give the relay time to publish identity.submitted, then look everywhere.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let found = leaks(&stack, &marker).await;
    assert!(found.is_empty(), "the marker leaked to: {found:?}");

    // The admin applies the one correction the person asked for, with a new marker; the old
    // answers are not shown, and a second correction is refused.
    let corrector = stack.account("correcciones@iec.org.mx", Role::Admin).await;
    let mut admin = stack.browser();
    admin
        .first_login("correcciones@iec.org.mx", &corrector)
        .await;
    let overview = admin.get(&format!("/captura/{candidacy}")).await;
    let correction = format!("/admin/identidad/{candidacy}/titular/correccion");
    assert!(overview.body.contains(&correction), "{}", overview.body);
    let form = admin.get(&correction).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(
        !form.body.contains(&marker),
        "the earlier answers are not shown"
    );
    let second_marker = format!("canario{}", Uuid::now_v7().simple());
    let mut corrected: Vec<(String, String)> = answers
        .iter()
        .filter(|(k, _)| k.starts_with("q.") || k == "version")
        .map(|(k, v)| {
            let v = if k == "q.migrant_country.text" {
                second_marker.clone()
            } else {
                v.clone()
            };
            (k.clone(), v)
        })
        .collect();
    corrected.push(("csrf".into(), form.hidden("csrf")));
    let without_reason = admin.post_pairs(&correction, &corrected).await;
    assert_eq!(without_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(without_reason.body.contains("referencia de la solicitud"));
    corrected.push(("referencia".into(), "IEC/UTP/0042/2027".into()));
    corrected.push((
        "motivo".into(),
        "La candidata corrigió el país de residencia.".into(),
    ));
    let applied = admin.post_pairs(&correction, &corrected).await;
    assert_eq!(applied.status, StatusCode::OK, "{}", applied.body);
    assert!(applied.body.contains("Se aplicó la corrección"));
    assert!(!applied.body.contains(&second_marker));
    let again = admin.post_pairs(&correction, &corrected).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(again.body.contains("única corrección"));
    let reference: String = sqlx::query_scalar("SELECT correction_reference FROM questionnaires")
        .fetch_one(&stack.identity_pool)
        .await
        .unwrap();
    assert_eq!(reference, "IEC/UTP/0042/2027");
    // The party cannot reach the correction screen.
    assert_eq!(party.get(&correction).await.status, StatusCode::FORBIDDEN);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let found = leaks(&stack, &second_marker).await;
    assert!(
        found.is_empty(),
        "the corrected answer leaked to: {found:?}"
    );

    // No log line of any service (capture, identity, auth, validation, publication, all in
    // this process, at debug level with span fields) carries either marker.
    let written = logs.text();
    assert!(
        written.contains("conoceles_identity") || written.contains("identity"),
        "logs were captured"
    );
    assert!(
        written.lines().count() > 50,
        "logs were captured: {written}"
    );
    for m in [&marker, &second_marker] {
        let lines: Vec<&str> = written.lines().filter(|l| l.contains(m.as_str())).collect();
        assert!(lines.is_empty(), "a log line carries a marker: {lines:?}");
    }

    // The parity reviewer sees completion by postulant and office, never answers.
    let email = "paridad@iec.org.mx";
    let password = stack.account(email, Role::ParityReviewer).await;
    let mut reviewer = stack.browser();
    reviewer.first_login(email, &password).await;
    let parity = reviewer.get("/revision/identidad").await;
    assert_eq!(parity.status, StatusCode::OK);
    assert!(
        parity.body.contains(
            "<td>Partido Verde Ecologista de México</td><td>Diputación local de mayoría relativa</td><td>16</td><td>1</td>"
        ),
        "{}",
        parity.body
    );
    assert!(!parity.body.contains(&marker));
    // Compliance: PVEM's MR candidacies, one identity questionnaire sent.
    let compliance = stack.account("cumplimiento@iec.org.mx", Role::Admin).await;
    let mut admin = stack.browser();
    admin
        .first_login("cumplimiento@iec.org.mx", &compliance)
        .await;
    let csv = admin.get("/admin/cumplimiento.csv").await;
    assert!(
        csv.body.contains(
            "Partido Verde Ecologista de México,Diputación local de mayoría relativa,16,16,0,0,15"
        ),
        "{}",
        csv.body
    );
    let refused = party.get("/revision/identidad").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    stack.stop().await;
}

/// Waits until `path` (for `browser`) contains `needle`.
/// What a published profile says (a registered candidacy's page without it shows its state).
pub(super) const PUBLISHED: &str = "Información aprobada y publicada el";

pub(super) async fn eventually(browser: &mut Browser, path: &str, needle: &str) -> Page {
    let started = std::time::Instant::now();
    loop {
        let page = browser.get(path).await;
        if page.body.contains(needle) {
            return page;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "{path} never showed {needle:?}: {}",
            page.body
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

pub(super) async fn submit_html(browser: &mut Browser, candidacy: Uuid) -> Page {
    let preview = browser
        .get(&format!("/captura/{candidacy}/vista-previa"))
        .await;
    browser
        .post(
            &format!("/captura/{candidacy}/envio"),
            &[("csrf", &preview.hidden("csrf")), ("confirmado", "si")],
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_observes_a_section_the_party_fixes_it_and_the_approval_reaches_the_broker() {
    let stack = spawn_stack().await;
    seeded(&stack).await;
    // A queue of the test's own listens for candidacy.approved.
    let tap = EventTap::bind(&stack.namespace, "candidacy.approved").await;

    let candidacy = stack.candidacy_of("PT").await;
    let mut party = party_browser(&stack, "PT").await;
    fill_sections(&mut party, candidacy).await;
    let photo = upload_photo(&mut party, candidacy, jpeg(600, 800), "foto.jpg").await;
    assert_eq!(photo.status, StatusCode::SEE_OTHER);
    assert_eq!(
        submit_html(&mut party, candidacy).await.status,
        StatusCode::SEE_OTHER
    );

    let email = "revisora@iec.org.mx";
    let password = stack.account(email, Role::Reviewer).await;
    let mut reviewer = stack.browser();
    reviewer.first_login(email, &password).await;
    // A party cannot see the queue.
    assert_eq!(party.get("/revision").await.status, StatusCode::FORBIDDEN);
    // Each finds its own manual at /ayuda.
    assert!(
        reviewer
            .get("/ayuda")
            .await
            .body
            .contains("Manual de revisión y administración")
    );
    assert!(
        party
            .get("/ayuda")
            .await
            .body
            .contains("Manual de captura para partidos")
    );
    // The submission reaches the queue with its automatic findings.
    let holder = stack.holder(candidacy).await;
    let queue_page = eventually(&mut reviewer, "/revision", &holder).await;
    // Filtered by age, a submission sent a moment ago is not among those waiting over a day.
    let old_ones = reviewer.get("/revision?antiguedad=24").await;
    assert_eq!(old_ones.status, StatusCode::OK);
    assert!(!old_ones.body.contains(&holder), "{}", old_ones.body);
    assert!(old_ones.body.contains("No hay envíos con estos filtros."));
    let link = queue_page.first_link("/revision/");
    let review = reviewer.get(&format!("/revision/{link}")).await;
    assert!(review.body.contains("Trayectoria profesional"));
    assert!(
        review
            .body
            .contains("no ha enviado su cuestionario de identidad"),
        "identity finding shown"
    );
    // The reviewer sees the photo sent and the date declared for it.
    let photo_path = format!("/revision/{link}/foto/titular");
    assert!(review.body.contains(&photo_path), "{}", review.body);
    assert!(
        review
            .body
            .contains("Fecha en que se tomó, según el partido")
    );
    let photo = reviewer.get(&photo_path).await;
    assert_eq!(photo.status, StatusCode::OK);
    assert_eq!(photo.headers["content-type"], "image/jpeg");
    assert_eq!(
        party.get(&photo_path).await.status,
        StatusCode::FORBIDDEN,
        "only the unit's reviewers"
    );
    // A ticked section without its message is refused on the same page, what was typed kept.
    let kept = reviewer
        .post(
            &format!("/revision/{link}/observar"),
            &[
                ("csrf", &review.hidden("csrf")),
                ("ronda", "1"),
                ("seccion", "education"),
                (
                    "mensaje.holder.professional",
                    "Indique los años de cada cargo.",
                ),
            ],
        )
        .await;
    assert_eq!(
        kept.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        kept.body
    );
    assert!(kept.body.contains("Cada observación necesita su mensaje."));
    assert!(
        kept.body
            .contains("Indique los años de cada cargo.</textarea>")
    );
    assert!(
        kept.body
            .contains("id=\"obs-education\" name=\"seccion\" value=\"education\" checked")
    );
    // A message typed under a section observes it, its box ticked or not.
    let observed = reviewer
        .post(
            &format!("/revision/{link}/observar"),
            &[
                ("csrf", &review.hidden("csrf")),
                ("ronda", "1"),
                (
                    "mensaje.holder.professional",
                    "Indique los años de cada cargo.",
                ),
            ],
        )
        .await;
    assert_eq!(observed.status, StatusCode::SEE_OTHER, "{}", observed.body);
    let queue_after = reviewer.get(observed.location.as_deref().unwrap()).await;
    assert!(
        queue_after
            .body
            .contains("Se enviaron las observaciones al partido")
    );
    // Deciding the same round twice is refused.
    let twice = reviewer
        .post(
            &format!("/revision/{link}/aprobar"),
            &[
                ("csrf", &review.hidden("csrf")),
                ("confirmado", "si"),
                ("ronda", "1"),
            ],
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);

    // The party sees the observation; only that section reopens.
    let overview = eventually(
        &mut party,
        &format!("/captura/{candidacy}"),
        "Indique los años de cada cargo.",
    )
    .await;
    assert!(overview.body.contains("Observaciones por atender"));
    let general = party
        .get(&format!("/captura/{candidacy}/holder/general"))
        .await;
    let refused = party
        .post(
            &format!("/captura/{candidacy}/holder/general"),
            &[
                ("csrf", &general.hidden("csrf")),
                ("private_email", "otra@ejemplo.mx"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused
            .body
            .contains("solo se corrigen las secciones observadas")
    );
    let path = format!("/captura/{candidacy}/holder/professional");
    let form = party.get(&path).await;
    let fixed = format!("{} De 2010 a 2020 fui directora.", text(60));
    let saved = party
        .post(
            &path,
            &[("csrf", &form.hidden("csrf")), ("history", &fixed)],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(
        submit_html(&mut party, candidacy).await.status,
        StatusCode::SEE_OTHER
    );

    // Round 2 reaches the queue; the reviewer approves it.
    let queue_page = eventually(&mut reviewer, "/revision", &holder).await;
    let link2 = queue_page.first_link("/revision/");
    assert_ne!(link, link2, "a new round");
    let review = reviewer.get(&format!("/revision/{link2}")).await;
    assert!(review.body.contains("ronda 2"));
    // Round 2 against round 1: what changed, with what it said before, and the observation.
    assert!(
        review.body.contains("Se compara con la ronda 1"),
        "{}",
        review.body
    );
    assert!(review.body.contains("cambió desde la ronda anterior"));
    assert!(review.body.contains("De 2010 a 2020 fui directora."));
    assert!(review.body.contains("Antes:"));
    assert!(review.body.contains(
        "Ronda 1, <strong>Trayectoria profesional</strong>: Indique los años de cada cargo."
    ));
    let approved = reviewer
        .post(
            &format!("/revision/{link2}/aprobar"),
            &[
                ("csrf", &review.hidden("csrf")),
                ("confirmado", "si"),
                ("ronda", "2"),
            ],
        )
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);
    eventually(&mut party, "/captura", "Aprobada").await;

    // Exactly one candidacy.approved on the broker.
    let delivered = tap.next().await;
    use prost::Message;
    let event =
        conoceles_proto::events::v1::CandidacyApproved::decode(delivered.as_slice()).unwrap();
    assert_eq!(event.round, 2);
    assert_eq!(event.candidacy_id.unwrap().value, candidacy.to_string());
    assert!(tap.nothing_more().await, "exactly one approval");
    tap.close().await;

    let (mut citizen, profile_path, person) =
        the_site_serves_the_approved_profile(&stack, candidacy, &holder).await;

    // After publication and after the capture window, the admin reopens it once at the
    // party's request; the party corrects and sends again; a new review round approves it and
    // the public profile says it was corrected.
    stack
        .set_window("now() - interval '10 days'", "now() - interval '1 day'")
        .await;
    let admin_password = stack.account("cancela@iec.org.mx", Role::Admin).await;
    let mut admin = stack.browser();
    admin
        .first_login("cancela@iec.org.mx", &admin_password)
        .await;
    let page = admin.get(&format!("/captura/{candidacy}")).await;
    assert!(
        page.body.contains("Reabrir para corrección"),
        "{}",
        page.body
    );
    let reopen = format!("/admin/candidaturas/{candidacy}/reabrir");
    let csrf = page.hidden("csrf");
    let missing = admin
        .post(
            &reopen,
            &[("csrf", csrf.as_str()), ("motivo", "Cambio de teléfono.")],
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    let reopened = admin
        .post(
            &reopen,
            &[
                ("csrf", csrf.as_str()),
                ("referencia", "PT/REP/017/2027"),
                ("fecha_solicitud", &today()),
                ("solicitante", "Representación del PT ante el Consejo"),
                ("motivo", "El partido pidió corregir la trayectoria."),
            ],
        )
        .await;
    assert_eq!(reopened.status, StatusCode::OK, "{}", reopened.body);
    assert!(reopened.body.contains("se reabrió para corrección"));
    let again = admin
        .post(
            &reopen,
            &[
                ("csrf", csrf.as_str()),
                ("referencia", "PT/REP/018/2027"),
                ("fecha_solicitud", &today()),
                ("solicitante", "Representación del PT"),
                ("motivo", "Otra vez."),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(again.body.contains("no se permite otra"));
    // The published version stays public meanwhile.
    assert!(
        citizen
            .get(&profile_path)
            .await
            .body
            .contains("De 2010 a 2020 fui directora.")
    );
    let overview = party.get(&format!("/captura/{candidacy}")).await;
    assert!(
        overview.body.contains("Corrección solicitada"),
        "{}",
        overview.body
    );
    assert!(overview.body.contains("PT/REP/017/2027"));
    let form = party.get(&path).await;
    let corrected_text = format!("{} De 2010 a 2021 fui directora general.", text(60));
    let saved = party
        .post(
            &path,
            &[("csrf", &form.hidden("csrf")), ("history", &corrected_text)],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(
        submit_html(&mut party, candidacy).await.status,
        StatusCode::SEE_OTHER
    );
    let queue_page = eventually(&mut reviewer, "/revision", &holder).await;
    let link3 = queue_page.first_link("/revision/");
    let review = reviewer.get(&format!("/revision/{link3}")).await;
    assert!(review.body.contains("ronda 3"), "{}", review.body);
    let approved = reviewer
        .post(
            &format!("/revision/{link3}/aprobar"),
            &[
                ("csrf", &review.hidden("csrf")),
                ("confirmado", "si"),
                ("ronda", "3"),
            ],
        )
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);
    let profile = eventually(&mut citizen, &profile_path, "Información corregida el").await;
    assert!(
        profile
            .body
            .contains("De 2010 a 2021 fui directora general.")
    );

    // The read model is rebuilt from its sources alone (no events): after losing it, the same
    // pages come back, "corrected on" included.
    let before = profile.body.clone();
    let list_before = citizen.get("/candidaturas").await.body;
    sqlx::query("DELETE FROM photos")
        .execute(&stack.publication_pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM profiles")
        .execute(&stack.publication_pool)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    // Without its profile, the candidacy is still registered: its page shows the registry's
    // facts, not the lost information.
    while citizen.get(&profile_path).await.body.contains(PUBLISHED) {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "cache never emptied"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let channel = |url: &str| conoceles_kit::grpc::channel(url).unwrap();
    let profiles = conoceles_publication::events::Profiles {
        capture: channel(&stack.capture_grpc),
        identity: channel(&stack.identity_grpc),
        tokens: std::sync::Arc::new(conoceles_kit::access::TokenSource::new(
            channel(&stack.auth_grpc),
            "publication",
            Some(common::PUBLICATION_SECRET.to_string().into()),
        )),
    };
    let rebuilt = conoceles_publication::rebuild::rebuild(&stack.publication_pool, &profiles)
        .await
        .unwrap();
    assert_eq!(rebuilt.published, 1);
    let after = eventually(&mut citizen, &profile_path, "Información corregida el").await;
    assert_eq!(after.body, before, "the rebuilt profile page is the same");
    assert_eq!(citizen.get("/candidaturas").await.body, list_before);

    the_preview_before_the_publication_start(
        &stack,
        &mut admin,
        &mut party,
        &mut citizen,
        &profile_path,
        &holder,
    )
    .await;

    // A cancellation withdraws the profile at once.
    let list = admin.get("/admin/candidaturas").await;
    let cancelled = admin
        .post(
            &format!("/admin/candidaturas/{candidacy}/cancelar"),
            &[
                ("csrf", &list.hidden("csrf")),
                ("motivo", "Renuncia de la persona candidata."),
            ],
        )
        .await;
    assert!(cancelled.status.is_success(), "{}", cancelled.body);
    // Its former URL says so, with the date, and serves nothing of it.
    let gone = eventually(&mut citizen, &profile_path, "Candidatura cancelada").await;
    assert_eq!(gone.status, StatusCode::GONE);
    assert!(gone.body.contains("se canceló el") && !gone.body.contains(&holder));
    assert_eq!(
        citizen.get(&format!("/fotos/{person}")).await.status,
        StatusCode::NOT_FOUND
    );
    stack.stop().await;
}

/// Before the publication start nothing is served, except to an admin's preview (marked, never
/// cached, never shown to anyone else): its link is good once, its ticket opens no gRPC, signing
/// out of the back office ends it, and a party's token does not open it.
async fn the_preview_before_the_publication_start(
    stack: &Stack,
    admin: &mut Browser,
    party: &mut Browser,
    citizen: &mut Browser,
    profile_path: &str,
    holder: &str,
) {
    // Before the publication start nothing is served, except to an admin's preview (marked,
    // never cached, never shown to anyone else).
    stack.publication_starts_in_days(10).await;
    let closed = eventually(citizen, profile_path, "se publicará a partir del").await;
    assert!(!closed.body.contains(holder));
    let go = admin.get("/admin/vista-previa-sitio").await;
    assert_eq!(go.status, StatusCode::SEE_OTHER, "{}", go.body);
    let location = go.headers["location"].to_str().unwrap().to_string();
    let path_and_query = &location[location.find("/vista-previa").unwrap()..];
    let mut previewer = Browser {
        base: stack.site.clone(),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        cookies: Default::default(),
    };
    assert_eq!(
        previewer.get("/vista-previa?token=forged").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        previewer.get(path_and_query).await.status,
        StatusCode::SEE_OTHER
    );
    // The link is good once, and its ticket is no service token for the site's gRPC.
    let mut replayer = Browser {
        base: stack.site.clone(),
        client: previewer.client.clone(),
        cookies: Default::default(),
    };
    assert_eq!(
        replayer.get(path_and_query).await.status,
        StatusCode::FORBIDDEN,
        "a preview link used again"
    );
    let ticket = path_and_query.split("token=").nth(1).unwrap().to_string();
    let channel =
        tonic::transport::Endpoint::from_shared(format!("http://{}", stack.publication_grpc))
            .unwrap()
            .connect()
            .await
            .unwrap();
    let mut site_grpc =
        conoceles_proto::publication::v1::publication_service_client::PublicationServiceClient::new(
            channel,
        );
    let mut request = tonic::Request::new(
        conoceles_proto::publication::v1::GetPublicationStatusRequest::default(),
    );
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {ticket}").parse().unwrap());
    let refused = site_grpc.get_publication_status(request).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unauthenticated, "{refused:?}");
    let preview = previewer.get(profile_path).await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains(holder));
    assert!(preview.body.contains("Vista previa para la administración"));
    assert_eq!(preview.headers["cache-control"], "private, no-store");
    let still_closed = citizen.get(profile_path).await;
    assert!(
        !still_closed.body.contains(holder),
        "the preview leaked to a citizen"
    );
    // Signing out of the back office passes through the site, which ends the preview in that
    // browser and sends the admin back to the sign-in page; elsewhere it sends no one.
    let other_admin = stack.account("otra-admin@iec.org.mx", Role::Admin).await;
    let mut leaving = stack.browser();
    leaving
        .first_login("otra-admin@iec.org.mx", &other_admin)
        .await;
    let home = leaving.get("/").await;
    let out = leaving
        .post("/salir", &[("csrf", &home.hidden("csrf"))])
        .await;
    let through = out.location.clone().unwrap();
    let at = through
        .find("/vista-previa/salir?volver=")
        .expect("through the site");
    let ended = previewer.get(&through[at..]).await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    assert!(
        ended.location.as_deref().unwrap().ends_with("/ingresar"),
        "{:?}",
        ended.location
    );
    let after_logout = previewer.get(profile_path).await;
    assert!(
        !after_logout.body.contains(holder),
        "the preview outlived the sign-out"
    );
    let elsewhere = previewer
        .get("/vista-previa/salir?volver=https%3A%2F%2Fevil.example%2Fingresar")
        .await;
    assert_eq!(elsewhere.location.as_deref(), Some("/"));

    // A party's acting token does not open it.
    let party_go = party.get("/admin/vista-previa-sitio").await;
    assert_eq!(party_go.status, StatusCode::FORBIDDEN);
    stack.publication_starts_in_days(-1).await;
}

/// The approved profile on the citizens' site: the list, accent-insensitive search, the
/// profile, comparison, open data (regenerated, signed, compressed) and the API, public
/// statistics, ETags and the hash chain — never the private email. Returns the citizen's
/// browser, the profile's path and the holder's public person id.
async fn the_site_serves_the_approved_profile(
    stack: &Stack,
    candidacy: Uuid,
    holder: &str,
) -> (Browser, String, String) {
    // The approved profile reaches the citizens' site: list, accent-insensitive search,
    // profile, comparison, open data and API; never the private email.
    let mut citizen = stack.citizen();
    let profile_path = format!("/candidaturas/{candidacy}");
    // Registered, the candidacy's page shows its state first; then its approved information.
    let profile = eventually(&mut citizen, &profile_path, PUBLISHED).await;
    assert!(profile.body.contains(holder));
    assert!(profile.body.contains("https://www.facebook.com/candidata"));
    assert!(
        profile.body.contains("De 2010 a 2020 fui directora."),
        "the approved round"
    );
    assert!(!profile.body.contains("aclaraciones@ejemplo.mx"));
    assert!(
        profile.headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
    let folded: String = holder
        .to_lowercase()
        .replace('á', "a")
        .replace('é', "e")
        .replace('í', "i")
        .replace('ó', "o")
        .replace('ú', "u");
    let q = folded.split_whitespace().next().unwrap().to_uppercase();
    let list = citizen.get(&format!("/candidaturas?q={q}")).await;
    assert!(
        list.body.contains(holder),
        "accent- and case-insensitive search for {q}"
    );
    assert!(list.body.contains("Orden neutral declarado"));
    // A page number typed by hand that is not one: a page in Spanish, not a plain-text error.
    let typed = citizen.get("/candidaturas?pagina=dos").await;
    assert_eq!(typed.status, StatusCode::BAD_REQUEST);
    assert!(
        typed.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
            && typed.body.contains("no tiene un valor válido"),
        "{}",
        typed.body
    );
    let compare = citizen.get(&format!("/comparar?ids={candidacy}")).await;
    assert_eq!(compare.status, StatusCode::OK);
    // Each long text in a row of its own, named by its section, with its own value.
    for section in [
        "Trayectoria profesional",
        "Trayectoria política y participación ciudadana",
    ] {
        assert!(
            compare
                .body
                .contains(&format!("<th scope=\"row\">{section}</th>")),
            "{section}: {}",
            compare.body
        );
    }
    assert!(compare.body.contains("De 2010 a 2020 fui directora."));
    // Open data is regenerated within a second or two of a change.
    let csv = eventually(&mut citizen, "/datos/candidaturas.csv", holder).await;
    assert!(
        csv.body
            .starts_with("ID_CANDIDATURA,ID_PERSONA,PARTIDO_COALICION,CARGO")
    );
    assert!(csv.body.contains(holder) && !csv.body.contains("aclaraciones@ejemplo.mx"));
    let (status, api) = citizen
        .api(
            Method::GET,
            &format!("/api/v1/candidacies/{candidacy}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let person = api["persons"][0]["person_id"].as_str().unwrap().to_string();
    let image = citizen.get(&format!("/fotos/{person}")).await;
    assert_eq!(image.headers["content-type"], "image/jpeg");

    // Open data: regenerated after the change, signed; the served key verifies it and a
    // changed byte does not; the CSV reads with a standard reader; Popolo links up.
    let csv = eventually(&mut citizen, "/datos/candidaturas.csv", holder).await;
    let mut reader = csv::Reader::from_reader(csv.body.as_bytes());
    let headers = reader.headers().unwrap().clone();
    for column in [
        "ENTIDAD",
        "DISTRITO_LOCAL",
        "MUNICIPIO",
        "REDES_FACEBOOK",
        "PROPUESTA_1",
        "PROPUESTA_2",
        "PROPUESTA_GENERO",
    ] {
        assert!(headers.iter().any(|h| h == column), "column {column}");
    }
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let row = rows.iter().find(|r| r.iter().any(|c| c == holder)).unwrap();
    let col = |name: &str| {
        row.get(headers.iter().position(|h| h == name).unwrap())
            .unwrap()
    };
    assert_eq!(col("ENTIDAD"), "Coahuila de Zaragoza");
    assert_eq!(col("REDES_FACEBOOK"), "https://www.facebook.com/candidata");
    // The content hash: the same in the CSV, on the profile and in capture's submission.
    let submitted: String = sqlx::query_scalar(
        "SELECT content_sha256 FROM submissions WHERE candidacy_id = $1 ORDER BY round DESC LIMIT 1",
    )
    .bind(candidacy)
    .fetch_one(&stack.capture_pool)
    .await
    .unwrap();
    assert_eq!(col("HUELLA_SHA256"), submitted);
    let shown = citizen.get(&profile_path).await;
    assert!(
        shown
            .body
            .contains(&format!("<code class=\"huella\">{submitted}</code>")),
        "{}",
        shown.body
    );
    // In words a citizen reads: the holder's role by her sex, a phone in groups, labels without
    // the form's numbering, the compare box named for the person.
    let sex: String = sqlx::query_scalar(
        "SELECT sex FROM persons WHERE candidacy_id = $1 AND role = 'holder' AND active",
    )
    .bind(candidacy)
    .fetch_one(&stack.capture_pool)
    .await
    .unwrap();
    let role = match sex.as_str() {
        "mujer" => "Propietaria: ",
        "hombre" => "Propietario: ",
        _ => "Persona propietaria: ",
    };
    assert!(shown.body.contains(role), "{role}: {}", shown.body);
    assert!(
        shown.body.contains("\"@type\":\"Person\""),
        "schema.org Person metadata"
    );
    assert!(
        shown
            .body
            .contains("<meta property=\"og:image\" content=\"http"),
        "the photo's absolute address for link previews: {}",
        shown.body
    );
    // Only the holder answers in this election: the alternate's name comes from the registry.
    let alternate: Option<String> = sqlx::query_scalar(
        "SELECT full_name FROM persons WHERE candidacy_id = $1 AND role = 'alternate' AND active",
    )
    .bind(candidacy)
    .fetch_optional(&stack.capture_pool)
    .await
    .unwrap();
    if let Some(alternate) = alternate {
        assert!(
            shown.body.contains(&format!("Suplente: {alternate}")),
            "the alternate named: {}",
            shown.body
        );
    }
    assert!(shown.body.contains("<dt>Teléfono</dt>"), "{}", shown.body);
    assert!(shown.body.contains("Información aprobada y publicada el "));
    assert!(shown.body.contains(&format!(
        "<meta property=\"og:title\" content=\"{holder}\">"
    )));
    assert!(shown.body.contains("844 123 4567"));
    let listing = citizen.get(&format!("/candidaturas?q={q}")).await;
    assert!(listing.body.contains(&format!(
        "Comparar<span class=\"oculto\"> a {holder}</span>"
    )));
    assert!(!col("PROPUESTA_1").is_empty() && !col("PROPUESTA_1").contains(" | "));
    let sums = citizen.get("/datos/SHA256SUMS").await;
    let pem = citizen.get("/datos/clave-publica").await;
    let signature = citizen
        .client
        .get(format!("{}/datos/SHA256SUMS.sig", stack.site))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let key = conoceles_publication::open_data::verifying_key_from_pem(&pem.body).unwrap();
    let json = citizen.get("/datos/candidaturas.json").await;
    let popolo = citizen.get("/datos/popolo.json").await;
    let files: [(&str, &[u8]); 3] = [
        ("candidaturas.csv", csv.body.as_bytes()),
        ("candidaturas.json", json.body.as_bytes()),
        ("popolo.json", popolo.body.as_bytes()),
    ];
    conoceles_publication::open_data::verify(&key, &files, sums.body.as_bytes(), &signature)
        .expect("the release verifies with the served key");
    let mut changed = csv.body.clone().into_bytes();
    changed[10] ^= 1;
    let tampered: [(&str, &[u8]); 3] = [
        ("candidaturas.csv", &changed),
        ("candidaturas.json", json.body.as_bytes()),
        ("popolo.json", popolo.body.as_bytes()),
    ];
    assert!(
        conoceles_publication::open_data::verify(&key, &tampered, sums.body.as_bytes(), &signature)
            .is_err()
    );
    // A client that accepts gzip gets the stored compressed bytes, which decompress to the
    // same file.
    let compressed = reqwest::Client::new()
        .get(format!("{}/datos/candidaturas.json", stack.site))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(compressed.headers()["content-encoding"], "gzip");
    let compressed = compressed.bytes().await.unwrap();
    let mut inflated = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(&compressed[..]),
        &mut inflated,
    )
    .unwrap();
    assert_eq!(inflated, json.body);
    assert!(compressed.len() < json.body.len() / 3);
    // The page links the files of one release, under addresses that never change: kept a year
    // by browsers and CDNs; an address of a release since replaced leads to the current one.
    let page = citizen.get("/datos").await;
    let release = page
        .body
        .split("href=\"/datos/version/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("/datos links a release: {}", page.body))
        .to_string();
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let pinned = no_redirects
        .get(format!("{}/datos/version/{release}/SHA256SUMS", stack.site))
        .send()
        .await
        .unwrap();
    assert_eq!(pinned.status(), 200);
    assert_eq!(
        pinned.headers()["cache-control"],
        "public, max-age=31536000, immutable, s-maxage=31536000, stale-while-revalidate=60, stale-if-error=86400"
    );
    assert_eq!(pinned.headers()["surrogate-key"], "sitio datos");
    assert_eq!(pinned.text().await.unwrap(), sums.body);
    let replaced: i64 = release.parse::<i64>().unwrap() - 1;
    let old = no_redirects
        .get(format!(
            "{}/datos/version/{replaced}/popolo.json",
            stack.site
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 307);
    assert_eq!(
        old.headers()["location"],
        format!("/datos/version/{release}/popolo.json").as_str()
    );
    // A profile tells a CDN its candidacy's and contest's keys, and for how long to keep it.
    let profile = no_redirects
        .get(format!("{}/candidaturas/{candidacy}", stack.site))
        .send()
        .await
        .unwrap();
    let keys = profile.headers()["surrogate-key"].to_str().unwrap();
    assert!(
        keys.starts_with(&format!("sitio candidatura-{candidacy} contienda-")),
        "{keys}"
    );
    assert!(
        profile.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("s-maxage=60, stale-while-revalidate=60, stale-if-error=86400")
    );
    let popolo: serde_json::Value = serde_json::from_str(&popolo.body).unwrap();
    let ids = |list: &str| -> Vec<String> {
        popolo[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap().to_string())
            .collect()
    };
    let (persons, organizations, posts) = (ids("persons"), ids("organizations"), ids("posts"));
    for m in popolo["memberships"].as_array().unwrap() {
        assert!(persons.contains(&m["person_id"].as_str().unwrap().to_string()));
        assert!(organizations.contains(&m["organization_id"].as_str().unwrap().to_string()));
        assert!(posts.contains(&m["post_id"].as_str().unwrap().to_string()));
    }
    assert!(!popolo.to_string().contains("aclaraciones@ejemplo.mx"));
    // The public statistics: progress by postulant with its table and chart, identity groups.
    let stats = citizen.get("/estadisticas").await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.body);
    assert!(stats.body.contains("Avance de la captura por postulante"));
    assert!(stats.body.contains("<svg class=\"grafica\""));
    assert!(
        stats
            .body
            .contains("<th scope=\"row\">Partido del Trabajo</th>"),
        "{}",
        stats.body
    );
    assert!(stats.body.contains("¿Se considera una persona indígena?"));
    // Cached pages carry an ETag; revalidating gets 304.
    let page = citizen.get(&profile_path).await;
    let etag = page.headers["etag"].to_str().unwrap().to_string();
    let revalidated = citizen
        .client
        .get(format!("{}{profile_path}", stack.site))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);
    let api = citizen
        .client
        .get(format!("{}/api/v1/candidacies", stack.site))
        .send()
        .await
        .unwrap();
    assert_eq!(api.headers()["access-control-allow-origin"], "*");
    // The hash chain of changes is intact.
    assert!(
        conoceles_publication::log::verify(&stack.publication_pool)
            .await
            .unwrap()
            >= 1
    );
    (citizen, profile_path, person)
}

/// The reviewer approves the candidacy's round `round` from the queue (the holder's name
/// finds it).
pub(super) async fn approve_round(reviewer: &mut Browser, holder: &str, round: u32) {
    let queue = eventually(reviewer, "/revision", holder).await;
    let link = queue.link_before(holder, "/revision/");
    let review = reviewer.get(&format!("/revision/{link}")).await;
    assert!(
        review.body.contains(&format!("ronda {round}")),
        "{}",
        review.body
    );
    let approved = reviewer
        .post(
            &format!("/revision/{link}/aprobar"),
            &[
                ("csrf", &review.hidden("csrf")),
                ("confirmado", "si"),
                ("ronda", &round.to_string()),
            ],
        )
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER, "{}", approved.body);
}

/// Substitutions after publication and during review, as the unit, the party, the reviewer
/// and a citizen live them: the replaced person vanishes at once from every public output
/// while the candidacy stays in its contest as "sustitución pendiente"; the new person
/// captures a fresh questionnaire with a deadline of their own; an approval decided for a
/// replaced person is refused with the reason; the new person's approved version is published;
/// identity answers sent after the approval reach the profile within seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_substitution_at_any_stage_hands_the_candidacy_to_the_new_person_and_the_public_site_follows()
 {
    let stack = spawn_stack().await;
    seeded(&stack).await;
    let candidacy = stack.candidacy_of("PT").await;
    let mut party = party_browser(&stack, "PT").await;
    let first = stack.holder(candidacy).await;
    fill_sections(&mut party, candidacy).await;
    upload_photo(&mut party, candidacy, jpeg(600, 800), "foto.jpg").await;
    assert_eq!(
        submit_html(&mut party, candidacy).await.status,
        StatusCode::SEE_OTHER
    );
    let reviewer_password = stack.account("revisa@iec.org.mx", Role::Reviewer).await;
    let mut reviewer = stack.browser();
    reviewer
        .first_login("revisa@iec.org.mx", &reviewer_password)
        .await;
    approve_round(&mut reviewer, &first, 1).await;

    let mut citizen = stack.citizen();
    let profile_path = format!("/candidaturas/{candidacy}");
    let published = eventually(&mut citizen, &profile_path, PUBLISHED).await;
    assert!(published.body.contains(&first));
    let (_, api) = citizen
        .api(
            Method::GET,
            &format!("/api/v1/candidacies/{candidacy}"),
            None,
        )
        .await;
    let first_id = api["persons"][0]["person_id"].as_str().unwrap().to_string();
    assert_eq!(
        citizen.get(&format!("/fotos/{first_id}")).await.status,
        StatusCode::OK
    );
    let district: String =
        sqlx::query_scalar("SELECT constituency_code FROM candidacies WHERE id = $1")
            .bind(candidacy)
            .fetch_one(&stack.capture_pool)
            .await
            .unwrap();

    // The unit records the substitution of the published holder.
    let admin_password = stack.account("sustituye@iec.org.mx", Role::Admin).await;
    let mut admin = stack.browser();
    admin
        .first_login("sustituye@iec.org.mx", &admin_password)
        .await;
    let substitute = |name: &'static str| {
        vec![
            ("rol", "holder"),
            ("nombre", name),
            ("sexo", "mujer"),
            ("fecha_nacimiento", "1984-05-06"),
            ("motivo", "Renuncia presentada ante el Consejo General."),
        ]
    };
    let list = admin.get("/admin/candidaturas").await;
    let mut form = substitute("Rosa Elena Nueva Persona");
    let csrf = list.hidden("csrf");
    form.push(("csrf", &csrf));
    let done = admin
        .post(&format!("/admin/candidaturas/{candidacy}/sustituir"), &form)
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);

    // At once on the public site: the former URL says a substitution is under way, the contest
    // lists it, and nothing of the replaced person is served.
    let pending = eventually(
        &mut citizen,
        &profile_path,
        "Sustitución: la información de la nueva persona está pendiente",
    )
    .await;
    assert_eq!(pending.status, StatusCode::OK);
    assert!(!pending.body.contains(&first));
    let contest = citizen
        .get(&format!("/candidaturas?distrito={district}"))
        .await;
    assert!(
        contest.body.contains("Candidaturas en sustitución"),
        "{}",
        contest.body
    );
    assert!(!contest.body.contains(&first));
    assert_eq!(
        citizen.get(&format!("/fotos/{first_id}")).await.status,
        StatusCode::NOT_FOUND
    );
    let (status, _) = citizen
        .api(
            Method::GET,
            &format!("/api/v1/candidacies/{candidacy}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The open-data release is regenerated from the read model within seconds.
    for file in ["candidaturas.csv", "candidaturas.json", "popolo.json"] {
        let started = std::time::Instant::now();
        loop {
            let body = citizen.get(&format!("/datos/{file}")).await.body;
            if !body.contains(&first) && !body.contains(&first_id) {
                break;
            }
            assert!(
                started.elapsed().as_secs() < 30,
                "{file} still names the replaced person"
            );
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }

    // The party captures the new person from scratch, with a deadline of the candidacy's own.
    let overview = eventually(
        &mut party,
        &format!("/captura/{candidacy}"),
        "Rosa Elena Nueva Persona",
    )
    .await;
    assert!(overview.body.contains("En captura"), "{}", overview.body);
    let dashboard = party.get("/captura").await;
    assert!(dashboard.body.contains("Plazo"), "{}", dashboard.body);
    fill_sections(&mut party, candidacy).await;
    upload_photo(&mut party, candidacy, jpeg(600, 800), "nueva.jpg").await;
    assert_eq!(
        submit_html(&mut party, candidacy).await.status,
        StatusCode::SEE_OTHER
    );
    // Round 2 waits in the queue when the new holder is replaced again.
    let queue = eventually(&mut reviewer, "/revision", "Rosa Elena Nueva Persona").await;
    let stale = queue.link_before("Rosa Elena Nueva Persona", "/revision/");
    let stale_review = reviewer.get(&format!("/revision/{stale}")).await;
    let list = admin.get("/admin/candidaturas").await;
    let mut form = substitute("Ana Lucía Tercera Persona");
    let csrf = list.hidden("csrf");
    form.push(("csrf", &csrf));
    let done = admin
        .post(&format!("/admin/candidaturas/{candidacy}/sustituir"), &form)
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    // The approval decided for the replaced person is refused with the reason — once
    // validation has heard of the substitution (under load the event can take a moment; an
    // approval taken before it is ignored by capture, which has moved on).
    let validation = sqlx::PgPool::connect(&stack.validation_db_url)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM reviews WHERE submission_id = $1::uuid")
                .bind(&stale)
                .fetch_optional(&validation)
                .await
                .unwrap();
        if status.as_deref() == Some("superseded") {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 30,
            "validation never superseded the review: {status:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    validation.close().await;
    let started = std::time::Instant::now();
    let refused = loop {
        let refused = reviewer
            .post(
                &format!("/revision/{stale}/aprobar"),
                &[
                    ("csrf", &stale_review.hidden("csrf")),
                    ("confirmado", "si"),
                    ("ronda", "2"),
                ],
            )
            .await;
        if refused.status == StatusCode::CONFLICT || started.elapsed().as_secs() > 30 {
            break refused;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(
        refused.body.contains("la persona fue sustituida"),
        "{}",
        refused.body
    );

    // The third person's version is approved and published; nobody replaced is served.
    eventually(
        &mut party,
        &format!("/captura/{candidacy}"),
        "Ana Lucía Tercera Persona",
    )
    .await;
    fill_sections(&mut party, candidacy).await;
    upload_photo(&mut party, candidacy, jpeg(600, 800), "tercera.jpg").await;
    assert_eq!(
        submit_html(&mut party, candidacy).await.status,
        StatusCode::SEE_OTHER
    );
    approve_round(&mut reviewer, "Ana Lucía Tercera Persona", 3).await;
    let published = eventually(&mut citizen, &profile_path, "Ana Lucía Tercera Persona").await;
    assert!(!published.body.contains("Sustitución: la información"));
    assert!(!published.body.contains(&first) && !published.body.contains("Rosa Elena"));
    let contest = citizen
        .get(&format!("/candidaturas?distrito={district}"))
        .await;
    assert!(!contest.body.contains("Candidaturas en sustitución"));
    assert_eq!(
        citizen.get(&format!("/fotos/{first_id}")).await.status,
        StatusCode::NOT_FOUND
    );

    // The identity questionnaire answered after the approval, with publication consent,
    // reaches the profile within seconds.
    known_to_identity(&stack, candidacy).await;
    let path = format!("/captura/{candidacy}/holder/identidad");
    let form = party.get(&path).await;
    let answers = identity_answers(
        &form.hidden("csrf"),
        &["processing", "publication", "statistics"],
    );
    let sent = party
        .post_pairs(&path, &with_action(&answers, "enviar"))
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let profile = eventually(&mut citizen, &profile_path, "Cuestionario de identidad").await;
    assert!(
        profile.body.contains("¿Se considera una persona indígena?"),
        "{}",
        profile.body
    );
    // The chain of changes is intact and names the substitutions.
    assert!(
        conoceles_publication::log::verify(&stack.publication_pool)
            .await
            .unwrap()
            >= 4
    );
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM profile_log WHERE candidacy_id = $1 ORDER BY seq")
            .bind(candidacy)
            .fetch_all(&stack.publication_pool)
            .await
            .unwrap();
    assert_eq!(
        actions,
        ["published", "substituted", "published", "identity_updated"]
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_submission_event_is_dead_lettered_and_reviews_keep_flowing() {
    let stack = spawn_stack().await;
    seeded(&stack).await;
    // A message that is not a CurricularSubmitted reaches validation's queue.
    let amqp =
        lapin::Connection::connect(&testing::amqp_url(), lapin::ConnectionProperties::default())
            .await
            .unwrap();
    let channel = amqp.create_channel().await.unwrap();
    channel
        .basic_publish(
            format!("{}.events", stack.namespace).as_str().into(),
            "curricular.submitted".into(),
            lapin::options::BasicPublishOptions::default(),
            b"\xff\xff\xff not a protobuf message",
            lapin::BasicProperties::default()
                .with_message_id(Uuid::now_v7().to_string().into())
                .with_delivery_mode(2),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    let dead = format!("{}.validation.curricular.dead", stack.namespace);
    let started = std::time::Instant::now();
    let poisoned = loop {
        if let Ok(Some(message)) = channel
            .basic_get(
                dead.as_str().into(),
                lapin::options::BasicGetOptions { no_ack: true },
            )
            .await
        {
            break message.delivery.data.clone();
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "never dead-lettered"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(poisoned.starts_with(b"\xff\xff\xff"));
    let _ = amqp.close(200, "done".into()).await;

    // The queue keeps flowing: a real submission behind it reaches the reviewers.
    let candidacy = stack.candidacy_of("PAN").await;
    let mut party = party_browser(&stack, "PAN").await;
    fill_sections(&mut party, candidacy).await;
    upload_photo(&mut party, candidacy, jpeg(600, 800), "foto.jpg").await;
    assert_eq!(
        submit_html(&mut party, candidacy).await.status,
        StatusCode::SEE_OTHER
    );
    let holder = stack.holder(candidacy).await;
    let password = stack.account("cola@iec.org.mx", Role::Reviewer).await;
    let mut reviewer = stack.browser();
    reviewer.first_login("cola@iec.org.mx", &password).await;
    eventually(&mut reviewer, "/revision", &holder).await;
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compliance_counts_known_gaps_now_and_as_of_an_earlier_cut_off() {
    let stack = spawn_stack().await;
    seeded(&stack).await;
    // The election was loaded ten days ago (its candidacies' first statuses are dated then).
    stack.age_status_changes(10).await;
    let (office, office_name): (String, String) = sqlx::query_as(
        "SELECT o.code, o.name FROM offices o JOIN candidacies c ON c.office_code = o.code \
         WHERE c.postulant_code = 'PVEM' AND o.principle = 'mr' LIMIT 1",
    )
    .fetch_one(&stack.capture_pool)
    .await
    .unwrap();
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM candidacies WHERE postulant_code = 'PVEM' AND office_code = $1 AND status <> 'withdrawn'",
    )
    .bind(&office)
    .fetch_one(&stack.capture_pool)
    .await
    .unwrap();
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM candidacies WHERE postulant_code = 'PVEM' AND office_code = $1 ORDER BY external_id LIMIT 2",
    )
    .bind(&office)
    .fetch_all(&stack.capture_pool)
    .await
    .unwrap();
    // Today: one candidacy left as a draft, one submitted.
    let mut party = party_browser(&stack, "PVEM").await;
    fill_sections(&mut party, ids[0]).await;
    fill_sections(&mut party, ids[1]).await;
    upload_photo(&mut party, ids[1], jpeg(600, 800), "foto.jpg").await;
    assert_eq!(
        submit_html(&mut party, ids[1]).await.status,
        StatusCode::SEE_OTHER
    );

    let password = stack.account("informe@iec.org.mx", Role::Reviewer).await;
    let mut reviewer = stack.browser();
    reviewer.first_login("informe@iec.org.mx", &password).await;
    let line = |not_started: i64, incomplete: i64| {
        format!(
            "Partido Verde Ecologista de México,{office_name},{total},{not_started},{incomplete},0,{total},"
        )
    };
    let now = reviewer.get("/admin/cumplimiento.csv").await;
    assert_eq!(now.status, StatusCode::OK, "{}", now.body);
    assert!(now.body.contains(&line(total - 2, 1)), "{}", now.body);
    // Five days ago nothing had started: the counts of that day, not today's.
    let day = (chrono::Utc::now() - chrono::Duration::days(5))
        .format("%Y-%m-%d")
        .to_string();
    let earlier = reviewer
        .get(&format!("/admin/cumplimiento.csv?al={day}"))
        .await;
    assert!(earlier.body.contains(&line(total, 0)), "{}", earlier.body);
    let page = reviewer.get(&format!("/admin/cumplimiento?al={day}")).await;
    assert!(page.body.contains("Cierre del periodo de captura"));
    // Twelve days ago the election had no candidacies yet.
    let before = (chrono::Utc::now() - chrono::Duration::days(12))
        .format("%Y-%m-%d")
        .to_string();
    let empty = reviewer
        .get(&format!("/admin/cumplimiento.csv?al={before}"))
        .await;
    assert_eq!(empty.body.lines().count(), 1, "{}", empty.body);
    let bad = reviewer.get("/admin/cumplimiento?al=ayer").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A party cannot read it.
    assert_eq!(
        party.get("/admin/cumplimiento").await.status,
        StatusCode::FORBIDDEN
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_trace_follows_a_submission_from_the_browser_to_its_review() {
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let _telemetry = conoceles_kit::telemetry::init_with_provider("test", provider.clone());
    let stack = spawn_stack().await;
    seeded(&stack).await;
    let candidacy = stack.candidacy_of("MC").await;
    let mut party = party_browser(&stack, "MC").await;
    fill_sections(&mut party, candidacy).await;
    upload_photo(&mut party, candidacy, jpeg(600, 800), "foto.jpg").await;
    assert_eq!(
        submit_html(&mut party, candidacy).await.status,
        StatusCode::SEE_OTHER
    );
    let holder = stack.holder(candidacy).await;
    let password = stack.account("trazas@iec.org.mx", Role::Reviewer).await;
    let mut reviewer = stack.browser();
    reviewer.first_login("trazas@iec.org.mx", &password).await;
    eventually(&mut reviewer, "/revision", &holder).await;
    let _ = provider.force_flush();

    let spans = exporter.get_finished_spans().unwrap();
    let submit = spans
        .iter()
        .find(|s| s.name == "POST /captura/{id}/envio")
        .expect("the browser's submission span");
    let trace = submit.span_context.trace_id();
    let in_trace: Vec<&str> = spans
        .iter()
        .filter(|s| s.span_context.trace_id() == trace)
        .map(|s| s.name.as_ref())
        .collect();
    // capture (HTTP) → outbox → RabbitMQ → validation (consumer) → capture and identity (gRPC).
    for expected in [
        "consume curricular.submitted",
        "conoceles.capture.v1.CaptureService/GetSubmission",
        "conoceles.identity.v1.IdentityService/GetCompletionStatus",
    ] {
        assert!(
            in_trace.contains(&expected),
            "{expected} not in the trace: {in_trace:?}"
        );
    }
    // Span attributes carry routes, methods and ids, never a person's data.
    for span in spans.iter().filter(|s| s.span_context.trace_id() == trace) {
        for kv in &span.attributes {
            assert!(
                !kv.value.as_str().contains(&holder),
                "{} carries a name",
                span.name
            );
        }
    }
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_count_a_known_dataset_now_and_as_of_an_earlier_cut_off() {
    let stack = spawn_stack().await;
    seeded(&stack).await;
    stack.age_status_changes(10).await;
    let (total, women): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE h.sex = 'mujer') FROM candidacies c \
         JOIN persons h ON h.candidacy_id = c.id AND h.role = 'holder' AND h.active \
         WHERE c.postulant_code = 'PVEM' AND c.status <> 'withdrawn'",
    )
    .fetch_one(&stack.capture_pool)
    .await
    .unwrap();
    let (ids, mut party) = two_pvem_drafts(&stack).await;
    upload_photo(&mut party, ids[1], jpeg(600, 800), "foto.jpg").await;
    assert_eq!(
        submit_html(&mut party, ids[1]).await.status,
        StatusCode::SEE_OTHER
    );

    // A statistician's bearer token from the capture API.
    let client = reqwest::Client::new();
    let token = stack
        .api_token("estadistica@iec.org.mx", Role::Statistician)
        .await;
    let get = |path: String| {
        let (client, token, base) = (client.clone(), token.clone(), stack.statistics.clone());
        async move {
            client
                .get(format!("{base}{path}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    let catalog: serde_json::Value = get("/api/v1/tables".into()).await.json().await.unwrap();
    let names: Vec<&str> = catalog["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for expected in [
        "progress.by_postulant",
        "progress.by_sex",
        "compliance.by_postulant_office",
        "identity.indigenous.by_sex",
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    let count = |table: &serde_json::Value, status: &str, dim: &str, value: &str| {
        table["cells"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["dimensions"]["status"] == status && c["dimensions"][dim] == value)
            .and_then(|c| c["count"].as_i64())
            .unwrap_or(0)
    };
    // Now: PVEM has one draft, one submitted, the rest not started.
    let now: serde_json::Value = get("/api/v1/tables/progress.by_sex?postulant=PVEM".into())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(count(&now, "*", "sex", "*"), total);
    assert_eq!(count(&now, "draft", "sex", "*"), 1);
    assert_eq!(count(&now, "submitted", "sex", "*"), 1);
    assert_eq!(count(&now, "not_started", "sex", "*"), total - 2);
    assert_eq!(count(&now, "*", "sex", "mujer"), women);
    // A value that smuggles a second filter is one value (no table for it), and does not
    // poison the genuine query's cache entry.
    let smuggled =
        get("/api/v1/tables/progress.by_sex?office=diputacion_mr%26postulant%3DPVEM".into()).await;
    let smuggled: serde_json::Value = smuggled.json().await.unwrap();
    assert_eq!(count(&smuggled, "*", "sex", "*"), 0, "{smuggled}");
    let genuine: serde_json::Value =
        get("/api/v1/tables/progress.by_sex?office=diputacion_mr&postulant=PVEM".into())
            .await
            .json()
            .await
            .unwrap();
    assert!(count(&genuine, "*", "sex", "*") > 0, "{genuine}");
    // Another dimension with the same filter counts the same candidacies (capture groups by
    // what each table asks).
    let by_office: serde_json::Value =
        get("/api/v1/tables/progress.by_office?postulant=PVEM".into())
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(count(&by_office, "*", "office", "*"), total);
    assert_eq!(count(&by_office, "draft", "office", "*"), 1);
    // A submission's event invalidates the cached table at once (not after its 30 s).
    upload_photo(&mut party, ids[0], jpeg(600, 800), "foto.jpg").await;
    assert_eq!(
        submit_html(&mut party, ids[0]).await.status,
        StatusCode::SEE_OTHER
    );
    let started = std::time::Instant::now();
    loop {
        let fresh: serde_json::Value = get("/api/v1/tables/progress.by_sex?postulant=PVEM".into())
            .await
            .json()
            .await
            .unwrap();
        if count(&fresh, "submitted", "sex", "*") == 2 {
            assert_eq!(count(&fresh, "draft", "sex", "*"), 0);
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "still cached: {fresh}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // Five days ago: the historical counts, not today's.
    let day = (chrono::Utc::now() - chrono::Duration::days(5))
        .format("%Y-%m-%d")
        .to_string();
    let earlier: serde_json::Value = get(format!(
        "/api/v1/tables/progress.by_sex?postulant=PVEM&at={day}"
    ))
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(count(&earlier, "not_started", "sex", "*"), total);
    assert_eq!(count(&earlier, "draft", "sex", "*"), 0);
    // CSV, unknown filters, unknown tables.
    let csv = get("/api/v1/tables/progress.by_postulant?format=csv".into())
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.starts_with("status,postulant,count,suppressed,cut_off"),
        "{csv}"
    );
    assert_eq!(
        get("/api/v1/tables/progress.by_sex?color=azul".into())
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        get("/api/v1/tables/progress.by_nada".into()).await.status(),
        StatusCode::NOT_FOUND
    );
    // Identity tables come suppressed from identity (nobody consented here: n = 0).
    let identity: serde_json::Value = get("/api/v1/tables/identity.indigenous.by_sex".into())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(identity["n"], 0);
    // One cut-off for every table: identity tables take `at` too (the release published then);
    // refusals are structured and in Spanish.
    let before_any = get(format!(
        "/api/v1/tables/identity.indigenous.by_sex?at={day}"
    ))
    .await;
    assert_eq!(before_any.status(), StatusCode::NOT_FOUND);
    assert!(
        before_any
            .text()
            .await
            .unwrap()
            .contains("aún no se había publicado")
    );
    let future = get("/api/v1/tables/identity.indigenous.by_sex?at=2999-01-01".into()).await;
    assert_eq!(future.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let future: serde_json::Value = future.json().await.unwrap();
    assert_eq!(
        future["violations"][0]["reason"], "in_the_future",
        "{future}"
    );
    let isolating = get("/api/v1/tables/identity.indigenous.by_sex?constituency=01".into()).await;
    assert_eq!(isolating.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let isolating: serde_json::Value = isolating.json().await.unwrap();
    assert_eq!(
        isolating["violations"][0]["reason"], "not_predeclared",
        "{isolating}"
    );

    // The statistician's session of docs/statistics.md runs as written.
    let printed = statistics_session(&stack, &token);
    let everyone: i64 = sqlx::query_scalar("SELECT count(*) FROM candidacies")
        .fetch_one(&stack.capture_pool)
        .await
        .unwrap();
    assert!(
        printed.contains(&format!("total candidaturas: {everyone}\n")),
        "{printed}"
    );
    assert!(printed.contains("\"submitted\": "), "{printed}");
    assert!(
        printed.contains("grupos de identidad: identity."),
        "{printed}"
    );
    let grpc_cells: usize = printed
        .split("celdas de cumplimiento por gRPC: ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .and_then(|n| n.trim().parse().ok())
        .expect("the gRPC part printed its cells");
    assert!(grpc_cells > 0, "{printed}");

    // A report snapshot is served again byte for byte with its hash.
    let created = client
        .post(format!(
            "{}/api/v1/reports/progress?at={day}",
            stack.statistics
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: serde_json::Value = created.json().await.unwrap();
    let stored = get(format!(
        "/api/v1/reports/{}",
        created["id"].as_str().unwrap()
    ))
    .await;
    let hash = stored.headers()["x-content-sha256"]
        .to_str()
        .unwrap()
        .to_string();
    let bytes = stored.bytes().await.unwrap();
    use sha2::Digest;
    assert_eq!(hex::encode(sha2::Sha256::digest(&bytes)), hash);
    assert_eq!(created["content_sha256"], hash);
    let again = get(format!(
        "/api/v1/reports/{}",
        created["id"].as_str().unwrap()
    ))
    .await
    .bytes()
    .await
    .unwrap();
    assert_eq!(bytes, again);

    // Only statisticians and admins; a party's token is refused, no token is refused.
    let party_token = stack.api_token("otro@partidos.mx", Role::Party).await;
    let refused = client
        .get(format!("{}/api/v1/tables", stack.statistics))
        .bearer_auth(&party_token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let anonymous = client
        .get(format!("{}/api/v1/tables", stack.statistics))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    stack.stop().await;
}

/// The first two candidacies of PVEM with every curricular section saved by the party (drafts),
/// and the party's browser.
async fn two_pvem_drafts(stack: &Stack) -> (Vec<Uuid>, Browser) {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM candidacies WHERE postulant_code = 'PVEM' ORDER BY external_id LIMIT 2",
    )
    .fetch_all(&stack.capture_pool)
    .await
    .unwrap();
    let mut party = party_browser(stack, "PVEM").await;
    fill_sections(&mut party, ids[0]).await;
    fill_sections(&mut party, ids[1]).await;
    (ids, party)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_unit_produces_the_april_report_and_statisticians_read_every_table_over_grpc() {
    use conoceles_proto::statistics::v1 as spb;
    use conoceles_proto::statistics::v1::statistics_service_client::StatisticsServiceClient;
    let stack = spawn_stack().await;
    seeded(&stack).await;
    stack.age_status_changes(10).await;
    let (ids, mut party) = two_pvem_drafts(&stack).await;

    // The admin produces the April report at a cut-off five days ago, from the back office.
    let password = stack.account("unidad@iec.org.mx", Role::Admin).await;
    let mut admin = stack.browser();
    admin.first_login("unidad@iec.org.mx", &password).await;
    let form = admin.get("/admin/informes").await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("Aún no hay informes guardados."));
    let day = (chrono::Utc::now() - chrono::Duration::days(5))
        .format("%Y-%m-%d")
        .to_string();
    let created = admin
        .post(
            "/admin/informes",
            &[
                ("csrf", &form.hidden("csrf")),
                ("tipo", "april"),
                ("al", &day),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let location = created.location.unwrap();
    let id = location.rsplit('/').next().unwrap().to_string();
    let report = admin.get(&location).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    for expected in [
        "Informe cuantitativo de avance de abril",
        "<svg role=\"img\"",
        "Cumplimiento por postulante y cargo",
        "Sin iniciar",
        "Guardar como PDF",
    ] {
        assert!(
            report.body.contains(expected),
            "{expected}: {}",
            report.body
        );
    }
    // As of five days ago every candidacy of the election was still not started.
    let everyone: i64 = sqlx::query_scalar("SELECT count(*) FROM candidacies")
        .fetch_one(&stack.capture_pool)
        .await
        .unwrap();
    let csv = admin.get(&format!("{location}/csv")).await;
    assert_eq!(csv.status, StatusCode::OK);
    // In Spanish: titles, column names and values by name, times in the election's zone.
    assert!(
        csv.body.starts_with(
            "tabla,Estado,Partido o candidatura,Cargo,Sexo,Medida,conteo,suprimida,corte\r\n"
        ),
        "{}",
        csv.body
    );
    assert!(
        csv.body.contains(&format!(
            "Avance de la captura por estado y postulante,Sin iniciar,Total,,,,{everyone},no,"
        )),
        "{}",
        csv.body
    );
    assert!(
        !csv.body
            .contains("Avance de la captura por estado y postulante,En captura,"),
        "{}",
        csv.body
    );
    assert!(csv.body.contains(",Partido Verde Ecologista de México,"));
    assert!(!csv.body.contains("PVEM") && !csv.body.contains("not_started"));
    assert!(
        csv.body.contains("-06:00\r\n"),
        "the election's zone: {}",
        csv.body
    );
    assert!(report.body.contains("(CST)"), "{}", report.body);
    // Shown again after the capture moved on: the same page and the same CSV.
    upload_photo(&mut party, ids[1], jpeg(600, 800), "foto.jpg").await;
    assert_eq!(
        submit_html(&mut party, ids[1]).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(admin.get(&location).await.body, report.body);
    assert_eq!(admin.get(&format!("{location}/csv")).await.body, csv.body);
    let listed = admin.get("/admin/informes").await;
    assert!(listed.body.contains(&id), "{}", listed.body);
    assert!(listed.body.contains("Informe cuantitativo de abril"));
    // The hash shown is the hash of the stored JSON the statistics API serves.
    let token = stack
        .api_token("estadistica@iec.org.mx", Role::Statistician)
        .await;
    let stored = reqwest::Client::new()
        .get(format!("{}/api/v1/reports/{id}", stack.statistics))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let hash = stored.headers()["x-content-sha256"]
        .to_str()
        .unwrap()
        .to_string();
    use sha2::Digest;
    assert_eq!(
        hex::encode(sha2::Sha256::digest(stored.bytes().await.unwrap())),
        hash
    );
    assert!(report.body.contains(&hash));
    // A party reaches neither the page nor the report.
    assert_eq!(
        party.get("/admin/informes").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(party.get(&location).await.status, StatusCode::FORBIDDEN);

    // Statisticians call gRPC with their session token and get every table; others do not.
    let channel =
        tonic::transport::Endpoint::from_shared(format!("http://{}", stack.statistics_grpc))
            .unwrap()
            .connect()
            .await
            .unwrap();
    let mut client = StatisticsServiceClient::new(channel);
    let ask = |token: Option<&str>, name: &str| {
        let mut request = tonic::Request::new(spb::GetTableRequest {
            name: name.into(),
            ..Default::default()
        });
        if let Some(t) = token {
            request
                .metadata_mut()
                .insert("authorization", format!("Bearer {t}").parse().unwrap());
        }
        request
    };
    let compliance = client
        .get_table(ask(Some(&token), "compliance.by_postulant_office"))
        .await
        .unwrap()
        .into_inner();
    assert!(!compliance.cells.is_empty());
    let listed = client
        .list_tables({
            let mut r = tonic::Request::new(spb::ListTablesRequest {});
            r.metadata_mut()
                .insert("authorization", format!("Bearer {token}").parse().unwrap());
            r
        })
        .await
        .unwrap()
        .into_inner();
    assert!(listed.tables.iter().any(|t| !t.public));
    // The curricular profile: persons of the candidacies in force by education level,
    // matching the database; the two filled questionnaires carry their level.
    let profile = client
        .get_table(ask(Some(&token), "curricular.education_level.by_postulant"))
        .await
        .unwrap()
        .into_inner();
    let cell = |level: &str, postulant: &str| {
        profile
            .cells
            .iter()
            .find(|c| {
                c.dimensions["education_level"] == level && c.dimensions["postulant"] == postulant
            })
            .and_then(|c| c.count)
            .unwrap_or(0) as i64
    };
    let (persons, pvem_level): (i64, String) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM persons p JOIN candidacies c ON c.id = p.candidacy_id \
                 WHERE p.active AND c.status <> 'withdrawn'), \
                (SELECT fields->>'level' FROM curricular_sections s JOIN persons p ON p.id = s.person_id \
                 WHERE p.candidacy_id = $1 AND s.section = 'education')",
    )
    .bind(ids[0])
    .fetch_one(&stack.capture_pool)
    .await
    .unwrap();
    assert_eq!(cell("*", "*"), persons);
    assert_eq!(cell(&pvem_level, "PVEM"), 2);
    assert_eq!(cell("sin_dato", "*"), persons - 2);
    let party_token = stack
        .api_token("partido-grpc@partidos.mx", Role::Party)
        .await;
    let refused = client
        .get_table(ask(Some(&party_token), "progress.by_sex"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    let anonymous = client
        .get_table(ask(None, "progress.by_sex"))
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), tonic::Code::Unauthenticated);
    let forged = client
        .get_table(ask(Some("not-a-session"), "progress.by_sex"))
        .await
        .unwrap_err();
    assert_eq!(forged.code(), tonic::Code::Unauthenticated);

    // gRPC and HTTP give the same tables and the same report, cell by cell.
    let http = reqwest::Client::new();
    let http_json = |path: String| {
        let (http, token, base) = (http.clone(), token.clone(), stack.statistics.clone());
        async move {
            let response = http
                .get(format!("{base}{path}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            response.bytes().await.unwrap()
        }
    };
    type Cells = std::collections::BTreeMap<String, Option<u64>>;
    let json_cells = |table: &serde_json::Value| -> Cells {
        table["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let mut dims: Vec<String> = c["dimensions"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap()))
                    .collect();
                dims.sort();
                (dims.join(","), c["count"].as_u64())
            })
            .collect()
    };
    let grpc_cells = |cells: &[spb::Cell]| -> Cells {
        cells
            .iter()
            .map(|c| {
                let mut dims: Vec<String> = c
                    .dimensions
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                dims.sort();
                (dims.join(","), c.count)
            })
            .collect()
    };
    for name in [
        "progress.by_sex",
        "progress.by_postulant",
        "compliance.by_postulant_office",
        "curricular.education_level.by_postulant",
        "identity.indigenous.by_sex",
        "identity.migrant_years.by_postulant",
    ] {
        let over_http: serde_json::Value =
            serde_json::from_slice(&http_json(format!("/api/v1/tables/{name}")).await).unwrap();
        let over_grpc = client
            .get_table(ask(Some(&token), name))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            json_cells(&over_http),
            grpc_cells(&over_grpc.cells),
            "{name}"
        );
        assert_eq!(over_http["n"].as_u64(), over_grpc.n, "{name}");
    }
    let report_http = http_json(format!("/api/v1/reports/progress?at={day}")).await;
    let mut request = tonic::Request::new(spb::GetProgressReportRequest {
        at: Some(conoceles_kit::proto_time::to_proto(
            chrono::DateTime::parse_from_rfc3339(
                serde_json::from_slice::<serde_json::Value>(&report_http).unwrap()["cut_off"]
                    .as_str()
                    .unwrap(),
            )
            .unwrap()
            .with_timezone(&chrono::Utc),
        )),
        ..Default::default()
    });
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let report_grpc = client
        .get_progress_report(request)
        .await
        .unwrap()
        .into_inner();
    let report_json: serde_json::Value = serde_json::from_slice(&report_http).unwrap();
    let http_tables = report_json["tables"].as_array().unwrap();
    assert_eq!(http_tables.len(), 4);
    assert_eq!(report_grpc.tables.len(), 4, "every table of the report");
    for (over_http, over_grpc) in http_tables.iter().zip(&report_grpc.tables) {
        assert_eq!(json_cells(over_http), grpc_cells(&over_grpc.cells));
    }
    assert_eq!(
        report_grpc.content_sha256,
        hex::encode(sha2::Sha256::digest(&report_http)),
        "the same report, byte for byte"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_grpc_method_of_capture_validation_publication_and_statistics_admits_exactly_its_declared_callers()
 {
    let stack = spawn_stack().await;
    let signer = conoceles_kit::access::TokenSigner::from_seed(common::SIGNING_SEED);
    let capture = stack.capture_grpc.trim_start_matches("http://").to_string();
    for (addr, policy, package, audience) in [
        (
            capture,
            conoceles_capture::grpc::policy(),
            "conoceles.capture.v1",
            "capture",
        ),
        (
            stack.validation_grpc.clone(),
            conoceles_validation::grpc::policy(),
            "conoceles.validation.v1",
            "validation",
        ),
        (
            stack.publication_grpc.clone(),
            conoceles_publication::grpc::policy(),
            "conoceles.publication.v1",
            "publication",
        ),
        (
            stack.statistics_grpc.clone(),
            conoceles_statistics::grpc::policy(),
            "conoceles.statistics.v1",
            "statistics",
        ),
    ] {
        conoceles_kit::access::matrix::assert_grpc_matrix(
            addr.parse().unwrap(),
            &policy,
            package,
            &signer,
            audience,
        )
        .await;
    }
    stack.stop().await;
}

/// The short fault-injection run (the long one is `make soak`): submissions and approvals go
/// through the real services while every service's connection to RabbitMQ is cut and refused,
/// again and again. Each operation is logged as ok, failed or unknown; at the end every
/// acknowledged submission that was approved must be published (nothing lost) and every effect
/// applied once (nothing duplicated).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_lost_or_applied_twice_while_the_broker_connections_fail() {
    use conoceles_kit::access::{Actor, Caller};
    use conoceles_proto::validation::v1 as vpb;
    use conoceles_proto::validation::v1::validation_service_client::ValidationServiceClient;
    use std::io::Write;
    use std::sync::Arc;
    use std::time::Duration;

    // The services' last warnings, shown if something stalls or is left behind.
    let logs = common::LogCapture::install();
    let warnings = || {
        let text = logs.text();
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("WARN") || l.contains("ERROR"))
            .collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    };
    // Everything the services logged, for the post-mortem of a run that stalls or leaves
    // something behind.
    let dump_log = || {
        let dump = std::env::temp_dir().join(format!("fault-run-{}.log", std::process::id()));
        let _ = std::fs::write(&dump, logs.text());
        let _ = writeln!(
            std::io::stdout().lock(),
            "faults: full log in {}",
            dump.display()
        );
    };
    let upstream = "127.0.0.1:5672";
    let proxy = Arc::new(FaultyProxy::start(upstream.into()).await);
    let url = testing::amqp_url().replace(upstream, &proxy.addr.to_string());
    let stack = spawn_stack_with(Some(url)).await;
    seeded(&stack).await;
    // `make soak` sets SOAK_CANDIDACIES (1,000); the party gets that many candidacies.
    let count: i64 = std::env::var("SOAK_CANDIDACIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    conoceles_capture::tools::demo::grow(
        &stack.capture_pool,
        "PVEM",
        usize::try_from(count).unwrap_or(0),
    )
    .await
    .unwrap();
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM candidacies WHERE postulant_code = 'PVEM' ORDER BY external_id LIMIT $1",
    )
    .bind(count)
    .fetch_all(&stack.capture_pool)
    .await
    .unwrap();
    let mut party = party_browser(&stack, "PVEM").await;

    // Faults: every connection to the broker cut, and refused for 0.8 s, eight times 0.7 s
    // apart, then every 5 s until the approvals are decided (a network that flaps without a
    // pause would let no reconnection finish); and one more cut after every third submission.
    // Each timed cut is followed by a slow link (every chunk held 250 ms, both ways, for 1 s:
    // publishes, confirms and deliveries arrive late and bunched); SOAK_SLOW_LINKS=0 leaves
    // them out.
    let slow_links = std::env::var("SOAK_SLOW_LINKS").map_or(true, |v| v != "0");
    let chaos = tokio::spawn({
        let proxy = proxy.clone();
        async move {
            for round in 0.. {
                let pause = if round < 8 { 700 } else { 5_000 };
                tokio::time::sleep(Duration::from_millis(pause)).await;
                proxy.outage(Duration::from_millis(800)).await;
                if slow_links {
                    proxy
                        .slowdown(Duration::from_millis(250), Duration::from_secs(1))
                        .await;
                }
            }
        }
    });
    let mut log: Vec<(Uuid, &str, &str)> = Vec::new();
    let mut acknowledged = Vec::new();
    for id in &ids {
        fill_sections(&mut party, *id).await;
        upload_photo(&mut party, *id, jpeg(600, 800), "foto.jpg").await;
        let sent = submit_html(&mut party, *id).await;
        if sent.status == StatusCode::SEE_OTHER {
            log.push((*id, "submit", "ok"));
            acknowledged.push(*id);
        } else {
            log.push((*id, "submit", "failed"));
        }
        if acknowledged.len() % 3 == 0 {
            proxy.outage(Duration::from_millis(300)).await;
        }
        if acknowledged.len() % 100 == 0 {
            let _ = writeln!(
                std::io::stdout().lock(),
                "faults: {} submissions acknowledged so far",
                acknowledged.len()
            );
        }
    }

    let _ = writeln!(
        std::io::stdout().lock(),
        "faults: {} submissions acknowledged; approving",
        acknowledged.len()
    );
    // Approvals as a reviewer through validation's gRPC, retried until decided: an answer lost
    // on the way is "unknown", and its retry must not apply it twice.
    let signer = conoceles_kit::access::TokenSigner::from_seed(SIGNING_SEED);
    let reviewer = Caller {
        service: Some("capture".into()),
        actor: Some(Actor {
            account_id: Uuid::new_v4(),
            role: Role::Reviewer,
            party_id: None,
            candidacy_id: None,
        }),
    };
    let channel =
        conoceles_kit::grpc::channel(&format!("http://{}", stack.validation_grpc)).unwrap();
    let mut validation = ValidationServiceClient::new(channel);
    // Validation's database, for where a submission stopped and for its outbox at the end.
    let validation_pool = sqlx::PgPool::connect(&stack.validation_db_url)
        .await
        .unwrap();
    for id in &acknowledged {
        let submission: Uuid = sqlx::query_scalar(
            "SELECT id FROM submissions WHERE candidacy_id = $1 ORDER BY round DESC LIMIT 1",
        )
        .bind(id)
        .fetch_one(&stack.capture_pool)
        .await
        .unwrap();
        let started = std::time::Instant::now();
        loop {
            let token =
                conoceles_kit::access::matrix::token_for(&signer, &reviewer, "validation").unwrap();
            let answer = validation
                .approve(conoceles_kit::access::with_bearer(
                    vpb::ApproveRequest {
                        submission_id: submission.to_string(),
                        round: 1,
                    },
                    &token,
                ))
                .await;
            match answer {
                Ok(_) => {
                    log.push((*id, "approve", "ok"));
                    break;
                }
                // Already decided: an earlier attempt whose answer was lost went through.
                Err(s)
                    if s.code() == tonic::Code::Aborted
                        || s.code() == tonic::Code::AlreadyExists
                        || (s.code() == tonic::Code::FailedPrecondition
                            && log.last() == Some(&(*id, "approve", "unknown"))) =>
                {
                    log.push((*id, "approve", "ok"));
                    break;
                }
                // Not in the queue yet (its event is delayed by the faults): retried.
                Err(s)
                    if s.code() == tonic::Code::NotFound
                        || s.code() == tonic::Code::FailedPrecondition =>
                {
                    log.push((*id, "approve", "failed"));
                }
                Err(_) => log.push((*id, "approve", "unknown")),
            }
            if started.elapsed() > Duration::from_secs(90) {
                // Where it stopped: still in capture's outbox, or delivered to validation?
                let outbox: Vec<(i32, Option<String>)> = sqlx::query_as(
                    "SELECT attempts, last_error FROM kit_outbox WHERE routing_key LIKE 'curricular.%'",
                )
                .fetch_all(&stack.capture_pool)
                .await
                .unwrap_or_default();
                let delivered: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM kit_inbox WHERE routing_key = 'curricular.submitted'",
                )
                .fetch_one(&validation_pool)
                .await
                .unwrap_or(-1);
                dump_log();
                panic!(
                    "the submission of {id} never reached the review queue in 90 s; capture's \
                     outbox holds {outbox:?}; validation consumed {delivered} submissions of \
                     {}; operations: {log:?}\nthe last warnings of the services:\n{}",
                    acknowledged.len(),
                    warnings()
                );
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
    chaos.abort();
    let _ = writeln!(
        std::io::stdout().lock(),
        "faults: approvals decided; waiting for the public read model"
    );
    assert!(
        proxy.cuts.load(std::sync::atomic::Ordering::SeqCst) >= 3
            && (!slow_links || proxy.slowdowns.load(std::sync::atomic::Ordering::SeqCst) >= 1),
        "the faults were injected"
    );

    // Every approved candidacy reaches the public read model.
    let started = std::time::Instant::now();
    let published = loop {
        let published: Vec<Uuid> = sqlx::query_scalar(
            "SELECT candidacy_id FROM profiles WHERE withdrawn_at IS NULL AND candidacy_id = ANY($1)",
        )
        .bind(&acknowledged)
        .fetch_all(&stack.publication_pool)
        .await
        .unwrap();
        let patience = Duration::from_secs(60 + acknowledged.len() as u64 / 10);
        if published.len() == acknowledged.len() || started.elapsed() > patience {
            break published;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let lost: Vec<&Uuid> = acknowledged
        .iter()
        .filter(|id| !published.contains(id))
        .collect();
    // Each effect once: one publication per candidacy in the public log, one approval status
    // change per candidacy in capture, one review per submission in validation.
    let published_twice: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT candidacy_id, count(*) FROM profile_log WHERE action = 'published' \
         GROUP BY 1 HAVING count(*) > 1",
    )
    .fetch_all(&stack.publication_pool)
    .await
    .unwrap();
    let approved_twice: Vec<(Uuid, i64)> = sqlx::query_as(
        "SELECT candidacy_id, count(*) FROM status_changes WHERE status = 'approved' \
         GROUP BY 1 HAVING count(*) > 1",
    )
    .fetch_all(&stack.capture_pool)
    .await
    .unwrap();
    // And nothing left behind: every outbox drained to the broker.
    let mut pending = (-1, -1);
    for _ in 0..50 {
        pending = (
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM kit_outbox")
                .fetch_one(&stack.capture_pool)
                .await
                .unwrap(),
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM kit_outbox")
                .fetch_one(&validation_pool)
                .await
                .unwrap(),
        );
        if pending == (0, 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    if pending.1 > 0 || !lost.is_empty() {
        dump_log();
        // Where validation's relay stands: how often it tried, and what it last heard.
        let tries: Vec<(i32, Option<String>, i64)> = sqlx::query_as(
            "SELECT attempts, last_error, count(*) FROM kit_outbox GROUP BY 1, 2 ORDER BY 1",
        )
        .fetch_all(&validation_pool)
        .await
        .unwrap();
        let _ = writeln!(
            std::io::stdout().lock(),
            "faults: validation's outbox (attempts, last error, rows): {tries:?}\n\
             faults: the last warnings of the services:\n{}",
            warnings()
        );
    }
    validation_pool.close().await;
    let tally = |op: &str, outcome: &str| {
        log.iter()
            .filter(|(_, o, r)| *o == op && *r == outcome)
            .count()
    };
    // The operation log's tally, for `make soak`'s output.
    let _ = writeln!(
        std::io::stdout().lock(),
        "faults: {} broker outages, {} slow-link periods; submit ok {} failed {}; approve ok {} failed {} unknown {}; \
         lost {}; duplicated {}; outbox rows left (capture, validation) {:?}",
        proxy.cuts.load(std::sync::atomic::Ordering::SeqCst),
        proxy.slowdowns.load(std::sync::atomic::Ordering::SeqCst),
        tally("submit", "ok"),
        tally("submit", "failed"),
        tally("approve", "ok"),
        tally("approve", "failed"),
        tally("approve", "unknown"),
        lost.len(),
        published_twice.len() + approved_twice.len(),
        pending
    );
    assert_eq!(acknowledged.len(), ids.len(), "{log:?}");
    assert!(lost.is_empty(), "lost: {lost:?}");
    assert!(published_twice.is_empty(), "{published_twice:?}");
    assert!(approved_twice.is_empty(), "{approved_twice:?}");
    assert_eq!(pending, (0, 0), "outbox rows never published");
    stack.stop().await;
}

/// Where the election asks alternates for their questionnaires, an alternate's identity answers
/// consented for publication appear with the alternate on the public profile, sent after the
/// approval as is common; the holder's unconsented answers do not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alternates_consented_identity_answers_are_published_with_the_alternate() {
    let stack = spawn_stack().await;
    seeded(&stack).await;
    sqlx::query("UPDATE elections SET alternate_questionnaire = TRUE")
        .execute(&stack.capture_pool)
        .await
        .unwrap();
    let candidacy = stack.candidacy_of("MC").await;
    let mut party = party_browser(&stack, "MC").await;
    for role in ["holder", "alternate"] {
        fill_sections_of(&mut party, candidacy, role).await;
        let photo = upload_photo_of(&mut party, candidacy, role, jpeg(600, 800), "foto.jpg").await;
        assert_eq!(photo.status, StatusCode::SEE_OTHER, "{}", photo.body);
    }
    assert_eq!(
        submit_html(&mut party, candidacy).await.status,
        StatusCode::SEE_OTHER
    );
    let holder = stack.holder(candidacy).await;
    let alternate: String = sqlx::query_scalar(
        "SELECT full_name FROM persons WHERE candidacy_id = $1 AND role = 'alternate' AND active",
    )
    .bind(candidacy)
    .fetch_one(&stack.capture_pool)
    .await
    .unwrap();
    let reviewer_password = stack
        .account("revisa-suplentes@iec.org.mx", Role::Reviewer)
        .await;
    let mut reviewer = stack.browser();
    reviewer
        .first_login("revisa-suplentes@iec.org.mx", &reviewer_password)
        .await;
    approve_round(&mut reviewer, &holder, 1).await;
    let mut citizen = stack.citizen();
    let profile_path = format!("/candidaturas/{candidacy}");
    let profile = eventually(&mut citizen, &profile_path, &alternate).await;
    assert!(!profile.body.contains("Cuestionario de identidad"));

    // After the approval: the holder answers without publication consent, the alternate with it.
    known_to_identity(&stack, candidacy).await;
    for (role, consents) in [
        ("holder", &["processing", "statistics"][..]),
        (
            "alternate",
            &["processing", "publication", "statistics"][..],
        ),
    ] {
        let path = format!("/captura/{candidacy}/{role}/identidad");
        let form = party.get(&path).await;
        assert_eq!(form.status, StatusCode::OK, "{role}: {}", form.body);
        let answers = identity_answers(&form.hidden("csrf"), consents);
        let sent = party
            .post_pairs(&path, &with_action(&answers, "enviar"))
            .await;
        assert_eq!(sent.status, StatusCode::OK, "{role}: {}", sent.body);
    }
    let profile = eventually(&mut citizen, &profile_path, "Cuestionario de identidad").await;
    // Exactly one identity section, inside the alternate's part of the page.
    assert_eq!(
        profile
            .body
            .matches("<h3>Cuestionario de identidad</h3>")
            .count(),
        1
    );
    let alternate_part = profile
        .body
        .split(&format!("Suplente: {alternate}"))
        .nth(1)
        .unwrap();
    assert!(alternate_part.contains("<h3>Cuestionario de identidad</h3>"));
    assert!(alternate_part.contains("¿Se considera una persona indígena?"));
    stack.stop().await;
}

/// The notice to the General Council at the end of the campaigns: refused before the end, then
/// every live candidacy without complete information named with its party, office and what it
/// lacks; stored with the SHA-256 of exactly its content, printable and as CSV; admins only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_end_of_the_campaigns_the_unit_gives_notice_to_the_council_by_name() {
    use conoceles_capture::domain::election;
    let stack = spawn_stack().await;
    seeded(&stack).await;
    let password = stack.account("vista@iec.org.mx", Role::Admin).await;
    let mut admin = stack.browser();
    admin.first_login("vista@iec.org.mx", &password).await;

    let without_date = admin.get("/admin/vista-consejo").await;
    assert_eq!(without_date.status, StatusCode::OK);
    assert!(
        without_date
            .body
            .contains("aún no tiene fecha de fin de las campañas")
    );

    // The campaigns end today: the notice waits for tomorrow.
    let set_end = |days_ago: i64| {
        let pool = stack.capture_pool.clone();
        async move {
            let id = election::current(&pool).await.unwrap().unwrap().id;
            let before = election::settings(&pool, id).await.unwrap();
            let tz: chrono_tz::Tz = before.time_zone.parse().unwrap();
            let today = chrono::Utc::now().with_timezone(&tz).date_naive();
            let after = election::Settings {
                campaign_ends_on: Some(today - chrono::Duration::days(days_ago)),
                ..before.clone()
            };
            assert!(election::check(&after).is_empty());
            election::update(&pool, &before, &after).await.unwrap();
            today - chrono::Duration::days(days_ago)
        }
    };
    set_end(0).await;
    let form = admin.get("/admin/vista-consejo").await;
    assert!(form.body.contains("se genera a partir del día siguiente"));
    let early = admin
        .post("/admin/vista-consejo", &[("csrf", &form.hidden("csrf"))])
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.body);

    let end = set_end(2).await;
    let election_page = admin.get("/admin/eleccion").await;
    assert!(
        election_page
            .body
            .contains(&format!("name=\"fin_campanas\" value=\"{end}\""))
    );
    let form = admin.get("/admin/vista-consejo").await;
    assert!(form.body.contains("Generar y guardar la vista al Consejo"));
    let produced = admin
        .post("/admin/vista-consejo", &[("csrf", &form.hidden("csrf"))])
        .await;
    assert_eq!(produced.status, StatusCode::SEE_OTHER, "{}", produced.body);
    let location = produced.location.clone().unwrap();
    let notice = admin.get(&location).await;
    assert_eq!(notice.status, StatusCode::OK);
    // Nobody has captured yet in the demo: every live candidacy is named, with what it lacks.
    let live: i64 =
        sqlx::query_scalar("SELECT count(*) FROM candidacies WHERE status <> 'withdrawn'")
            .fetch_one(&stack.capture_pool)
            .await
            .unwrap();
    assert!(
        notice
            .body
            .contains(&format!("{live} de {live} candidaturas vigentes no tienen")),
        "{}",
        notice.body
    );
    let holder = stack.holder(stack.candidacy_of("PVEM").await).await;
    assert!(notice.body.contains(&holder));
    assert!(notice.body.contains("Cuestionario curricular: Sin iniciar"));
    assert!(
        notice
            .body
            .contains("Cuestionario de identidad: sin enviar")
    );
    assert!(
        notice
            .body
            .contains(&format!("Fin de las campañas: {}", end.format("%d/%m/%Y")))
    );
    // Stored with the hash of exactly what is stored; listed; the CSV has a row per candidacy.
    let (sha, same): (String, bool) = sqlx::query_as(
        "SELECT content_sha256, content_sha256 = encode(sha256(convert_to(content, 'UTF8')), 'hex') \
         FROM council_notices",
    )
    .fetch_one(&stack.capture_pool)
    .await
    .unwrap();
    assert!(same);
    assert!(notice.body.contains(&sha));
    assert!(admin.get("/admin/vista-consejo").await.body.contains(&sha));
    let csv = admin.get(&format!("{location}/csv")).await;
    assert_eq!(csv.body.lines().count() as i64, live + 1, "{}", csv.body);
    assert!(
        csv.body
            .starts_with("registro,persona_propietaria,partido_o_candidatura,")
    );
    // The unit's admins only.
    let mut party = party_browser(&stack, "PVEM").await;
    assert_eq!(party.get(&location).await.status, StatusCode::FORBIDDEN);
    stack.stop().await;
}

/// The correction a party asks for, applied by the unit itself (the Lineamientos' adjustment
/// through the unit's own profile): registered with its reference, date, requester and change,
/// due the next business day (weekends and the election's non-working days skipped), listed as
/// pending and then overdue; the admin changes the section and sends it; a reviewer approves; the
/// list says it was applied.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_unit_applies_a_requested_correction_itself_within_the_next_business_day() {
    use chrono::Datelike;
    let stack = spawn_stack().await;
    seeded(&stack).await;
    let candidacy = stack.candidacy_of("PT").await;
    let mut party = party_browser(&stack, "PT").await;
    fill_sections(&mut party, candidacy).await;
    let photo = upload_photo(&mut party, candidacy, jpeg(600, 800), "foto.jpg").await;
    assert_eq!(photo.status, StatusCode::SEE_OTHER);
    assert_eq!(
        submit_html(&mut party, candidacy).await.status,
        StatusCode::SEE_OTHER
    );
    let password = stack.account("revisa@iec.org.mx", Role::Reviewer).await;
    let mut reviewer = stack.browser();
    reviewer.first_login("revisa@iec.org.mx", &password).await;
    let holder = stack.holder(candidacy).await;
    approve_round(&mut reviewer, &holder, 1).await;
    eventually(&mut party, "/captura", "Aprobada").await;

    // The party's request came on the last Friday; the Monday after it is a holiday of the
    // election's calendar, so the unit had until Tuesday — already past: overdue.
    let admin_password = stack.account("corrige@iec.org.mx", Role::Admin).await;
    let mut admin = stack.browser();
    admin
        .first_login("corrige@iec.org.mx", &admin_password)
        .await;
    let today = chrono::Utc::now().date_naive();
    let mut friday = today - chrono::Duration::days(7);
    while friday.weekday() != chrono::Weekday::Fri {
        friday -= chrono::Duration::days(1);
    }
    let monday = friday + chrono::Duration::days(3);
    let tuesday = friday + chrono::Duration::days(4);
    {
        use conoceles_capture::domain::election;
        let id = election::current(&stack.capture_pool)
            .await
            .unwrap()
            .unwrap()
            .id;
        let before = election::settings(&stack.capture_pool, id).await.unwrap();
        let after = election::Settings {
            holidays: vec![monday],
            ..before.clone()
        };
        election::update(&stack.capture_pool, &before, &after)
            .await
            .unwrap();
    }
    assert!(
        admin
            .get("/admin/eleccion")
            .await
            .body
            .contains(&monday.to_string())
    );
    let page = admin.get(&format!("/captura/{candidacy}")).await;
    let reopened = admin
        .post(
            &format!("/admin/candidaturas/{candidacy}/reabrir"),
            &[
                ("csrf", &page.hidden("csrf")),
                ("referencia", "PT/REP/044/2027"),
                ("fecha_solicitud", &friday.to_string()),
                ("solicitante", "Lic. Rosa Díaz, representante del PT"),
                (
                    "motivo",
                    "Corregir el año de término del último cargo: 2021.",
                ),
            ],
        )
        .await;
    assert_eq!(reopened.status, StatusCode::OK, "{}", reopened.body);
    assert!(
        reopened.body.contains(&format!(
            "Plazo para aplicarla: {}",
            tuesday.format("%d/%m/%Y")
        )),
        "{}",
        reopened.body
    );
    let list = admin.get("/admin/correcciones").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("PT/REP/044/2027"));
    assert!(list.body.contains("Lic. Rosa Díaz, representante del PT"));
    assert!(list.body.contains("Fuera de plazo"), "{}", list.body);
    assert!(list.body.contains("1 fuera de plazo"));

    // The unit applies it itself: the section form is open to the admin, who saves and sends.
    let path = format!("/captura/{candidacy}/holder/professional");
    let form = admin.get(&path).await;
    assert_eq!(form.status, StatusCode::OK);
    let corrected = format!("{} De 2010 a 2021 fui directora general.", text(60));
    let saved = admin
        .post(
            &path,
            &[("csrf", &form.hidden("csrf")), ("history", &corrected)],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(
        submit_html(&mut admin, candidacy).await.status,
        StatusCode::SEE_OTHER
    );
    assert!(
        admin
            .get("/admin/correcciones")
            .await
            .body
            .contains("Aplicada, en revisión")
    );
    approve_round(&mut reviewer, &holder, 2).await;
    let done = eventually(&mut admin, "/admin/correcciones", "Aplicada y aprobada").await;
    assert!(done.body.contains("No hay correcciones pendientes."));
    // Outside a correction the unit changes nothing.
    let other = stack.candidacy_of("MORENA").await;
    let other_path = format!("/captura/{other}/holder/professional");
    let other_form = admin.get(&other_path).await;
    let refused = admin
        .post(
            &other_path,
            &[
                ("csrf", &other_form.hidden("csrf")),
                ("history", &corrected),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    stack.stop().await;
}

/// Runs the statistician's Python session of docs/statistics.md, as written, against the stack;
/// returns what it printed.
pub(super) fn statistics_session(stack: &Stack, token: &str) -> String {
    let doc = include_str!("../../../../docs/statistics.md");
    let session_code = doc
        .split("```python\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a python block in docs/statistics.md");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let prepared = std::process::Command::new("bash")
        .arg(root.join("deploy/python-deps.sh"))
        .status()
        .expect("deploy/python-deps.sh runs");
    assert!(prepared.success());
    let python = std::process::Command::new(root.join(".run/python/bin/python"))
        .args(["-c", session_code])
        .current_dir(&root)
        .env("STATISTICS_URL", &stack.statistics)
        .env("STATISTICS_GRPC", &stack.statistics_grpc)
        .env("STATISTICS_TOKEN", token)
        .output()
        .expect("the session's python runs");
    assert!(
        python.status.success(),
        "{}",
        String::from_utf8_lossy(&python.stderr)
    );
    String::from_utf8_lossy(&python.stdout).into_owned()
}
