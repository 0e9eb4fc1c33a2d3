//! The final report as the unit produces it: besides progress and compliance, the
//! substitutions, the curricular profile and the identity-group tables, all in Spanish names
//! (no codes) and in the election's time zone; and the qualitative annex with the public texts.

use super::common::*;
use super::journeys::{
    approve_round, fill_sections, jpeg, party_browser, seeded, submit_html, upload_photo,
};
use conoceles_kit::access::Role;
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_final_report_names_everything_in_spanish_and_adds_substitutions_profile_and_identity_groups()
 {
    let stack = spawn_stack().await;
    seeded(&stack).await;
    // One PT candidacy captured and approved.
    let candidacy = stack.candidacy_of("PT").await;
    let mut party = party_browser(&stack, "PT").await;
    fill_sections(&mut party, candidacy).await;
    upload_photo(&mut party, candidacy, jpeg(600, 800), "foto.jpg").await;
    assert_eq!(
        submit_html(&mut party, candidacy).await.status,
        StatusCode::SEE_OTHER
    );
    let reviewer_password = stack.account("aprueba@iec.org.mx", Role::Reviewer).await;
    let mut reviewer = stack.browser();
    reviewer
        .first_login("aprueba@iec.org.mx", &reviewer_password)
        .await;
    let holder = stack.holder(candidacy).await;
    approve_round(&mut reviewer, &holder, 1).await;

    // One MC holder substituted by the unit.
    let password = stack.account("informe@iec.org.mx", Role::Admin).await;
    let mut admin = stack.browser();
    admin.first_login("informe@iec.org.mx", &password).await;
    let substituted = stack.candidacy_of("MC").await;
    let list = admin.get("/admin/candidaturas").await;
    let csrf = list.hidden("csrf");
    let done = admin
        .post(
            &format!("/admin/candidaturas/{substituted}/sustituir"),
            &[
                ("rol", "holder"),
                ("nombre", "Rosa Elena Nueva Persona"),
                ("sexo", "mujer"),
                ("fecha_nacimiento", "1984-05-06"),
                ("motivo", "Renuncia presentada ante el Consejo General."),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);

    // Approved is seen in capture before the report counts it.
    super::journeys::eventually(&mut party, "/captura", "Aprobada").await;
    let form = admin.get("/admin/informes").await;
    assert!(form.body.contains("anexo con los textos públicos"));
    let created = admin
        .post(
            "/admin/informes",
            &[
                ("csrf", &form.hidden("csrf")),
                ("tipo", "final"),
                ("al", ""),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let location = created.location.unwrap();
    let report = admin.get(&location).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    for expected in [
        "Informe final de la captura y de incumplimiento",
        "Sustituciones por postulante y cargo",
        "Perfil curricular: escolaridad por cargo",
        "Perfil curricular: grupo de edad por postulante",
        "Perfil curricular: sexo por cargo",
        "Cuestionario de identidad: ",
        "Movimiento Ciudadano",
        "Partido del Trabajo",
        "Diputación",
        "(CST)",
        "<svg role=\"img\"",
    ] {
        assert!(
            report.body.contains(expected),
            "{expected}: {}",
            report.body
        );
    }
    // No codes: neither postulants', nor offices', statuses', nor the tables' names.
    for code in [
        ">PT<",
        ">MC<",
        "diputacion_mr",
        "not_started",
        "identity.",
        "UTC",
    ] {
        assert!(!report.body.contains(code), "{code} shown: {}", report.body);
    }
    // Each chart has its table right under it.
    let charts = report.body.matches("</figure>").count();
    assert!(charts > 0, "{}", report.body);
    for after in report.body.split("</figure>").skip(1) {
        assert!(
            after.trim_start().starts_with("<table"),
            "a chart without its table: {}",
            &after[..after.len().min(300)]
        );
    }
    let csv = admin.get(&format!("{location}/csv")).await;
    assert!(
        csv.body
            .contains("Sustituciones por postulante y cargo,,Movimiento Ciudadano,"),
        "{}",
        csv.body
    );
    let substitutions_total = csv
        .body
        .lines()
        .find(|l| l.starts_with("Sustituciones por postulante y cargo,,Total,Total,"))
        .unwrap_or_default()
        .to_string();
    assert!(
        substitutions_total.contains(",1,no,"),
        "{substitutions_total}"
    );

    // The annex: the approved candidacy's public texts, by office and postulant; nothing private.
    let annex = admin.get("/admin/informes/anexo-cualitativo.csv").await;
    assert_eq!(annex.status, StatusCode::OK);
    assert!(annex.body.starts_with(
        "cargo,partido_o_candidatura,demarcacion,registro,persona,calidad,seccion,campo,texto\r\n"
    ));
    assert!(
        annex.body.contains(",Partido del Trabajo,"),
        "{}",
        annex.body
    );
    assert!(annex.body.contains(&holder));
    assert!(annex.body.contains("Propuestas"));
    assert!(!annex.body.contains("aclaraciones@ejemplo.mx"));
    // A party reaches neither.
    assert_eq!(
        party
            .get("/admin/informes/anexo-cualitativo.csv")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    stack.stop().await;
}
