//! `GET/POST /admin/vista-consejo`: the notice to the General Council at the end of the
//! campaigns, produced from the day after the campaigns end, stored with its SHA-256, and
//! each stored notice printable (`/admin/vista-consejo/{id}`) or as CSV (`…/csv`).

use std::collections::HashSet;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use conoceles_kit::access::Caller;
use conoceles_kit::csv::csv_field;
use conoceles_kit::error::{AppError, ErrorCode};
use http::{StatusCode, header};
use serde::Deserialize;
use uuid::Uuid;

use super::views::{CouncilNoticePage, CouncilNoticesPage, NoticeLine};
use crate::domain::council_notice::{self, Content};
use crate::domain::election::{self, Settings};
use crate::http::extract::CheckedForm;
use crate::http::layout::{Chrome, render};
use crate::http::session::SessionInfo;
use crate::http::{FrontState, PageError};

/// Whether the campaigns ended before today, in the election's time zone.
fn ended(settings: &Settings) -> bool {
    let today = election::local_date(Utc::now(), &settings.time_zone);
    settings.campaign_ends_on.is_some_and(|end| end < today)
}

async fn page(
    state: &FrontState,
    session: &SessionInfo,
    status: StatusCode,
    errors: Vec<String>,
) -> Result<Response, PageError> {
    let settings = crate::http::current_election(state).await?;
    let notices = council_notice::list(&state.pool, settings.id)
        .await?
        .into_iter()
        .map(|n| NoticeLine {
            id: n.id.to_string(),
            cut_off: election::local(n.cut_off, &settings.time_zone),
            lacking: n.lacking,
            sha256: n.content_sha256,
        })
        .collect();
    Ok(render(
        status,
        &CouncilNoticesPage {
            chrome: Chrome::of(session),
            campaign_ends: settings
                .campaign_ends_on
                .map(election::day)
                .unwrap_or_default(),
            ready: ended(&settings),
            notices,
            errors,
        },
    ))
}

/// The notices produced so far, and the button to produce one once the campaigns ended.
pub async fn list(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
) -> Result<Response, PageError> {
    page(&state, &session, StatusCode::OK, Vec::new()).await
}

#[derive(Deserialize)]
pub struct Produce {}

/// Produces the notice now and stores it; then shows it.
pub async fn produce(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    CheckedForm(Produce {}): CheckedForm<Produce>,
) -> Result<Response, PageError> {
    let settings = crate::http::current_election(&state).await?;
    let Some(campaign_end) = settings.campaign_ends_on.filter(|_| ended(&settings)) else {
        let reason = match settings.campaign_ends_on {
            None => {
                "Fije primero la fecha de fin de las campañas en la configuración de la elección."
                    .to_string()
            }
            Some(end) => format!(
                "Las campañas terminan el {}; la vista se genera a partir del día siguiente.",
                election::day(end)
            ),
        };
        return page(&state, &session, StatusCode::CONFLICT, vec![reason]).await;
    };
    let live = council_notice::live(&state.pool, settings.id).await?;
    let ids: Vec<Uuid> = live.iter().map(|c| c.id).collect();
    let sent: HashSet<Uuid> = state.identity.submitted(&ids).await?.into_iter().collect();
    let now = Utc::now();
    let content = Content {
        eleccion: settings.name.clone(),
        fin_de_campanas: campaign_end,
        corte: now,
        candidaturas_vigentes: live.len(),
        sin_informacion_completa: council_notice::lacking(&live, &sent),
    };
    let by = caller.actor.as_ref().map(|a| a.account_id);
    let stored = council_notice::store(&state.pool, settings.id, &content, by, now).await?;
    Ok(Redirect::to(&format!("/admin/vista-consejo/{}", stored.id)).into_response())
}

async fn stored(
    state: &FrontState,
    id: Uuid,
) -> Result<(council_notice::Stored, Content), PageError> {
    let stored = council_notice::get(&state.pool, id)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::NotFound, "No existe esa vista al Consejo."))?;
    let content = stored.content().map_err(anyhow::Error::from)?;
    Ok((stored, content))
}

/// A stored notice, printable.
pub async fn show(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let (stored, content) = stored(&state, id).await?;
    let tz = crate::http::election_time_zone(&state).await;
    Ok(render(
        StatusCode::OK,
        &CouncilNoticePage {
            chrome: Chrome::of(&session),
            id: stored.id.to_string(),
            election: content.eleccion,
            campaign_ends: election::day(content.fin_de_campanas),
            cut_off: election::local(content.corte, &tz),
            live: content.candidaturas_vigentes,
            lines: content.sin_informacion_completa,
            sha256: stored.content_sha256,
        },
    ))
}

/// A stored notice as CSV, one row per candidacy.
pub async fn csv(
    State(state): State<FrontState>,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let (_, content) = stored(&state, id).await?;
    let mut out = String::from(
        "registro,persona_propietaria,partido_o_candidatura,cargo,demarcacion,informacion_faltante\r\n",
    );
    for l in &content.sin_informacion_completa {
        out.push_str(&format!(
            "{},{},{},{},{},{}\r\n",
            csv_field(&l.registro),
            csv_field(&l.persona),
            csv_field(&l.postulante),
            csv_field(&l.cargo),
            csv_field(&l.demarcacion),
            csv_field(&l.falta.join("; ")),
        ));
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"vista-consejo-{id}.csv\""),
            ),
        ],
        out,
    )
        .into_response())
}
