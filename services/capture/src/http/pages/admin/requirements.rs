//! `GET/POST /admin/requerimientos`: the unit's requirements to the parties (and to each
//! independent candidacy) — who has something missing now, the button that issues them with the
//! date by which to attend them, each issued one with how its email went; `GET
//! /admin/requerimientos/{id}` shows one, printable. A party reads its own at
//! `/captura/requerimientos`.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use conoceles_kit::access::{Caller, Role};
use conoceles_kit::error::{AppError, ErrorCode};
use http::StatusCode;
use serde::Deserialize;
use uuid::Uuid;

use super::views::{PendingParty, RequirementLine, RequirementPage, RequirementsPage};
use crate::domain::calendar::next_business_day;
use crate::domain::election::{self, Settings};
use crate::domain::requirement::{self, Addressee, Issue, Line};
use crate::http::extract::CheckedForm;
use crate::http::layout::{Chrome, render};
use crate::http::session::SessionInfo;
use crate::http::{FrontState, PageError};

/// The business days a requirement gives by default.
const DEFAULT_BUSINESS_DAYS: usize = 3;

/// What the live candidacies call for now, by addressee.
async fn pending(
    state: &FrontState,
    settings: &Settings,
) -> Result<BTreeMap<Addressee, Vec<Line>>, PageError> {
    let live = requirement::live(&state.pool, settings.id).await?;
    let candidacies: Vec<Uuid> = live.iter().map(|c| c.id).collect();
    let sent: HashSet<Uuid> = state
        .identity
        .submitted(&candidacies)
        .await?
        .into_iter()
        .collect();
    let open = requirement::open_observations(&state.pool, settings.id).await?;
    Ok(requirement::group(&live, &sent, &open, &settings.time_zone))
}

fn default_due(settings: &Settings) -> NaiveDate {
    let mut day = election::local_date(Utc::now(), &settings.time_zone);
    for _ in 0..DEFAULT_BUSINESS_DAYS {
        day = next_business_day(day, &settings.holidays);
    }
    day
}

/// How an issued requirement's email went, in words.
async fn mail_state(state: &FrontState, mail_id: Option<Uuid>) -> Result<String, PageError> {
    let Some(mail_id) = mail_id else {
        return Ok("Sin correo".into());
    };
    let (sent, waiting, resolved) = requirement::delivery(&state.pool, mail_id).await?;
    Ok(match (resolved, sent, waiting) {
        (false, _, _) => "En cola".into(),
        (true, 0, 0) => "Sin direcciones registradas: entréguelo impreso".into(),
        (true, 1, 0) => "Enviado a 1 dirección".into(),
        (true, s, 0) => format!("Enviado a {s} direcciones"),
        (true, s, w) => format!("Enviado a {s}; {w} en espera del servidor de correo"),
    })
}

async fn lines_of(
    state: &FrontState,
    settings: &Settings,
    stored: Vec<requirement::Stored>,
) -> Result<Vec<RequirementLine>, PageError> {
    let mut lines = Vec::new();
    for r in stored {
        let content = r.content().map_err(anyhow::Error::from)?;
        lines.push(RequirementLine {
            id: r.id.to_string(),
            folio: r.folio,
            addressee: match &content.candidatura {
                Some(registry) => format!("{} (candidatura {registry})", content.destinatario),
                None => content.destinatario,
            },
            issued: election::local(r.produced_at, &settings.time_zone),
            due: election::day(r.due_on),
            candidacies: r.lines,
            mail: mail_state(state, r.mail_id).await?,
        });
    }
    Ok(lines)
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    generados: Option<usize>,
}

async fn page(
    state: &FrontState,
    session: &SessionInfo,
    status: StatusCode,
    due: String,
    notice: Option<String>,
    errors: Vec<String>,
) -> Result<Response, PageError> {
    let settings = crate::http::current_election(state).await?;
    let pending = pending(state, &settings)
        .await?
        .into_iter()
        .map(|(a, lines)| PendingParty {
            party: a.party_id.to_string(),
            name: match &a.independent {
                Some((registry, _)) => format!("{} (candidatura {registry})", a.party_name),
                None => a.party_name,
            },
            candidacies: lines.len(),
        })
        .collect();
    let issued = lines_of(
        state,
        &settings,
        requirement::list(&state.pool, settings.id).await?,
    )
    .await?;
    Ok(render(
        status,
        &RequirementsPage {
            chrome: Chrome::of(session),
            due: if due.is_empty() {
                default_due(&settings).format("%Y-%m-%d").to_string()
            } else {
                due
            },
            pending,
            issued,
            notice,
            errors,
        },
    ))
}

