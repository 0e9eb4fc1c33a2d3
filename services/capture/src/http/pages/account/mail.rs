//! `GET/POST /cuenta/avisos`: where a party's account is emailed and whether it receives the
//! optional notices (observations, deadlines drawing near, approvals); a candidate's account
//! chooses for its candidacy's private email. The unit's requirements are always sent.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use conoceles_kit::access::{Actor, Caller, Role};
use conoceles_kit::error::{AppError, ErrorCode};
use http::StatusCode;
use serde::Deserialize;

use super::views::MailPreferencesPage;
use crate::domain::mail::{self, Kind, contacts};
use crate::http::extract::CheckedForm;
use crate::http::layout::{Chrome, render};
use crate::http::session::SessionInfo;
use crate::http::{FrontState, PageError};

fn capturer(caller: &Caller) -> Result<&Actor, PageError> {
    caller
        .actor
        .as_ref()
        .filter(|a| matches!(a.role, Role::Party | Role::Candidate))
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::PermissionDenied,
                "Los avisos por correo son para las cuentas de partidos y candidaturas.",
            )
            .into()
        })
}

async fn page(
    state: &FrontState,
    session: &SessionInfo,
    actor: &Actor,
    status: StatusCode,
    typed: Option<(String, bool)>,
    saved: bool,
    errors: Vec<String>,
) -> Result<Response, PageError> {
    let (email, receive, private_email) = match (actor.role, actor.candidacy_id) {
        (Role::Candidate, Some(candidacy)) => {
            let declined = contacts::candidate_declined(&state.pool, actor.account_id).await?;
            let private = mail::candidate_address(&state.pool, candidacy, Kind::Requirement)
                .await?
                .unwrap_or_default();
            (String::new(), !declined, Some(private))
        }
        _ => match contacts::of_account(&state.pool, actor.account_id).await? {
            Some(c) => (c.email, c.receive_optional, None),
            None => (String::new(), true, None),
        },
    };
    let (email, receive) = typed.unwrap_or((email, receive));
    Ok(render(
        status,
        &MailPreferencesPage {
            chrome: Chrome::of(session),
            candidate: private_email.is_some(),
            private_email: private_email.unwrap_or_default(),
            email,
            receive,
            saved,
            errors,
        },
    ))
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    #[serde(default)]
    guardado: Option<String>,
}

pub async fn form(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<SavedQuery>,
) -> Result<Response, PageError> {
    let actor = capturer(&caller)?;
    page(
        &state,
        &session,
        actor,
        StatusCode::OK,
        None,
        query.guardado.is_some(),
        Vec::new(),
    )
    .await
}

#[derive(Deserialize)]
pub struct PreferencesForm {
    #[serde(default)]
    correo: String,
    /// Present when the box is ticked.
    #[serde(default)]
    recibir: Option<String>,
}

pub async fn save(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    CheckedForm(form): CheckedForm<PreferencesForm>,
) -> Result<Response, PageError> {
    let actor = capturer(&caller)?;
    let receive = form.recibir.is_some();
    let now = Utc::now();
    match (actor.role, actor.candidacy_id, actor.party_id) {
        (Role::Candidate, Some(candidacy), _) => {
            contacts::set_for_candidate(&state.pool, actor.account_id, candidacy, receive, now)
                .await?;
        }
        (_, _, Some(party)) => {
            let email = match form.correo.trim() {
                "" => None,
                typed => match contacts::parse_email("correo", typed) {
                    Ok(email) => Some(email),
                    Err(v) => {
                        return page(
                            &state,
                            &session,
                            actor,
                            StatusCode::UNPROCESSABLE_ENTITY,
                            Some((form.correo.clone(), receive)),
                            false,
                            vec![format!("Correo para avisos: {}", v.message)],
                        )
                        .await;
                    }
                },
            };
            contacts::set_for_account(
                &state.pool,
                actor.account_id,
                party,
                email.as_deref(),
                receive,
                now,
            )
            .await?;
        }
        _ => {
            return Err(AppError::new(
                ErrorCode::PermissionDenied,
                "Esta cuenta no tiene partido ni candidatura asignados.",
            )
            .into());
        }
    }
    Ok(Redirect::to("/cuenta/avisos?guardado=1").into_response())
}
