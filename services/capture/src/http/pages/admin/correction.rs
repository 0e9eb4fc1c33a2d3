//! `GET/POST /admin/identidad/{id}/{role}/correccion`: the admin applies the one correction a
//! person's identity questionnaire allows (DESIGN §4.4), recording the request's reference and
//! reason. The earlier answers are never shown; the new ones replace them in `identity`, which
//! refuses a second correction.

use std::sync::Arc;

use axum::Extension;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::Utc;
use conoceles_identity_questionnaire::Definition;
use conoceles_kit::access::Caller;
use conoceles_proto::common::v1 as common;
use conoceles_proto::identity::v1 as pb;
use http::StatusCode;
use uuid::Uuid;

use crate::domain::election::local;
use crate::http::PageError;
use crate::http::layout::{Chrome, MessagePage, render};
use crate::http::pages::party::identity::{Context, context, parse, questions};
use crate::http::pages::party::views::CorrectionPage;
use crate::http::session::{SessionInfo, csrf_matches};
use crate::http::{FrontState, PAGE_EXPIRED};

struct Typed<'a> {
    pairs: Vec<(String, String)>,
    problems: &'a [conoceles_kit::FieldViolation],
    errors: Vec<String>,
}

fn page(
    session: &SessionInfo,
    cx: &Context,
    definition: &Definition,
    typed: Typed<'_>,
    status: StatusCode,
) -> Response {
    let field = |name: &str| {
        typed
            .pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let submitted = parse(definition, typed.pairs.clone());
    render(
        status,
        &CorrectionPage {
            chrome: Chrome::of(session),
            heading: cx.heading.clone(),
            role: cx.role.segment(),
            role_label: cx.role.label(),
            person_name: cx.person_name.clone(),
            reference: field("referencia"),
            reason: field("motivo"),
            questions: questions(definition, &submitted, typed.problems),
            errors: typed.errors,
        },
    )
}

/// `GET /admin/identidad/{id}/{role}/correccion`
pub async fn form(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path((id, role)): Path<(Uuid, String)>,
) -> Result<Response, PageError> {
    let cx = context(&state, &caller, (id, &role), true).await?;
    let (_, definition) = state.identity.definition(cx.candidacy.election_id).await?;
    Ok(page(
        &session,
        &cx,
        &definition,
        Typed {
            pairs: Vec::new(),
            problems: &[],
            errors: Vec::new(),
        },
        StatusCode::OK,
    ))
}

/// `POST /admin/identidad/{id}/{role}/correccion` (`referencia`, `motivo`, the answers).
pub async fn apply(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path((id, role)): Path<(Uuid, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let cx = context(&state, &caller, (id, &role), true).await?;
    let (_, definition) = state.identity.definition(cx.candidacy.election_id).await?;
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let (csrf, reference, reason) = (field("csrf"), field("referencia"), field("motivo"));
    let typed = |problems, errors| Typed {
        pairs: pairs.clone(),
        problems,
        errors,
    };
    if !csrf_matches(&session.csrf_token, &csrf) {
        return Ok(page(
            &session,
            &cx,
            &definition,
            typed(&[], vec![PAGE_EXPIRED.into()]),
            StatusCode::FORBIDDEN,
        ));
    }
    let mut errors = Vec::new();
    if reference.is_empty() || reason.is_empty() {
        errors.push("Indique la referencia de la solicitud y el motivo de la corrección.".into());
    }
    let answers = match definition.validate(parse(&definition, pairs.clone()).answers) {
        Ok(answers) if errors.is_empty() => answers,
        Ok(_) => {
            return Ok(page(
                &session,
                &cx,
                &definition,
                typed(&[], errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
        Err(problems) => {
            errors.extend(problems.iter().map(|p| p.message.clone()));
            return Ok(page(
                &session,
                &cx,
                &definition,
                typed(&problems, errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
    };
    let request = pb::ApplyCorrectionRequest {
        candidacy_id: Some(common::CandidacyId::from(cx.candidacy.id)),
        person_id: Some(common::PersonId::from(cx.person)),
        request_reference: reference.clone(),
        reason,
        answers: conoceles_identity_questionnaire::wire::to_proto(answers),
    };
    Ok(
        match state.identity.correct(&session.token, request).await {
            Ok(done) => {
                let at = conoceles_kit::proto_time::from_proto(done.corrected_at.as_ref())
                    .unwrap_or_else(Utc::now);
                render(
                    StatusCode::OK,
                    &MessagePage::new(
                        &session,
                        &format!(
                            "Se aplicó la corrección del cuestionario de identidad de {} (solicitud {reference}) el {}. No se permite otra.",
                            cx.person_name,
                            local(at, &cx.candidacy.time_zone)
                        ),
                    ),
                )
            }
            Err(status) => crate::http::status_page(&session, &status),
        },
    )
}
