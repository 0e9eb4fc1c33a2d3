//! The admin's candidacies: list with filters and counts, CSV export, import from the
//! registry's CSV, substitution and cancellation.

use conoceles_kit::CandidacyStatus;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Response};
use conoceles_kit::access::Caller;
use http::{StatusCode, header};
use serde::Deserialize;
use uuid::Uuid;

use super::views::{CandidaciesPage, CandidacyRow, ImportPage, ImportPreview};
use crate::domain::candidacies::{self, Filters};
use crate::domain::election;
use crate::domain::import::{self, PersonRow};
use crate::http::FrontState;
use crate::http::PAGE_EXPIRED;
use crate::http::extract::CheckedForm;
use crate::http::layout::{Chrome, render};
use crate::http::pages::account::login::CsrfForm;
use crate::http::session::{SessionInfo, csrf_matches};

#[derive(Deserialize, Default)]
pub struct FilterQuery {
    #[serde(default)]
    cargo: String,
    #[serde(default)]
    circunscripcion: String,
    #[serde(default)]
    postulante: String,
    #[serde(default)]
    estatus: String,
}

impl FilterQuery {
    fn filters(&self) -> Filters {
        Filters {
            office: self.cargo.clone(),
            constituency: self.circunscripcion.clone(),
            postulant: self.postulante.clone(),
            status: self.estatus.clone(),
        }
    }
}

fn actor(caller: &Caller) -> Option<Uuid> {
    caller.actor.as_ref().map(|a| a.account_id)
}

async fn page(
    state: &FrontState,
    session: &SessionInfo,
    filters: Filters,
    status: StatusCode,
    notice: Option<String>,
    errors: Vec<String>,
) -> Response {
    let Ok(Some(current)) = election::current(&state.pool).await else {
        return render(
            StatusCode::NOT_FOUND,
            &crate::http::layout::MessagePage::new(session, "Aún no hay una elección configurada."),
        );
    };
    let rows = candidacies::list(&state.pool, current.id, &filters)
        .await
        .unwrap_or_default();
    let time_zone = election::settings(&state.pool, current.id)
        .await
        .map(|s| s.time_zone)
        .unwrap_or_else(|_| "America/Mexico_City".into());
    let (offices, postulants) = election::choices(&state.pool, current.id)
        .await
        .unwrap_or_default();
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut seats = candidacies::seat_names(&state.pool, &ids)
        .await
        .unwrap_or_default();
    render(
        status,
        &CandidaciesPage {
            chrome: Chrome::of(session),
            election_name: current.name,
            offices,
            postulants,
            statuses: CandidacyStatus::ALL
                .iter()
                .map(|s| (s.code().to_string(), s.label()))
                .collect(),
            counts: CandidacyStatus::ALL
                .iter()
                .map(|s| (s.label(), rows.iter().filter(|r| r.status == *s).count()))
                .collect(),
            rows: rows
                .into_iter()
                .map(|r| {
                    let seat = seats.remove(&r.id).unwrap_or(candidacies::SeatNames {
                        postulant: r.postulant,
                        office: r.office,
                        constituency: r.constituency,
                        ..candidacies::SeatNames::default()
                    });
                    CandidacyRow {
                        id: r.id.to_string(),
                        withdrawn: r.status == CandidacyStatus::Withdrawn,
                        status_label: r.status.label(),
                        external_id: r.external_id,
                        office: seat.office,
                        constituency: seat.constituency,
                        postulant: seat.postulant,
                        list_position: r.list_position,
                        holder: r.holder,
                        alternate: r.alternate,
                        deadline: election::local_deadline(r.capture_deadline, &time_zone),
                    }
                })
                .collect(),
            filters,
            notice,
            errors,
        },
    )
}

pub async fn list(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Query(query): Query<FilterQuery>,
) -> Response {
    page(
        &state,
        &session,
        query.filters(),
        StatusCode::OK,
        None,
        Vec::new(),
    )
    .await
}

/// The filtered list as CSV in the import's format (the lists of approved MR and RP
/// candidacies sent to INE): corrected and imported again, unchanged rows change nothing.
pub async fn export(State(state): State<FrontState>, Query(query): Query<FilterQuery>) -> Response {
    let Ok(Some(current)) = election::current(&state.pool).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let csv = match import::export::csv(&state.pool, current.id, &query.filters()).await {
        Ok(csv) => csv,
        Err(e) => return conoceles_kit::AppError::from(e).into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"candidaturas.csv\"",
            ),
        ],
        csv,
    )
        .into_response()
}

