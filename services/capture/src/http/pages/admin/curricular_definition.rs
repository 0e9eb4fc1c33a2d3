//! `GET/POST /admin/cuestionario-curricular`: the election's definition of the curricular
//! questionnaire — the Lineamientos' sections, always, plus the body's own fields (links,
//! documents, commitments) — and a new version of it, checked before it is stored.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use conoceles_kit::access::Caller;
use conoceles_kit::error::{AppError, ErrorCode};
use http::StatusCode;
use serde::Deserialize;

use super::views::{CurricularDefinitionPage, OwnFieldLine};
use crate::domain::curricular::definition::Definition;
use crate::domain::curricular::extra;
use crate::http::extract::CheckedForm;
use crate::http::layout::{Chrome, render};
use crate::http::session::SessionInfo;
use crate::http::{FrontState, PageError};

/// The definition as the unit edits it: only its own fields (the Lineamientos' are implied).
fn editable_json(definition: &Definition) -> String {
    #[derive(serde::Serialize)]
    struct Editable<'a> {
        extra: &'a [crate::domain::curricular::definition::ExtraField],
    }
    serde_json::to_string_pretty(&Editable {
        extra: &definition.extra,
    })
    .unwrap_or_default()
}

async fn page(
    state: &FrontState,
    session: &SessionInfo,
    status: StatusCode,
    typed: Option<String>,
    notice: Option<String>,
    errors: Vec<String>,
) -> Result<Response, PageError> {
    let settings = crate::http::current_election(state).await?;
    let mut conn = state.pool.acquire().await.map_err(AppError::from)?;
    let (version, definition) = extra::definition(&mut conn, settings.id).await?;
    Ok(render(
        status,
        &CurricularDefinitionPage {
            chrome: Chrome::of(session),
            version,
            fields: definition
                .extra
                .iter()
                .map(|f| OwnFieldLine {
                    id: f.id.clone(),
                    kind: f.kind.label(),
                    label: f.label.clone(),
                    required: f.required,
                    public: f.public,
                })
                .collect(),
            json: typed.unwrap_or_else(|| editable_json(&definition)),
            notice,
            errors,
        },
    ))
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    #[serde(default)]
    version: Option<i32>,
    /// The definition sent was the one in use: no version was added.
    #[serde(default)]
    igual: bool,
}

pub async fn show(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Query(query): Query<SavedQuery>,
) -> Result<Response, PageError> {
    let notice = query.version.map(|v| {
        if query.igual {
            format!("La definición no cambió: sigue en uso la versión {v}.")
        } else {
            format!(
                "Se guardó la versión {v}. Los cuestionarios se capturan y envían con ella desde ahora."
            )
        }
    });
    page(&state, &session, StatusCode::OK, None, notice, Vec::new()).await
}

#[derive(Deserialize)]
pub struct NewVersion {
    #[serde(default)]
    definicion: String,
}

pub async fn add(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    CheckedForm(form): CheckedForm<NewVersion>,
) -> Result<Response, PageError> {
    let settings = crate::http::current_election(&state).await?;
    let by = caller.actor.as_ref().map(|a| a.account_id);
    match extra::add_definition(&state.pool, settings.id, &form.definicion, by, Utc::now()).await {
        Ok((version, added)) => Ok(Redirect::to(&format!(
            "/admin/cuestionario-curricular?version={version}{}",
            if added { "" } else { "&igual=true" }
        ))
        .into_response()),
        Err(e) if e.code() == ErrorCode::InvalidArgument => {
            page(
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(form.definicion),
                None,
                e.messages(),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
