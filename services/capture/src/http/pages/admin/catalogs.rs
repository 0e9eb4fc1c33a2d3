//! `GET/POST /admin/elecciones/nueva` (a new election) and `GET/POST /admin/catalogos` (its
//! catalogs from CSV files).

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use http::StatusCode;
use serde::Deserialize;
use uuid::Uuid;

use super::views::{CatalogLine, CatalogsPage, NewElectionPage};
use crate::domain::election::{self, CatalogKind, NewElection, Settings};
use crate::http::extract::CheckedForm;
use crate::http::layout::{Chrome, render};
use crate::http::session::{SessionInfo, csrf_matches};
use crate::http::{FrontState, PAGE_EXPIRED};

#[derive(Deserialize, Default, Clone)]
pub struct NewElectionInput {
    #[serde(default)]
    nombre: String,
    #[serde(default)]
    entidad: String,
    #[serde(default)]
    zona: String,
    #[serde(default)]
    captura_inicio: String,
    #[serde(default)]
    captura_fin: String,
    #[serde(default)]
    publicacion: String,
    #[serde(default)]
    jornada: String,
}

fn new_election_page(
    session: &SessionInfo,
    input: NewElectionInput,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    render(
        status,
        &NewElectionPage {
            chrome: Chrome::of(session),
            states: election::states(),
            time_zones: election::TIME_ZONES,
            name: input.nombre,
            state: input.entidad,
            time_zone: input.zona,
            capture_opens: input.captura_inicio,
            capture_closes: input.captura_fin,
            publication: input.publicacion,
            election_day: input.jornada,
            errors,
        },
    )
}

pub async fn new_election_form(Extension(session): Extension<Arc<SessionInfo>>) -> Response {
    new_election_page(
        &session,
        NewElectionInput {
            zona: "America/Mexico_City".into(),
            ..NewElectionInput::default()
        },
        Vec::new(),
        StatusCode::OK,
    )
}

/// Creates the election with the default limits; it becomes the one the back office works on.
pub async fn create_election(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    CheckedForm(input): CheckedForm<NewElectionInput>,
) -> Response {
    let mut errors = Vec::new();
    let states = election::states();
    if !states.iter().any(|(code, _)| *code == input.entidad) {
        errors.push("Elija la entidad.".to_string());
    }
    if !election::TIME_ZONES.contains(&input.zona.as_str()) {
        errors.push("Elija la zona horaria.".to_string());
    }
    let tz = input.zona.clone();
    let mut instant = |value: &str, label: &str| {
        election::from_local_input(value, &tz).or_else(|| {
            errors.push(format!("{label}: escriba fecha y hora válidas."));
            None
        })
    };
    let opens = instant(&input.captura_inicio, "Inicio de la captura");
    let closes = instant(&input.captura_fin, "Cierre de la captura");
    let publication = instant(&input.publicacion, "Inicio de la publicación");
    let day = NaiveDate::parse_from_str(input.jornada.trim(), "%Y-%m-%d").ok();
    if day.is_none() {
        errors.push("Jornada electoral: escriba una fecha válida.".into());
    }
    let (Some(opens), Some(closes), Some(publication), Some(day)) =
        (opens, closes, publication, day)
    else {
        return new_election_page(&session, input, errors, StatusCode::UNPROCESSABLE_ENTITY);
    };
    // The same rules as any later change, with the default limits.
    let settings = Settings {
        id: Uuid::now_v7(),
        name: input.nombre.trim().to_string(),
        state_code: input.entidad.clone(),
        time_zone: input.zona.clone(),
        capture_opens_at: opens,
        capture_closes_at: closes,
        publication_starts_at: publication,
        election_day: day,
        photo_max_bytes: 700 * 1024,
        text_min_chars: 280,
        text_max_chars: 5000,
        proposal_min_chars: 280,
        proposal_max_chars: 1600,
        retention_days: 90,
        alternate_questionnaire: false,
        deadlines: Default::default(),
        campaign_ends_on: None,
        holidays: Vec::new(),
        corrections_email: String::new(),
        identity_protection: Default::default(),
    };
    errors.extend(election::check(&settings).into_iter().map(|v| v.message));
    if !errors.is_empty() {
        return new_election_page(&session, input, errors, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let created = async {
        let mut tx = state.pool.begin().await?;
        election::create(
            &mut tx,
            &NewElection {
                id: settings.id,
                name: &settings.name,
                state_code: &settings.state_code,
                time_zone: &settings.time_zone,
                capture_opens_at: settings.capture_opens_at,
                capture_closes_at: settings.capture_closes_at,
                publication_starts_at: settings.publication_starts_at,
                election_day: settings.election_day,
            },
        )
        .await?;
        tx.commit().await
    }
    .await;
    match created {
        Ok(()) => Redirect::to("/admin/catalogos?creada=1").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "creating an election failed");
            new_election_page(
                &session,
                input,
                vec!["No fue posible crear la elección.".into()],
                StatusCode::SERVICE_UNAVAILABLE,
            )
        }
    }
}