pub async fn import_form(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
) -> Response {
    import_page(&state, &session, StatusCode::OK, None, Vec::new()).await
}

async fn import_page(
    state: &FrontState,
    session: &SessionInfo,
    status: StatusCode,
    summary: Option<String>,
    problems: Vec<String>,
) -> Response {
    import_page_with(state, session, status, summary, problems, None).await
}

/// "1 candidatura nueva, 0 con cambios, 2 sustituciones, 1 cancelación y 98 sin cambios".
fn import_counts(s: &import::ImportSummary) -> String {
    let n = |count: usize, one: &str, many: &str| {
        format!("{count} {}", if count == 1 { one } else { many })
    };
    format!(
        "{}, {} con cambios, {}, {} y {} sin cambios",
        n(s.created, "candidatura nueva", "candidaturas nuevas"),
        s.updated,
        n(s.substituted, "sustitución", "sustituciones"),
        n(s.cancelled, "cancelación", "cancelaciones"),
        s.unchanged
    )
}

fn action_label(action: &str) -> &'static str {
    match action {
        "new" => "Nueva",
        "changed" => "Cambia",
        "substituted" => "Sustitución",
        "cancelled" => "Cancelación",
        _ => "Se omite",
    }
}

async fn import_page_with(
    state: &FrontState,
    session: &SessionInfo,
    status: StatusCode,
    summary: Option<String>,
    problems: Vec<String>,
    preview: Option<ImportPreview>,
) -> Response {
    let name = election::current(&state.pool)
        .await
        .ok()
        .flatten()
        .map(|e| e.name)
        .unwrap_or_default();
    render(
        status,
        &ImportPage {
            chrome: Chrome::of(session),
            election_name: name,
            summary,
            problems,
            preview,
        },
    )
}

pub async fn import_upload(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    multipart: Multipart,
) -> Response {
    let account = caller
        .actor
        .as_ref()
        .map_or(uuid::Uuid::nil(), |a| a.account_id);
    let (_turn, form) =
        match crate::http::upload::receive(account, multipart, crate::domain::import::MAX_BYTES)
            .await
        {
            Ok(received) => received,
            Err(e) => {
                return import_page(&state, &session, e.status(), None, vec![e.message()]).await;
            }
        };
    let (csrf, file) = (form.text("csrf"), form.file("archivo"));
    if !csrf_matches(&session.csrf_token, &csrf) {
        return import_page(
            &state,
            &session,
            StatusCode::FORBIDDEN,
            None,
            vec![PAGE_EXPIRED.into()],
        )
        .await;
    }
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        return import_page(
            &state,
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            vec!["Elija un archivo CSV.".into()],
        )
        .await;
    };
    let Ok(Some(current)) = election::current(&state.pool).await else {
        return import_page(
            &state,
            &session,
            StatusCode::NOT_FOUND,
            None,
            vec!["Aún no hay una elección configurada.".into()],
        )
        .await;
    };
    let catalog = match election::catalog(&state.pool, current.id).await {
        Ok(catalog) => catalog,
        Err(e) => return conoceles_kit::AppError::from(e).into_response(),
    };
    match import::parse(&bytes, &catalog) {
        Err(errors) => {
            let problems = errors.iter().map(ToString::to_string).collect();
            import_page(
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                problems,
            )
            .await
        }
        Ok(rows) => {
            // Checked: kept, and shown as it would apply.
            let previewed = async {
                let upload =
                    import::uploads::keep(&state.pool, current.id, actor(&caller), &bytes).await?;
                let summary = import::preview(&state.pool, current.id, &catalog, &rows).await?;
                anyhow::Ok((upload, summary))
            }
            .await;
            match previewed {
                Ok((upload, s)) => {
                    let preview = ImportPreview {
                        upload: upload.to_string(),
                        counts: import_counts(&s),
                        lines: s
                            .changes
                            .into_iter()
                            .map(|c| (c.line, c.external_id, action_label(c.action), c.detail))
                            .collect(),
                    };
                    import_page_with(
                        &state,
                        &session,
                        StatusCode::OK,
                        None,
                        Vec::new(),
                        Some(preview),
                    )
                    .await
                }
                Err(e) => import_failed(&state, &session, e).await,
            }
        }
    }
}

