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
    let mut parties: BTreeMap<String, PartyCredentials> = BTreeMap::new();
    let mut late_count = 0;
    for g in accounts {
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
            entry.title = g.label.clone();
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

async fn issue(
    state: &FrontState,
    session: &SessionInfo,
    party_id: &str,
    csrf: &str,
) -> Result<pb::IssueCredentialSheetResponse, Response> {
    if !csrf_matches(&session.csrf_token, csrf) {
        return Err(page(
            state,
            session,
            StatusCode::FORBIDDEN,
            None,
            vec![PAGE_EXPIRED.into()],
        )
        .await);
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

fn credentials_of(sheet: &pb::IssueCredentialSheetResponse, tz: &str) -> Vec<SheetCredential> {
    sheet
        .credentials
        .iter()
        .map(|c| {
            let g = c.account.clone().unwrap_or_default();
            SheetCredential {
                label: g.label.clone(),
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
    CheckedForm(form): CheckedForm<CsrfForm>,
) -> Response {
    let sheet = match issue(&state, &session, &party_id, &form.csrf).await {
        Ok(sheet) => sheet,
        Err(response) => return response,
    };
    let tz = crate::http::election_time_zone(&state).await;
    render(
        StatusCode::OK,
        &SheetPage {
            issued: time_of(&sheet.issued_at, &tz),
            login_url: format!("{}/ingresar", state.public_url),
            credentials: credentials_of(&sheet, &tz),
        },
    )
}

pub async fn sheet_csv(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Path(party_id): Path<String>,
    CheckedForm(form): CheckedForm<CsrfForm>,
) -> Response {
    let sheet = match issue(&state, &session, &party_id, &form.csrf).await {
        Ok(sheet) => sheet,
        Err(response) => return response,
    };
    let mut csv = String::from("tipo,cuenta,usuario,contrasena,plazo_de_entrega\r\n");
    let tz = crate::http::election_time_zone(&state).await;
    for c in credentials_of(&sheet, &tz) {
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
