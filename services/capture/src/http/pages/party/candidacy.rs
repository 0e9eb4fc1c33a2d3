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
    let definition = {
        let mut conn = state.pool.acquire().await.map_err(AppError::from)?;
        curricular::extra::definition(&mut conn, c.election_id)
            .await?
            .1
    };
    let mut persons = Vec::new();
    for person in &c.persons {
        let saved = curricular::sections_of(&state.pool, person.id).await?;
        let extra = if definition.extra.is_empty() {
            None
        } else {
            let own = curricular::extra::saved(&state.pool, person.id).await?;
            let (_, problems) = curricular::definition::validate_extra(&definition, &own.values);
            let documents = definition.extra.iter().all(|f| {
                f.kind != curricular::definition::ExtraKind::Document
                    || !f.required
                    || own.documents.contains_key(&f.id)
            });
            Some(SectionLine {
                slug: curricular::definition::EXTRA_SECTION,
                title: curricular::definition::EXTRA_TITLE,
                complete: problems.is_empty() && documents,
                started: !own.values.is_empty() || !own.documents.is_empty(),
                open: editable && c.part_open(curricular::definition::EXTRA_SECTION),
            })
        };
        let photo = matches!(
            curricular::photo_bytes(&state.pool, person.id).await,
            Ok(Some(_))
        );
        persons.push(PersonLine {
            role: person.role.segment(),
            identity_sent: identity_sent.as_ref().map(|sent| sent.contains(&person.id)),
            role_label: person.role.label_for(&person.sex),
            full_name: person.full_name.clone(),
            sections: Section::ALL
                .iter()
                .map(|s| SectionLine {
                    slug: s.segment(),
                    title: s.title(),
                    complete: saved.get(s).is_some_and(|x| x.complete),
                    started: saved.contains_key(s),
                    open: editable && c.section_open(*s),
                })
                .chain(extra)
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
                (
                    crate::domain::mail::messages::section_title(&section),
                    message,
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let notice = Section::from_slug(&query.guardado)
        .map(|s| format!("Se guardó la sección «{}».", s.title()))
        .or_else(|| (query.guardado == "foto").then(|| "Se guardó la fotografía.".to_string()))
        .or_else(|| {
            (query.guardado == curricular::definition::EXTRA_SECTION).then(|| {
                format!(
                    "Se guardó la sección «{}».",
                    curricular::definition::EXTRA_TITLE
                )
            })
        });
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
