//! `GET /admin/cumplimiento` (and `.csv`): per postulant and office, the candidacies not started,
//! incomplete (drafts), observed and not answered, and without the identity questionnaire — what
//! the unit reports to the General Council.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use sqlx::Row;
use uuid::Uuid;

use super::views::{ComplianceLine, CompliancePage, MessagePage, Nav, render};
use super::{FrontState, session::SessionInfo, status_messages};
use crate::election;
use crate::spreadsheet::csv_field;

async fn lines(state: &FrontState) -> Result<(String, Vec<ComplianceLine>), String> {
    let current = election::current(&state.pool)
        .await
        .ok()
        .flatten()
        .ok_or("Aún no hay una elección configurada.")?;
    let rows = sqlx::query(
        "SELECT c.id, h.id AS holder, c.status, p.name AS postulant, o.name AS office FROM candidacies c \
         JOIN postulants p ON p.election_id = c.election_id AND p.code = c.postulant_code \
         JOIN offices o ON o.election_id = c.election_id AND o.code = c.office_code \
         LEFT JOIN persons h ON h.candidacy_id = c.id AND h.role = 'holder' AND h.active \
         WHERE c.election_id = $1 AND c.status <> 'withdrawn'",
    )
    .bind(current.id)
    .fetch_all(&state.pool)
    .await
    .map_err(|_| "No fue posible leer las candidaturas.".to_string())?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.get("id")).collect();
    let mut sent: HashSet<Uuid> = HashSet::new();
    for chunk in ids.chunks(2000) {
        let persons = state
            .identity
            .submitted(chunk)
            .await
            .map_err(|s| status_messages(&s).join(" "))?;
        sent.extend(persons);
    }
    let mut groups: BTreeMap<(String, String), ComplianceLine> = BTreeMap::new();
    for r in &rows {
        let (postulant, office): (String, String) = (r.get("postulant"), r.get("office"));
        let line = groups
            .entry((postulant.clone(), office.clone()))
            .or_insert_with(|| ComplianceLine {
                postulant,
                office,
                ..ComplianceLine::default()
            });
        line.total += 1;
        match r.get::<&str, _>("status") {
            "not_started" => line.not_started += 1,
            "draft" => line.incomplete += 1,
            "observed" => line.observed += 1,
            _ => {}
        }
        if !r
            .get::<Option<Uuid>, _>("holder")
            .is_some_and(|h| sent.contains(&h))
        {
            line.identity_missing += 1;
        }
    }
    Ok((current.name, groups.into_values().collect()))
}

pub async fn page(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
) -> Response {
    match lines(&state).await {
        Ok((election_name, lines)) => render(
            StatusCode::OK,
            &CompliancePage {
                nav: Some(Nav::of(&session)),
                election_name,
                at: super::views::local_time(chrono::Utc::now()),
                lines,
            },
        ),
        Err(message) => render(
            StatusCode::SERVICE_UNAVAILABLE,
            &MessagePage::new(&session, &message),
        ),
    }
}

pub async fn csv(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
) -> Response {
    match lines(&state).await {
        Ok((_, lines)) => {
            let mut out = String::from(
                "postulante,cargo,candidaturas,sin_iniciar,incompletas,observadas_sin_atender,sin_cuestionario_identidad\r\n",
            );
            for l in lines {
                out.push_str(&format!(
                    "{},{},{},{},{},{},{}\r\n",
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
        Err(message) => render(
            StatusCode::SERVICE_UNAVAILABLE,
            &MessagePage::new(&session, &message),
        ),
    }
}
