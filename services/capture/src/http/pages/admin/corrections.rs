//! `GET /admin/correcciones`: the corrections parties asked for, with their deadline (the next
//! business day after the request) and whether each is pending, overdue or applied.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use conoceles_kit::CandidacyStatus;
use http::StatusCode;

use super::views::{CorrectionLine, CorrectionsPage};
use crate::domain::{candidacies, election};
use crate::http::layout::{Chrome, render};
use crate::http::session::SessionInfo;
use crate::http::{FrontState, PageError};

pub async fn list(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
) -> Result<Response, PageError> {
    let settings = crate::http::current_election(&state).await?;
    let today = election::local_date(Utc::now(), &settings.time_zone);
    let lines: Vec<CorrectionLine> = candidacies::corrections(&state.pool, settings.id)
        .await?
        .into_iter()
        .map(|c| {
            let status = CandidacyStatus::parse(&c.status);
            let pending = status == Some(CandidacyStatus::Observed);
            let overdue = pending && c.due_on.is_some_and(|due| due < today);
            let state = match status {
                Some(CandidacyStatus::Observed) if overdue => "Fuera de plazo",
                Some(CandidacyStatus::Observed) => "Pendiente",
                Some(CandidacyStatus::Submitted) => "Aplicada, en revisión",
                Some(CandidacyStatus::Approved | CandidacyStatus::Published) => {
                    "Aplicada y aprobada"
                }
                _ => "Candidatura cancelada o sustituida",
            };
            CorrectionLine {
                candidacy: c.candidacy.to_string(),
                external_id: c.external_id,
                holder: c.holder.unwrap_or_default(),
                postulant: c.postulant,
                office: c.office,
                reference: c.reference.unwrap_or_default(),
                change: c.reason.unwrap_or_default(),
                requested: c.requested_on.map(election::day).unwrap_or_default(),
                requested_by: c.requested_by.unwrap_or_else(|| "—".into()),
                due: c.due_on.map(election::day).unwrap_or_default(),
                state,
                pending,
                overdue,
            }
        })
        .collect();
    let pending = lines.iter().filter(|l| l.pending).count();
    let overdue = lines.iter().filter(|l| l.overdue).count();
    Ok(render(
        StatusCode::OK,
        &CorrectionsPage {
            chrome: Chrome::of(&session),
            lines,
            pending,
            overdue,
        },
    ))
}
