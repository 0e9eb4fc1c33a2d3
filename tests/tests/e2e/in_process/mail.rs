//! The unit's requirements and the mail to parties and candidates, through the real services and
//! a real SMTP server on loopback (`deploy/mail-sink.py`): a requirement issued while the mail
//! server is down is kept, retried and delivered once it is back; observations and approvals
//! email the party and the candidate; an account that declined optional mail still gets the
//! requirements; the party reads its requirements; the printout carries the stored hash.

use super::common::*;
use super::journeys::{
    approve_round, eventually, fill_sections, jpeg, party_browser, seeded, submit_html,
    upload_photo,
};
use conoceles_kit::access::Role;
use reqwest::StatusCode;

async fn pending_deliveries(stack: &Stack) -> (i64, i64) {
    sqlx::query_as(
        "SELECT count(*) FILTER (WHERE state = 'pending'), \
                coalesce(max(attempts) FILTER (WHERE state = 'pending'), 0)::bigint \
         FROM mail_deliveries",
    )
    .fetch_one(&stack.capture_pool)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requirements_and_review_notices_reach_the_parties_by_email_even_after_the_mail_server_was_down()
 {
    // Nothing listens on the mail port yet: the server is down.
    let mut sink = MailSink::reserve();
    let stack = spawn_stack_mailing(sink.url()).await;
    seeded(&stack).await;
    let candidacy = stack.candidacy_of("PT").await;
    let holder = stack.holder(candidacy).await;

    let password = stack.account("requiere@iec.org.mx", Role::Admin).await;
    let mut admin = stack.browser();
    admin.first_login("requiere@iec.org.mx", &password).await;

    // The unit registers the PT's accredited representative; a typo is refused in Spanish.
    let pt = stack.party_id("PT").await.to_string();
    let form = admin.get("/admin/correos").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("Aún no hay correos registrados"));
    let typo = admin
        .post(
            "/admin/correos",
            &[
                ("csrf", &form.hidden("csrf")),
                ("partido", &pt),
                ("correo", "representacion@pt"),
            ],
        )
        .await;
    assert_eq!(typo.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(typo.body.contains("Escriba un correo electrónico válido"));
    assert!(
        typo.body.contains("value=\"representacion@pt\""),
        "typed text kept"
    );
    let added = admin
        .post(
            "/admin/correos",
            &[
                ("csrf", &form.hidden("csrf")),
                ("partido", &pt),
                ("correo", " Representacion@PT.org.mx "),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    assert!(
        admin
            .get("/admin/correos")
            .await
            .body
            .contains("representacion@pt.org.mx")
    );

    // A PT account sets its own address and declines the optional notices.
    let mut party = party_browser(&stack, "PT").await;
    let prefs = party.get("/cuenta/avisos").await;
    assert_eq!(prefs.status, StatusCode::OK);
    assert!(prefs.body.contains("Los requerimientos se envían siempre"));
    let saved = party
        .post(
            "/cuenta/avisos",
            &[
                ("csrf", &prefs.hidden("csrf")),
                ("correo", "enlace@pt.org.mx"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let prefs = party.get("/cuenta/avisos?guardado=1").await;
    assert!(prefs.body.contains("Se guardaron sus preferencias"));
    assert!(prefs.body.contains("value=\"enlace@pt.org.mx\""));
    assert!(!prefs.body.contains("checked"), "optional notices declined");

    // The unit issues the requirements: nobody has captured, so every party has one.
    let page = admin.get("/admin/requerimientos").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Partido del Trabajo"), "{}", page.body);
    let past = admin
        .post(
            "/admin/requerimientos",
            &[
                ("csrf", &page.hidden("csrf")),
                ("plazo", "2020-01-01"),
                ("partido", ""),
            ],
        )
        .await;
    assert_eq!(past.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(past.body.contains("no puede ser anterior a hoy"));
    let due = (chrono::Utc::now() + chrono::Duration::days(5)).date_naive();
    let issued = admin
        .post(
            "/admin/requerimientos",
            &[
                ("csrf", &page.hidden("csrf")),
                ("plazo", &due.to_string()),
                ("partido", &pt),
            ],
        )
        .await;
    assert_eq!(issued.status, StatusCode::SEE_OTHER, "{}", issued.body);
    let list = admin.get(issued.location.as_deref().unwrap()).await;
    assert!(
        list.body.contains("Se generó 1 requerimiento"),
        "{}",
        list.body
    );
    let folio = format!("UT/REQ/{}/0001", chrono::Datelike::year(&due));
    assert!(list.body.contains(&folio));

    // The mail server is down: the delivery is kept and retried, the action did not fail.
    let started = std::time::Instant::now();
    while pending_deliveries(&stack).await.1 < 1 {
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let (waiting, _) = pending_deliveries(&stack).await;
    assert_eq!(waiting, 2, "the unit's address and the account's own");
    let log = admin.get("/admin/correos").await;
    assert!(log.body.contains("intento"), "{}", log.body);
    assert!(log.body.contains("Último error"));

    // The server comes back; the next attempt (made due now) delivers to both addresses.
    sink.start().await;
    sqlx::query("UPDATE mail_deliveries SET next_attempt_at = now() WHERE state = 'pending'")
        .execute(&stack.capture_pool)
        .await
        .unwrap();
    let to_unit = sink
        .wait_for("representacion@pt.org.mx", "Requerimiento")
        .await;
    let to_account = sink.wait_for("enlace@pt.org.mx", "Requerimiento").await;
    assert_eq!(to_unit.body, to_account.body);
    assert!(to_unit.subject.contains(&folio), "{}", to_unit.subject);
    assert!(to_unit.body.contains(&holder), "{}", to_unit.body);
    assert!(
        to_unit
            .body
            .contains(&format!("a más tardar el {}", due.format("%d/%m/%Y")))
    );
    assert!(
        to_unit
            .body
            .contains("Cuestionario curricular sin enviar (Sin iniciar)")
    );
    assert!(to_unit.from.contains("transparencia@iec.org.mx"));
    let delivered = eventually(
        &mut admin,
        "/admin/requerimientos",
        "Enviado a 2 direcciones",
    )
    .await;
    let id = delivered.first_link("/admin/requerimientos/");
    let printout = admin.get(&format!("/admin/requerimientos/{id}")).await;
    assert!(printout.body.contains(&holder));
    let sha: String = sqlx::query_scalar(
        "SELECT content_sha256 FROM requirements WHERE content_sha256 = encode(sha256(convert_to(content, 'UTF8')), 'hex')",
    )
    .fetch_one(&stack.capture_pool)
    .await
    .unwrap();
    assert!(printout.body.contains(&sha));

    // The party reads it too; another party cannot.
    let mine = party.get("/captura").await;
    assert!(
        mine.body.contains("le ha enviado un requerimiento"),
        "{}",
        mine.body
    );
    assert!(
        party
            .get("/captura/requerimientos")
            .await
            .body
            .contains(&folio)
    );
    assert_eq!(
        party
            .get(&format!("/captura/requerimientos/{id}"))
            .await
            .status,
        StatusCode::OK
    );
    let mut other = party_browser(&stack, "PVEM").await;
    assert_eq!(
        other
            .get(&format!("/captura/requerimientos/{id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // The party captures and sends; the reviewer observes: the unit's address and the candidate's
    // private email are told, the account that declined is not.
    fill_sections(&mut party, candidacy).await;
    upload_photo(&mut party, candidacy, jpeg(600, 800), "foto.jpg").await;
    assert_eq!(
        submit_html(&mut party, candidacy).await.status,
        StatusCode::SEE_OTHER
    );
    let reviewer_password = stack.account("observa@iec.org.mx", Role::Reviewer).await;
    let mut reviewer = stack.browser();
    reviewer
        .first_login("observa@iec.org.mx", &reviewer_password)
        .await;
    let queue = eventually(&mut reviewer, "/revision", &holder).await;
    let link = queue.link_before(&holder, "/revision/");
    let review = reviewer.get(&format!("/revision/{link}")).await;
    let observed = reviewer
        .post(
            &format!("/revision/{link}/observar"),
            &[
                ("csrf", &review.hidden("csrf")),
                ("ronda", "1"),
                ("seccion", "professional"),
                (
                    "mensaje.holder.professional",
                    "Indique los años de cada cargo.",
                ),
            ],
        )
        .await;
    assert_eq!(observed.status, StatusCode::SEE_OTHER, "{}", observed.body);
    let observation = sink
        .wait_for("representacion@pt.org.mx", "Observaciones")
        .await;
    assert!(
        observation
            .body
            .contains("• Trayectoria profesional: Indique los años de cada cargo."),
        "{}",
        observation.body
    );
    sink.wait_for("aclaraciones@ejemplo.mx", "Observaciones")
        .await;

    // Fixed, sent again and approved: the approval is emailed as well.
    let section = party
        .get(&format!("/captura/{candidacy}/holder/professional"))
        .await;
    let fixed = party
        .post(
            &format!("/captura/{candidacy}/holder/professional"),
            &[
                ("csrf", &section.hidden("csrf")),
                (
                    "history",
                    &format!(
                        "{} De 2010 a 2021 fui directora.",
                        super::journeys::text(60)
                    ),
                ),
            ],
        )
        .await;
    assert_eq!(fixed.status, StatusCode::SEE_OTHER, "{}", fixed.body);
    assert_eq!(
        submit_html(&mut party, candidacy).await.status,
        StatusCode::SEE_OTHER
    );
    approve_round(&mut reviewer, &holder, 2).await;
    let approval = sink
        .wait_for(
            "aclaraciones@ejemplo.mx",
            "Cuestionario curricular aprobado",
        )
        .await;
    assert!(approval.body.contains(&holder));
    sink.wait_for("representacion@pt.org.mx", "aprobado").await;
    let to_declined: Vec<_> = sink
        .received()
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t == "enlace@pt.org.mx"))
        .map(|m| m.subject)
        .collect();
    assert_eq!(
        to_declined.len(),
        1,
        "only the requirement: {to_declined:?}"
    );
    // Each delivery is recorded with the server's reply; nothing is sent twice.
    let (sent, replies, distinct): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE server_reply LIKE '250%'), \
                count(DISTINCT (mail_id, address)) FROM mail_deliveries WHERE state = 'sent'",
    )
    .fetch_one(&stack.capture_pool)
    .await
    .unwrap();
    assert_eq!(sent, replies);
    assert_eq!(sent, distinct);
    assert_eq!(sent as usize, sink.received().len());
    stack.stop().await;
}

/// Three days before a candidacy's deadline, with its questionnaire not sent, the party is
/// reminded once; a sent questionnaire is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_three_days_away_reminds_the_party_once() {
    let mut sink = MailSink::reserve();
    sink.start().await;
    let stack = spawn_stack_mailing(sink.url()).await;
    seeded(&stack).await;
    let party_id = stack.party_id("MC").await;
    conoceles_capture::domain::mail::contacts::add(
        &stack.capture_pool,
        party_id,
        "enlace@mc.org.mx",
        None,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let candidacy = stack.candidacy_of("MC").await;
    // Its own deadline is in two days; the others' stay ten days away.
    sqlx::query(
        "UPDATE candidacies SET capture_deadline = now() + interval '2 days' WHERE id = $1",
    )
    .bind(candidacy)
    .execute(&stack.capture_pool)
    .await
    .unwrap();
    // The worker looks every minute; the test looks twice more itself: one reminder in all.
    let now = chrono::Utc::now();
    let link = "https://captura.iec.org.mx";
    for _ in 0..2 {
        conoceles_capture::domain::mail::reminders::queue_due(&stack.capture_pool, now, link)
            .await
            .unwrap();
    }
    let reminders: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM mail_outbox WHERE kind = 'deadline_reminder' AND candidacy_id = $1",
    )
    .bind(candidacy)
    .fetch_one(&stack.capture_pool)
    .await
    .unwrap();
    assert_eq!(reminders, 1);
    let others: i64 =
        sqlx::query_scalar("SELECT count(*) FROM mail_outbox WHERE kind = 'deadline_reminder'")
            .fetch_one(&stack.capture_pool)
            .await
            .unwrap();
    assert_eq!(others, 1, "deadlines ten days away remind nobody yet");
    let holder = stack.holder(candidacy).await;
    let reminder = sink.wait_for("enlace@mc.org.mx", "vence").await;
    assert!(reminder.body.contains(&holder), "{}", reminder.body);
    assert!(reminder.body.contains("aún no se ha enviado"));
    assert_eq!(sink.received().len(), 1);
    stack.stop().await;
}
