//! The capture front's login, password and account screens, with `auth` and `capture` started
//! for real on free ports, each with its own database, against the real PostgreSQL and Redis.

use super::common::{self, *};
use conoceles_kit::access::{DENIED_MARKER, Role};
use conoceles_kit::testing::{self, TestDatabase};
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_logs_in_creates_a_reviewer_and_the_reviewer_logs_in() {
    let stack = spawn_stack().await;
    let admin_password = stack.account("admin@iec.org.mx", Role::Admin).await;

    let mut admin = stack.browser();
    let login_form = admin.get("/ingresar").await;
    assert_eq!(login_form.status, StatusCode::OK);
    assert!(
        login_form.body.contains("<html lang=\"es-MX\">")
            && login_form.body.contains("Correo electrónico")
    );
    admin.first_login("admin@iec.org.mx", &admin_password).await;

    let home = admin.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Administración (Unidad Técnica)"));
    assert_eq!(
        home.headers["cache-control"], "no-store",
        "personal pages are not cached"
    );

    let list = admin.get("/admin/cuentas").await;
    assert_eq!(list.status, StatusCode::OK);
    let created = admin
        .post(
            "/admin/cuentas",
            &[
                ("csrf", &list.hidden("csrf")),
                ("email", "revisora@iec.org.mx"),
                ("role", "reviewer"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert!(
        created
            .body
            .contains("Se creó la cuenta revisora@iec.org.mx.")
    );
    let start = created.body.find("<code class=\"contrasena\">").unwrap()
        + "<code class=\"contrasena\">".len();
    let reviewer_password = created.body[start..].split('<').next().unwrap().to_string();

    let mut reviewer = stack.browser();
    reviewer
        .first_login("revisora@iec.org.mx", &reviewer_password)
        .await;
    let home = reviewer.get("/").await;
    assert!(home.body.contains("Revisión"), "{}", home.body);
    // The reviewer cannot reach the account administration.
    let refused = reviewer.get("/admin/cuentas").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    // The admin finds an account by part of its address, or by role; `%` is taken literally.
    let found = admin.get("/admin/cuentas?q=REVISORA").await;
    assert!(found.body.contains("revisora@iec.org.mx"), "{}", found.body);
    assert!(
        !found.body.contains("<td>admin@iec.org.mx"),
        "{}",
        found.body
    );
    assert!(
        found.body.contains("Cuentas existentes (1)"),
        "{}",
        found.body
    );
    let by_role = admin.get("/admin/cuentas?rol=reviewer").await;
    assert!(by_role.body.contains("revisora@iec.org.mx"));
    assert!(
        by_role.body.contains("Cuentas existentes (1)"),
        "{}",
        by_role.body
    );
    let literal = admin.get("/admin/cuentas?q=%25").await;
    assert!(
        literal.body.contains("No hay cuentas con esta búsqueda."),
        "{}",
        literal.body
    );

    // Logout ends the session.
    let csrf = home.hidden("csrf");
    let out = reviewer.post("/salir", &[("csrf", &csrf)]).await;
    assert_eq!(out.location.as_deref(), Some("/ingresar"));
    let after = reviewer.get("/").await;
    assert_eq!(after.status, StatusCode::SEE_OTHER);
    assert_eq!(after.location.as_deref(), Some("/ingresar"));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookies_headers_and_csrf_protect_every_form() {
    let stack = spawn_stack().await;
    let password = stack.account("partido@pan.org.mx", Role::Party).await;
    let mut browser = stack.browser();

    let form = browser.get("/ingresar").await;
    for header in [
        "content-security-policy",
        "strict-transport-security",
        "x-content-type-options",
        "referrer-policy",
        "cross-origin-opener-policy",
        "cross-origin-resource-policy",
    ] {
        assert!(form.headers.contains_key(header), "missing {header}");
    }
    let csp = form.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'")
            && csp.contains("frame-ancestors 'none'")
            && !csp.contains("unsafe-inline")
    );

    // A login without the form's CSRF token is refused.
    let forged = browser
        .post(
            "/ingresar",
            &[
                ("email", "partido@pan.org.mx"),
                ("password", &password),
                ("csrf", "forged"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(!browser.cookies.contains_key("__Host-conoceles_sesion"));

    let csrf = browser.get("/ingresar").await.hidden("csrf");
    let login = browser
        .post(
            "/ingresar",
            &[
                ("email", "partido@pan.org.mx"),
                ("password", &password),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    let cookie = login
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap())
        .find(|c| c.starts_with("__Host-conoceles_sesion="))
        .unwrap()
        .to_string();
    for attribute in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }

    // Logging out with a wrong CSRF token does nothing.
    let refused = browser.post("/salir", &[("csrf", "wrong")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        browser.get("/cuenta/contrasena").await.status,
        StatusCode::OK,
        "still logged in"
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_given_by_someone_else_must_change_before_anything_else() {
    let stack = spawn_stack().await;
    // Pages: every page and every form sends the person to the change, not just some GETs.
    let password = stack.account("nuevo@pan.org.mx", Role::Party).await;
    let mut browser = stack.browser();
    browser.login("nuevo@pan.org.mx", &password).await;
    for page in [
        browser.get("/captura").await,
        browser.get("/captura/plantilla.csv").await,
        browser.post("/captura/carga-masiva", &[]).await,
    ] {
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.location.as_deref(), Some("/cuenta/contrasena"));
    }

    // The API, and the statistics API with a capture session, refuse with the reason.
    let client = reqwest::Client::new();
    let token = |session: serde_json::Value| session["token"].as_str().unwrap().to_string();
    let party = token(stack.api_session("nuevo@pan.org.mx", &password).await);
    let statistician_password = stack
        .account("estadistica@iec.org.mx", Role::Statistician)
        .await;
    let statistician = token(
        stack
            .api_session("estadistica@iec.org.mx", &statistician_password)
            .await,
    );
    for (url, token) in [
        (format!("{}/api/v1/candidacies", stack.base), &party),
        (format!("{}/api/v1/tables", stack.statistics), &statistician),
    ] {
        let refused = client.get(&url).bearer_auth(token).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{url}");
        let body: serde_json::Value = refused.json().await.unwrap();
        assert_eq!(body["code"], "permission_denied");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("Debe cambiar la contraseña"),
            "{body}"
        );
    }

    // The change through the API: the rule applies; then a new token works and the old is gone.
    let change = |new: &'static str| {
        client
            .post(format!("{}/api/v1/account/password", stack.base))
            .bearer_auth(&party)
            .json(&serde_json::json!({ "current_password": password, "new_password": new }))
            .send()
    };
    let weak = change("12345678").await.unwrap();
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let changed = change(common::CHANGED_PASSWORD).await.unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    let changed: serde_json::Value = changed.json().await.unwrap();
    assert_eq!(changed["must_change_password"], false);
    let list = |token: String| {
        client
            .get(format!("{}/api/v1/candidacies", stack.base))
            .bearer_auth(token)
            .send()
    };
    let old = list(party.clone()).await.unwrap();
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let new = list(changed["token"].as_str().unwrap().to_string())
        .await
        .unwrap();
    assert_ne!(new.status(), StatusCode::FORBIDDEN);
    assert_ne!(new.status(), StatusCode::UNAUTHORIZED);
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failed_logins_get_a_spanish_message_and_retry_after() {
    let stack = spawn_stack().await;
    stack.account("candidata@iec.org.mx", Role::Candidate).await;
    let mut browser = stack.browser();
    for _ in 0..5 {
        let page = browser.login("candidata@iec.org.mx", "equivocada123").await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert!(page.body.contains("Correo o contraseña incorrectos."));
    }
    let blocked = browser.login("candidata@iec.org.mx", "equivocada123").await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(blocked.body.contains("Demasiados intentos fallidos"));
    assert!(blocked.headers.contains_key("retry-after"));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_admits_exactly_the_roles_its_rule_declares() {
    let stack = spawn_stack().await;
    let mut browsers: Vec<(Option<Role>, Browser)> = vec![(None, stack.browser())];
    for role in Role::ALL {
        let email = format!("{}@matriz.mx", role.as_str().replace('_', "-"));
        let password = stack.account(&email, role).await;
        let mut browser = stack.browser();
        browser.first_login(&email, &password).await;
        browsers.push((Some(role), browser));
    }
    let mut routes: Vec<(String, conoceles_kit::access::Rule)> = stack
        .policy
        .routes()
        .map(|(k, r)| (k.to_string(), *r))
        .collect();
    // Logging out ends the session the next routes need: last.
    routes.sort_by_key(|(k, _)| k.ends_with("/salir"));
    assert!(routes.len() >= 13);

    let mut mismatches = Vec::new();
    for (key, rule) in &routes {
        let (method, path) = key.split_once(' ').unwrap();
        let path = path
            .replace("{id}", &uuid::Uuid::now_v7().to_string())
            .replace("{submission}", &uuid::Uuid::now_v7().to_string())
            .replace("{role}", "holder")
            .replace("{section}", "general");
        for (role, browser) in &mut browsers {
            let page = match method {
                "GET" => browser.get(&path).await,
                "POST" => browser.post(&path, &[]).await,
                "PUT" => browser.put(&path).await,
                other => panic!("unexpected method {other}"),
            };
            let refused = page.headers.contains_key(DENIED_MARKER);
            let caller = conoceles_kit::access::Caller {
                service: None,
                actor: role.map(|role| conoceles_kit::access::Actor {
                    account_id: uuid::Uuid::nil(),
                    role,
                    party_id: None,
                    candidacy_id: None,
                }),
            };
            if refused == rule.admits(&caller) {
                mismatches.push(format!(
                    "{key} as {role:?}: refused={refused} ({})",
                    page.status
                ));
            }
            if role.is_none() && !rule.is_public() && path.starts_with("/api/") {
                assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{key}");
            } else if role.is_none() && !rule.is_public() {
                assert_eq!(
                    page.location.as_deref().map(|l| l.starts_with("/ingresar")),
                    Some(true),
                    "{key}"
                );
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_issues_a_credential_sheet_that_lets_a_candidate_log_in() {
    use conoceles_kit::amqp::{Broker, OutboxRelay, enqueue_event};
    use conoceles_proto::common::v1 as common;
    use conoceles_proto::events::v1 as events;

    let stack = spawn_stack().await;
    let (producer_db, producer) = TestDatabase::create("front_producer").await;
    let broker = Broker::new(
        testing::amqp_url().into(),
        &stack.namespace,
        "test-producer",
    );
    let stop = tokio_util::sync::CancellationToken::new();
    let relay = tokio::spawn(OutboxRelay::new(producer.clone(), broker.clone()).run(stop.clone()));
    let party = uuid::Uuid::now_v7();
    let candidacy = uuid::Uuid::now_v7();
    let mut tx = producer.begin().await.unwrap();
    enqueue_event(
        &mut tx,
        conoceles_proto::routing_keys::CANDIDACY_REGISTERED,
        &events::CandidacyRegistered {
            dimensions: Some(common::CandidacyDimensions {
                candidacy_id: Some(common::CandidacyId::from(candidacy)),
                office: "Diputación local MR".into(),
                constituency: "Distrito 07".into(),
                postulant: "Morena".into(),
                ..Default::default()
            }),
            holder_id: Some(common::PersonId::from(uuid::Uuid::now_v7())),
            responsible_party_id: Some(common::PartyId::from(party)),
            approved_at: Some(prost_types::Timestamp {
                seconds: chrono::Utc::now().timestamp(),
                nanos: 0,
            }),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let admin_password = stack.account("admin@iec.org.mx", Role::Admin).await;
    let mut admin = stack.browser();
    admin.first_login("admin@iec.org.mx", &admin_password).await;
    let started = std::time::Instant::now();
    let list = loop {
        let page = admin.get("/admin/credenciales").await;
        if page.body.contains("Diputación local MR — Distrito 07") {
            break page;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "accounts not generated"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert!(list.body.contains("Cuenta del partido Morena"));
    assert!(list.body.contains("En plazo"));

    // Issuing asks for confirmation first: the earlier passwords stop working.
    let confirm = admin
        .post(
            &format!("/admin/credenciales/{party}/hoja"),
            &[("csrf", &list.hidden("csrf"))],
        )
        .await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(
        confirm.body.contains("No se puede deshacer."),
        "{}",
        confirm.body
    );
    let confirmed = [
        ("csrf", confirm.hidden("csrf")),
        ("confirmado", "si".to_string()),
        ("una_vez", confirm.hidden("una_vez")),
    ];
    let confirmed: Vec<(&str, &str)> = confirmed.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let sheet = admin
        .post(&format!("/admin/credenciales/{party}/hoja"), &confirmed)
        .await;
    assert_eq!(sheet.status, StatusCode::OK);
    assert!(sheet.body.contains("Hoja de credenciales"));
    // The same confirmation posted again (a reload) issues nothing new.
    let reloaded = admin
        .post(&format!("/admin/credenciales/{party}/hoja"), &confirmed)
        .await;
    assert!(
        reloaded.body.contains("ya se emitió con esta confirmación"),
        "{}",
        reloaded.body
    );
    // The address printed is the configured one (CAPTURE_PUBLIC_URL), not the request's `Host`
    // (the test's port), which anyone can write.
    assert!(
        sheet.body.contains("http://127.0.0.1:8081/ingresar"),
        "{}",
        sheet.body
    );
    assert!(!sheet.body.contains("https://127.0.0.1:"), "{}", sheet.body);
    let section = sheet
        .body
        .split("Diputación local MR — Distrito 07")
        .nth(1)
        .unwrap();
    let user = section
        .split("<dt>Usuario</dt><dd>")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    let password = section
        .split("<code class=\"contrasena\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    // A login name a person can read and type: the import's codes, no piece of an id.
    assert!(
        user.starts_with("morena.diputacion-local-mr.distrito-07@"),
        "{user}"
    );
    assert!(
        sheet.body.contains("partido-morena@"),
        "the party's account is named for the party: {}",
        sheet.body
    );

    let mut candidate = stack.browser();
    candidate.first_login(&user, &password).await;
    assert_eq!(
        candidate.get("/").await.location.as_deref(),
        Some("/captura")
    );
    let dashboard = candidate.get("/captura").await;
    assert!(dashboard.body.contains("Persona candidata"));
    assert!(dashboard.body.contains("<h1>Mis candidaturas</h1>"));

    let list = admin.get("/admin/credenciales").await;
    let delivered = admin
        .post(
            &format!("/admin/credenciales/{party}/entregada"),
            &[("csrf", &list.hidden("csrf"))],
        )
        .await;
    assert!(
        delivered
            .body
            .contains("Se registró la entrega de 2 cuenta(s)."),
        "{}",
        delivered.body
    );

    stop.cancel();
    relay.await.unwrap();
    broker.close().await;
    producer.close().await;
    producer_db.drop_database().await;
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_imports_lists_substitutes_and_cancels_from_the_browser() {
    let stack = spawn_stack().await;
    conoceles_capture::tools::demo::seed(&stack.capture_pool)
        .await
        .unwrap();
    let password = stack.account("admin@iec.org.mx", Role::Admin).await;
    let mut admin = stack.browser();
    admin.first_login("admin@iec.org.mx", &password).await;

    // A file with errors: every one listed, nothing imported.
    let form = admin.get("/admin/importar").await;
    let csrf = form.hidden("csrf");
    let bad = "id_registro,cargo,principio,circunscripcion,postulante,posicion_lista,propietario_nombre,propietario_sexo,propietario_fecha_nacimiento,suplente_nombre,suplente_sexo,suplente_fecha_nacimiento,accion_afirmativa\n\
N-1,diputacion_mr,mr,01,PAN,,Ana López,mujer,1980-01-01,,,,\n\
N-2,diputacion_mr,mr,02,PAN,,,hombre,1980-01-01,,,,\n\
N-3,diputacion_mr,mr,03,PAN,,Luis Pérez,hombre,2020-01-01,,,,\n";
    let multipart = |csv: &str| {
        reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .part(
                "archivo",
                reqwest::multipart::Part::bytes(csv.as_bytes().to_vec())
                    .file_name("candidaturas.csv"),
            )
    };
    let request = admin
        .client
        .post(format!("{}/admin/importar", admin.base))
        .multipart(multipart(bad));
    let page = admin.send(request).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body
            .contains("El archivo tiene 2 error(es); no se importó nada"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Línea 3, columna «propietario_nombre»"));
    assert!(
        page.body
            .contains("Línea 4, columna «propietario_fecha_nacimiento»")
    );

    let good = bad.lines().take(2).collect::<Vec<_>>().join("\n");
    let request = admin
        .client
        .post(format!("{}/admin/importar", admin.base))
        .multipart(multipart(&good));
    let page = admin.send(request).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    // First what it would do; nothing is stored until the unit applies it.
    assert!(
        page.body
            .contains("Vista previa: el archivo no tiene errores")
            && page
                .body
                .contains("1 candidatura nueva, 0 con cambios, 0 sustituciones, 0 cancelaciones y 0 sin cambios"),
        "{}",
        page.body
    );
    assert!(
        !admin
            .get("/admin/candidaturas?postulante=PAN")
            .await
            .body
            .contains("Ana López")
    );
    let apply = apply_link(&page.body);
    let page = admin
        .post(
            &format!("/admin/importar/{apply}"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains(
            "Importación terminada: 1 candidatura nueva, 0 con cambios, 0 sustituciones, 0 cancelaciones y 0 sin cambios."
        ),
        "{}",
        page.body
    );
    // Applied once: the same preview cannot be applied twice.
    let again = admin
        .post(
            &format!("/admin/importar/{apply}"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);

    let list = admin
        .get("/admin/candidaturas?postulante=PAN&cargo=diputacion_mr")
        .await;
    assert!(
        list.body.contains("<h2>1 candidatura</h2>"),
        "{}",
        list.body
    );
    assert!(list.body.contains("Ana López"));
    assert!(list.body.contains("Candidaturas por estatus"));
    assert!(list.body.contains("<th scope=\"col\">Sin iniciar</th>"));
    let id = list
        .body
        .split("/admin/candidaturas/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let substituted = admin
        .post(
            &format!("/admin/candidaturas/{id}/sustituir"),
            &[
                ("csrf", &list.hidden("csrf")),
                ("rol", "holder"),
                ("nombre", "Beatriz Sustituta Ruiz"),
                ("sexo", "mujer"),
                ("fecha_nacimiento", "1979-05-05"),
                ("motivo", "renuncia"),
            ],
        )
        .await;
    assert!(
        substituted
            .body
            .contains("La sustitución quedó registrada."),
        "{}",
        substituted.body
    );
    assert!(substituted.body.contains("Beatriz Sustituta Ruiz"));
    let cancelled = admin
        .post(
            &format!("/admin/candidaturas/{id}/cancelar"),
            &[("csrf", &list.hidden("csrf")), ("motivo", "resolución")],
        )
        .await;
    assert!(cancelled.body.contains("La candidatura quedó cancelada."));

    let csv = admin.get("/admin/candidaturas.csv?postulante=PAN").await;
    assert!(
        csv.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    // The export is the import's own format: the substitute in the seat, the cancellation
    // as `cancelada`.
    assert!(
        csv.body.starts_with(
            "id_registro,cargo,principio,circunscripcion,postulante,posicion_lista,propietario_nombre,propietario_sexo,propietario_fecha_nacimiento,suplente_nombre,suplente_sexo,suplente_fecha_nacimiento,accion_afirmativa,fecha_aprobacion,estatus,partido_responsable\r\n"
        ),
        "{}",
        csv.body
    );
    assert!(
        csv.body.contains(
            "N-1,diputacion_mr,mr,01,PAN,,Beatriz Sustituta Ruiz,mujer,1979-05-05,,,,,,cancelada,"
        ),
        "{}",
        csv.body
    );
    // Imported again as it was downloaded, it changes nothing.
    let rows = csv.body.lines().count() - 1;
    let request = admin
        .client
        .post(format!("{}/admin/importar", admin.base))
        .multipart(multipart(&csv.body));
    let page = admin.send(request).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains(&format!(
            "0 candidaturas nuevas, 0 con cambios, 0 sustituciones, 0 cancelaciones y {rows} sin cambios"
        )),
        "{}",
        page.body
    );
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_edits_the_election_in_local_time_and_date_changes_emit_an_event() {
    let stack = spawn_stack().await;
    conoceles_capture::tools::demo::seed(&stack.capture_pool)
        .await
        .unwrap();
    let password = stack.account("admin@iec.org.mx", Role::Admin).await;
    let mut admin = stack.browser();
    admin.first_login("admin@iec.org.mx", &password).await;

    let form = admin.get("/admin/eleccion").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("America/Monterrey"));
    let field = |name: &str| form.hidden(name);
    let mut values: Vec<(String, String)> = [
        "nombre",
        "captura_inicio",
        "captura_fin",
        "publicacion",
        "jornada",
        "foto_kb",
        "texto_min",
        "texto_max",
        "propuesta_min",
        "propuesta_max",
        "retencion",
        "regla_plazo",
        "dias_plazo",
        "limite_captura",
        "proteccion",
        "umbral_supresion",
        "rho_presupuesto",
        "rho_publicacion",
        "delta",
        "umbral_detalle",
    ]
    .iter()
    .map(|n| (n.to_string(), field(n)))
    .collect();
    values.push(("csrf".into(), field("csrf")));
    // Closing before opening is refused with a clear message, nothing saved.
    let mut bad = values.clone();
    bad.iter_mut().find(|(k, _)| k == "captura_fin").unwrap().1 = "2000-01-01T00:00".into();
    let refused = admin
        .post(
            "/admin/eleccion",
            &bad.iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains("La captura debe cerrar después de abrir.")
    );
    // The address for reporting errors on the public site: a typo is refused, what was typed
    // kept.
    let mut typo = values.clone();
    typo.push(("correo_errores".into(), "transparencia@iec".into()));
    let refused = admin
        .post(
            "/admin/eleccion",
            &typo
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("Correo para reportar errores: escriba un correo electrónico válido"),
        "{}",
        refused.body
    );

    // A queue of the test's own listens for election.updated.
    let tap = EventTap::bind(&stack.namespace, "election.updated").await;

    // Moving the closing date: saved, shown back in local time, event emitted.
    let new_close =
        chrono::NaiveDateTime::parse_from_str(&field("captura_inicio"), "%Y-%m-%dT%H:%M")
            .unwrap()
            .date()
            .succ_opt()
            .unwrap()
            .and_hms_opt(23, 59, 0)
            .unwrap();
    let new_close_text = new_close.format("%Y-%m-%dT%H:%M").to_string();
    values
        .iter_mut()
        .find(|(k, _)| k == "captura_fin")
        .unwrap()
        .1 = new_close_text.clone();
    let saved = admin
        .post(
            "/admin/eleccion",
            &values
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert!(saved.body.contains("las fechas cambiaron"));
    assert!(saved.body.contains(&format!("value=\"{new_close_text}\"")));
    let closes: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT capture_closes_at FROM elections")
            .fetch_one(&stack.capture_pool)
            .await
            .unwrap();
    assert_eq!(
        closes,
        (new_close + chrono::Duration::hours(6)).and_utc(),
        "Coahuila is UTC−6"
    );
    let delivered = tap.next().await;
    use prost::Message;
    let event = conoceles_proto::events::v1::ElectionUpdated::decode(delivered.as_slice()).unwrap();
    assert_eq!(event.capture_closes_at.unwrap().seconds, closes.timestamp());
    assert_eq!(event.time_zone, "America/Monterrey");
    assert!(matches!(
        event.identity_protection.and_then(|p| p.method),
        Some(conoceles_proto::common::v1::identity_protection::Method::Suppression(s)) if s.threshold == 5
    ));

    // The identity statistics under differential privacy: a release larger than the budget is
    // refused with the field's rule; then saved, shown checked and announced to identity.
    let set = |values: &mut Vec<(String, String)>, name: &str, value: &str| {
        values.iter_mut().find(|(k, _)| k == name).unwrap().1 = value.into();
    };
    set(&mut values, "proteccion", "differential_privacy");
    set(&mut values, "rho_presupuesto", "2");
    set(&mut values, "rho_publicacion", "3");
    let refused = admin
        .post(
            "/admin/eleccion",
            &values
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("ρ por publicación: un número mayor que 0 que no pase el presupuesto."),
        "{}",
        refused.body
    );
    set(&mut values, "rho_publicacion", "0,5");
    let saved = admin
        .post(
            "/admin/eleccion",
            &values
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>(),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert!(
        saved
            .body
            .contains("value=\"differential_privacy\" type=\"radio\" checked")
    );
    assert!(
        saved
            .body
            .contains("name=\"rho_publicacion\" value=\"0.5\"")
    );
    let delivered = tap.next().await;
    let event = conoceles_proto::events::v1::ElectionUpdated::decode(delivered.as_slice()).unwrap();
    match event.identity_protection.and_then(|p| p.method) {
        Some(conoceles_proto::common::v1::identity_protection::Method::DifferentialPrivacy(p)) => {
            assert_eq!((p.rho_budget, p.rho_per_release, p.delta), (2.0, 0.5, 1e-6));
            assert_eq!(p.detail_threshold, 10);
        }
        other => panic!("{other:?}"),
    }
    tap.close().await;
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_creates_an_election_and_loads_its_catalogs_from_csv() {
    let stack = spawn_stack().await;
    let password = stack.account("admin@iec.org.mx", Role::Admin).await;
    let mut admin = stack.browser();
    admin.first_login("admin@iec.org.mx", &password).await;
    // Without an election, the catalogs page leads to creating one.
    let empty = admin.get("/admin/catalogos").await;
    assert_eq!(empty.location.as_deref(), Some("/admin/elecciones/nueva"));
    let form = admin.get("/admin/elecciones/nueva").await;
    assert!(form.body.contains("Coahuila de Zaragoza") || form.body.contains("Coahuila"));
    let csrf = form.hidden("csrf");
    let fields = |closes: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            (
                "nombre",
                "Proceso Electoral Local 2026-2027 de Durango".to_string(),
            ),
            ("entidad", "10".into()),
            ("zona", "America/Monterrey".into()),
            ("captura_inicio", "2027-03-01T09:00".into()),
            ("captura_fin", closes.into()),
            ("publicacion", "2027-04-15T00:00".into()),
            ("jornada", "2027-06-06".into()),
        ]
    };
    let bad = fields("2027-02-01T09:00");
    let refused = admin
        .post(
            "/admin/elecciones/nueva",
            &bad.iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>(),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("La captura debe cerrar después de abrir.")
    );
    let good = fields("2027-04-30T23:59");
    let created = admin
        .post(
            "/admin/elecciones/nueva",
            &good
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>(),
        )
        .await;
    assert_eq!(
        created.location.as_deref(),
        Some("/admin/catalogos?creada=1")
    );
    let opens: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT capture_opens_at FROM elections WHERE state_code = '10'")
            .fetch_one(&stack.capture_pool)
            .await
            .unwrap();
    assert_eq!(
        opens.to_rfc3339(),
        "2027-03-01T15:00:00+00:00",
        "local time of the state"
    );

    let page = admin.get("/admin/catalogos?creada=1").await;
    assert!(page.body.contains("Se creó la elección."));
    let send = |csrf: String, kind: &'static str, file: Vec<u8>| {
        reqwest::multipart::Form::new()
            .text("csrf", csrf)
            .text("catalogo", kind)
            .part(
                "archivo",
                reqwest::multipart::Part::bytes(file).file_name("catalogo.csv"),
            )
    };
    // A file with problems: all reported, nothing stored.
    let bad_offices = "clave,nombre,principio,circunscripcion\n\
                       diputacion_mr,Diputación MR,mr,distrito\n\
                       ,Sin clave,mr,distrito\n\
                       regiduria,Regiduría,xx,municipio\n\
                       sindicatura,Sindicatura,mr,estado\n";
    let result = admin
        .multipart(
            "/admin/catalogos",
            send(
                page.hidden("csrf"),
                "cargos",
                bad_offices.as_bytes().to_vec(),
            ),
        )
        .await;
    assert_eq!(result.status, StatusCode::UNPROCESSABLE_ENTITY);
    for line in ["Línea 3", "Línea 4", "Línea 5"] {
        assert!(result.body.contains(line), "{line}: {}", result.body);
    }
    let offices: i64 = sqlx::query_scalar("SELECT count(*) FROM offices")
        .fetch_one(&stack.capture_pool)
        .await
        .unwrap();
    assert_eq!(offices, 0, "nothing stored from a file with problems");

    let good_offices = "clave,nombre,principio,circunscripcion\n\
                        diputacion_mr,Diputación local de mayoría relativa,mr,distrito\n\
                        diputacion_rp,Diputación local de representación proporcional,rp,lista\n";
    let files: [(&str, Vec<u8>); 5] = [
        ("cargos", good_offices.as_bytes().to_vec()),
        (
            "distritos",
            include_bytes!("../../../../services/capture/demo/distritos.csv").to_vec(),
        ),
        (
            "municipios",
            include_bytes!("../../../../services/capture/demo/municipios.csv").to_vec(),
        ),
        (
            "listas",
            "clave,nombre\nRP,Lista estatal\n".as_bytes().to_vec(),
        ),
        (
            "partidos",
            include_bytes!("../../../../services/capture/demo/partidos.csv").to_vec(),
        ),
    ];
    for (kind, file) in files {
        let result = admin
            .multipart("/admin/catalogos", send(page.hidden("csrf"), kind, file))
            .await;
        assert_eq!(result.status, StatusCode::OK, "{kind}: {}", result.body);
        assert!(result.body.contains("Se cargaron"));
    }
    // The secciones of the voter card: every problem at once, nothing stored; then the demo's.
    let bad_sections =
        "seccion,municipio,distrito\n1,035,08\n1,035,09\n2,999,08\n3,035,77\nabc,035,08\n";
    let result = admin
        .multipart(
            "/admin/catalogos",
            send(
                page.hidden("csrf"),
                "secciones",
                bad_sections.as_bytes().to_vec(),
            ),
        )
        .await;
    assert_eq!(result.status, StatusCode::UNPROCESSABLE_ENTITY);
    for problem in [
        "La sección 1 ya está en la línea 2",
        "El municipio «999» no está en el catálogo de municipios",
        "El distrito «77» no está en el catálogo de distritos",
        "«abc» no es un número de sección",
    ] {
        assert!(result.body.contains(problem), "{problem}: {}", result.body);
    }
    let sections: i64 = sqlx::query_scalar("SELECT count(*) FROM sections")
        .fetch_one(&stack.capture_pool)
        .await
        .unwrap();
    assert_eq!(sections, 0, "nothing stored from a file with problems");
    let result = admin
        .multipart(
            "/admin/catalogos",
            send(
                page.hidden("csrf"),
                "secciones",
                include_bytes!("../../../../services/capture/demo/secciones.csv").to_vec(),
            ),
        )
        .await;
    assert_eq!(result.status, StatusCode::OK, "{}", result.body);
    // The public site learns where each sección votes: Torreón's secciones are in districts
    // 08 to 11.
    let started = std::time::Instant::now();
    let torreon = loop {
        let districts: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT district_code FROM place_sections WHERE municipality_code = '035' ORDER BY 1",
        )
        .fetch_all(&stack.publication_pool)
        .await
        .unwrap();
        if !districts.is_empty() || started.elapsed() > std::time::Duration::from_secs(20) {
            break districts;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(torreon, ["08", "09", "10", "11"]);
    // The demo's candidacies import into the new election.
    let import = admin.get("/admin/importar").await;
    let form = reqwest::multipart::Form::new()
        .text("csrf", import.hidden("csrf"))
        .part(
            "archivo",
            reqwest::multipart::Part::bytes(
                include_bytes!("../../../../services/capture/demo/candidaturas.csv").to_vec(),
            )
            .file_name("candidaturas.csv"),
        );
    let previewed = admin.multipart("/admin/importar", form).await;
    assert_eq!(previewed.status, StatusCode::OK, "{}", previewed.body);
    assert!(
        previewed.body.contains("102 candidaturas nuevas"),
        "{}",
        previewed.body
    );
    let apply = apply_link(&previewed.body);
    let imported = admin
        .post(
            &format!("/admin/importar/{apply}"),
            &[("csrf", &previewed.hidden("csrf"))],
        )
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    let candidacies: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM candidacies c JOIN elections e ON e.id = c.election_id WHERE e.state_code = '10'",
    )
    .fetch_one(&stack.capture_pool)
    .await
    .unwrap();
    assert_eq!(candidacies, 102);
    stack.stop().await;
}

/// Sonora's rule: each candidacy has 15 natural days from the day after its accounts were
/// delivered. The unit records the delivery of a party's credentials; the deadlines of that
/// party's candidacies follow within seconds, and the party's dashboard shows each one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_the_delivery_rule_each_candidacy_counts_its_days_from_its_accounts_delivery() {
    let stack = spawn_stack().await;
    conoceles_capture::tools::demo::seed(&stack.capture_pool)
        .await
        .unwrap();
    // Registered before capture opened, under the delivery rule, with a late outer bound.
    conoceles_capture::domain::election::count_deadlines_from_delivery(
        &mut stack.capture_pool.acquire().await.unwrap(),
        conoceles_capture::tools::demo::DEMO_ELECTION,
        15,
    )
    .await
    .unwrap();
    sqlx::query("UPDATE elections SET election_day = (now() + interval '60 days')::date")
        .execute(&stack.capture_pool)
        .await
        .unwrap();
    stack
        .set_window("now() - interval '1 day'", "now() + interval '2 days'")
        .await;
    let party = stack.party_id("PT").await;
    let password = stack.account("entregas@iec.org.mx", Role::Admin).await;
    let mut admin = stack.browser();
    admin.first_login("entregas@iec.org.mx", &password).await;
    // auth generated PT's accounts from the demo's events: its own and one per candidacy.
    let started = std::time::Instant::now();
    loop {
        let generated: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM generated_accounts WHERE party_id = $1 AND kind = 'candidacy'",
        )
        .bind(party)
        .fetch_one(&stack.accounts.pool)
        .await
        .unwrap();
        if generated == 19 {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 30,
            "accounts not generated: {generated}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let list = admin.get("/admin/credenciales").await;
    let confirm = admin
        .post(
            &format!("/admin/credenciales/{party}/hoja"),
            &[("csrf", &list.hidden("csrf"))],
        )
        .await;
    let sheet = admin
        .post(
            &format!("/admin/credenciales/{party}/hoja"),
            &[
                ("csrf", confirm.hidden("csrf").as_str()),
                ("confirmado", "si"),
                ("una_vez", confirm.hidden("una_vez").as_str()),
            ],
        )
        .await;
    assert_eq!(sheet.status, StatusCode::OK);
    assert!(sheet.body.contains("Hoja de credenciales"));
    let delivered = admin
        .post(
            &format!("/admin/credenciales/{party}/entregada"),
            &[("csrf", &list.hidden("csrf"))],
        )
        .await;
    assert!(
        delivered.body.contains("Se registró la entrega"),
        "{}",
        delivered.body
    );
    // 15 natural days from the day after today, in Coahuila's zone (UTC−6).
    let tz: chrono_tz::Tz = "America/Monterrey".parse().unwrap();
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let expected = chrono::TimeZone::from_local_datetime(
        &tz,
        &(today + chrono::Duration::days(16))
            .and_hms_opt(0, 0, 0)
            .unwrap(),
    )
    .unwrap()
    .with_timezone(&chrono::Utc);
    let started = std::time::Instant::now();
    loop {
        let deadlines: Vec<Option<chrono::DateTime<chrono::Utc>>> = sqlx::query_scalar(
            "SELECT capture_deadline FROM candidacies WHERE postulant_code = 'PT' ORDER BY id",
        )
        .fetch_all(&stack.capture_pool)
        .await
        .unwrap();
        if deadlines.iter().all(|d| *d == Some(expected)) {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 30,
            "deadlines not counted from delivery: {deadlines:?}, expected {expected}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // Another party's candidacies keep the election's window until theirs are delivered.
    let others: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM candidacies WHERE postulant_code = 'MORENA' AND capture_deadline IS NULL",
    )
    .fetch_one(&stack.capture_pool)
    .await
    .unwrap();
    assert_eq!(others, 19);
    stack.stop().await;
}

/// The path of the preview's «Aplicar la importación» form.
fn apply_link(page: &str) -> String {
    page.split("action=\"/admin/importar/")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_and_expired_forms_keep_the_page_header_and_change_nothing() {
    let stack = spawn_stack().await;
    let admin_password = stack.account("admin@iec.org.mx", Role::Admin).await;
    let mut admin = stack.browser();
    admin.first_login("admin@iec.org.mx", &admin_password).await;

    // A refusal that flows from the domain (a candidacy that does not exist) is the Spanish
    // message page with the header of the person logged in, and its status.
    let missing = admin
        .get("/captura/0190f5c6-0000-7000-8000-000000000000")
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(
        missing.body.contains("<html lang=\"es-MX\">"),
        "{}",
        missing.body
    );
    assert!(
        missing.body.contains("admin@iec.org.mx") && missing.body.contains("Cerrar sesión"),
        "the header stays: {}",
        missing.body
    );

    // An address with a malformed identifier: the Spanish page with its header, never the
    // framework's English; the API says it as a structured error.
    let malformed = admin.get("/captura/no-es-un-identificador").await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        malformed.body.contains("La dirección no es válida")
            && malformed.body.contains("Cerrar sesión")
            && !malformed.body.contains("Invalid URL")
            && !malformed.body.contains("UUID"),
        "{}",
        malformed.body
    );
    let token = stack.api_token("unidad-api@iec.org.mx", Role::Admin).await;
    let api = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/candidacies/no-es-un-identificador",
            stack.base
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(api.status().is_client_error(), "{}", api.status());
    let body = api.text().await.unwrap();
    assert!(
        body.starts_with('{') && !body.contains("Invalid URL") && !body.contains("UUID"),
        "{body}"
    );

    // A form with a stale CSRF token is refused before it is read: nothing is created, and the
    // page says so in Spanish, with its header.
    let expired = admin
        .post(
            "/admin/cuentas",
            &[
                ("csrf", "de-otra-pagina"),
                ("email", "nadie@iec.org.mx"),
                ("role", "reviewer"),
            ],
        )
        .await;
    assert_eq!(expired.status, StatusCode::FORBIDDEN);
    assert!(expired.body.contains("La página caducó. Intente de nuevo."));
    assert!(
        expired.body.contains("admin@iec.org.mx"),
        "{}",
        expired.body
    );
    let list = admin.get("/admin/cuentas").await;
    assert!(
        !list.body.contains("nadie@iec.org.mx"),
        "nothing was created"
    );

    // A form that cannot be read at all gets a Spanish message, not the framework's English.
    let csrf = list.hidden("csrf");
    let unreadable = admin
        .post(
            "/revision/0190f5c6-0000-7000-8000-000000000000/aprobar",
            &[("csrf", &csrf), ("ronda", "primera")],
        )
        .await;
    assert_eq!(unreadable.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unreadable.body.contains("No pudimos leer el formulario.")
            && !unreadable.body.contains("Failed to deserialize"),
        "{}",
        unreadable.body
    );
    stack.stop().await;
}

/// The unit presents the public site as the electoral body's: its name and colour (a colour
/// white text cannot be read on is refused), the demonstration notice, and the emblems of the
/// body and of each postulant, which are drawn into PNG derivatives so nothing of the file sent
/// (a script in an SVG) is ever served; the site shows the change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_presents_the_site_as_the_bodys_and_emblems_are_served_only_as_clean_pngs() {
    use prost::Message;
    let stack = spawn_stack().await;
    conoceles_capture::tools::demo::seed(&stack.capture_pool)
        .await
        .unwrap();
    let password = stack.account("admin@iec.org.mx", Role::Admin).await;
    let mut admin = stack.browser();
    admin.first_login("admin@iec.org.mx", &password).await;

    // The demo's presentation: its body, a demonstration, illustrative emblems for everyone.
    let page = admin.get("/admin/sitio").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains("value=\"Instituto Electoral de Coahuila\"")
    );
    assert!(
        page.body
            .contains("Emblema actual de Partido Acción Nacional")
    );
    assert!(page.body.contains("Emblema actual de Organismo electoral"));
    let csrf = page.hidden("csrf");

    // A pale colour: refused with the contrast it has, what was typed kept, nothing stored.
    let refused = admin
        .post(
            "/admin/sitio",
            &[
                ("csrf", &csrf),
                ("organismo", "Instituto Electoral de Coahuila (pruebas)"),
                ("color", "#ffd700"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("se necesita al menos 4.5 a 1"),
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains("value=\"Instituto Electoral de Coahuila (pruebas)\"")
    );
    let color: String = sqlx::query_scalar("SELECT color FROM site_identity")
        .fetch_one(&stack.capture_pool)
        .await
        .unwrap();
    assert_eq!(color, "#1f4e79");

    // Saved: the event carries the whole presentation, emblems included.
    let tap = EventTap::bind(&stack.namespace, "election.site_identity_updated").await;
    let saved = admin
        .post(
            "/admin/sitio",
            &[
                ("csrf", &csrf),
                (
                    "organismo",
                    "  Instituto   Electoral de Coahuila (pruebas) ",
                ),
                ("color", "#2B4C7E"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert!(saved.body.contains("Se guardó la presentación del sitio."));
    let event =
        conoceles_proto::events::v1::SiteIdentityUpdated::decode(tap.next().await.as_slice())
            .unwrap();
    assert_eq!(event.body_name, "Instituto Electoral de Coahuila (pruebas)");
    assert_eq!(event.color, "#2b4c7e");
    assert!(!event.demonstration, "the box was left unticked");
    assert_eq!(
        event.emblems.len(),
        10,
        "the body's and the nine postulants'"
    );

    // An SVG with a script and a reference to a file of the server: drawn into a PNG.
    let svg = br##"<svg xmlns="http://www.w3.org/2000/svg" width="60" height="30"><script>alert(1)</script><rect width="60" height="30" fill="#8a1538"/><image href="/etc/passwd" width="5" height="5"/></svg>"##;
    let upload = |owner: &str, bytes: &[u8], name: &str| {
        reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .text("titular", owner.to_string())
            .part(
                "archivo",
                reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string()),
            )
    };
    let uploaded = admin
        .multipart("/admin/sitio/emblema", upload("MORENA", svg, "morena.svg"))
        .await;
    assert_eq!(uploaded.status, StatusCode::OK, "{}", uploaded.body);
    assert!(
        uploaded.body.contains("Se guardó el emblema de Morena."),
        "{}",
        uploaded.body
    );
    let stored: Vec<u8> = sqlx::query_scalar("SELECT png FROM emblems WHERE owner = 'MORENA'")
        .fetch_one(&stack.capture_pool)
        .await
        .unwrap();
    assert!(stored.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert!(!stored.windows(6).any(|w| w == b"script" || w == b"passwd"));
    // A GIF named .png: refused by its content, the earlier emblem kept.
    let gif = admin
        .multipart(
            "/admin/sitio/emblema",
            upload("PAN", b"GIF89a\x01\x00\x01\x00", "pan.png"),
        )
        .await;
    assert_eq!(gif.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        gif.body.contains(
            "El emblema de Partido Acción Nacional no se cargó: El emblema debe ser PNG o SVG"
        ),
        "{}",
        gif.body
    );
    let removed = admin
        .post(
            "/admin/sitio/emblema/quitar",
            &[("csrf", &csrf), ("titular", "PVEM")],
        )
        .await;
    assert!(
        removed
            .body
            .contains("Se quitó el emblema de Partido Verde Ecologista de México."),
        "{}",
        removed.body
    );

    // The public site follows: the body's name in every page's header, no demonstration
    // notice any more, the colour in its stylesheet, Morena's new emblem served as stored.
    let citizen = reqwest::Client::new();
    let started = std::time::Instant::now();
    let mut attempt = 0;
    let home = loop {
        attempt += 1;
        let home = citizen
            .get(format!("{}/candidaturas?intento={attempt}", stack.site))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if home.contains("Instituto Electoral de Coahuila (pruebas)</a>")
            && !home.contains("/emblemas/postulantes/PVEM")
        {
            break home;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(40),
            "the site shows the new presentation: {home}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    };
    assert!(!home.contains("Sitio de demostración"), "{home}");
    assert!(home.contains("/static/marca.css?v=2b4c7e"), "{home}");
    let css = citizen
        .get(format!("{}/static/marca.css?v=2b4c7e", stack.site))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(css.contains("--marca: #2b4c7e"), "{css}");
    let address = home
        .split("src=\"/emblemas/postulantes/MORENA")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(|query| format!("{}/emblemas/postulantes/MORENA{query}", stack.site))
        .expect("Morena's cards show its emblem");
    let served = citizen.get(&address).send().await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.bytes().await.unwrap().to_vec(), stored);
    tap.close().await;
    stack.stop().await;
}
