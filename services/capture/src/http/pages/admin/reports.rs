//! `/admin/informes`: the General Council's reports (April, May, final) produced by
//! `statistics` at a cut-off and stored with their hash; each is shown as a printable page
//! (tables and SVG bars; the browser's «Imprimir» saves it as PDF) and downloaded as CSV.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use conoceles_proto::statistics::v1 as pb;
use http::{StatusCode, header};
use serde::Deserialize;

use super::views::{PrivacyLine, PrivacySection, ReportLine, ReportPage, ReportsPage};
use crate::domain::election::local;
use crate::http::FrontState;
use crate::http::extract::CheckedForm;
use crate::http::layout::{Chrome, render};
use crate::http::pages::review::compliance::end_of_day;
use crate::http::session::SessionInfo;

const KINDS: [(pb::ReportKind, &str, &str); 4] = [
    (
        pb::ReportKind::April,
        "april",
        "Informe cuantitativo de abril",
    ),
    (pb::ReportKind::May, "may", "Informe cuantitativo de mayo"),
    (
        pb::ReportKind::Final,
        "final",
        "Informe final e incumplimiento",
    ),
    (pb::ReportKind::Progress, "progress", "Avance a otra fecha"),
];

fn kind_label(kind: i32) -> &'static str {
    KINDS
        .iter()
        .find(|(k, _, _)| *k as i32 == kind)
        .map_or("Informe", |(_, _, label)| label)
}

async fn list_page(
    state: &FrontState,
    session: &SessionInfo,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    list_page_with(state, session, errors, None, status).await
}

async fn list_page_with(
    state: &FrontState,
    session: &SessionInfo,
    errors: Vec<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let tz = crate::http::election_time_zone(state).await;
    let privacy = privacy_section(state, session, &tz).await;
    match state.statistics.list(&session.token).await {
        Ok(reports) => render(
            status,
            &ReportsPage {
                chrome: Chrome::of(session),
                errors,
                notice,
                kinds: KINDS
                    .iter()
                    .map(|(_, code, label)| (*code, *label))
                    .collect(),
                reports: reports.into_iter().map(|r| line(r, &tz)).collect(),
                privacy,
            },
        ),
        Err(s) => crate::http::status_page(session, &s),
    }
}

/// ρ as the pages write it: two decimals.
fn rho(v: f64) -> String {
    format!("{v:.2}")
}

/// How the identity statistics are protected, with the ledger under differential privacy
/// (absent when identity cannot be reached: the rest of the page still serves).
async fn privacy_section(
    state: &FrontState,
    session: &SessionInfo,
    tz: &str,
) -> Option<PrivacySection> {
    use conoceles_proto::common::v1::identity_protection::Method;
    let election = crate::http::current_election(state).await.ok()?;
    let ledger = match state.identity.ledger(election.id).await {
        Ok(ledger) => ledger,
        Err(e) => {
            tracing::warn!(code = ?e.code(), "the privacy ledger is unavailable");
            return None;
        }
    };
    let at = |t: Option<&prost_types::Timestamp>| {
        conoceles_kit::proto_time::from_proto(t)
            .map(|t| local(t, tz))
            .unwrap_or_default()
    };
    let lines = ledger
        .entries
        .iter()
        .map(|e| PrivacyLine {
            sequence: e.sequence,
            released_at: at(e.released_at.as_ref()),
            cut_off: at(e.cut_off.as_ref()),
            rho: rho(e.rho),
            rho_total: rho(e.rho_total),
            epsilon: format!("{:.2}", e.epsilon_total),
            delta: format!("{}", e.delta),
            scale: format!("{:.1}", e.noise_scale),
            hash: e.hash.chars().take(16).collect(),
        })
        .collect();
    Some(match ledger.protection.and_then(|p| p.method) {
        Some(Method::DifferentialPrivacy(p)) => PrivacySection {
            private: true,
            method: format!(
                "Privacidad diferencial (ρ-zCDP, ruido gaussiano discreto): presupuesto ρ = {}, ρ = {} por publicación, δ = {}.",
                rho(p.rho_budget),
                rho(p.rho_per_release),
                p.delta
            ),
            remaining: rho(ledger.rho_remaining),
            per_release: rho(p.rho_per_release),
            can_release: session.role == conoceles_kit::access::Role::Admin
                && ledger.rho_remaining + 1e-9 >= p.rho_per_release,
            lines,
        },
        Some(Method::Suppression(s)) => PrivacySection {
            private: false,
            method: format!(
                "Supresión de celdas con umbral k = {}: las tablas se protegen y publican al consultarlas. El método se elige en la configuración de la elección.",
                s.threshold
            ),
            ..PrivacySection::default()
        },
        None => return None,
    })
}

