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

use super::views::{QueueLine, QueuePage, ReviewItem, ReviewPage, ReviewPerson, ReviewSection};
use crate::domain::candidacies::SeatNames;
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
    let seats = crate::domain::candidacies::seat_names(&state.pool, &ids)
        .await
        .unwrap_or_default();
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
            let seat = seats.get(&candidacy).cloned().unwrap_or(SeatNames {
                postulant: d.postulant,
                office: d.office,
                constituency: d.constituency,
                ..SeatNames::default()
            });
            QueueLine {
                submission: i.submission_id,
                holder: names.get(&candidacy).cloned().unwrap_or_default(),
                postulant: seat.postulant,
                office: seat.office,
                constituency: seat.constituency,
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
    review_page(&state, &session, submission, &[], Vec::new()).await
}

/// A field's value as the review shows it.
fn shown_value(
    spec: &crate::domain::curricular::sections::FieldSpec,
    value: Option<&str>,
) -> String {
    match value {
        Some(v) if !v.trim().is_empty() => spec.display(v),
        _ => "(vacío)".to_string(),
    }
}

/// The review of one submission: each person's sections with the automatic findings, the photo
/// and its declared date, what changed since the previous round and the earlier observations;
/// `kept` is what the reviewer typed before a refusal (`errors`), shown again.
async fn review_page(
    state: &FrontState,
    session: &SessionInfo,
    submission: Uuid,
    kept: &[(String, String)],
    errors: Vec<String>,
) -> Response {
    let item = match state
        .validation
        .review(&session.token, &submission.to_string())
        .await
    {
        Ok(item) => item,
        Err(s) => return crate::http::status_page(session, &s),
    };
    let Ok(Some(sent)) = crate::domain::candidacies::sent_submission(&state.pool, submission).await
    else {
        return render(
            StatusCode::NOT_FOUND,
            &MessagePage::new(session, "No existe ese envío."),
        );
    };
    let (previous, earlier) = crate::domain::reviews::earlier_rounds(&state.pool, submission)
        .await
        .unwrap_or_default();
    let content = sent.content;
    let person_ids: Vec<Uuid> = content["persons"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            p["person_id"]
                .as_str()
                .and_then(|i| Uuid::parse_str(i).ok())
        })
        .collect();
    let sexes = crate::domain::candidacies::sexes_of(&state.pool, &person_ids)
        .await
        .unwrap_or_default();
    let finding = |section: &str| item.findings.iter().find(|f| f.section == section);
    let ticked = |role: &str, slug: &str| {
        kept.iter().any(|(k, v)| k == "seccion" && v == slug)
            || kept
                .iter()
                .any(|(k, v)| *k == format!("mensaje.{role}.{slug}") && !v.trim().is_empty())
    };
    let typed = |role: &str, slug: &str| {
        kept.iter()
            .find(|(k, _)| *k == format!("mensaje.{role}.{slug}"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut persons = Vec::new();
    for person in content["persons"].as_array().cloned().unwrap_or_default() {
        let alternate = person["role"] == "alternate";
        let (prefix, role) = if alternate {
            ("alternate.", "alternate")
        } else {
            ("", "holder")
        };
        // The same person in the previous round (by role: a substitution starts at round 1).
        let before = previous.as_ref().and_then(|(_, content)| {
            content["persons"]
                .as_array()?
                .iter()
                .find(|p| p["role"] == person["role"])
                .cloned()
        });
        let mut sections: Vec<ReviewSection> = Section::ALL
            .iter()
            .map(|s| {
                let fields = &person["sections"][s.slug()];
                let earlier_fields = before.as_ref().map(|b| &b["sections"][s.slug()]);
                let f = finding(&format!("{prefix}{}", s.slug()));
                ReviewSection {
                    slug: s.slug(),
                    title: s.title(),
                    items: s
                        .fields(&Bounds::default())
                        .into_iter()
                        .filter_map(|spec| {
                            let v = fields.get(spec.name).and_then(|v| v.as_str());
                            let was = earlier_fields
                                .map(|e| e.get(spec.name).and_then(|v| v.as_str()).unwrap_or(""));
                            if v.is_none() && was.is_none_or(|w| w.trim().is_empty()) {
                                return None;
                            }
                            let changed = was.is_some_and(|w| w.trim() != v.unwrap_or("").trim());
                            Some(ReviewItem {
                                label: spec.label.to_string(),
                                value: shown_value(&spec, v),
                                before: changed.then(|| shown_value(&spec, was)),
                            })
                        })
                        .collect(),
                    passed: f.is_none_or(|f| f.passed),
                    reason: f.map(|f| f.reason.clone()).unwrap_or_default(),
                    ticked: ticked(role, s.slug()),
                    message: typed(role, s.slug()),
                }
            })
            .collect();
        // The election's own fields, as the submission recorded them.
        if let Some(own) =
            person["sections"][crate::domain::curricular::definition::EXTRA_SECTION].as_object()
        {
            let slug = crate::domain::curricular::definition::EXTRA_SECTION;
            sections.push(ReviewSection {
                slug,
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
                        ReviewItem {
                            label: e["label"].as_str().unwrap_or(id).to_string(),
                            value: shown,
                            before: None,
                        }
                    })
                    .collect(),
                passed: true,
                reason: String::new(),
                ticked: ticked(role, slug),
                message: typed(role, slug),
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
                ticked: ticked(role, slug),
                message: typed(role, slug),
            });
        }
        let sex = person["person_id"]
            .as_str()
            .and_then(|i| Uuid::parse_str(i).ok())
            .and_then(|i| sexes.get(&i))
            .map_or("", String::as_str);
        persons.push(ReviewPerson {
            role,
            role_label: if alternate {
                "Suplente"
            } else {
                crate::domain::curricular::PersonRole::Holder.label_for(sex)
            },
            full_name: person["full_name"].as_str().unwrap_or_default().to_string(),
            sections,
            photo: person["photo"]["sha256"].as_str().map(|_| {
                format!(
                    "/revision/{submission}/foto/{}",
                    if alternate { "suplente" } else { "titular" }
                )
            }),
            photo_date: person["photo"]["taken_on"]
                .as_str()
                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .map(|d| d.format("%d/%m/%Y").to_string())
                .unwrap_or_default(),
        });
    }
    let d = item.dimensions.clone().unwrap_or_default();
    let candidacy = d.candidacy_id.as_ref().and_then(|c| c.uuid());
    let seat = match candidacy {
        Some(id) => crate::domain::candidacies::seat_names(&state.pool, &[id])
            .await
            .unwrap_or_default()
            .remove(&id),
        None => None,
    }
    .unwrap_or(SeatNames {
        postulant: d.postulant,
        office: d.office,
        constituency: d.constituency,
        ..SeatNames::default()
    });
    render(
        if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        },
        &ReviewPage {
            chrome: Chrome::of(session),
            submission: submission.to_string(),
            round: item.round,
            postulant: seat.postulant,
            office: seat.office,
            constituency: seat.constituency,
            sha256: sent.sha256,
            pending: item.status == common::CandidacyStatus::Submitted as i32,
            superseded: item.status == common::CandidacyStatus::Withdrawn as i32,
            persons,
            previous_round: previous.map(|(round, _)| round),
            earlier: earlier
                .into_iter()
                .map(|(round, section, message)| {
                    (
                        round,
                        crate::domain::mail::messages::section_title(&section),
                        message,
                    )
                })
                .collect(),
            errors,
        },
    )
}

