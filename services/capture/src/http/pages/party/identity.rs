//! The identity questionnaire in the capture front (DESIGN §4.4): privacy notice, three separate
//! consents, the questions, a verification screen, one final submission with a receipt. The
//! answers travel in the form and straight to `identity`; this service never stores or logs
//! them, and after the submission it can only say that they were sent.

use conoceles_kit::error::{AppError, ErrorCode};
use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Extension;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::Utc;
use conoceles_identity_questionnaire::{Definition, Kind, StoredAnswer};
use conoceles_kit::access::Caller;
use conoceles_kit::proto_time::to_proto;
use conoceles_proto::common::v1 as common;
use conoceles_proto::identity::v1 as pb;
use http::StatusCode;
use uuid::Uuid;

use super::views::{Heading, IdentityCheckPage, IdentityDonePage, IdentityPage, QuestionView};
use super::{actor, heading, load, local, role_of};
use crate::domain::curricular::{self, Candidacy, PersonRole};
use crate::http::PageError;
use crate::http::layout::{Chrome, render};
use crate::http::session::{SessionInfo, csrf_matches};
use crate::http::{FrontState, PAGE_EXPIRED};

const DECLINE: &str = "__decline";

/// What the form carried: consents and answers as typed (not yet checked).
#[derive(Default, Clone)]
pub(crate) struct Submitted {
    pairs: Vec<(String, String)>,
    processing: bool,
    publication: bool,
    statistics: bool,
    version: u32,
    pub answers: BTreeMap<String, StoredAnswer>,
}

pub(crate) fn parse(definition: &Definition, pairs: Vec<(String, String)>) -> Submitted {
    let mut s = Submitted::default();
    let values = |name: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let first = |name: &str| values(name).into_iter().next().unwrap_or_default();
    s.processing = first("consent_processing") == "si";
    s.publication = first("consent_publication") == "si";
    s.statistics = first("consent_statistics") == "si";
    s.version = first("version").parse().unwrap_or(0);
    for q in &definition.questions {
        let key = format!("q.{}", q.id);
        let declined = first(&format!("{key}.decline")) == "si";
        let answer = match q.kind {
            Kind::Single => {
                let v = first(&key);
                if v == DECLINE {
                    Some(StoredAnswer {
                        declined: true,
                        ..Default::default()
                    })
                } else if v.is_empty() {
                    None
                } else {
                    Some(StoredAnswer {
                        option_ids: vec![v],
                        ..Default::default()
                    })
                }
            }
            Kind::Multiple => {
                let chosen = values(&key);
                if declined {
                    Some(StoredAnswer {
                        declined: true,
                        ..Default::default()
                    })
                } else if chosen.is_empty() {
                    None
                } else {
                    Some(StoredAnswer {
                        option_ids: chosen,
                        ..Default::default()
                    })
                }
            }
            Kind::Text => {
                let text = first(&format!("{key}.text"));
                if declined {
                    Some(StoredAnswer {
                        declined: true,
                        ..Default::default()
                    })
                } else if text.trim().is_empty() {
                    None
                } else {
                    Some(StoredAnswer {
                        free_text: text,
                        ..Default::default()
                    })
                }
            }
        };
        if let Some(answer) = answer {
            s.answers.insert(q.id.clone(), answer);
        }
    }
    s.pairs = pairs
        .into_iter()
        .filter(|(k, _)| k != "csrf" && k != "accion")
        .collect();
    s
}

pub(crate) fn questions(
    definition: &Definition,
    s: &Submitted,
    problems: &[conoceles_kit::FieldViolation],
) -> Vec<QuestionView> {
    definition
        .questions
        .iter()
        .map(|q| {
            let answer = s.answers.get(&q.id);
            let condition = q
                .when
                .as_ref()
                .and_then(|c| {
                    let parent = definition.question(&c.question)?;
                    let option = parent.options.iter().find(|o| o.id == c.option)?;
                    Some(format!(
                        "Responda solo si eligió «{}» en «{}».",
                        option.label, parent.text
                    ))
                })
                .unwrap_or_default();
            QuestionView {
                id: q.id.clone(),
                text: q.text.clone(),
                kind: match q.kind {
                    Kind::Single => "single",
                    Kind::Multiple => "multiple",
                    Kind::Text => "text",
                },
                options: q
                    .options
                    .iter()
                    .map(|o| {
                        let chosen = answer.is_some_and(|a| a.option_ids.contains(&o.id));
                        (o.id.clone(), o.label.clone(), chosen)
                    })
                    .collect(),
                declined: answer.is_some_and(|a| a.declined),
                text_value: answer.map(|a| a.free_text.clone()).unwrap_or_default(),
                max: q.max_chars.unwrap_or(0),
                condition,
                error: problems
                    .iter()
                    .find(|p| p.field == q.id)
                    .map(|p| p.message.clone()),
            }
        })
        .collect()
}

