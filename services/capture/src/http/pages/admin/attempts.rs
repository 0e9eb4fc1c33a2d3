//! Submissions the capture window refused, for the unit.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use http::StatusCode;

use super::views::*;
use crate::domain::curricular;
use crate::http::layout::{Chrome, render};
use crate::http::session::SessionInfo;
use crate::http::{FrontState, error_page};

/// `GET /admin/envios-fuera-de-plazo`: submissions refused by the capture window.
pub async fn attempts(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
) -> Response {
    let tz = crate::http::election_time_zone(&state).await;
    match curricular::attempts(&state.pool, 500).await {
        Ok(list) => render(
            StatusCode::OK,
            &AttemptsPage {
                chrome: Chrome::of(&session),
                attempts: list
                    .into_iter()
                    .map(|a| AttemptLine {
                        at: crate::domain::election::local(a.at, &tz),
                        external_id: a.external_id,
                        postulant: a.postulant,
                        reason: a.reason,
                    })
                    .collect(),
            },
        ),
        Err(e) => error_page(&session, &e.into()),
    }
}