async fn catalogs_page(
    state: &FrontState,
    session: &SessionInfo,
    notice: Option<String>,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    let Ok(Some(current)) = election::current(&state.pool).await else {
        return Redirect::to("/admin/elecciones/nueva").into_response();
    };
    let counts = election::catalog_counts(&state.pool, current.id)
        .await
        .unwrap_or_default();
    render(
        status,
        &CatalogsPage {
            chrome: Chrome::of(session),
            election_name: current.name,
            lines: counts
                .into_iter()
                .map(|(kind, count)| CatalogLine {
                    slug: kind.slug(),
                    title: kind.title(),
                    columns: kind.columns(),
                    count,
                })
                .collect(),
            notice,
            errors,
        },
    )
}

#[derive(Deserialize, Default)]
pub struct CreatedQuery {
    #[serde(default)]
    creada: String,
}

pub async fn catalogs(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    axum::extract::Query(query): axum::extract::Query<CreatedQuery>,
) -> Response {
    let notice = (!query.creada.is_empty()).then(|| {
        "Se creó la elección. Cargue ahora sus catálogos y después las candidaturas.".to_string()
    });
    catalogs_page(&state, &session, notice, Vec::new(), StatusCode::OK).await
}

/// Largest catalog file.
pub const CATALOG_MAX_BYTES: usize = 2 * 1024 * 1024;

/// `POST /admin/catalogos` (multipart: `csrf`, `catalogo`, `archivo`).
pub async fn upload_catalog(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<conoceles_kit::access::Caller>,
    multipart: Multipart,
) -> Response {
    let account = caller
        .actor
        .as_ref()
        .map_or(uuid::Uuid::nil(), |a| a.account_id);
    let (_turn, form) =
        match crate::http::upload::receive(account, multipart, CATALOG_MAX_BYTES).await {
            Ok(received) => received,
            Err(e) => {
                return catalogs_page(&state, &session, None, vec![e.message()], e.status()).await;
            }
        };
    let (csrf, kind, bytes) = (
        form.text("csrf"),
        form.text("catalogo"),
        form.file("archivo").unwrap_or_default(),
    );
    if !csrf_matches(&session.csrf_token, &csrf) {
        return catalogs_page(
            &state,
            &session,
            None,
            vec![PAGE_EXPIRED.into()],
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let Some(kind) = CatalogKind::from_slug(&kind) else {
        return catalogs_page(
            &state,
            &session,
            None,
            vec!["Elija qué catálogo carga.".into()],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    if bytes.is_empty() {
        return catalogs_page(
            &state,
            &session,
            None,
            vec!["Elija un archivo CSV.".into()],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let Ok(Some(current)) = election::current(&state.pool).await else {
        return Redirect::to("/admin/elecciones/nueva").into_response();
    };
    match election::load_catalog(&state.pool, current.id, kind, &bytes).await {
        Ok(Ok(n)) => {
            let notice = format!("Se cargaron {n} registros de «{}».", kind.title());
            catalogs_page(&state, &session, Some(notice), Vec::new(), StatusCode::OK).await
        }
        Ok(Err(problems)) => {
            let mut errors = vec![format!(
                "El archivo de «{}» tiene errores; no se cargó nada.",
                kind.title()
            )];
            errors.extend(problems.iter().map(ToString::to_string));
            catalogs_page(
                &state,
                &session,
                None,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "loading a catalog failed");
            catalogs_page(
                &state,
                &session,
                None,
                vec!["No fue posible cargar el catálogo.".into()],
                StatusCode::SERVICE_UNAVAILABLE,
            )
            .await
        }
    }
}