/// Whether the person answering is the person in their own account (a candidacy's account
/// answering for its holder); otherwise the account declares it holds the person's signed
/// consent, and the consents are recorded as such.
fn own_account(session: &SessionInfo, cx: &Context) -> bool {
    session.role == conoceles_kit::access::Role::Candidate && cx.role == PersonRole::Holder
}

/// The consents as the check screen names them, in the voice of who gives them.
fn consent_labels(own: bool) -> [&'static str; 3] {
    if own {
        [
            "Tratamiento de mis datos personales sensibles",
            "Publicación de mis respuestas en el sitio público",
            "Uso de mis respuestas en estadísticas",
        ]
    } else {
        [
            "Tratamiento de sus datos personales sensibles",
            "Publicación de sus respuestas en el sitio público",
            "Uso de sus respuestas en estadísticas",
        ]
    }
}

pub(crate) struct Context {
    pub candidacy: Candidacy,
    pub role: PersonRole,
    pub person: Uuid,
    pub person_name: String,
    pub heading: Heading,
}

/// The candidacy and person of the page, for the party or candidate who answers (or, with
/// `correcting`, for the admin who applies the one correction).
pub(crate) async fn context(
    state: &FrontState,
    caller: &Caller,
    (id, role): (Uuid, &str),
    correcting: bool,
) -> Result<Context, PageError> {
    let Some(role) = role_of(role) else {
        return Err(
            AppError::new(ErrorCode::NotFound, ErrorCode::NotFound.default_message()).into(),
        );
    };
    let candidacy = load(state, caller, id).await?;
    if !correcting && !curricular::may_edit(&actor(caller), &candidacy) {
        return Err(AppError::new(
            ErrorCode::PermissionDenied,
            "Solo el partido responsable o la persona candidata responden este cuestionario.",
        )
        .into());
    }
    let person = candidacy.person(role)?.clone();
    Ok(Context {
        heading: heading(&candidacy),
        role,
        person: person.id,
        person_name: person.full_name,
        candidacy,
    })
}

/// What the questions page shows besides its definition: the answers so far and problems.
struct Shown<'a> {
    submitted: &'a Submitted,
    problems: &'a [conoceles_kit::FieldViolation],
    errors: Vec<String>,
    status: StatusCode,
    /// A draft saved or recovered.
    notice: Option<String>,
}

/// What the electoral body and the candidacy add around the questions: the election's
/// simplified notice (empty: the default) and, for independents, the signed form's receipt.
struct Paperwork {
    notice: Vec<String>,
    consent_form: Option<String>,
}

async fn paperwork(state: &FrontState, cx: &Context) -> Paperwork {
    let notice = crate::domain::notices::of(&state.pool, cx.candidacy.election_id)
        .await
        .ok()
        .and_then(|n| n.simplified)
        .map(|text| crate::domain::notices::paragraphs(&text))
        .unwrap_or_default();
    let consent_form = if cx.candidacy.independent {
        crate::domain::consent_form::received(&state.pool, cx.person)
            .await
            .ok()
            .flatten()
            .map(|(at, sha)| format!("{} · SHA-256 {sha}", local(at, &cx.candidacy.time_zone)))
    } else {
        None
    };
    Paperwork {
        notice,
        consent_form,
    }
}

fn form_page(
    session: &SessionInfo,
    cx: &Context,
    paperwork: &Paperwork,
    (version, definition): (u32, &Definition),
    shown: Shown<'_>,
) -> Response {
    let Shown {
        submitted: s,
        problems,
        errors,
        status,
        notice,
    } = shown;
    render(
        status,
        &IdentityPage {
            chrome: Chrome::of(session),
            heading: cx.heading.clone(),
            role: cx.role.segment(),
            role_label: cx.candidacy.role_label(cx.role),
            person_name: cx.person_name.clone(),
            election_id: cx.candidacy.election_id.to_string(),
            own_account: own_account(session, cx),
            notice: paperwork.notice.clone(),
            independent: cx.candidacy.independent,
            consent_form: paperwork.consent_form.clone(),
            title: definition.title.clone(),
            description: definition.description.clone(),
            version,
            questions: questions(definition, s, problems),
            processing: s.processing,
            publication: s.publication,
            statistics: s.statistics,
            errors,
            draft_notice: notice,
        },
    )
}

