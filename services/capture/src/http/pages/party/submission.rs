//! The preview of what will be sent, the final submission and its receipts.

use super::*;
use crate::http::extract::CheckedForm;

async fn preview_page(
    state: &FrontState,
    session: &SessionInfo,
    caller: &Caller,
    c: &Candidacy,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    let mut persons = Vec::new();
    let mut missing = Vec::new();
    let progress = curricular::progress(&state.pool, c)
        .await
        .unwrap_or_default();
    for person in &c.persons {
        let saved = curricular::sections_of(&state.pool, person.id)
            .await
            .unwrap_or_default();
        let sections = Section::ALL
            .iter()
            .map(|s| PreviewSection {
                title: s.title(),
                items: s
                    .fields(&c.bounds)
                    .into_iter()
                    .filter(|spec| spec.public)
                    .filter_map(|spec| {
                        let value = saved.get(s)?.fields.get(spec.name)?;
                        Some((spec.label, spec.display(value)))
                    })
                    .collect(),
            })
            .collect();
        let p = progress.iter().find(|p| p.role == person.role);
        for item in p.map(|p| p.missing()).unwrap_or_default() {
            missing.push(format!("{}: {item}", person.role.label_for(&person.sex)));
        }
        persons.push(PreviewPerson {
            role: person.role.segment(),
            role_label: person.role.label_for(&person.sex),
            full_name: person.full_name.clone(),
            has_photo: p.is_some_and(|p| p.photo.is_some()),
            sections,
        });
    }
    missing.extend(
        curricular::extra::missing(&state.pool, c)
            .await
            .unwrap_or_default(),
    );
    let now = conoceles_kit::clock::now();
    let can_submit = missing.is_empty()
        && curricular::may_change(&actor(caller), c)
        && (c.window_open(now) || c.correcting)
        && matches!(
            c.status,
            conoceles_kit::CandidacyStatus::Draft | conoceles_kit::CandidacyStatus::Observed
        );
    render(
        status,
        &PreviewPage {
            chrome: Chrome::of(session),
            heading: heading(c),
            persons,
            missing,
            can_submit,
            window: window_text(c.capture_opens_at, c.capture_closes_at, &c.time_zone, now),
            errors,
        },
    )
}

/// Why the questionnaire cannot be sent now, in the words of the submission's own refusals
/// (empty: it can).
async fn blockers(state: &FrontState, caller: &Caller, c: &Candidacy) -> Vec<String> {
    let progress = curricular::progress(&state.pool, c)
        .await
        .unwrap_or_default();
    let mut blockers = Vec::new();
    for person in &c.persons {
        let Some(p) = progress.iter().find(|p| p.role == person.role) else {
            continue;
        };
        for item in p.missing() {
            blockers.push(if item == "Fotografía" {
                format!(
                    "{}: falta la fotografía.",
                    person.role.label_for(&person.sex)
                )
            } else {
                format!(
                    "{}: falta completar «{item}».",
                    person.role.label_for(&person.sex)
                )
            });
        }
    }
    // The election's own fields («Información adicional») are checked as the submission does.
    blockers.extend(
        curricular::extra::missing(&state.pool, c)
            .await
            .unwrap_or_default(),
    );
    let now = conoceles_kit::clock::now();
    if blockers.is_empty()
        && !(curricular::may_change(&actor(caller), c)
            && (c.window_open(now) || c.correcting)
            && matches!(
                c.status,
                conoceles_kit::CandidacyStatus::Draft | conoceles_kit::CandidacyStatus::Observed
            ))
    {
        blockers.push(
            "Este cuestionario no puede enviarse ahora: ya fue enviado, o el plazo de captura no está abierto."
                .into(),
        );
    }
    blockers
}

/// `GET /captura/{id}/vista-previa`: the public profile as citizens will see it.
pub async fn preview(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<Uuid>,
) -> Result<Response, PageError> {
    let c = load(&state, &caller, id).await?;
    Ok(preview_page(&state, &session, &caller, &c, Vec::new(), StatusCode::OK).await)
}

#[derive(Deserialize)]
pub struct SubmitForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirmado: String,
}

/// `POST /captura/{id}/envio`: the final submission, after a confirmation step that says it
/// cannot be undone; on success, the receipt.
pub async fn submit(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<Uuid>,
    CheckedForm(form): CheckedForm<SubmitForm>,
) -> Result<Response, PageError> {
    let c = load(&state, &caller, id).await?;
    if !crate::http::layout::confirmed(&form.confirmado) {
        // Nothing to confirm while something is missing or the questionnaire cannot be sent:
        // the preview says what, as the submission itself would.
        let blockers = blockers(&state, &caller, &c).await;
        if !blockers.is_empty() {
            return Ok(preview_page(
                &state,
                &session,
                &caller,
                &c,
                blockers,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await);
        }
        let names = c
            .persons
            .iter()
            .map(|p| p.full_name.clone())
            .collect::<Vec<_>>()
            .join(" y ");
        return Ok(render(
            StatusCode::OK,
            &crate::http::layout::ConfirmPage {
                chrome: Chrome::of(&session),
                title: "¿Enviar el cuestionario curricular definitivo?".into(),
                lead: vec![
                    format!("{} · {} · {}", c.postulant, c.office, c.constituency),
                    format!("Se enviará lo que muestra la vista previa del cuestionario de {names}."),
                ],
                irreversible: "Después del envío el cuestionario queda en revisión del organismo electoral y ya no podrá modificarlo; solo podrá corregir las secciones que reciban observaciones.".into(),
                action: format!("/captura/{id}/envio"),
                fields: vec![("csrf".into(), form.csrf)],
                confirm_label: "Sí, enviar el cuestionario definitivo".into(),
                back: format!("/captura/{id}/vista-previa"),
                back_label: "Volver a la vista previa".into(),
            },
        ));
    }
    Ok(
        match curricular::submit(
            &state.pool,
            &actor(&caller),
            &c,
            conoceles_kit::clock::now(),
        )
        .await
        {
            Ok(receipt) => Redirect::to(&format!("/captura/{id}/acuses/{}", receipt.submission_id))
                .into_response(),
            Err(e) => {
                let status = e.code().http_status();
                preview_page(&state, &session, &caller, &c, e.messages(), status).await
            }
        },
    )
}

/// `GET /captura/{id}/acuses/{submission}`: the printable receipt.
pub async fn receipt(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path((id, submission)): Path<(Uuid, Uuid)>,
) -> Result<Response, PageError> {
    let c = load(&state, &caller, id).await?;
    Ok(
        match curricular::receipt(&state.pool, &c, submission).await {
            Ok(r) => render(
                StatusCode::OK,
                &ReceiptPage {
                    chrome: Chrome::of(&session),
                    heading: heading(&c),
                    election: c.election_name.clone(),
                    submission_id: r.submission_id.to_string(),
                    round: r.round,
                    at: local(r.submitted_at, &c.time_zone),
                    sha256: r.content_sha256,
                },
            ),
            Err(e) => error_page(&session, &e),
        },
    )
}