async fn import_failed(state: &FrontState, session: &SessionInfo, e: anyhow::Error) -> Response {
    tracing::error!(error = %format!("{e:#}"), "import failed");
    let msg =
        "La importación no se pudo completar; no se importó nada. Intente de nuevo.".to_string();
    import_page(
        state,
        session,
        StatusCode::SERVICE_UNAVAILABLE,
        None,
        vec![msg],
    )
    .await
}

/// `POST /admin/importar/{id}/aplicar`: applies the file the unit previewed (checked again
/// against the catalogs as they are now).
pub async fn import_apply(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path(upload): Path<Uuid>,
    CheckedForm(_form): CheckedForm<CsrfForm>,
) -> Response {
    let stored = match import::uploads::kept(&state.pool, upload).await {
        Ok(stored) => stored,
        Err(e) => return import_failed(&state, &session, e.into()).await,
    };
    let Some((election_id, bytes)) = stored else {
        let msg = "Ese archivo ya se aplicó o se reemplazó por otro; súbalo de nuevo.".to_string();
        return import_page(&state, &session, StatusCode::NOT_FOUND, None, vec![msg]).await;
    };
    let catalog = match election::catalog(&state.pool, election_id).await {
        Ok(catalog) => catalog,
        Err(e) => return import_failed(&state, &session, e.into()).await,
    };
    let rows = match import::parse(&bytes, &catalog) {
        Ok(rows) => rows,
        Err(errors) => {
            let problems = errors.iter().map(ToString::to_string).collect();
            return import_page(
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                problems,
            )
            .await;
        }
    };
    match import::apply(&state.pool, election_id, &catalog, &rows, actor(&caller)).await {
        Ok(s) => {
            if let Err(e) = import::uploads::forget(&state.pool, upload).await {
                // Applied; the kept copy expires with the next upload.
                tracing::warn!(error = %e, "an applied import's upload could not be forgotten");
            }
            let summary = format!("Importación terminada: {}.", import_counts(&s));
            import_page(&state, &session, StatusCode::OK, Some(summary), Vec::new()).await
        }
        Err(e) => import_failed(&state, &session, e).await,
    }
}

#[derive(Deserialize)]
pub struct SubstituteForm {
    #[serde(default)]
    rol: String,
    #[serde(default)]
    nombre: String,
    #[serde(default)]
    sexo: String,
    #[serde(default)]
    fecha_nacimiento: String,
    #[serde(default)]
    motivo: String,
}

fn outcome_errors(e: conoceles_kit::AppError) -> (StatusCode, Vec<String>) {
    let status = e.code().http_status();
    match e {
        conoceles_kit::AppError::Known {
            message,
            violations,
            ..
        } if !violations.is_empty() => {
            let _ = message;
            (status, violations.into_iter().map(|v| v.message).collect())
        }
        conoceles_kit::AppError::Known { message, .. } => (status, vec![message]),
        other => {
            tracing::error!(error = %other, "candidacy change failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                vec!["No fue posible guardar el cambio.".into()],
            )
        }
    }
}

pub async fn substitute(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<Uuid>,
    CheckedForm(form): CheckedForm<SubstituteForm>,
) -> Response {
    let Ok(birth_date) =
        chrono::NaiveDate::parse_from_str(form.fecha_nacimiento.trim(), "%Y-%m-%d")
    else {
        return page(
            &state,
            &session,
            Filters::default(),
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            vec!["La fecha de nacimiento debe tener el formato AAAA-MM-DD.".into()],
        )
        .await;
    };
    let full_name = form.nombre.split_whitespace().collect::<Vec<_>>().join(" ");
    if full_name.is_empty() || !matches!(form.sexo.as_str(), "mujer" | "hombre" | "no_binario") {
        return page(
            &state,
            &session,
            Filters::default(),
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            vec!["Escriba el nombre completo y elija el sexo.".into()],
        )
        .await;
    }
    let person = PersonRow {
        full_name,
        sex: form.sexo.clone(),
        birth_date,
    };
    let outcome = candidacies::substitute(
        &state.pool,
        id,
        &form.rol,
        &person,
        form.motivo.trim(),
        actor(&caller),
    )
    .await;
    after_action(
        &state,
        &session,
        outcome,
        "La sustitución quedó registrada.",
    )
    .await
}

