//! `GET/POST /admin/avisos`: the privacy-notice texts of the election (simplified and full),
//! written by the electoral body's admin.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use http::StatusCode;
use serde::Deserialize;

use super::views::NoticesPage;
use crate::domain::election;
use crate::domain::notices::{self, Notices};
use crate::http::FrontState;
use crate::http::extract::CheckedForm;
use crate::http::layout::{Chrome, MessagePage, render};
use crate::http::session::SessionInfo;

async fn page(
    state: &FrontState,
    session: &SessionInfo,
    shown: Option<Notices>,
    (notice, errors): (Option<String>, Vec<String>),
    status: StatusCode,
) -> Response {
    let Ok(Some(current)) = election::current(&state.pool).await else {
        return render(
            StatusCode::NOT_FOUND,
            &MessagePage::new(session, "Aún no hay una elección configurada."),
        );
    };
    let shown = match shown {
        Some(shown) => shown,
        None => notices::of(&state.pool, current.id)
            .await
            .unwrap_or_default(),
    };
    render(
        status,
        &NoticesPage {
            chrome: Chrome::of(session),
            election_id: current.id.to_string(),
            election_name: current.name,
            simplified: shown.simplified.unwrap_or_default(),
            full: shown.full.unwrap_or_default(),
            notice,
            errors,
        },
    )
}

pub async fn show(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
) -> Response {
    page(&state, &session, None, (None, Vec::new()), StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct NoticesInput {
    #[serde(default)]
    simplificado: String,
    #[serde(default)]
    integral: String,
}

pub async fn update(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    CheckedForm(input): CheckedForm<NoticesInput>,
) -> Response {
    let typed = Notices {
        simplified: Some(input.simplificado.clone()),
        full: Some(input.integral.clone()),
    };
    let notices = match Notices::parse(&input.simplificado, &input.integral) {
        Ok(notices) => notices,
        Err(problems) => {
            return page(
                &state,
                &session,
                Some(typed),
                (None, problems.into_iter().map(|p| p.message).collect()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let Ok(Some(current)) = election::current(&state.pool).await else {
        return page(
            &state,
            &session,
            None,
            (None, Vec::new()),
            StatusCode::NOT_FOUND,
        )
        .await;
    };
    match notices::save(&state.pool, current.id, &notices).await {
        Ok(()) => {
            page(
                &state,
                &session,
                None,
                (
                    Some("Se guardaron los avisos de privacidad.".into()),
                    Vec::new(),
                ),
                StatusCode::OK,
            )
            .await
        }
        Err(e) => {
            tracing::error!(error = %e, "saving the privacy notices failed");
            page(
                &state,
                &session,
                Some(typed),
                (
                    None,
                    vec!["No fue posible guardar. Intente de nuevo.".into()],
                ),
                StatusCode::SERVICE_UNAVAILABLE,
            )
            .await
        }
    }
}