/// `GET /revision/{submission}/foto/{persona}`: the photo of the submission's holder
/// (`titular`) or alternate (`suplente`), for the reviewer to check.
pub async fn photo(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Path((submission, person)): Path<(Uuid, String)>,
) -> Response {
    let role = match person.as_str() {
        "titular" => "holder",
        "suplente" => "alternate",
        _ => return crate::http::not_found().await.into_response(),
    };
    let Ok(Some(sent)) = crate::domain::candidacies::sent_submission(&state.pool, submission).await
    else {
        return render(
            StatusCode::NOT_FOUND,
            &MessagePage::new(&session, "No existe ese envío."),
        );
    };
    let person_id = sent.content["persons"]
        .as_array()
        .and_then(|persons| persons.iter().find(|p| p["role"] == role))
        .and_then(|p| p["person_id"].as_str())
        .and_then(|id| Uuid::parse_str(id).ok());
    let Some(person_id) = person_id else {
        return crate::http::not_found().await.into_response();
    };
    match crate::domain::curricular::photo_bytes(&state.pool, person_id).await {
        Ok(Some(jpeg)) => (
            [
                (http::header::CONTENT_TYPE, "image/jpeg"),
                (http::header::CACHE_CONTROL, "private, no-store"),
            ],
            jpeg,
        )
            .into_response(),
        Ok(None) => crate::http::not_found().await.into_response(),
        Err(e) => crate::http::error_page(&session, &e.into()),
    }
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
    // A message typed under a section observes it, ticked or not.
    let mut sections: Vec<String> = Vec::new();
    for (k, v) in &pairs {
        let section = if k == "seccion" {
            Some(v.clone())
        } else if let Some(rest) = k.strip_prefix("mensaje.")
            && !v.trim().is_empty()
        {
            rest.split_once('.').map(|(_, section)| section.to_string())
        } else {
            None
        };
        if let Some(section) = section
            && !sections.contains(&section)
        {
            sections.push(section);
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
        // Refused for what was typed: the same review, with what was typed and why.
        Err(s) if s.code() == tonic::Code::InvalidArgument => {
            review_page(
                &state,
                &session,
                submission,
                &pairs,
                crate::http::status_messages(&s),
            )
            .await
        }
        Err(s) => crate::http::status_page(&session, &s),
    }
}
