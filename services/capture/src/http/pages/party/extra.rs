//! The section «Información adicional»: the election's own fields (its curricular definition's
//! `extra`) — links, commitments to tick, PDFs to upload — saved as a draft like any section.

use std::collections::BTreeMap;

use crate::domain::curricular::definition::{Definition, EXTRA_SECTION, EXTRA_TITLE, ExtraKind};

use super::*;
use crate::domain::curricular::extra;

/// The document routes' body limit: above the documents' own, so that one gives the message.
pub const DOCUMENT_BODY_LIMIT: usize = extra::DOCUMENT_MAX_BYTES + 256 * 1024;

async fn definition_of(state: &FrontState, c: &Candidacy) -> Result<Definition, PageError> {
    let mut conn = state.pool.acquire().await.map_err(AppError::from)?;
    Ok(extra::definition(&mut conn, c.election_id).await?.1)
}

struct Typed {
    values: BTreeMap<String, String>,
    problems: Vec<(String, String)>,
    errors: Vec<String>,
    status: StatusCode,
}

async fn page(
    state: &FrontState,
    session: &SessionInfo,
    caller: &Caller,
    c: &Candidacy,
    role: PersonRole,
    typed: Option<Typed>,
) -> Result<Response, PageError> {
    let definition = definition_of(state, c).await?;
    if definition.extra.is_empty() {
        return Ok(crate::http::not_found().await.into_response());
    }
    let person = c.person(role)?;
    let saved = extra::saved(&state.pool, person.id).await?;
    let editable = curricular::check_part_editable(
        &actor(caller),
        c,
        EXTRA_SECTION,
        conoceles_kit::clock::now(),
    )
    .is_ok();
    let (values, problems, errors, status) = match typed {
        Some(t) => (t.values, t.problems, t.errors, t.status),
        None => (saved.values.clone(), Vec::new(), Vec::new(), StatusCode::OK),
    };
    let fields = definition
        .extra
        .iter()
        .map(|f| ExtraFieldView {
            id: f.id.clone(),
            kind: match f.kind {
                ExtraKind::Url => "url",
                ExtraKind::Document => "document",
                ExtraKind::Commitment => "commitment",
            },
            label: f.label.clone(),
            help: f.help.clone(),
            required: f.required,
            public: f.public,
            value: values.get(&f.id).cloned().unwrap_or_default(),
            document: saved.documents.get(&f.id).map(|(sha, size)| {
                format!(
                    "Documento cargado ({}, huella {}…)",
                    crate::http::upload::size((*size).max(1024)),
                    &sha[..12.min(sha.len())]
                )
            }),
            error: problems
                .iter()
                .find(|(field, _)| *field == f.id)
                .map(|(_, m)| m.clone()),
        })
        .collect();
    Ok(render(
        status,
        &ExtraPage {
            chrome: Chrome::of(session),
            heading: heading(c),
            role: role.segment(),
            role_label: c.role_label(role),
            person_name: person.full_name.clone(),
            title: EXTRA_TITLE,
            fields,
            editable,
            errors,
        },
    ))
}

/// `GET /captura/{id}/{role}/adicional`
pub async fn form(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path((id, role)): Path<(Uuid, String)>,
) -> Result<Response, PageError> {
    let Some(role) = role_of(&role) else {
        return Ok(crate::http::not_found().await.into_response());
    };
    let c = load(&state, &caller, id).await?;
    page(&state, &session, &caller, &c, role, None).await
}

/// `POST /captura/{id}/{role}/adicional`: the links and commitments, saved as a draft.
pub async fn save(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path((id, role)): Path<(Uuid, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let Some(role) = role_of(&role) else {
        return Ok(crate::http::not_found().await.into_response());
    };
    let c = load(&state, &caller, id).await?;
    let (input, csrf) = fields_and_csrf(form);
    if !csrf_matches(&session.csrf_token, &csrf) {
        return Err(PageError::expired());
    }
    let problems = extra::save(
        &state.pool,
        &actor(&caller),
        &c,
        role,
        &input,
        conoceles_kit::clock::now(),
    )
    .await?;
    if problems.is_empty() {
        return Ok(
            Redirect::to(&format!("/captura/{id}?guardado={EXTRA_SECTION}")).into_response(),
        );
    }
    let definition = definition_of(&state, &c).await?;
    let errors = problems
        .iter()
        .map(|(field, m)| {
            let label = definition
                .extra_field(field)
                .map_or(field.as_str(), |f| f.label.as_str());
            format!("{label}: {m}")
        })
        .collect();
    page(
        &state,
        &session,
        &caller,
        &c,
        role,
        Some(Typed {
            values: input,
            problems,
            errors,
            status: StatusCode::UNPROCESSABLE_ENTITY,
        }),
    )
    .await
}

/// `POST /captura/{id}/{role}/adicional/{field}` (multipart: `csrf`, `documento`).
pub async fn upload(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path((id, role, field)): Path<(Uuid, String, String)>,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let Some(role) = role_of(&role) else {
        return Ok(crate::http::not_found().await.into_response());
    };
    let c = load(&state, &caller, id).await?;
    let refuse = |message: String, status: StatusCode| {
        page(
            &state,
            &session,
            &caller,
            &c,
            role,
            Some(Typed {
                values: BTreeMap::new(),
                problems: vec![(field.clone(), message.clone())],
                errors: vec![message],
                status,
            }),
        )
    };
    let (_turn, form) = match crate::http::upload::receive(
        actor(&caller).account_id,
        multipart,
        extra::DOCUMENT_MAX_BYTES,
    )
    .await
    {
        Ok(received) => received,
        Err(crate::http::upload::UploadError::TooLarge { .. }) => {
            return refuse(
                "El documento pesa más de 5 MB.".into(),
                StatusCode::PAYLOAD_TOO_LARGE,
            )
            .await;
        }
        Err(e) => return refuse(e.message(), e.status()).await,
    };
    if !csrf_matches(&session.csrf_token, &form.text("csrf")) {
        return Err(PageError::expired());
    }
    match extra::save_document(
        &state.pool,
        &actor(&caller),
        &c,
        role,
        &field,
        &form.file("documento").unwrap_or_default(),
        conoceles_kit::clock::now(),
    )
    .await
    {
        Ok(()) => Ok(
            Redirect::to(&format!("/captura/{id}/{}/{EXTRA_SECTION}", role.segment()))
                .into_response(),
        ),
        Err(e) if e.code() == conoceles_kit::error::ErrorCode::InvalidArgument => {
            refuse(e.messages().join(" "), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /captura/{id}/{role}/adicional/{field}`: the uploaded PDF, for its capturers and the
/// unit's staff.
pub async fn document(
    State(state): State<FrontState>,
    Extension(caller): Extension<Caller>,
    Path((id, role, field)): Path<(Uuid, String, String)>,
) -> Result<Response, PageError> {
    let Some(role) = role_of(&role) else {
        return Ok(crate::http::not_found().await.into_response());
    };
    let c = load(&state, &caller, id).await?;
    let person = c.person(role)?;
    match extra::document(&state.pool, person.id, &field).await? {
        Some(bytes) => Ok((
            [
                (header::CONTENT_TYPE, "application/pdf".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("inline; filename=\"{field}.pdf\""),
                ),
            ],
            bytes,
        )
            .into_response()),
        None => Ok(crate::http::not_found().await.into_response()),
    }
}
