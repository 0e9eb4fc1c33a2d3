//! The reviewers' pages (`/revision`): the queue, one submission with the automatic findings
//! beside each section, approval or observations per section. Decisions are `validation`'s; the
//! content shown is capture's own record of the submission.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use conoceles_proto::common::v1 as common;
use http::StatusCode;
use serde::Deserialize;
use uuid::Uuid;

use super::views::{QueueLine, QueuePage, ReviewPage, ReviewPerson, ReviewSection};
use crate::domain::curricular::{Bounds, Section};
use crate::http::FrontState;
use crate::http::extract::CheckedForm;
use crate::http::layout::{Chrome, MessagePage, render};
use crate::http::session::SessionInfo;

#[derive(Deserialize, Default)]
pub struct QueueQuery {
    #[serde(default)]
    cargo: String,
    #[serde(default)]
    postulante: String,
    #[serde(default)]
    estado: String,
    /// Minimum hours waiting: `24` or `72`; empty: any.
    #[serde(default)]
    antiguedad: String,
    /// How the reviewer's last decision ended (`aprobada`, `observada`), said once on arrival.
    #[serde(default)]
    resuelta: String,
}

/// `GET /revision`
pub async fn queue(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Query(q): Query<QueueQuery>,
) -> Response {
    let status = match q.estado.as_str() {
        "observadas" => common::CandidacyStatus::Observed,
        "aprobadas" => common::CandidacyStatus::Approved,
        _ => common::CandidacyStatus::Submitted,
    };
    let items = match state
        .validation
        .queue(
            &session.token,
            &q.cargo,
            &q.postulante.to_uppercase(),
            status,
            q.antiguedad
                .parse::<i64>()
                .ok()
                .filter(|h| *h > 0)
                .map(|h| chrono::Utc::now() - chrono::Duration::hours(h)),
        )
        .await
    {
        Ok(items) => items,
        Err(s) => return crate::http::status_page(&session, &s),
    };
    let ids: Vec<Uuid> = items
        .iter()
        .filter_map(|i| i.dimensions.as_ref()?.candidacy_id.as_ref())
        .filter_map(|c| c.uuid())
        .collect();
    let names: HashMap<Uuid, String> =
        match crate::domain::candidacies::holder_names(&state.pool, &ids).await {
            Ok(names) => names,
            Err(e) => return crate::http::error_page(&session, &e),
        };
    let now = chrono::Utc::now();
    let tz = crate::http::election_time_zone(&state).await;
    let lines = items
        .into_iter()
        .map(|i| {
            let d = i.dimensions.unwrap_or_default();
            let candidacy = d
                .candidacy_id
                .as_ref()
                .and_then(|c| c.uuid())
                .unwrap_or_default();
            let at = conoceles_kit::proto_time::from_proto(i.submitted_at.as_ref()).unwrap_or(now);
            QueueLine {
                submission: i.submission_id,
                holder: names.get(&candidacy).cloned().unwrap_or_default(),
                postulant: d.postulant,
                office: d.office,
                constituency: d.constituency,
                round: i.round,
                submitted: crate::domain::election::local(at, &tz),
                waiting_hours: (now - at).num_hours(),
                failing: i.findings.iter().filter(|f| !f.passed).count(),
            }
        })
        .collect();
    let (offices, postulants) = match crate::domain::election::current(&state.pool).await {
        Ok(Some(current)) => crate::domain::election::choices(&state.pool, current.id)
            .await
            .unwrap_or_default(),
        _ => Default::default(),
    };
    let notice = match q.resuelta.as_str() {
        "aprobada" => Some(
            "Se aprobó el envío. La información aparecerá en el sitio de la ciudadanía en unos momentos.",
        ),
        "observada" => Some(
            "Se enviaron las observaciones al partido; la candidatura vuelve a captura para atenderlas.",
        ),
        _ => None,
    };
    render(
        StatusCode::OK,
        &QueuePage {
            chrome: Chrome::of(&session),
            lines,
            notice,
            offices,
            postulants,
            office: q.cargo,
            postulant: q.postulante,
            state: q.estado,
            age: q.antiguedad,
        },
    )
}