/// The list again after an admin's action on a candidacy: its notice, or why it was refused.
async fn after_action<T>(
    state: &FrontState,
    session: &SessionInfo,
    outcome: Result<T, conoceles_kit::AppError>,
    done: &str,
) -> Response {
    match outcome {
        Ok(_) => {
            page(
                state,
                session,
                Filters::default(),
                StatusCode::OK,
                Some(done.into()),
                Vec::new(),
            )
            .await
        }
        Err(e) => {
            let (status, errors) = outcome_errors(e);
            page(state, session, Filters::default(), status, None, errors).await
        }
    }
}

#[derive(Deserialize)]
pub struct CancelForm {
    #[serde(default)]
    motivo: String,
}

pub async fn cancel(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<Uuid>,
    CheckedForm(form): CheckedForm<CancelForm>,
) -> Response {
    let outcome = candidacies::cancel(&state.pool, id, form.motivo.trim(), actor(&caller)).await;
    after_action(&state, &session, outcome, "La candidatura quedó cancelada.").await
}

#[derive(Deserialize)]
pub struct ExtendForm {
    #[serde(default)]
    hasta: String,
    #[serde(default)]
    motivo: String,
}

/// `POST /admin/candidaturas/{id}/prorrogar`: the unit extends one candidacy's capture deadline,
/// with a reason (in the candidacy's history).
pub async fn extend(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<Uuid>,
    CheckedForm(form): CheckedForm<ExtendForm>,
) -> Response {
    let time_zone = match election::current(&state.pool).await {
        Ok(Some(e)) => election::settings(&state.pool, e.id)
            .await
            .map(|s| s.time_zone)
            .unwrap_or_default(),
        _ => String::new(),
    };
    let Some(until) = election::from_local_input(&form.hasta, &time_zone) else {
        return page(
            &state,
            &session,
            Filters::default(),
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            vec!["Nuevo plazo: escriba fecha y hora válidas.".into()],
        )
        .await;
    };
    let outcome = crate::domain::deadlines::extend(
        &state.pool,
        id,
        until,
        &form.motivo,
        actor(&caller),
        conoceles_kit::clock::now(),
    )
    .await;
    after_action(
        &state,
        &session,
        outcome,
        &format!(
            "El plazo de captura de la candidatura se prorrogó hasta el {}.",
            election::local_deadline(until, &time_zone)
        ),
    )
    .await
}

#[derive(Deserialize)]
pub struct ReopenForm {
    #[serde(default)]
    referencia: String,
    #[serde(default)]
    motivo: String,
    #[serde(default)]
    fecha_solicitud: String,
    #[serde(default)]
    solicitante: String,
}

/// `POST /admin/candidaturas/{id}/reabrir`: registers the correction a party asked for and
/// reopens the published candidacy for it, once; its deadline is the next business day after the
/// request. The unit applies it itself, or the party corrects and sends again.
pub async fn reopen(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<Uuid>,
    CheckedForm(form): CheckedForm<ReopenForm>,
) -> Response {
    let account = actor(&caller).unwrap_or_default();
    let Ok(requested_on) =
        chrono::NaiveDate::parse_from_str(form.fecha_solicitud.trim(), "%Y-%m-%d")
    else {
        return after_action::<()>(
            &state,
            &session,
            Err(conoceles_kit::AppError::field(
                "fecha_solicitud",
                "invalid",
                "Fecha de la solicitud: escriba una fecha válida.",
            )),
            "",
        )
        .await;
    };
    let request = candidacies::CorrectionRequest {
        reference: form.referencia,
        reason: form.motivo,
        requested_on,
        requested_by: form.solicitante,
    };
    match candidacies::reopen_for_correction(&state.pool, id, &request, account).await {
        Ok(due) => {
            let done = format!(
                "La candidatura se reabrió para corrección. Plazo para aplicarla: {} (día hábil siguiente a la solicitud). La Unidad puede aplicarla desde la página de la candidatura, o el partido corregirla y enviarla de nuevo.",
                crate::domain::election::day(due)
            );
            after_action::<()>(&state, &session, Ok(()), &done).await
        }
        Err(e) => after_action::<()>(&state, &session, Err(e), "").await,
    }
}
