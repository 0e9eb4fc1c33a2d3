//! Municipal elections over the six service binaries, on the Sonora-like demo (local deputies
//! and ayuntamientos): every postulant's slate published as a unit in ballot order, the open
//! data's posts per position, «Mi boleta» for a sección, the substitution of one member of a slate, statistics by office,
//! and in headless Chromium (`tests/browser/municipal.test.mjs`) the citizens' journey at
//! desktop and phone widths and the party's dashboard of slates.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use conoceles_e2e::ProcessStack;
use serde_json::{Value, json};

async fn text(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.expect("publication answers");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ayuntamiento_slates_run_over_the_six_binaries() {
    let stack = ProcessStack::start("municipal");
    let admin_password = stack.create_admin("unidad@municipal.mx");
    stack.publish_process("sonora", 120).await;
    let site = ProcessStack::http(&stack.publication);
    let capture = sqlx::PgPool::connect(stack.database_url("capture"))
        .await
        .unwrap();

    // The five municipalities, and Hermosillo's slates in ballot order.
    let (status, index) = text(&format!("{site}/ayuntamientos")).await;
    assert_eq!(status, 200);
    for name in ["Álamos", "Bacadéhuachi", "Cajeme", "Hermosillo", "Nogales"] {
        assert!(index.contains(name), "{name} listed");
    }
    // Approvals are still reaching publication: wait for the four postulants' slates.
    let started = Instant::now();
    let page = loop {
        let (status, page) = text(&format!("{site}/ayuntamientos/030")).await;
        if status == 200
            && page
                .matches("<section class=\"planilla\" aria-labelledby=\"planilla-")
                .count()
                == 4
        {
            break page;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "Hermosillo's four slates: {page}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    // Every slate (the RP lists come after them) in ballot order: presidencia, sindicaturas,
    // regidurías in number order (a position not yet approved is simply not there yet).
    let ballot = |label: &str| -> (u8, u32) {
        let number = label
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        match label {
            "Presidencia municipal" => (0, 0),
            l if l.starts_with("Sindicatura") => (1, number),
            _ => (2, number),
        }
    };
    let mut slates_seen = 0;
    for slate in page.split("<section class=\"planilla\"").skip(1) {
        let labels: Vec<&str> = slate
            .split("<span class=\"posicion\">")
            .skip(1)
            .filter_map(|s| s.split('<').next())
            .collect();
        if labels.first().is_some_and(|l| l.starts_with("Lugar")) {
            continue;
        }
        slates_seen += 1;
        let keys: Vec<(u8, u32)> = labels.iter().map(|l| ballot(l)).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{labels:?}");
    }
    assert_eq!(slates_seen, 4, "four postulants' slates in Hermosillo");

    // «¿Dónde voto?»: the sección typed as on the voter card leads to its ballot — the
    // district's deputies, the state's lists, then Hermosillo's four slates as units.
    let response = reqwest::get(format!("{site}/donde-voto?seccion=0211"))
        .await
        .unwrap();
    assert_eq!(response.url().path(), "/boleta/211");
    let ballot_page = response.text().await.unwrap();
    let contests: Vec<&str> = ballot_page
        .split("<section class=\"contienda\"")
        .skip(1)
        .filter_map(|c| c.split("</h2>").next()?.rsplit('>').next())
        .collect();
    assert_eq!(
        contests,
        [
            "Diputación local de mayoría relativa · Distrito 05 (Hermosillo)",
            "Diputación local de representación proporcional",
            "Ayuntamiento de Hermosillo",
            "Regidurías de representación proporcional de Hermosillo",
        ],
        "the ballot's contests in order"
    );
    let ayuntamiento = ballot_page
        .split("Ayuntamiento de Hermosillo")
        .nth(1)
        .and_then(|rest| rest.split("<section class=\"contienda\"").next())
        .unwrap_or_default();
    assert_eq!(
        ayuntamiento.matches("Presidencia municipal</span>").count(),
        4,
        "each of the four slates with its presidencia"
    );
    let (status, refused) = text(&format!("{site}/donde-voto?seccion=12a")).await;
    assert_eq!(status, 400);
    assert!(refused.contains("La sección se escribe solo con números"));
    assert!(refused.contains("value=\"12a\""), "what was typed stays");
    let (status, hermosillo) = text(&format!("{site}/municipios/030")).await;
    assert_eq!(status, 200);
    assert!(
        hermosillo.contains("Distrito 03 (Caborca)")
            && hermosillo.contains("Distrito 05 (Hermosillo)"),
        "Hermosillo's secciones are in two districts"
    );

    // Open data: a post per position of a slate.
    let (_, popolo) = text(&format!("{site}/datos/popolo.json")).await;
    let popolo: Value = serde_json::from_str(&popolo).expect("Popolo JSON");
    let posts: Vec<&str> = popolo["posts"]
        .as_array()
        .expect("posts")
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert!(
        posts
            .iter()
            .any(|p| p.starts_with("cargo/regiduria_mr/030/")),
        "regidurías are posts of their own"
    );

    // One member of a published slate substituted: that position goes pending on the
    // municipality's page, the rest of the slate stays.
    let (member, old_name, postulant): (uuid::Uuid, String, String) = sqlx::query_as(
        "SELECT c.id, p.full_name, c.postulant_code FROM candidacies c \
         JOIN persons p ON p.candidacy_id = c.id AND p.role = 'holder' AND p.active \
         WHERE c.office_code = 'regiduria_mr' AND c.constituency_code = '030' AND c.status IN ('approved', 'published') \
           AND EXISTS (SELECT 1 FROM candidacies h WHERE h.office_code = 'presidencia_municipal' AND h.constituency_code = '030' \
                       AND h.postulant_code = c.postulant_code AND h.status IN ('approved', 'published')) \
         ORDER BY c.external_id LIMIT 1",
    )
    .fetch_one(&capture)
    .await
    .unwrap();
    let head: String = sqlx::query_scalar(
        "SELECT p.full_name FROM candidacies c JOIN persons p ON p.candidacy_id = c.id AND p.role = 'holder' AND p.active \
         WHERE c.office_code = 'presidencia_municipal' AND c.constituency_code = '030' AND c.postulant_code = $1",
    )
    .bind(&postulant)
    .fetch_one(&capture)
    .await
    .unwrap();
    let started = Instant::now();
    while !{
        let (_, page) = text(&format!("{site}/ayuntamientos/030")).await;
        page.contains(&old_name) && page.contains(&head)
    } {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "both members published"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let token = stack
        .api_token("unidad@municipal.mx", &admin_password)
        .await;
    let response = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/candidacies/{member}/substitution",
            ProcessStack::http(&stack.capture)
        ))
        .bearer_auth(&token)
        .json(
            &json!({ "role": "holder", "full_name": "Nadia Ugalde Vera", "sex": "mujer",
                       "birth_date": "1985-02-03", "reason": "Renuncia" }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let started = Instant::now();
    loop {
        let (_, page) = text(&format!("{site}/ayuntamientos/030")).await;
        if !page.contains(&old_name) && page.contains("Posiciones en sustitución") {
            assert!(page.contains(&head), "the rest of the slate stays");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the substitution reaches the municipality's page"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // Statistics by office: presidencias, sindicaturas and regidurías apart.
    let progress: Value = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/tables/progress.by_office",
            ProcessStack::http(&stack.statistics)
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let offices = progress.to_string();
    for office in [
        "presidencia_municipal",
        "sindicatura",
        "regiduria_mr",
        "regiduria_rp",
    ] {
        assert!(
            offices.contains(office),
            "{office} in progress.by_office: {progress}"
        );
    }

    // The citizens' journey in Chromium.
    let browser_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser");
    let party_email = stack.generated_party_account("MORENA").await;
    let party_password = stack.reset_password(&party_email);
    let output = Command::new("node")
        .args(["--test", "--test-reporter=spec", "municipal.test.mjs"])
        .current_dir(&browser_dir)
        .env("SITE_URL", &site)
        .env("SCREENSHOT_DIR", conoceles_e2e::screenshot_dir())
        .env("CAPTURE_URL", ProcessStack::http(&stack.capture))
        .env("PARTY_EMAIL", &party_email)
        .env("PARTY_PASSWORD", &party_password)
        .output()
        .expect("node runs");
    let report = conoceles_e2e::printed(&output);
    capture.close().await;
    stack.stop().await;
    assert!(
        output.status.success(),
        "the municipal journey failed:\n{report}"
    );
}
