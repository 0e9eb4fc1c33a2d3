//! One candidacy's page: its sections, photos, window and receipts.

use super::*;

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    #[serde(default)]
    guardado: String,
}

/// `GET /captura/{id}`: the candidacy's sections, photos and receipts.
pub async fn candidacy(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<Uuid>,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    let c = load(&state, &caller, id).await?;
    let now = conoceles_kit::clock::now();
    let editable =
        curricular::may_change(&actor(&caller), &c) && (now < c.capture_closes_at || c.correcting);
    // Only whether it was sent: capture never sees identity answers.
    let identity_sent = state.identity.submitted(&[c.id]).await.ok();
    let mut persons = Vec::new();
    for person in &c.persons {
        let saved = curricular::sections_of(&state.pool, person.id).await?;
        let photo = matches!(
            curricular::photo_bytes(&state.pool, person.id).await,
            Ok(Some(_))
        );
        persons.push(PersonLine {
            role: person.role.as_str(),
            identity_sent: identity_sent.as_ref().map(|sent| sent.contains(&person.id)),
            role_label: person.role.label(),
            full_name: person.full_name.clone(),
            sections: Section::ALL
                .iter()
                .map(|s| SectionLine {
                    slug: s.slug(),
                    title: s.title(),
                    complete: saved.get(s).is_some_and(|x| x.complete),
                    started: saved.contains_key(s),
                    open: editable && c.section_open(*s),
                })
                .collect(),
            photo,
            photo_open: editable && c.photo_open(),
        });
    }
    let receipts = curricular::receipts_of(&state.pool, c.id)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|(sid, round, at)| ReceiptLine {
            id: sid.to_string(),
            round,
            at: local(at, &c.time_zone),
        })
        .collect();
    let observations = if c.status == conoceles_kit::CandidacyStatus::Observed {
        crate::domain::reviews::latest_observations(&state.pool, c.id)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|(section, message)| {
                let title = match Section::from_slug(&section) {
                    Some(s) => s.title().to_string(),
                    None if section == "correccion" => "Corrección solicitada".to_string(),
                    None => section,
                };
                (title, message)
            })
            .collect()
    } else {
        Vec::new()
    };
    let notice = Section::from_slug(&query.guardado)
        .map(|s| format!("Se guardó la sección «{}».", s.title()))
        .or_else(|| (query.guardado == "foto").then(|| "Se guardó la fotografía.".to_string()));
    Ok(render(
        StatusCode::OK,
        &CandidacyPage {
            chrome: Chrome::of(&session),
            heading: heading(&c),
            persons,
            window: window_text(c.capture_opens_at, c.capture_closes_at, &c.time_zone, now),
            editable,
            corrector: caller.role() == Some(conoceles_kit::access::Role::Admin),
            reopenable: caller.role() == Some(conoceles_kit::access::Role::Admin)
                && c.status.is_approved()
                && !crate::domain::candidacies::was_reopened(&state.pool, c.id).await,
            receipts,
            notice,
            observations,
        },
    ))
}
