//! Credential sheets of the generated accounts: per party, printable (HTML) or CSV; issuing a
//! sheet generates new passwords for the party's undelivered accounts; delivery is recorded and
//! lateness (3 natural days after approval) shown.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use conoceles_proto::auth::v1 as pb;
use http::{StatusCode, header};

use super::views::{CredentialsPage, PartyCredentials, SheetCredential, SheetPage, StatusRow};
use crate::http::PAGE_EXPIRED;
use crate::http::extract::CheckedForm;
use crate::http::layout::{Chrome, render};
use crate::http::pages::account::login::CsrfForm;
use crate::http::session::{SessionInfo, csrf_matches};
use crate::http::{FrontState, status_messages};
use conoceles_kit::csv::csv_field;

/// A delivery deadline from `auth`, as the Lineamientos count it: one at 00:00 reads as 23:59
/// of the day before, in the election's time zone.
fn deadline_of(ts: &Option<prost_types::Timestamp>, time_zone: &str) -> String {
    conoceles_kit::proto_time::from_proto(ts.as_ref())
        .map(|at| crate::domain::election::local_deadline(at, time_zone))
        .unwrap_or_else(|| "—".into())
}

/// A moment from `auth`, in the election's time zone ("—" when there is none).
fn time_of(ts: &Option<prost_types::Timestamp>, time_zone: &str) -> String {
    conoceles_kit::proto_time::from_proto(ts.as_ref())
        .map(|at| crate::domain::election::local(at, time_zone))
        .unwrap_or_else(|| "—".into())
}

async fn page(
    state: &FrontState,
    session: &SessionInfo,
    status: StatusCode,
    notice: Option<String>,
    mut errors: Vec<String>,
) -> Response {
    let tz = crate::http::election_time_zone(state).await;
    let accounts = match state.auth.generated_accounts(&session.token, false).await {
        Ok(accounts) => accounts,
        Err(status) => {
            errors.extend(status_messages(&status));
            Vec::new()
        }
    };
    let (party_names, candidacy_names) = owner_names(state, accounts.iter()).await;
    let mut parties: BTreeMap<String, PartyCredentials> = BTreeMap::new();
    let mut late_count = 0;
    for mut g in accounts {
        g.label = named(&g, &party_names, &candidacy_names);
        let party_id = g
            .party_id
            .as_ref()
            .map(|p| p.value.clone())
            .unwrap_or_default();
        let account = g.account.clone().unwrap_or_default();
        if g.late && !account.locked {
            late_count += 1;
        }
        let entry = parties
            .entry(party_id.clone())
            .or_insert_with(|| PartyCredentials {
                id: party_id.clone(),
                title: String::new(),
                rows: Vec::new(),
            });
        if g.kind == "party" {
            entry.title = g
                .party_id
                .as_ref()
                .and_then(|p| uuid::Uuid::parse_str(&p.value).ok())
                .and_then(|id| party_names.get(&id).cloned())
                .unwrap_or_else(|| g.label.clone());
        }
        entry.rows.push(StatusRow {
            label: g.label.clone(),
            email: account.email,
            approved: time_of(&g.approved_at, &tz),
            deadline: deadline_of(&g.deadline, &tz),
            issued: time_of(&g.sheet_issued_at, &tz),
            delivered: time_of(&g.delivered_at, &tz),
            late: g.late,
            locked: account.locked,
        });
    }
    let parties = parties
        .into_values()
        .map(|mut p| {
            if p.title.is_empty() {
                p.title = format!("Partido {}", p.id);
            }
            p
        })
        .collect();
    render(
        status,
        &CredentialsPage {
            chrome: Chrome::of(session),
            parties,
            late_count,
            notice,
            errors,
        },
    )
}

pub async fn list(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
) -> Response {
    page(&state, &session, StatusCode::OK, None, Vec::new()).await
}

#[derive(serde::Deserialize)]
pub struct IssueForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirmado: String,
    /// The confirmation page's token: a reload of the sheet does not issue new passwords again.
    #[serde(default)]
    una_vez: String,
}

/// Issues a party's sheet after a confirmation that says the earlier passwords stop working;
/// the same confirmation posted again (a reload) issues nothing.
async fn issue(
    state: &FrontState,
    session: &SessionInfo,
    party_id: &str,
    form: IssueForm,
    action: &str,
) -> Result<pb::IssueCredentialSheetResponse, Response> {
    if !csrf_matches(&session.csrf_token, &form.csrf) {
        return Err(page(
            state,
            session,
            StatusCode::FORBIDDEN,
            None,
            vec![PAGE_EXPIRED.into()],
        )
        .await);
    }
    let token = uuid::Uuid::parse_str(&form.una_vez).ok();
    let (true, Some(token)) = (crate::http::layout::confirmed(&form.confirmado), token) else {
        let party = crate::domain::candidacies::postulant_name(&state.pool, party_id)
            .await
            .ok()
            .flatten()
            .unwrap_or_else(|| "el partido".into());
        return Err(render(
            StatusCode::OK,
            &crate::http::layout::ConfirmPage {
                chrome: Chrome::of(session),
                title: format!("¿Emitir la hoja de credenciales de {party}?"),
                lead: vec![
                    "La hoja lleva una contraseña nueva para cada cuenta del partido y de sus candidaturas que aún no se ha entregado (las bloqueadas no se incluyen); cada persona deberá cambiarla al ingresar.".into(),
                ],
                irreversible: "Las contraseñas de una hoja anterior dejan de funcionar y se cierran las sesiones abiertas con ellas.".into(),
                action: format!("/admin/credenciales/{party_id}/{action}"),
                fields: vec![
                    ("csrf".into(), form.csrf),
                    (
                        "una_vez".into(),
                        crate::domain::confirmations::fresh().to_string(),
                    ),
                ],
                confirm_label: "Sí, emitir la hoja".into(),
                back: "/admin/credenciales".into(),
                back_label: "Volver a las credenciales".into(),
            },
        ));
    };
    match crate::domain::confirmations::spend(&state.pool, token).await {
        Ok(true) => {}
        Ok(false) => {
            return Err(page(
                state,
                session,
                StatusCode::OK,
                Some("Esta hoja ya se emitió con esta confirmación; no se generaron contraseñas nuevas. Para emitir otra, vuelva a pedirla.".into()),
                Vec::new(),
            )
            .await);
        }
        Err(e) => {
            tracing::error!(error = %e, "recording a confirmation failed");
            return Err(page(
                state,
                session,
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                vec!["No fue posible emitir la hoja. Intente de nuevo.".into()],
            )
            .await);
        }
    }
    match state.auth.issue_sheet(&session.token, party_id).await {
        Ok(sheet) => Ok(sheet),
        Err(status) => Err(page(
            state,
            session,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            status_messages(&status),
        )
        .await),
    }
}

