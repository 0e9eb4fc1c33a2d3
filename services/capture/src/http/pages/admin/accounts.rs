//! The admin's account list: create, lock and unlock, reset a password, change a role. Every
//! action goes to `auth` on the admin's behalf, which checks the role again and audits it.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use conoceles_kit::access::Role;
use conoceles_kit::error::AppError;
use conoceles_proto::auth::v1 as pb;
use conoceles_proto::common::v1 as common;
use http::StatusCode;
use serde::Deserialize;

use super::views::{AccountRow, AccountsPage, NewAccountTyped, ShownPassword, role_options};
use crate::http::extract::CheckedForm;
use crate::http::layout::{Chrome, render};
use crate::http::session::SessionInfo;
use crate::http::{FrontState, status_messages};

#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    #[serde(default)]
    despues: String,
    /// Part of the address searched for.
    #[serde(default)]
    q: String,
    /// A role's code; empty: any.
    #[serde(default)]
    rol: String,
}

#[derive(Default)]
struct Outcome {
    status: StatusCode,
    notice: Option<String>,
    shown_password: Option<ShownPassword>,
    errors: Vec<String>,
    /// The new account's form as typed (refilled when it was refused).
    typed: NewAccountTyped,
}

impl Outcome {
    fn ok(notice: impl Into<String>) -> Self {
        Self {
            notice: Some(notice.into()),
            ..Self::default()
        }
    }

    fn failed(status: &tonic::Status) -> Self {
        let http_status = AppError::from_status(status).code().http_status();
        Self {
            status: http_status,
            errors: status_messages(status),
            ..Self::default()
        }
    }
}

async fn page(
    state: &FrontState,
    session: &SessionInfo,
    after: &str,
    outcome: Outcome,
) -> Response {
    search_page(
        state,
        session,
        &ListQuery {
            despues: after.to_string(),
            ..ListQuery::default()
        },
        outcome,
    )
    .await
}