/// `GET /captura/{id}/{role}/identidad`
pub async fn form(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path((id, role)): Path<(Uuid, String)>,
) -> Result<Response, PageError> {
    let cx = context(&state, &caller, (id, &role), false).await?;
    if state
        .identity
        .submitted(&[cx.candidacy.id])
        .await?
        .contains(&cx.person)
    {
        return Ok(render(
            StatusCode::OK,
            &IdentityDonePage {
                chrome: Chrome::of(&session),
                heading: cx.heading,
                role_label: cx.candidacy.role_label(cx.role),
                person_name: cx.person_name,
                receipt: None,
            },
        ));
    }
    cx.candidacy
        .check_identity_window(conoceles_kit::clock::now())?;
    let (version, definition) = state.identity.definition(cx.candidacy.election_id).await?;
    // A draft saved earlier comes back as it was left.
    let draft = state
        .identity
        .draft(&session.token, cx.candidacy.id, cx.person)
        .await
        .ok()
        .flatten()
        .and_then(|(json, at)| {
            let pairs: Vec<(String, String)> = serde_json::from_str(&json).ok()?;
            Some((parse(&definition, pairs), at))
        });
    let (submitted, notice) = match draft {
        Some((submitted, at)) => (
            submitted,
            Some(format!(
                "Se recuperó el borrador guardado el {}. Revise sus respuestas antes de enviar.",
                local(at, &cx.candidacy.time_zone)
            )),
        ),
        None => (Submitted::default(), None),
    };
    Ok(form_page(
        &session,
        &cx,
        &paperwork(&state, &cx).await,
        (version, &definition),
        Shown {
            submitted: &submitted,
            problems: &[],
            errors: Vec::new(),
            status: StatusCode::OK,
            notice,
        },
    ))
}