/// `GET /revision/{submission}`
pub async fn show(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Path(submission): Path<Uuid>,
) -> Response {
    let item = match state
        .validation
        .review(&session.token, &submission.to_string())
        .await
    {
        Ok(item) => item,
        Err(s) => return crate::http::status_page(&session, &s),
    };
    let Ok(Some(sent)) = crate::domain::candidacies::sent_submission(&state.pool, submission).await
    else {
        return render(
            StatusCode::NOT_FOUND,
            &MessagePage::new(&session, "No existe ese envío."),
        );
    };
    let content = sent.content;
    let finding = |section: &str| item.findings.iter().find(|f| f.section == section);
    let mut persons = Vec::new();
    for person in content["persons"].as_array().cloned().unwrap_or_default() {
        let prefix = if person["role"] == "alternate" {
            "alternate."
        } else {
            ""
        };
        let mut sections: Vec<ReviewSection> = Section::ALL
            .iter()
            .map(|s| {
                let fields = &person["sections"][s.slug()];
                let f = finding(&format!("{prefix}{}", s.slug()));
                ReviewSection {
                    slug: s.slug(),
                    title: s.title(),
                    items: s
                        .fields(&Bounds::default())
                        .into_iter()
                        .filter_map(|spec| {
                            let v = fields.get(spec.name)?.as_str()?;
                            Some((spec.label.to_string(), spec.display(v)))
                        })
                        .collect(),
                    passed: f.is_none_or(|f| f.passed),
                    reason: f.map(|f| f.reason.clone()).unwrap_or_default(),
                }
            })
            .collect();
        // The election's own fields, as the submission recorded them.
        if let Some(own) =
            person["sections"][crate::domain::curricular::definition::EXTRA_SECTION].as_object()
        {
            sections.push(ReviewSection {
                slug: crate::domain::curricular::definition::EXTRA_SECTION,
                title: crate::domain::curricular::definition::EXTRA_TITLE,
                items: own
                    .iter()
                    .map(|(id, e)| {
                        let value = e["value"].as_str().unwrap_or_default();
                        let shown = match e["kind"].as_str() {
                            Some("commitment") => "Aceptado".to_string(),
                            Some("document") => format!(
                                "Documento PDF cargado (huella {}…); se abre en la sección «{}» de la candidatura.",
                                value.chars().take(16).collect::<String>(),
                                crate::domain::curricular::definition::EXTRA_TITLE
                            ),
                            _ => value.to_string(),
                        };
                        (e["label"].as_str().unwrap_or(id).to_string(), shown)
                    })
                    .collect(),
                passed: true,
                reason: String::new(),
            });
        }
        for (slug, title) in [
            ("photo", "Fotografía"),
            ("identity", "Cuestionario de identidad"),
        ] {
            let f = finding(&format!("{prefix}{slug}"));
            sections.push(ReviewSection {
                slug,
                title,
                items: Vec::new(),
                passed: f.is_none_or(|f| f.passed),
                reason: f.map(|f| f.reason.clone()).unwrap_or_default(),
            });
        }
        persons.push(ReviewPerson {
            role: if prefix.is_empty() {
                "holder"
            } else {
                "alternate"
            },
            role_label: if prefix.is_empty() {
                "Propietaria o propietario"
            } else {
                "Suplente"
            },
            full_name: person["full_name"].as_str().unwrap_or_default().to_string(),
            sections,
        });
    }
    let d = item.dimensions.clone().unwrap_or_default();
    render(
        StatusCode::OK,
        &ReviewPage {
            chrome: Chrome::of(&session),
            submission: submission.to_string(),
            round: item.round,
            postulant: d.postulant,
            office: d.office,
            constituency: d.constituency,
            sha256: sent.sha256,
            pending: item.status == common::CandidacyStatus::Submitted as i32,
            superseded: item.status == common::CandidacyStatus::Withdrawn as i32,
            persons,
        },
    )
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    ronda: u32,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirmado: String,
}

/// `POST /revision/{submission}/aprobar`, after a confirmation step that says it cannot be
/// undone.
pub async fn approve(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Path(submission): Path<Uuid>,
    CheckedForm(form): CheckedForm<DecisionForm>,
) -> Response {
    if !crate::http::layout::confirmed(&form.confirmado) {
        return render(
            StatusCode::OK,
            &crate::http::layout::ConfirmPage {
                chrome: Chrome::of(&session),
                title: format!("¿Aprobar el envío (ronda {})?", form.ronda),
                lead: vec![
                    "Apruebe solo si revisó cada sección, la fotografía y su fecha.".into(),
                ],
                irreversible: "Al aprobarlo, la información se publica en el sitio de la ciudadanía y la ronda queda resuelta; una corrección posterior requiere una solicitud de corrección.".into(),
                action: format!("/revision/{submission}/aprobar"),
                fields: vec![
                    ("csrf".into(), form.csrf),
                    ("ronda".into(), form.ronda.to_string()),
                ],
                confirm_label: "Sí, aprobar".into(),
                back: format!("/revision/{submission}"),
                back_label: "Volver a la revisión".into(),
            },
        );
    }
    match state
        .validation
        .approve(&session.token, &submission.to_string(), form.ronda)
        .await
    {
        Ok(()) => Redirect::to("/revision?resuelta=aprobada").into_response(),
        Err(s) => crate::http::status_page(&session, &s),
    }
}

/// `POST /revision/{submission}/observar`: `seccion` (repeated) and `mensaje.<section>`.
pub async fn observe(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Path(submission): Path<Uuid>,
    CheckedForm(pairs): CheckedForm<Vec<(String, String)>>,
) -> Response {
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let round: u32 = field("ronda").parse().unwrap_or(0);
    // A section is observed once even when both persons' copies are ticked; the messages
    // typed for the holder and the alternate are joined.
    let mut sections: Vec<String> = Vec::new();
    for (k, v) in &pairs {
        if k == "seccion" && !sections.contains(v) {
            sections.push(v.clone());
        }
    }
    let observations: Vec<(String, String)> = sections
        .into_iter()
        .map(|section| {
            let holder = field(&format!("mensaje.holder.{section}"));
            let alternate = field(&format!("mensaje.alternate.{section}"));
            let message = match (holder.trim().is_empty(), alternate.trim().is_empty()) {
                (false, true) | (true, true) => holder,
                (true, false) => format!("Suplente: {alternate}"),
                (false, false) => format!("{holder} Suplente: {alternate}"),
            };
            (section, message)
        })
        .collect();
    match state
        .validation
        .observe(&session.token, &submission.to_string(), round, observations)
        .await
    {
        Ok(()) => Redirect::to("/revision?resuelta=observada").into_response(),
        Err(s) => crate::http::status_page(&session, &s),
    }
}
