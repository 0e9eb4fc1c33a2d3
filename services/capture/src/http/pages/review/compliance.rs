//! `GET /admin/cumplimiento[?al=AAAA-MM-DD]` (and `.csv`): per postulant and office, the
//! candidacies not started, incomplete (drafts), observed and not answered, and without the
//! identity questionnaire, as of a cut-off (the end of the chosen day in the state's time zone,
//! or now) — computed by `validation`; what the unit reports to the General Council, with the
//! election's deadlines as references.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use http::{StatusCode, header};
use serde::Deserialize;

use super::views::{ComplianceLine, CompliancePage};
use crate::domain::election;
use crate::http::layout::{Chrome, MessagePage, render};
use crate::http::{FrontState, session::SessionInfo, status_messages};
use conoceles_kit::csv::csv_field;

#[derive(Deserialize, Default)]
pub struct CutOff {
    /// A day (`AAAA-MM-DD`); the cut-off is its end in the state's time zone.
    #[serde(default)]
    al: String,
}

struct Report {
    election: election::Settings,
    at: DateTime<Utc>,
    lines: Vec<ComplianceLine>,
}

use crate::domain::election::local;

async fn report(state: &FrontState, cut_off: &CutOff) -> Result<Report, (StatusCode, String)> {
    let unavailable = |m: &str| (StatusCode::SERVICE_UNAVAILABLE, m.to_string());
    let current = election::current(&state.pool)
        .await
        .map_err(|_| unavailable("No fue posible leer la elección."))?
        .ok_or((
            StatusCode::NOT_FOUND,
            "Aún no hay una elección configurada.".to_string(),
        ))?;
    let settings = election::settings(&state.pool, current.id)
        .await
        .map_err(|_| unavailable("No fue posible leer la elección."))?;
    let at = end_of_day(&cut_off.al, &settings.time_zone)?.unwrap_or_else(Utc::now);
    let response = state.validation.compliance(at).await.map_err(|s| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            status_messages(&s).join(" "),
        )
    })?;
    let lines = response
        .rows
        .into_iter()
        .map(|r| ComplianceLine {
            postulant: r.postulant,
            office: r.office,
            total: r.total as usize,
            not_started: r.not_started as usize,
            incomplete: r.incomplete as usize,
            observed: r.observed_unanswered as usize,
            identity_missing: r.identity_missing as usize,
        })
        .collect();
    Ok(Report {
        election: settings,
        at,
        lines,
    })
}

/// The end of the day `al` (`AAAA-MM-DD`) in the state's time zone, never in the future;
/// `None` when `al` is empty (now).
pub(crate) fn end_of_day(
    al: &str,
    time_zone: &str,
) -> Result<Option<DateTime<Utc>>, (StatusCode, String)> {
    if al.trim().is_empty() {
        return Ok(None);
    }
    let day = NaiveDate::parse_from_str(al.trim(), "%Y-%m-%d").map_err(|_| {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "La fecha de corte debe tener la forma AAAA-MM-DD.".to_string(),
        )
    })?;
    let end = day
        .and_hms_opt(23, 59, 59)
        .map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
        .and_then(|s| election::from_local_input(&s, time_zone))
        .ok_or((
            StatusCode::UNPROCESSABLE_ENTITY,
            "La fecha de corte no es válida.".to_string(),
        ))?;
    Ok(Some(end.min(Utc::now())))
}

pub async fn page(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Query(cut_off): Query<CutOff>,
) -> Response {
    match report(&state, &cut_off).await {
        Ok(r) => {
            let tz = &r.election.time_zone;
            render(
                StatusCode::OK,
                &CompliancePage {
                    chrome: Chrome::of(&session),
                    election_name: r.election.name.clone(),
                    at: local(r.at, tz),
                    day: cut_off.al.clone(),
                    capture_closes: local(r.election.capture_closes_at, tz),
                    publication_starts: local(r.election.publication_starts_at, tz),
                    election_day: r.election.election_day.format("%d/%m/%Y").to_string(),
                    lines: r.lines,
                },
            )
        }
        Err((status, message)) => render(status, &MessagePage::new(&session, &message)),
    }
}

pub async fn csv(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Query(cut_off): Query<CutOff>,
) -> Response {
    match report(&state, &cut_off).await {
        Ok(r) => {
            let mut out = String::from(
                "postulante,cargo,candidaturas,sin_iniciar,incompletas,observadas_sin_atender,sin_cuestionario_identidad,corte\r\n",
            );
            let at = r.at.to_rfc3339();
            for l in r.lines {
                out.push_str(&format!(
                    "{},{},{},{},{},{},{},{at}\r\n",
                    csv_field(&l.postulant),
                    csv_field(&l.office),
                    l.total,
                    l.not_started,
                    l.incomplete,
                    l.observed,
                    l.identity_missing
                ));
            }
            (
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"cumplimiento.csv\"",
                    ),
                ],
                out,
            )
                .into_response()
        }
        Err((status, message)) => render(status, &MessagePage::new(&session, &message)),
    }
}
