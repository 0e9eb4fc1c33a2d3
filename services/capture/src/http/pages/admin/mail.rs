//! `GET/POST /admin/correos`: where the parties are emailed — the addresses the unit registers
//! for each party or independent (its accredited representatives) and those the parties' accounts
//! set — and every delivery with its state, attempts and last error.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use conoceles_kit::access::Caller;
use http::StatusCode;
use serde::Deserialize;
use uuid::Uuid;

use super::views::{ContactLine, DeliveryLine, MailPage};
use crate::domain::election;
use crate::domain::mail::{self, Kind, contacts};
use crate::http::extract::CheckedForm;
use crate::http::layout::{Chrome, render};
use crate::http::session::SessionInfo;
use crate::http::{FrontState, PageError};

/// The deliveries the page lists (the most recent).
const SHOWN: i64 = 50;

#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    listo: String,
}

async fn page(
    state: &FrontState,
    session: &SessionInfo,
    status: StatusCode,
    typed: (String, String),
    notice: Option<String>,
    errors: Vec<String>,
) -> Result<Response, PageError> {
    let settings = crate::http::current_election(state).await?;
    let tz = &settings.time_zone;
    let contacts = contacts::all(&state.pool, settings.id)
        .await?
        .into_iter()
        .map(|c| ContactLine {
            id: c.id.to_string(),
            party: c.party,
            email: c.email,
            own: c.own,
            receive_optional: c.receive_optional,
        })
        .collect();
    let deliveries = mail::deliveries(&state.pool, settings.id, SHOWN)
        .await?
        .into_iter()
        .map(|d| DeliveryLine {
            kind: Kind::parse(&d.kind).map_or("Aviso", Kind::label),
            subject: d.subject,
            address: d.address,
            state: match (d.state.as_str(), d.attempts) {
                ("sent", _) => "Entregado al servidor de correo".to_string(),
                (_, 0) => "En cola".to_string(),
                (_, n) => format!("En espera: {n} intento{} fallido{}", plural(n), plural(n)),
            },
            last_error: d.last_error.unwrap_or_default(),
            queued: election::local(d.queued_at, tz),
            sent: d
                .sent_at
                .map(|t| election::local(t, tz))
                .unwrap_or_default(),
        })
        .collect();
    let (unresolved, pending) = mail::waiting(&state.pool, settings.id).await?;
    Ok(render(
        status,
        &MailPage {
            chrome: Chrome::of(session),
            parties: contacts::parties(&state.pool, settings.id)
                .await?
                .into_iter()
                .map(|(id, name)| (id.to_string(), name))
                .collect(),
            typed_party: typed.0,
            typed_email: typed.1,
            contacts,
            deliveries,
            waiting: unresolved + pending,
            shown: SHOWN,
            notice,
            errors,
        },
    ))
}

fn plural(n: i32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

pub async fn show(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Query(query): Query<PageQuery>,
) -> Result<Response, PageError> {
    let notice = match query.listo.as_str() {
        "agregado" => Some("Se registró el correo.".to_string()),
        "quitado" => Some("Se quitó el correo.".to_string()),
        _ => None,
    };
    page(
        &state,
        &session,
        StatusCode::OK,
        Default::default(),
        notice,
        Vec::new(),
    )
    .await
}

#[derive(Deserialize)]
pub struct AddForm {
    #[serde(default)]
    partido: String,
    #[serde(default)]
    correo: String,
}

/// Registers an address for a party.
pub async fn add(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    CheckedForm(form): CheckedForm<AddForm>,
) -> Result<Response, PageError> {
    let settings = crate::http::current_election(&state).await?;
    let parties = contacts::parties(&state.pool, settings.id).await?;
    let party = Uuid::parse_str(form.partido.trim())
        .ok()
        .filter(|id| parties.iter().any(|(p, _)| p == id));
    let mut errors = Vec::new();
    if party.is_none() {
        errors.push("Partido o candidatura independiente: elija uno de la lista.".to_string());
    }
    let email = contacts::parse_email("correo", &form.correo)
        .map_err(|v| errors.push(format!("Correo electrónico: {}", v.message)))
        .ok();
    match (party, email) {
        (Some(party), Some(email)) if errors.is_empty() => {
            let by = caller.actor.as_ref().map(|a| a.account_id);
            contacts::add(&state.pool, party, &email, by, Utc::now()).await?;
            Ok(Redirect::to("/admin/correos?listo=agregado").into_response())
        }
        _ => {
            page(
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                (form.partido, form.correo),
                None,
                errors,
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct RemoveForm {}

/// Removes an address the unit registered.
pub async fn remove(
    State(state): State<FrontState>,
    Path(id): Path<Uuid>,
    CheckedForm(RemoveForm {}): CheckedForm<RemoveForm>,
) -> Result<Response, PageError> {
    contacts::remove(&state.pool, id).await?;
    Ok(Redirect::to("/admin/correos?listo=quitado").into_response())
}
