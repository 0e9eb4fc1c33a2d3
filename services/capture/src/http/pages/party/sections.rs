//! The questionnaire's section forms: shown, saved as a draft, checked field by field.

use super::*;

/// What a section form shows besides its candidacy and section.
struct Shown<'a> {
    values: &'a Fields,
    violations: &'a [conoceles_kit::FieldViolation],
    editable: bool,
    errors: Vec<String>,
    status: StatusCode,
    /// The unit's observation of this section, while it waits to be attended.
    observation: Option<String>,
}

fn section_page(
    session: &SessionInfo,
    c: &Candidacy,
    role: PersonRole,
    section: Section,
    shown: Shown<'_>,
) -> Response {
    let Shown {
        values,
        violations,
        editable,
        errors,
        status,
        observation,
    } = shown;
    let person_name = c
        .person(role)
        .map(|p| p.full_name.clone())
        .unwrap_or_default();
    let fields = section
        .fields(&c.bounds)
        .into_iter()
        .map(|spec| {
            let value = values.get(spec.name).cloned().unwrap_or_default();
            let choices = spec
                .choices()
                .iter()
                .map(|(code, label)| (*code, *label, *code == value))
                .collect();
            FieldView {
                name: spec.name,
                label: spec.label,
                error: violations
                    .iter()
                    .find(|v| v.field == spec.name)
                    .map(|v| v.message.clone()),
                required: spec.required,
                input_type: match spec.kind {
                    crate::domain::curricular::sections::Kind::Email => "email",
                    crate::domain::curricular::sections::Kind::Phone => "tel",
                    crate::domain::curricular::sections::Kind::Url(_) => "url",
                    _ => "text",
                },
                long: spec.is_long_text(),
                max: spec.max_chars().unwrap_or(0),
                help: spec.help,
                value,
                choices,
            }
        })
        .collect();
    render(
        status,
        &SectionPage {
            chrome: Chrome::of(session),
            heading: heading(c),
            role: role.segment(),
            role_label: c.role_label(role),
            person_name,
            slug: section.segment(),
            title: section.title(),
            intro: section.intro(),
            fields,
            editable,
            errors,
            observation,
        },
    )
}

/// `GET /captura/{id}/{role}/{section}`
pub async fn section_form(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path((id, role, slug)): Path<(Uuid, String, String)>,
) -> Result<Response, PageError> {
    let (Some(role), Some(section)) = (role_of(&role), Section::from_segment(&slug)) else {
        return Ok(crate::http::not_found().await.into_response());
    };
    let c = load(&state, &caller, id).await?;
    let person = c.person(role)?;
    let saved = curricular::sections_of(&state.pool, person.id)
        .await?
        .remove(&section);
    let editable = curricular::check_editable(
        &actor(&caller),
        &c,
        Some(section),
        conoceles_kit::clock::now(),
    )
    .is_ok();
    let values = saved.as_ref().map(|s| s.fields.clone()).unwrap_or_default();
    // A saved draft with problems shows them again.
    let violations = if saved.is_some_and(|s| !s.complete) {
        curricular::sections::validate(section, &c.bounds, &values).1
    } else {
        Vec::new()
    };
    Ok(section_page(
        &session,
        &c,
        role,
        section,
        Shown {
            values: &values,
            violations: &violations,
            editable,
            errors: Vec::new(),
            status: StatusCode::OK,
            observation: super::observation_of(&state, &c, section.slug()).await,
        },
    ))
}

/// `POST /captura/{id}/{role}/{section}`: saves the draft; back to the candidacy when it is
/// complete, or the form again with every problem beside its field.
pub async fn section_save(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path((id, role, slug)): Path<(Uuid, String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let (Some(role), Some(section)) = (role_of(&role), Section::from_segment(&slug)) else {
        return Ok(crate::http::not_found().await.into_response());
    };
    let c = load(&state, &caller, id).await?;
    let (input, csrf) = fields_and_csrf(form);
    if !csrf_matches(&session.csrf_token, &csrf) {
        return Ok(section_page(
            &session,
            &c,
            role,
            section,
            Shown {
                values: &input,
                violations: &[],
                editable: true,
                errors: vec![PAGE_EXPIRED.into()],
                status: StatusCode::FORBIDDEN,
                observation: super::observation_of(&state, &c, section.slug()).await,
            },
        ));
    }
    Ok(
        match curricular::save_section(
            &state.pool,
            &actor(&caller),
            &c,
            role,
            section,
            &input,
            conoceles_kit::clock::now(),
        )
        .await
        {
            Ok((_, violations)) if violations.is_empty() => {
                Redirect::to(&format!("/captura/{id}?guardado={}", section.slug())).into_response()
            }
            Ok((stored, violations)) => section_page(
                &session,
                &c,
                role,
                section,
                Shown {
                    values: &stored,
                    violations: &violations,
                    editable: true,
                    errors: vec![
                        "Se guardó el borrador, pero la sección tiene datos por corregir.".into(),
                    ],
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    observation: super::observation_of(&state, &c, section.slug()).await,
                },
            ),
            Err(e) => section_page(
                &session,
                &c,
                role,
                section,
                Shown {
                    values: &input,
                    violations: &[],
                    editable: false,
                    errors: e.messages(),
                    status: e.code().http_status(),
                    observation: None,
                },
            ),
        },
    )
}