type Names = std::collections::HashMap<uuid::Uuid, String>;

/// The names of the postulants and candidacies that own `accounts`, from capture's registry.
async fn owner_names<'a>(
    state: &FrontState,
    accounts: impl Iterator<Item = &'a pb::GeneratedAccount>,
) -> (Names, Names) {
    let parse = |v: Option<&String>| v.and_then(|v| uuid::Uuid::parse_str(v).ok());
    let (mut parties, mut candidacies) = (Vec::new(), Vec::new());
    for g in accounts {
        parties.extend(parse(g.party_id.as_ref().map(|p| &p.value)));
        candidacies.extend(parse(g.candidacy_id.as_ref().map(|c| &c.value)));
    }
    crate::domain::candidacies::account_owner_names(&state.pool, &parties, &candidacies)
        .await
        .unwrap_or_default()
}

/// The account's owner as people say it: «Cuenta del partido: Morena», «Ana Pérez —
/// Diputación local…»; auth's label (office and constituency codes) only when capture does not
/// know the owner.
fn named(g: &pb::GeneratedAccount, parties: &Names, candidacies: &Names) -> String {
    let find = |id: Option<&str>, names: &Names| {
        id.and_then(|v| uuid::Uuid::parse_str(v).ok())
            .and_then(|id| names.get(&id).cloned())
    };
    if g.kind == "party" {
        find(g.party_id.as_ref().map(|p| p.value.as_str()), parties)
            .map(|name| format!("Cuenta del partido: {name}"))
            .unwrap_or_else(|| g.label.clone())
    } else {
        find(
            g.candidacy_id.as_ref().map(|c| c.value.as_str()),
            candidacies,
        )
        .unwrap_or_else(|| g.label.clone())
    }
}

async fn credentials_of(
    state: &FrontState,
    sheet: &pb::IssueCredentialSheetResponse,
    tz: &str,
) -> Vec<SheetCredential> {
    let accounts = sheet.credentials.iter().filter_map(|c| c.account.as_ref());
    let (parties, candidacies) = owner_names(state, accounts).await;
    sheet
        .credentials
        .iter()
        .map(|c| {
            let g = c.account.clone().unwrap_or_default();
            SheetCredential {
                label: named(&g, &parties, &candidacies),
                email: g.account.map(|a| a.email).unwrap_or_default(),
                password: c.password.clone(),
                deadline: deadline_of(&g.deadline, tz),
                kind: if g.kind == "party" {
                    "partido"
                } else {
                    "candidatura"
                },
            }
        })
        .collect()
}

pub async fn sheet(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Path(party_id): Path<String>,
    CheckedForm(form): CheckedForm<IssueForm>,
) -> Response {
    let sheet = match issue(&state, &session, &party_id, form, "hoja").await {
        Ok(sheet) => sheet,
        Err(response) => return response,
    };
    let tz = crate::http::election_time_zone(&state).await;
    render(
        StatusCode::OK,
        &SheetPage {
            issued: time_of(&sheet.issued_at, &tz),
            login_url: format!("{}/ingresar", state.public_url),
            credentials: credentials_of(&state, &sheet, &tz).await,
        },
    )
}

pub async fn sheet_csv(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Path(party_id): Path<String>,
    CheckedForm(form): CheckedForm<IssueForm>,
) -> Response {
    let sheet = match issue(&state, &session, &party_id, form, "hoja.csv").await {
        Ok(sheet) => sheet,
        Err(response) => return response,
    };
    let mut csv = String::from("tipo,cuenta,usuario,contrasena,plazo_de_entrega\r\n");
    let tz = crate::http::election_time_zone(&state).await;
    for c in credentials_of(&state, &sheet, &tz).await {
        let fields = [c.kind.to_string(), c.label, c.email, c.password, c.deadline];
        csv.push_str(
            &fields
                .iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        csv.push_str("\r\n");
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"credenciales-{}.csv\"",
                    party_id
                        .chars()
                        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                        .collect::<String>()
                ),
            ),
        ],
        csv,
    )
        .into_response()
}

pub async fn delivered(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Path(party_id): Path<String>,
    CheckedForm(_form): CheckedForm<CsrfForm>,
) -> Response {
    match state.auth.mark_delivered(&session.token, &party_id).await {
        Ok(marked) => {
            let notice = format!("Se registró la entrega de {marked} cuenta(s).");
            page(&state, &session, StatusCode::OK, Some(notice), Vec::new()).await
        }
        Err(status) => {
            page(
                &state,
                &session,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                status_messages(&status),
            )
            .await
        }
    }
}