/// `POST /admin/informes/privacidad`: one differentially private release of every identity
/// table, as of now.
pub async fn private_release(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    CheckedForm(_): CheckedForm<PrivateRelease>,
) -> Response {
    let election = match crate::http::current_election(&state).await {
        Ok(e) => e,
        Err(_) => {
            return list_page(
                &state,
                &session,
                vec!["Aún no hay una elección configurada.".into()],
                StatusCode::NOT_FOUND,
            )
            .await;
        }
    };
    match state.identity.private_release(&session.token, election.id).await {
        Ok(entry) => {
            list_page_with(
                &state,
                &session,
                Vec::new(),
                Some(format!(
                    "Se creó la publicación {} de las estadísticas de identidad: gastó ρ = {} (acumulado {}). El sitio público la muestra en menos de un minuto.",
                    entry.sequence,
                    rho(entry.rho),
                    rho(entry.rho_total)
                )),
                StatusCode::OK,
            )
            .await
        }
        // Identity's refusal (the budget, the method) is said as it is: it is written for people.
        Err(s) if s.code() == tonic::Code::FailedPrecondition => {
            list_page(
                &state,
                &session,
                vec![s.message().to_string()],
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(s) => crate::http::status_page(&session, &s),
    }
}

#[derive(Deserialize)]
pub struct PrivateRelease {}

fn line(r: pb::ReportSummary, tz: &str) -> ReportLine {
    let at = |t: Option<&prost_types::Timestamp>| {
        conoceles_kit::proto_time::from_proto(t)
            .map(|t| local(t, tz))
            .unwrap_or_default()
    };
    ReportLine {
        kind: kind_label(r.kind),
        cut_off: at(r.cut_off.as_ref()),
        created_at: at(r.created_at.as_ref()),
        sha_short: r.content_sha256.chars().take(16).collect(),
        sha256: r.content_sha256,
        id: r.id,
    }
}

pub async fn page(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
) -> Response {
    list_page(&state, &session, Vec::new(), StatusCode::OK).await
}

#[derive(Deserialize)]
pub struct NewReport {
    #[serde(default)]
    tipo: String,
    #[serde(default)]
    al: String,
}

pub async fn create(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    CheckedForm(input): CheckedForm<NewReport>,
) -> Response {
    let Some((kind, _, _)) = KINDS.iter().find(|(_, code, _)| *code == input.tipo) else {
        return list_page(
            &state,
            &session,
            vec!["Elija el tipo de informe.".into()],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let at = match end_of_day(&input.al, &crate::http::election_time_zone(&state).await) {
        Ok(at) => at,
        Err((status, message)) => return list_page(&state, &session, vec![message], status).await,
    };
    match state.statistics.create(&session.token, *kind, at).await {
        Ok(r) => Redirect::to(&format!("/admin/informes/{}", r.id)).into_response(),
        Err(s) => crate::http::status_page(&session, &s),
    }
}

pub async fn show(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Path(id): Path<String>,
) -> Response {
    match state
        .statistics
        .get(&session.token, &id, pb::ReportFormat::Html)
        .await
    {
        Ok(r) => {
            let tz = crate::http::election_time_zone(&state).await;
            let summary = line(r.report.unwrap_or_default(), &tz);
            render(
                StatusCode::OK,
                &ReportPage {
                    chrome: Chrome::of(&session),
                    summary,
                    body: String::from_utf8_lossy(&r.content).into_owned(),
                },
            )
        }
        Err(s) => crate::http::status_page(&session, &s),
    }
}

pub async fn csv(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Path(id): Path<String>,
) -> Response {
    match state
        .statistics
        .get(&session.token, &id, pb::ReportFormat::Csv)
        .await
    {
        Ok(r) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"informe-{id}.csv\""),
                ),
            ],
            r.content,
        )
            .into_response(),
        Err(s) => crate::http::status_page(&session, &s),
    }
}

/// The final report's data annex for the qualitative analysis: the public texts of every approved
/// candidacy by office and postulant, as CSV (`domain::annex`).
pub async fn qualitative_annex(
    State(state): State<FrontState>,
) -> Result<Response, crate::http::PageError> {
    let election = crate::http::current_election(&state).await?;
    let csv = crate::domain::annex::csv(&state.pool, election.id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"anexo-cualitativo.csv\"".to_string(),
            ),
        ],
        csv,
    )
        .into_response())
}
