//! Each body's own curricular fields (#28 part 6): the unit adds a version of the definition
//! with a video link, the «3 de 3» document and commitment checkboxes — one that would drop a
//! field of the Lineamientos is refused with the reason —; the party fills them (a bad link and a
//! file that is not a PDF refused), cannot send without the required ones, the reviewer sees
//! them, and the citizens' site and the open data show the public ones, the PDF downloadable.

use super::common::*;
use super::journeys::{
    approve_round, eventually, fill_sections, jpeg, party_browser, seeded, submit_html,
    upload_photo,
};
use conoceles_kit::access::Role;
use reqwest::StatusCode;

const DEFINITION: &str = r#"{"extra": [
  {"id": "video", "kind": "url", "label": "Video de presentación", "help": "Una liga a YouTube o a su sitio."},
  {"id": "tres_de_tres", "kind": "document", "label": "Declaraciones «3 de 3»", "required": true},
  {"id": "contra_corrupcion", "kind": "commitment", "label": "Me comprometo a combatir la corrupción", "required": true},
  {"id": "nota_interna", "kind": "url", "label": "Liga interna del partido", "public": false}
]}"#;

const PDF: &[u8] =
    b"%PDF-1.4\n% declaraciones 3 de 3 de prueba\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bodys_own_fields_are_defined_captured_required_reviewed_and_published() {
    let stack = spawn_stack().await;
    seeded(&stack).await;
    let password = stack.account("campos@iec.org.mx", Role::Admin).await;
    let mut admin = stack.browser();
    admin.first_login("campos@iec.org.mx", &password).await;

    // A definition that drops a field of the Lineamientos is refused, with the field named.
    let form = admin.get("/admin/cuestionario-curricular").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("Versión en uso: <strong>1</strong>"));
    let broken = r#"{"sections": [{"id": "general", "fields": ["public_email_1"]}]}"#;
    let refused = admin
        .post(
            "/admin/cuestionario-curricular",
            &[("csrf", &form.hidden("csrf")), ("definicion", broken)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("Falta el campo «Correo electrónico para aclaraciones»"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("obligatorio según los Lineamientos"));
    let saved = admin
        .post(
            "/admin/cuestionario-curricular",
            &[("csrf", &form.hidden("csrf")), ("definicion", DEFINITION)],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let shown = admin.get(saved.location.as_deref().unwrap()).await;
    assert!(shown.body.contains("Se guardó la versión 2"));
    assert!(shown.body.contains("Declaraciones «3 de 3»"));
    // The same definition again adds no version.
    let again = admin
        .post(
            "/admin/cuestionario-curricular",
            &[("csrf", &form.hidden("csrf")), ("definicion", DEFINITION)],
        )
        .await;
    let same = admin.get(again.location.as_deref().unwrap()).await;
    assert!(
        same.body.contains("sigue en uso la versión 2"),
        "{}",
        same.body
    );

    // The party: the section is listed; sending without the required fields is refused.
    let candidacy = stack.candidacy_of("PT").await;
    let holder = stack.holder(candidacy).await;
    let mut party = party_browser(&stack, "PT").await;
    let page = party.get(&format!("/captura/{candidacy}")).await;
    assert!(page.body.contains("Información adicional"), "{}", page.body);
    fill_sections(&mut party, candidacy).await;
    upload_photo(&mut party, candidacy, jpeg(600, 800), "foto.jpg").await;
    // The first step says what is missing instead of asking to confirm a submission that
    // would be refused.
    let preview = party
        .get(&format!("/captura/{candidacy}/vista-previa"))
        .await;
    assert!(
        preview
            .body
            .contains("falta el documento «Declaraciones «3 de 3»»"),
        "{}",
        preview.body
    );
    let first_step = party
        .post(
            &format!("/captura/{candidacy}/envio"),
            &[("csrf", &preview.hidden("csrf"))],
        )
        .await;
    assert!(
        !first_step.body.contains("No se puede deshacer.")
            && first_step
                .body
                .contains("falta el documento «Declaraciones «3 de 3»»"),
        "{}",
        first_step.body
    );
    let early = submit_html(&mut party, candidacy).await;
    assert_ne!(early.status, StatusCode::SEE_OTHER);
    assert!(
        early
            .body
            .contains("falta el documento «Declaraciones «3 de 3»»"),
        "{}",
        early.body
    );
    assert!(early.body.contains("este compromiso debe aceptarse"));

    // A link that is not https and a file that is not a PDF are refused in Spanish.
    let path = format!("/captura/{candidacy}/holder/adicional");
    let section = party.get(&path).await;
    assert_eq!(section.status, StatusCode::OK);
    let bad = party
        .post(
            &path,
            &[
                ("csrf", &section.hidden("csrf")),
                ("video", "http://video.mx"),
                ("contra_corrupcion", "si"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("https://"), "{}", bad.body);
    assert!(
        bad.body.contains("value=\"http://video.mx\""),
        "typed text kept"
    );
    let good = party
        .post(
            &path,
            &[
                ("csrf", &section.hidden("csrf")),
                ("video", "https://www.youtube.com/watch?v=conoceles"),
                ("contra_corrupcion", "si"),
                ("nota_interna", "https://interno.pt.org.mx/expediente"),
            ],
        )
        .await;
    assert_eq!(good.status, StatusCode::SEE_OTHER, "{}", good.body);
    let not_pdf = reqwest::multipart::Form::new()
        .text("csrf", section.hidden("csrf"))
        .part(
            "documento",
            reqwest::multipart::Part::bytes(b"hola".to_vec()).file_name("nota.txt"),
        );
    let refused = party
        .multipart(&format!("{path}/tres_de_tres"), not_pdf)
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("El documento debe ser un PDF."));
    let pdf = reqwest::multipart::Form::new()
        .text("csrf", section.hidden("csrf"))
        .part(
            "documento",
            reqwest::multipart::Part::bytes(PDF.to_vec()).file_name("3de3.pdf"),
        );
    let uploaded = party.multipart(&format!("{path}/tres_de_tres"), pdf).await;
    assert_eq!(uploaded.status, StatusCode::SEE_OTHER, "{}", uploaded.body);
    assert!(party.get(&path).await.body.contains("Documento cargado"));
    assert_eq!(
        submit_html(&mut party, candidacy).await.status,
        StatusCode::SEE_OTHER
    );

    // The reviewer reads them as sent.
    let reviewer_password = stack.account("lee@iec.org.mx", Role::Reviewer).await;
    let mut reviewer = stack.browser();
    reviewer
        .first_login("lee@iec.org.mx", &reviewer_password)
        .await;
    let queue = eventually(&mut reviewer, "/revision", &holder).await;
    let link = queue.link_before(&holder, "/revision/");
    let review = reviewer.get(&format!("/revision/{link}")).await;
    for expected in [
        "Información adicional",
        "https://www.youtube.com/watch?v=conoceles",
        "Me comprometo a combatir la corrupción",
        "Documento PDF cargado",
        "Liga interna del partido",
    ] {
        assert!(
            review.body.contains(expected),
            "{expected}: {}",
            review.body
        );
    }
    // The reviewer may observe the section; the party sees it by name and may change it.
    let observed = reviewer
        .post(
            &format!("/revision/{link}/observar"),
            &[
                ("csrf", &review.hidden("csrf")),
                ("ronda", "1"),
                ("seccion", "adicional"),
                (
                    "mensaje.holder.adicional",
                    "Suba la versión firmada del documento.",
                ),
            ],
        )
        .await;
    assert_eq!(observed.status, StatusCode::SEE_OTHER, "{}", observed.body);
    let overview = eventually(
        &mut party,
        &format!("/captura/{candidacy}"),
        "Suba la versión firmada del documento.",
    )
    .await;
    assert!(overview.body.contains("Información adicional"));
    let again = reqwest::multipart::Form::new()
        .text("csrf", section.hidden("csrf"))
        .part(
            "documento",
            reqwest::multipart::Part::bytes(PDF.to_vec()).file_name("3de3-firmado.pdf"),
        );
    let replaced = party
        .multipart(&format!("{path}/tres_de_tres"), again)
        .await;
    assert_eq!(replaced.status, StatusCode::SEE_OTHER, "{}", replaced.body);
    assert_eq!(
        submit_html(&mut party, candidacy).await.status,
        StatusCode::SEE_OTHER
    );
    approve_round(&mut reviewer, &holder, 2).await;

    // The citizens' site shows the public ones only, the PDF downloadable; the open data too.
    let mut citizen = stack.citizen();
    let profile = eventually(
        &mut citizen,
        &format!("/candidaturas/{candidacy}"),
        "Video de presentación",
    )
    .await;
    assert!(
        profile
            .body
            .contains("https://www.youtube.com/watch?v=conoceles")
    );
    assert!(
        profile
            .body
            .contains("Me comprometo a combatir la corrupción")
    );
    assert!(!profile.body.contains("interno.pt.org.mx"), "not public");
    let start = profile
        .body
        .find("/documentos/")
        .expect("the document's link");
    let href: String = profile.body[start..]
        .chars()
        .take_while(|c| *c != '"')
        .collect();
    let document = citizen.get(&href).await;
    assert_eq!(document.status, StatusCode::OK);
    assert!(
        document
            .body
            .starts_with("%PDF-1.4\n% declaraciones 3 de 3")
    );
    let csv = eventually(
        &mut citizen,
        "/datos/candidaturas.csv",
        "Video de presentación",
    )
    .await;
    assert!(
        csv.body
            .lines()
            .next()
            .unwrap()
            .ends_with(",HUELLA_SHA256,INFORMACION_ADICIONAL,URL_FOTO")
    );
    assert!(
        csv.body
            .contains("Video de presentación: https://www.youtube.com/watch?v=conoceles")
    );
    assert!(csv.body.contains(
        "Me comprometo a combatir la corrupción: Aceptado | Declaraciones «3 de 3»: /documentos/"
    ));
    assert!(!csv.body.contains("interno.pt.org.mx"));
    stack.stop().await;
}