pub async fn list(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    let notice = query.generados.map(|n| match n {
        1 => "Se generó 1 requerimiento y su correo quedó en cola de envío.".to_string(),
        n => format!("Se generaron {n} requerimientos y sus correos quedaron en cola de envío."),
    });
    page(
        &state,
        &session,
        StatusCode::OK,
        String::new(),
        notice,
        Vec::new(),
    )
    .await
}

#[derive(Deserialize)]
pub struct IssueForm {
    #[serde(default)]
    plazo: String,
    /// Only this party's (or independent's) requirement; empty: every one due.
    #[serde(default)]
    partido: String,
}

/// Issues the requirements due now (or one party's) with the date to attend them.
pub async fn issue(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    CheckedForm(form): CheckedForm<IssueForm>,
) -> Result<Response, PageError> {
    let settings = crate::http::current_election(&state).await?;
    let today = election::local_date(Utc::now(), &settings.time_zone);
    let refuse = |message: String| {
        let due = form.plazo.clone();
        let state = state.clone();
        let session = session.clone();
        async move {
            page(
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                due,
                None,
                vec![message],
            )
            .await
        }
    };
    let Ok(due_on) = NaiveDate::parse_from_str(form.plazo.trim(), "%Y-%m-%d") else {
        return refuse(
            "Plazo para atender: escriba la fecha como día, mes y año (por ejemplo 15/04/2027)."
                .into(),
        )
        .await;
    };
    if due_on < today {
        return refuse(format!(
            "Plazo para atender: la fecha no puede ser anterior a hoy ({}).",
            election::day(today)
        ))
        .await;
    }
    let only: Option<Uuid> = match form.partido.trim() {
        "" => None,
        id => Some(Uuid::parse_str(id).map_err(|_| {
            AppError::new(ErrorCode::InvalidArgument, "El partido elegido no existe.")
        })?),
    };
    let mut groups = pending(&state, &settings).await?;
    if let Some(party) = only {
        groups.retain(|a, _| a.party_id == party);
    }
    if groups.is_empty() {
        return refuse(
            "No hay candidaturas con cuestionarios pendientes u observaciones sin atender: no hay requerimientos que generar."
                .into(),
        )
        .await;
    }
    let issued = requirement::issue(
        &state.pool,
        &Issue {
            election: settings.id,
            election_name: &settings.name,
            year: chrono::Datelike::year(&today),
            today,
            due_on,
            now: Utc::now(),
            produced_by: caller.actor.as_ref().map(|a| a.account_id),
            link: &state.public_url,
        },
        groups,
    )
    .await?;
    Ok(Redirect::to(&format!("/admin/requerimientos?generados={}", issued.len())).into_response())
}

/// One requirement, printable: the unit's, or the party's own.
pub async fn show(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let not_found = || AppError::new(ErrorCode::NotFound, "No existe ese requerimiento.");
    let stored = requirement::get(&state.pool, id)
        .await?
        .ok_or_else(not_found)?;
    let actor = caller.actor.as_ref();
    let admin = actor.is_some_and(|a| a.role == Role::Admin);
    if !admin && actor.and_then(|a| a.party_id) != Some(stored.party_id) {
        return Err(not_found().into());
    }
    let settings = crate::http::current_election(&state).await?;
    let content = stored.content().map_err(anyhow::Error::from)?;
    Ok(render(
        StatusCode::OK,
        &RequirementPage {
            chrome: Chrome::of(&session),
            back: if admin {
                "/admin/requerimientos"
            } else {
                "/captura/requerimientos"
            },
            issued: election::day(content.fecha),
            cut_off: election::local(content.corte, &settings.time_zone),
            due: election::day(content.plazo),
            content,
            sha256: stored.content_sha256,
            mail: if admin {
                Some(mail_state(&state, stored.mail_id).await?)
            } else {
                None
            },
        },
    ))
}

/// A party's own requirements.
pub async fn of_party(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
) -> Result<Response, PageError> {
    let settings = crate::http::current_election(&state).await?;
    let stored = match caller.actor.as_ref().and_then(|a| a.party_id) {
        Some(party) => requirement::of_party(&state.pool, party).await?,
        None => Vec::new(),
    };
    let mut issued = lines_of(&state, &settings, stored).await?;
    for line in &mut issued {
        line.mail.clear();
    }
    Ok(render(
        StatusCode::OK,
        &super::views::PartyRequirementsPage {
            chrome: Chrome::of(&session),
            issued,
        },
    ))
}