async fn search_page(
    state: &FrontState,
    session: &SessionInfo,
    query: &ListQuery,
    outcome: Outcome,
) -> Response {
    let listed = state
        .auth
        .list_accounts(
            &session.token,
            &query.despues,
            role_value(&query.rol),
            &query.q,
        )
        .await;
    let (listed, total, next_page, mut errors) = match listed {
        Ok(list) => (
            list.accounts,
            list.page.as_ref().map_or(0, |p| p.total_size),
            list.page.map(|p| p.next_page_token).unwrap_or_default(),
            Vec::new(),
        ),
        Err(status) => (Vec::new(), 0, String::new(), status_messages(&status)),
    };
    let accounts = owned_rows(state, listed).await;
    let parties = match crate::domain::election::current(&state.pool).await {
        Ok(Some(current)) => crate::domain::candidacies::account_parties(&state.pool, current.id)
            .await
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    errors.extend(outcome.errors);
    render(
        outcome.status,
        &AccountsPage {
            chrome: Chrome::of(session),
            roles: role_options(),
            accounts,
            total,
            next_page,
            notice: outcome.notice,
            shown_password: outcome.shown_password,
            errors,
            search: query.q.clone(),
            search_role: query.rol.clone(),
            parties: parties
                .into_iter()
                .map(|(id, name)| (id.to_string(), name))
                .collect(),
            typed: outcome.typed,
        },
    )
}

/// The accounts as rows, each with its owner by name: the candidacy's holder and seat, or the
/// party (staff accounts have none).
async fn owned_rows(state: &FrontState, accounts: Vec<pb::Account>) -> Vec<AccountRow> {
    let scoped = |a: &pb::Account, candidacy: bool| {
        a.scope.as_ref().and_then(|s| {
            let value = if candidacy {
                s.candidacy_id.as_ref().map(|c| &c.value)
            } else {
                s.party_id.as_ref().map(|p| &p.value)
            };
            value.and_then(|v| uuid::Uuid::parse_str(v).ok())
        })
    };
    let parties: Vec<uuid::Uuid> = accounts.iter().filter_map(|a| scoped(a, false)).collect();
    let candidacies: Vec<uuid::Uuid> = accounts.iter().filter_map(|a| scoped(a, true)).collect();
    let (party_names, candidacy_names) =
        crate::domain::candidacies::account_owner_names(&state.pool, &parties, &candidacies)
            .await
            .unwrap_or_default();
    accounts
        .into_iter()
        .map(|a| {
            let owner = scoped(&a, true)
                .and_then(|c| candidacy_names.get(&c).cloned())
                .or_else(|| scoped(&a, false).and_then(|p| party_names.get(&p).cloned()))
                .unwrap_or_default();
            AccountRow {
                id: a.id.map(|i| i.value).unwrap_or_default(),
                role: Role::from_proto(a.role).map_or("", Role::as_str),
                email: a.email,
                owner,
                locked: a.locked,
                must_change_password: a.must_change_password,
            }
        })
        .collect()
}

pub async fn list(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Query(query): Query<ListQuery>,
) -> Response {
    search_page(&state, &session, &query, Outcome::default()).await
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    /// A party's id, chosen by name.
    #[serde(default)]
    partido: String,
    /// A candidacy's registry key (`id_registro`).
    #[serde(default)]
    candidatura: String,
}

fn role_value(value: &str) -> i32 {
    Role::parse(value).map_or(0, |r| r.to_proto() as i32)
}

/// The account's scope from the form: the party chosen, or the candidacy named by its registry
/// key with the party that captures it.
async fn scope(state: &FrontState, form: &CreateForm) -> Result<pb::Scope, String> {
    let mut party = form.partido.trim().to_string();
    let mut candidacy = None;
    let key = form.candidatura.trim();
    if !key.is_empty() {
        let current = crate::domain::election::current(&state.pool)
            .await
            .ok()
            .flatten()
            .ok_or("No hay una elección en curso.")?;
        let (id, captured_by) = crate::domain::candidacies::by_registry_key(
            &state.pool,
            current.id,
            key,
        )
        .await
        .ok()
        .flatten()
        .ok_or_else(|| {
            format!(
                "No hay una candidatura con la clave de registro «{key}» en la elección en curso."
            )
        })?;
        if !party.is_empty() && party != captured_by.to_string() {
            return Err(format!(
                "La candidatura «{key}» la captura otro partido: elija «Ninguno» en «Partido» y se tomará el de la candidatura."
            ));
        }
        party = captured_by.to_string();
        candidacy = Some(id);
    }
    Ok(pb::Scope {
        party_id: (!party.is_empty()).then_some(common::PartyId { value: party }),
        candidacy_id: candidacy.map(common::CandidacyId::from),
    })
}

pub async fn create(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    CheckedForm(form): CheckedForm<CreateForm>,
) -> Response {
    let typed = NewAccountTyped {
        email: form.email.clone(),
        role: form.role.clone(),
        party: form.partido.clone(),
        candidacy: form.candidatura.clone(),
    };
    let scope = match scope(&state, &form).await {
        Ok(scope) => scope,
        Err(message) => {
            let outcome = Outcome {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                errors: vec![message],
                typed,
                ..Outcome::default()
            };
            return page(&state, &session, "", outcome).await;
        }
    };
    let request = pb::CreateAccountRequest {
        email: form.email.clone(),
        role: role_value(&form.role),
        scope: Some(scope),
    };
    let outcome = match state.auth.create_account(&session.token, request).await {
        Ok(created) => {
            let email = created.account.map(|a| a.email).unwrap_or(form.email);
            Outcome {
                status: StatusCode::OK,
                notice: Some(format!("Se creó la cuenta {email}.")),
                shown_password: Some(ShownPassword {
                    email,
                    password: created.initial_password,
                }),
                ..Outcome::default()
            }
        }
        Err(status) => Outcome {
            typed,
            ..Outcome::failed(&status)
        },
    };
    page(&state, &session, "", outcome).await
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    role: String,
}

async fn lock_or_unlock(
    state: FrontState,
    session: Arc<SessionInfo>,
    id: String,
    _form: ActionForm,
    lock: bool,
) -> Response {
    let outcome = match state.auth.lock(&session.token, &id, lock).await {
        Ok(()) if lock => Outcome::ok("La cuenta quedó bloqueada y sus sesiones se cerraron."),
        Ok(()) => Outcome::ok("La cuenta quedó desbloqueada."),
        Err(status) => Outcome::failed(&status),
    };
    page(&state, &session, "", outcome).await
}

pub async fn lock(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Path(id): Path<String>,
    CheckedForm(form): CheckedForm<ActionForm>,
) -> Response {
    lock_or_unlock(state, session, id, form, true).await
}

pub async fn unlock(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Path(id): Path<String>,
    CheckedForm(form): CheckedForm<ActionForm>,
) -> Response {
    lock_or_unlock(state, session, id, form, false).await
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    csrf: String,
    /// The account's address, as the list showed it (to name it on the way).
    #[serde(default)]
    cuenta: String,
    #[serde(default)]
    confirmado: String,
    /// The confirmation page's token: a reload of the result does not reset again.
    #[serde(default)]
    una_vez: String,
}

/// `POST /admin/cuentas/{id}/restablecer`: after a confirmation that names the account and says
/// what cannot be undone, a new password shown once with the account it belongs to.
pub async fn reset(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Path(id): Path<String>,
    CheckedForm(form): CheckedForm<ResetForm>,
) -> Response {
    let account = if form.cuenta.trim().is_empty() {
        "la cuenta".to_string()
    } else {
        form.cuenta.trim().to_string()
    };
    let token = uuid::Uuid::parse_str(&form.una_vez).ok();
    let (true, Some(token)) = (crate::http::layout::confirmed(&form.confirmado), token) else {
        return render(
            StatusCode::OK,
            &crate::http::layout::ConfirmPage {
                chrome: Chrome::of(&session),
                title: format!("¿Restablecer la contraseña de {account}?"),
                lead: vec![
                    "Se generará una contraseña nueva, que verá una sola vez en la página siguiente para entregarla a quien usa la cuenta; al ingresar, deberá cambiarla.".into(),
                ],
                irreversible: "La contraseña actual deja de funcionar y se cierran todas las sesiones abiertas de la cuenta.".into(),
                action: format!("/admin/cuentas/{id}/restablecer"),
                fields: vec![
                    ("csrf".into(), form.csrf),
                    ("cuenta".into(), account.clone()),
                    (
                        "una_vez".into(),
                        crate::domain::confirmations::fresh().to_string(),
                    ),
                ],
                confirm_label: "Sí, restablecer la contraseña".into(),
                back: "/admin/cuentas".into(),
                back_label: "Volver a las cuentas".into(),
            },
        );
    };
    match crate::domain::confirmations::spend(&state.pool, token).await {
        Ok(true) => {}
        Ok(false) => {
            return page(
                &state,
                &session,
                "",
                Outcome::ok(format!(
                    "La contraseña de {account} ya se restableció con esta confirmación; no se generó otra. Si la necesita, restablézcala de nuevo."
                )),
            )
            .await;
        }
        Err(e) => {
            tracing::error!(error = %e, "recording a confirmation failed");
            return page(
                &state,
                &session,
                "",
                Outcome {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    notice: None,
                    shown_password: None,
                    errors: vec![
                        "No fue posible restablecer la contraseña. Intente de nuevo.".into(),
                    ],
                    ..Outcome::default()
                },
            )
            .await;
        }
    }
    let outcome = match state.auth.reset_password(&session.token, &id).await {
        Ok(password) => Outcome {
            status: StatusCode::OK,
            notice: Some(format!(
                "Se generó una contraseña nueva para {account} y se cerraron sus sesiones."
            )),
            shown_password: Some(ShownPassword {
                email: account,
                password,
            }),
            ..Outcome::default()
        },
        Err(status) => Outcome::failed(&status),
    };
    page(&state, &session, "", outcome).await
}

pub async fn change_role(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Path(id): Path<String>,
    CheckedForm(form): CheckedForm<ActionForm>,
) -> Response {
    let request = pb::ChangeRoleRequest {
        account_id: Some(common::AccountId { value: id }),
        role: role_value(&form.role),
        scope: None,
    };
    let outcome = match state.auth.change_role(&session.token, request).await {
        Ok(_) => Outcome::ok("El rol se cambió y las sesiones de la cuenta se cerraron."),
        Err(status) => Outcome::failed(&status),
    };
    page(&state, &session, "", outcome).await
}
