//! Identity statistics under differential privacy, as the unit, the parties, statisticians and
//! citizens meet them: the unit chooses the method for the election, the parties' answers
//! arrive, nothing is shown until an administrator creates a release, then every count carries
//! its 90 % margin in the API and on the public page, the ledger records the ρ spent, and the
//! budget refuses a release beyond it.

use super::common::*;
use super::journeys::{
    eventually, identity_answers, known_to_identity, party_browser, seeded, statistics_session,
    with_action,
};
use conoceles_capture::domain::election;
use conoceles_capture::domain::identity_protection::IdentityProtection;
use conoceles_kit::access::Role;
use reqwest::StatusCode;
use uuid::Uuid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_unit_releases_identity_statistics_with_differential_privacy_and_citizens_see_the_margins()
 {
    let stack = spawn_stack().await;
    seeded(&stack).await;
    // The unit chooses differential privacy with room for two releases.
    let id: Uuid = sqlx::query_scalar("SELECT id FROM elections")
        .fetch_one(&stack.capture_pool)
        .await
        .unwrap();
    let before = election::settings(&stack.capture_pool, id).await.unwrap();
    let after = election::Settings {
        identity_protection: IdentityProtection::DifferentialPrivacy {
            rho_budget: 2.0,
            rho_per_release: 1.0,
            delta: 1e-6,
            detail_threshold: 10,
        },
        ..before.clone()
    };
    election::update(&stack.capture_pool, &before, &after)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        let method: Option<String> =
            sqlx::query_scalar("SELECT protection FROM elections WHERE id = $1")
                .bind(id)
                .fetch_optional(&stack.identity_pool)
                .await
                .unwrap();
        if method.as_deref() == Some("differential_privacy") {
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // Two PVEM holders answer, with statistics consent (one also publishes).
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM candidacies WHERE postulant_code = 'PVEM' ORDER BY external_id LIMIT 2",
    )
    .fetch_all(&stack.capture_pool)
    .await
    .unwrap();
    let mut party = party_browser(&stack, "PVEM").await;
    for (i, candidacy) in ids.iter().enumerate() {
        known_to_identity(&stack, *candidacy).await;
        let path = format!("/captura/{candidacy}/holder/identidad");
        let form = party.get(&path).await;
        let consents: &[&str] = if i == 0 {
            &["processing", "publication", "statistics"]
        } else {
            &["processing", "statistics"]
        };
        let answers = identity_answers(&form.hidden("csrf"), consents);
        let sent = party
            .post_pairs(&path, &with_action(&answers, "enviar"))
            .await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    }

    // Before any release the citizens' page says so; reading spends nothing.
    let mut citizen = stack.citizen();
    let page = citizen.get("/estadisticas").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Registro de pérdida de privacidad"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("La Unidad aún no ha creado ninguna publicación.")
    );

    // A statistician sees the ledger but cannot release; an administrator can.
    let password = stack
        .account("estadistica@iec.org.mx", Role::Statistician)
        .await;
    let mut statistician = stack.browser();
    statistician
        .first_login("estadistica@iec.org.mx", &password)
        .await;
    let reports = statistician.get("/admin/informes").await;
    assert!(
        reports.body.contains("Privacidad diferencial (ρ-zCDP"),
        "{}",
        reports.body
    );
    assert!(!reports.body.contains("Crear una publicación"));
    let refused = statistician
        .post(
            "/admin/informes/privacidad",
            &[("csrf", &reports.hidden("csrf"))],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let password = stack.account("unidad@iec.org.mx", Role::Admin).await;
    let mut admin = stack.browser();
    admin.first_login("unidad@iec.org.mx", &password).await;
    let reports = admin.get("/admin/informes").await;
    assert!(
        reports
            .body
            .contains("Crear una publicación (gasta ρ = 1.00)")
    );
    let released = admin
        .post(
            "/admin/informes/privacidad",
            &[("csrf", &reports.hidden("csrf"))],
        )
        .await;
    assert_eq!(released.status, StatusCode::OK, "{}", released.body);
    assert!(
        released
            .body
            .contains("Se creó la publicación 1 de las estadísticas de identidad: gastó ρ = 1.00"),
        "{}",
        released.body
    );

    // Statisticians read every count with its margin, the release and the ledger.
    let token = stack
        .api_token("estadistica-api@iec.org.mx", Role::Statistician)
        .await;
    let client = reqwest::Client::new();
    let json = |path: &str| {
        let request = client
            .get(format!("{}{path}", stack.statistics))
            .bearer_auth(&token);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<serde_json::Value>().await.unwrap()
        }
    };
    let table = json("/api/v1/tables/identity.indigenous.by_sex").await;
    assert_eq!(table["protection"]["method"], "differential_privacy");
    assert_eq!(table["release"]["sequence"], 1);
    let cells = table["cells"].as_array().unwrap();
    assert!(!cells.is_empty());
    assert!(
        cells
            .iter()
            .filter(|c| c["count"].is_u64())
            .all(|c| c["half_width_90"].as_f64().unwrap() > 0.0),
        "{table}"
    );
    // The answer published with consent is never noised away: at least one "no" overall.
    let no = cells
        .iter()
        .find(|c| c["dimensions"]["option"] == "no" && c["dimensions"]["sex"] == "*")
        .unwrap();
    assert!(no["count"].as_u64().unwrap() >= 1, "{no}");
    let csv = client
        .get(format!(
            "{}/api/v1/tables/identity.indigenous.by_sex?format=csv",
            stack.statistics
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.starts_with("option,sex,count,suppressed,cut_off,half_width_90,coarsened\r\n"));
    let ledger = json("/api/v1/privacy-ledger").await;
    assert_eq!(ledger["releases"].as_array().unwrap().len(), 1);
    assert_eq!(ledger["rho_remaining"], 1.0);
    // The statistician's pandas and gRPC session of docs/statistics.md shows the margins.
    let printed = statistics_session(&stack, &token);
    assert!(printed.contains("margen al 90 %: "), "{printed}");
    assert!(
        printed.contains("protección: differential_privacy publicaciones: 1"),
        "{printed}"
    );
    assert!(
        printed.contains("publicación 1: ρ = 1.00, ε = 7.77 (δ = 1e-06)"),
        "{printed}"
    );

    // Citizens see the margins and the ledger.
    let page = eventually(&mut citizen, "/estadisticas", "<td>1.00</td>").await;
    assert!(page.body.contains("margen de error al 90"));
    // A cell such as «<td>12 ± 7</td>».
    let with_margin = page.body.split("<td>").skip(1).any(|cell| {
        let cell = cell.split("</td>").next().unwrap_or_default();
        cell.split_once(" ± ").is_some_and(|(count, half)| {
            count.parse::<u64>().is_ok() && half.parse::<u64>().is_ok()
        })
    });
    assert!(with_margin, "{}", page.body);

    // The second release spends the rest; a third is refused with the budget's words.
    admin
        .post(
            "/admin/informes/privacidad",
            &[("csrf", &reports.hidden("csrf"))],
        )
        .await;
    let reports = admin.get("/admin/informes").await;
    assert!(
        !reports.body.contains("Crear una publicación"),
        "no budget left: no button"
    );
    let beyond = admin
        .post(
            "/admin/informes/privacidad",
            &[("csrf", &reports.hidden("csrf"))],
        )
        .await;
    assert_eq!(beyond.status, StatusCode::CONFLICT, "{}", beyond.body);
    assert!(
        beyond.body.contains("presupuesto de privacidad"),
        "{}",
        beyond.body
    );

    // Switching back to suppression after releasing is saved in capture but not applied: the
    // election page says what stays in force, and the tables keep their releases.
    let before = election::settings(&stack.capture_pool, id).await.unwrap();
    let after = election::Settings {
        identity_protection: IdentityProtection::Suppression { threshold: 5 },
        ..before.clone()
    };
    election::update(&stack.capture_pool, &before, &after)
        .await
        .unwrap();
    let page = eventually(
        &mut admin,
        "/admin/eleccion",
        "ya se publicaron con privacidad diferencial (presupuesto ρ = 2, ρ = 1 por publicación)",
    )
    .await;
    assert!(page.body.contains("lo que se elija aquí no se aplica"));
    let table = json("/api/v1/tables/identity.indigenous.by_sex").await;
    assert_eq!(table["protection"]["method"], "differential_privacy");
    stack.stop().await;
}