/// `POST /captura/{id}/{role}/identidad` with `accion` = `verificar` (check and show the
/// verification screen), `corregir` (back to the questions) or `enviar` (the final submission).
pub async fn post(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path((id, role)): Path<(Uuid, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let cx = context(&state, &caller, (id, &role), false).await?;
    cx.candidacy
        .check_identity_window(conoceles_kit::clock::now())?;
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (csrf, action) = (field("csrf"), field("accion"));
    let (version, definition) = state.identity.definition(cx.candidacy.election_id).await?;
    // The draft keeps the form as typed, without the page's token and button.
    let draft: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| k != "csrf" && k != "accion")
        .cloned()
        .collect();
    let submitted = parse(&definition, pairs);
    let paperwork = paperwork(&state, &cx).await;
    if !csrf_matches(&session.csrf_token, &csrf) {
        return Ok(form_page(
            &session,
            &cx,
            &paperwork,
            (version, &definition),
            Shown {
                submitted: &submitted,
                problems: &[],
                errors: vec![PAGE_EXPIRED.into()],
                status: StatusCode::FORBIDDEN,
                notice: None,
            },
        ));
    }
    if action == "guardar" {
        let json = serde_json::to_string(&draft).map_err(anyhow::Error::from)?;
        let (errors, notice, status) = match state
            .identity
            .save_draft(&session.token, cx.candidacy.id, cx.person, json)
            .await
        {
            Ok(()) => (
                Vec::new(),
                Some(format!(
                    "Se guardó el borrador ({}). Puede salir y continuar después; nada se envía hasta que revise y envíe sus respuestas.",
                    local(Utc::now(), &cx.candidacy.time_zone)
                )),
                StatusCode::OK,
            ),
            Err(status) => (
                crate::http::status_messages(&status),
                None,
                AppError::from_status(&status).code().http_status(),
            ),
        };
        return Ok(form_page(
            &session,
            &cx,
            &paperwork,
            (version, &definition),
            Shown {
                submitted: &submitted,
                problems: &[],
                errors,
                status,
                notice,
            },
        ));
    }
    if action == "corregir" {
        return Ok(form_page(
            &session,
            &cx,
            &paperwork,
            (version, &definition),
            Shown {
                submitted: &submitted,
                problems: &[],
                errors: Vec::new(),
                status: StatusCode::OK,
                notice: None,
            },
        ));
    }
    let mut errors = Vec::new();
    if !submitted.processing {
        errors.push("Para guardar el cuestionario necesitamos su consentimiento para el tratamiento de sus datos.".to_string());
    }
    if cx.candidacy.independent && paperwork.consent_form.is_none() {
        errors.push("Las candidaturas independientes deben subir el formato de consentimiento expreso firmado antes de enviar.".to_string());
    }
    let checked = definition.validate(submitted.answers.clone());
    let answers = match checked {
        Ok(answers) if errors.is_empty() => answers,
        Ok(_) => {
            return Ok(form_page(
                &session,
                &cx,
                &paperwork,
                (version, &definition),
                Shown {
                    submitted: &submitted,
                    problems: &[],
                    errors,
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    notice: None,
                },
            ));
        }
        Err(problems) => {
            errors.extend(problems.iter().map(|p| p.message.clone()));
            return Ok(form_page(
                &session,
                &cx,
                &paperwork,
                (version, &definition),
                Shown {
                    submitted: &submitted,
                    problems: &problems,
                    errors,
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    notice: None,
                },
            ));
        }
    };
    let own = own_account(&session, &cx);
    if action != "enviar" {
        let items = definition.shown(&answers, conoceles_identity_questionnaire::Reader::Answerer);
        return Ok(render(
            StatusCode::OK,
            &IdentityCheckPage {
                chrome: Chrome::of(&session),
                heading: cx.heading,
                role: cx.role.segment(),
                role_label: cx.candidacy.role_label(cx.role),
                person_name: cx.person_name,
                items,
                consents: {
                    let [processing, publication, statistics] = consent_labels(own);
                    vec![
                        (processing, submitted.processing),
                        (publication, submitted.publication),
                        (statistics, submitted.statistics),
                    ]
                },
                own_account: own,
                hidden: submitted.pairs.clone(),
            },
        ));
    }
    let now = Some(to_proto(Utc::now()));
    let request = pb::SubmitQuestionnaireRequest {
        candidacy_id: Some(common::CandidacyId::from(cx.candidacy.id)),
        person_id: Some(common::PersonId::from(cx.person)),
        definition_version: submitted.version,
        consents: Some(pb::Consents {
            processing_at: now,
            publication_at: if submitted.publication { now } else { None },
            statistics_at: if submitted.statistics { now } else { None },
            given_by: if own { "person" } else { "declaration" }.into(),
        }),
        answers: conoceles_identity_questionnaire::wire::to_proto(answers),
    };
    Ok(match state.identity.submit(&session.token, request).await {
        Ok(receipt) => {
            let at = conoceles_kit::proto_time::from_proto(receipt.submitted_at.as_ref())
                .unwrap_or_else(Utc::now);
            render(
                StatusCode::OK,
                &IdentityDonePage {
                    chrome: Chrome::of(&session),
                    heading: cx.heading,
                    role_label: cx.candidacy.role_label(cx.role),
                    person_name: cx.person_name,
                    receipt: Some((receipt.receipt_sha256, local(at, &cx.candidacy.time_zone))),
                },
            )
        }
        Err(status) => crate::http::status_page(&session, &status),
    })
}

/// The full privacy notice, kept once in `docs/aviso-de-privacidad.md`.
static NOTICE: &str = include_str!("../../../../../../docs/aviso-de-privacidad.md");

#[derive(serde::Deserialize)]
pub struct NoticeQuery {
    eleccion: Option<String>,
}

/// `GET /aviso-de-privacidad[?eleccion=<id>]`: the election's own full notice where its admin
/// wrote one, the default otherwise. The admin's text is shown as escaped paragraphs.
pub async fn privacy_notice(
    State(state): State<FrontState>,
    session: Option<Extension<Arc<SessionInfo>>>,
    axum::extract::Query(query): axum::extract::Query<NoticeQuery>,
) -> Response {
    let session = session.map(|Extension(s)| s);
    let election = query.eleccion.and_then(|e| Uuid::parse_str(&e).ok());
    let own = match election {
        Some(election) => crate::domain::notices::of(&state.pool, election)
            .await
            .ok()
            .and_then(|n| n.full),
        None => None,
    };
    match own {
        Some(text) => render(
            StatusCode::OK,
            &super::views::NoticePage {
                chrome: session.map_or_else(Chrome::public, |s| Chrome::of(&s)),
                paragraphs: crate::domain::notices::paragraphs(&text),
            },
        ),
        None => crate::http::pages::account::help::markdown_page(session, NOTICE),
    }
}
