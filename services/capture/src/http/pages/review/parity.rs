//! `GET /revision/identidad`: completion of the identity questionnaire by postulant and office,
//! for the parity reviewers and the unit. Only counts, from `identity`'s completion status:
//! never an answer.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use http::StatusCode;
use uuid::Uuid;

use super::views::{ParityLine, ParityPage};
use crate::domain::election;
use crate::http::layout::{Chrome, MessagePage, render};
use crate::http::{FrontState, session::SessionInfo, status_messages};

/// Candidacies asked at once (keeps each gRPC message small at national scale).
const CHUNK: usize = 2000;

pub async fn page(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
) -> Response {
    let Ok(Some(current)) = election::current(&state.pool).await else {
        return render(
            StatusCode::NOT_FOUND,
            &MessagePage::new(&session, "Aún no hay una elección configurada."),
        );
    };
    let rows = match crate::domain::candidacies::answering_persons(&state.pool, current.id).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!(error = %e, "listing persons for the parity view failed");
            return render(
                StatusCode::SERVICE_UNAVAILABLE,
                &MessagePage::new(&session, "No fue posible leer las candidaturas."),
            );
        }
    };
    let candidacies: Vec<Uuid> = rows
        .iter()
        .map(|r| r.candidacy)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut sent: HashSet<Uuid> = HashSet::new();
    for chunk in candidacies.chunks(CHUNK) {
        match state.identity.submitted(chunk).await {
            Ok(persons) => sent.extend(persons),
            Err(status) => {
                return render(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &MessagePage::new(&session, &status_messages(&status).join(" ")),
                );
            }
        }
    }
    let mut groups: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    for r in &rows {
        let entry = groups
            .entry((r.postulant.clone(), r.office.clone()))
            .or_default();
        entry.0 += 1;
        if sent.contains(&r.id) {
            entry.1 += 1;
        }
    }
    let lines = groups
        .into_iter()
        .map(|((postulant, office), (persons, done))| ParityLine {
            postulant,
            office,
            persons,
            done,
            percent: (done * 100).checked_div(persons).unwrap_or(0),
        })
        .collect();
    render(
        StatusCode::OK,
        &ParityPage {
            chrome: Chrome::of(&session),
            election_name: current.name,
            lines,
        },
    )
}
