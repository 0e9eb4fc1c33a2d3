//! The capture pages of parties and candidates: dashboard, questionnaire sections, photo,
//! preview, final submission and receipts. Every page loads the candidacy through
//! `curricular::load`, which answers "not found" to anyone outside its scope.

mod consent;
mod correction;
mod identity;
mod views;

pub use consent::{
    BODY_LIMIT as CONSENT_BODY_LIMIT, form as consent_form, upload as consent_upload,
};
pub use correction::{apply as correction_apply, form as correction_form};
pub use identity::{form as identity_form, post as identity_post, privacy_notice};

use std::sync::Arc;

use axum::Extension;
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use conoceles_kit::access::{Actor, Caller};
use http::{StatusCode, header};
use serde::Deserialize;
use uuid::Uuid;

use super::session::{SessionInfo, csrf_matches};
use super::views::{Nav, render};
use super::{FrontState, PAGE_EXPIRED};
use crate::curricular::{self, Candidacy, PersonRole, Section, sections::Fields};
use views::*;

use super::error_page;

/// The person behind the request (always present on these routes, which admit only people);
/// without one, an operator, who may see no candidacy.
fn actor(caller: &Caller) -> Actor {
    caller.actor.clone().unwrap_or(Actor {
        account_id: Uuid::nil(),
        role: conoceles_kit::access::Role::Operator,
        party_id: None,
        candidacy_id: None,
    })
}

pub(crate) use crate::election::{local, local_deadline};

/// "abre el …", "cierra el … · quedan 3 días y 4 horas", or "terminó el …".
fn window_text(
    opens: DateTime<Utc>,
    closes: DateTime<Utc>,
    tz: &str,
    now: DateTime<Utc>,
) -> String {
    if now < opens {
        return format!(
            "El periodo de captura abre el {} y cierra el {}.",
            local(opens, tz),
            local_deadline(closes, tz)
        );
    }
    if now >= closes {
        return format!(
            "El periodo de captura terminó el {}.",
            local_deadline(closes, tz)
        );
    }
    let left = closes - now;
    let (days, hours, minutes) = (
        left.num_days(),
        left.num_hours() % 24,
        left.num_minutes() % 60,
    );
    let left = if days > 0 {
        format!("quedan {days} días y {hours} horas")
    } else if hours > 0 {
        format!("quedan {hours} horas y {minutes} minutos")
    } else {
        format!("quedan {minutes} minutos")
    };
    format!(
        "El periodo de captura cierra el {} · {left}.",
        local_deadline(closes, tz)
    )
}

fn heading(c: &Candidacy) -> Heading {
    Heading {
        id: c.id.to_string(),
        office: c.office.clone(),
        constituency: c.constituency.clone(),
        postulant: c.postulant.clone(),
        list_position: c.list_position,
        holder: c
            .persons
            .iter()
            .find(|p| p.role == PersonRole::Holder)
            .map(|p| p.full_name.clone())
            .unwrap_or_default(),
        status_label: c.status_label(),
    }
}

async fn load(
    state: &FrontState,
    session: &SessionInfo,
    caller: &Caller,
    id: Uuid,
) -> Result<Candidacy, Response> {
    curricular::load(&state.pool, id, &actor(caller))
        .await
        .map_err(|e| error_page(session, &e))
}

/// `GET /captura`: the account's candidacies.
pub async fn dashboard(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
) -> Response {
    let rows = match curricular::dashboard(&state.pool, &actor(&caller)).await {
        Ok(rows) => rows,
        Err(e) => return error_page(&session, &e.into()),
    };
    let now = conoceles_kit::clock::now();
    let settings = match rows.first() {
        Some(_) => match crate::election::current(&state.pool).await.ok().flatten() {
            Some(e) => crate::election::settings(&state.pool, e.id).await.ok(),
            None => None,
        },
        None => None,
    };
    let tz = settings
        .as_ref()
        .map(|s| s.time_zone.clone())
        .unwrap_or_else(|| "America/Mexico_City".into());
    // One text when every candidacy shares its deadline; otherwise each line shows its own.
    let window = match (&settings, rows.first()) {
        (Some(s), Some(first))
            if rows
                .iter()
                .all(|r| r.capture_closes_at == first.capture_closes_at) =>
        {
            window_text(s.capture_opens_at, first.capture_closes_at, &tz, now)
        }
        (Some(_), Some(_)) => {
            "Cada candidatura tiene su propio plazo de captura: véalo en la columna «Plazo»."
                .to_string()
        }
        _ => String::new(),
    };
    let mut lines = Vec::new();
    let mut slates: Vec<SlateGroup> = Vec::new();
    let mut sent_in_slate = Vec::new();
    for r in rows {
        let slate = r.slate().map(|title| (title, r.constituency_code.clone()));
        let sent = r.status.is_sent();
        let line = DashboardLine {
            id: r.id.to_string(),
            office: r.seat(),
            constituency: r.constituency,
            postulant: r.postulant,
            holder: r.holder,
            status_label: r.status_label,
            done: r.done,
            total: r.total,
            deadline: local_deadline(r.capture_closes_at, &tz),
            closed: now >= r.capture_closes_at,
        };
        match slate {
            None => lines.push(line),
            Some((title, municipality)) => {
                if slates.last().is_none_or(|g| g.title != title) {
                    slates.push(SlateGroup {
                        title,
                        municipality,
                        summary: String::new(),
                        lines: Vec::new(),
                    });
                    sent_in_slate.push(0);
                }
                if let (Some(group), Some(count)) = (slates.last_mut(), sent_in_slate.last_mut()) {
                    group.lines.push(line);
                    *count += usize::from(sent);
                }
            }
        }
    }
    for (group, sent) in slates.iter_mut().zip(sent_in_slate) {
        let (done, total) = group
            .lines
            .iter()
            .fold((0, 0), |(d, t), l| (d + l.done, t + l.total));
        group.summary = format!(
            "{sent} de {} posiciones enviadas · {done} de {total} secciones y fotografías completas",
            group.lines.len()
        );
    }
    render(
        StatusCode::OK,
        &DashboardPage {
            nav: Some(Nav::of(&session)),
            lines,
            slates,
            window,
        },
    )
}

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
) -> Response {
    let c = match load(&state, &session, &caller, id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let now = conoceles_kit::clock::now();
    let editable =
        curricular::may_edit(&actor(&caller), &c) && (now < c.capture_closes_at || c.correcting);
    // Only whether it was sent: capture never sees identity answers.
    let identity_sent = state.identity.submitted(&[c.id]).await.ok();
    let mut persons = Vec::new();
    for person in &c.persons {
        let saved = match curricular::sections_of(&state.pool, person.id).await {
            Ok(saved) => saved,
            Err(e) => return error_page(&session, &e.into()),
        };
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
        crate::reviews::latest_observations(&state.pool, c.id)
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
    render(
        StatusCode::OK,
        &CandidacyPage {
            nav: Some(Nav::of(&session)),
            csrf: session.csrf_token.clone(),
            heading: heading(&c),
            persons,
            window: window_text(c.capture_opens_at, c.capture_closes_at, &c.time_zone, now),
            editable,
            corrector: caller.role() == Some(conoceles_kit::access::Role::Admin),
            reopenable: caller.role() == Some(conoceles_kit::access::Role::Admin)
                && c.status.is_approved()
                && !crate::candidacies::was_reopened(&state.pool, c.id).await,
            receipts,
            notice,
            observations,
        },
    )
}

fn role_of(value: &str) -> Option<PersonRole> {
    PersonRole::parse(value)
}

/// What a section form shows besides its candidacy and section.
struct Shown<'a> {
    values: &'a Fields,
    violations: &'a [conoceles_kit::FieldViolation],
    editable: bool,
    errors: Vec<String>,
    status: StatusCode,
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
            nav: Some(Nav::of(session)),
            csrf: session.csrf_token.clone(),
            heading: heading(c),
            role: role.as_str(),
            role_label: role.label(),
            person_name,
            slug: section.slug(),
            title: section.title(),
            intro: section.intro(),
            fields,
            editable,
            errors,
        },
    )
}

/// `GET /captura/{id}/{role}/{section}`
pub async fn section_form(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path((id, role, slug)): Path<(Uuid, String, String)>,
) -> Response {
    let (Some(role), Some(section)) = (role_of(&role), Section::from_slug(&slug)) else {
        return super::not_found().await.into_response();
    };
    let c = match load(&state, &session, &caller, id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let person = match c.person(role) {
        Ok(p) => p,
        Err(e) => return error_page(&session, &e),
    };
    let saved = match curricular::sections_of(&state.pool, person.id).await {
        Ok(mut saved) => saved.remove(&section),
        Err(e) => return error_page(&session, &e.into()),
    };
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
    section_page(
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
        },
    )
}

/// `POST /captura/{id}/{role}/{section}`: saves the draft; back to the candidacy when it is
/// complete, or the form again with every problem beside its field.
pub async fn section_save(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path((id, role, slug)): Path<(Uuid, String, String)>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let (Some(role), Some(section)) = (role_of(&role), Section::from_slug(&slug)) else {
        return super::not_found().await.into_response();
    };
    let c = match load(&state, &session, &caller, id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut input = Fields::new();
    let mut csrf = String::new();
    for (k, v) in form {
        if k == "csrf" {
            csrf = v;
        } else {
            input.insert(k, v);
        }
    }
    if !csrf_matches(&session.csrf_token, &csrf) {
        return section_page(
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
            },
        );
    }
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
            },
        ),
    }
}

async fn photo_page(
    state: &FrontState,
    session: &SessionInfo,
    caller: &Caller,
    c: &Candidacy,
    role: PersonRole,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    let person = match c.person(role) {
        Ok(p) => p,
        Err(e) => return error_page(session, &e),
    };
    let info = curricular::progress(&state.pool, c)
        .await
        .ok()
        .and_then(|p| p.into_iter().find(|x| x.role == role))
        .and_then(|p| p.photo);
    render(
        status,
        &PhotoPage {
            nav: Some(Nav::of(session)),
            csrf: session.csrf_token.clone(),
            heading: heading(c),
            role: role.as_str(),
            role_label: role.label(),
            person_name: person.full_name.clone(),
            has_photo: info.is_some(),
            taken_on: info
                .map(|i| i.taken_on.format("%d/%m/%Y").to_string())
                .unwrap_or_default(),
            max_kb: c.photo_max_bytes / 1024,
            editable: curricular::check_editable(
                &actor(caller),
                c,
                None,
                conoceles_kit::clock::now(),
            )
            .is_ok(),
            errors,
        },
    )
}

/// `GET /captura/{id}/{role}/foto`
pub async fn photo_form(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path((id, role)): Path<(Uuid, String)>,
) -> Response {
    let Some(role) = role_of(&role) else {
        return super::not_found().await.into_response();
    };
    match load(&state, &session, &caller, id).await {
        Ok(c) => {
            photo_page(
                &state,
                &session,
                &caller,
                &c,
                role,
                Vec::new(),
                StatusCode::OK,
            )
            .await
        }
        Err(r) => r,
    }
}

/// The upload limit of the photo routes: above any election's photo limit, so the election's
/// own limit gives the clear message.
pub const PHOTO_BODY_LIMIT: usize = 8 * 1024 * 1024;

/// `POST /captura/{id}/{role}/foto` (multipart: `csrf`, `fecha`, `foto`).
pub async fn photo_upload(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path((id, role)): Path<(Uuid, String)>,
    multipart: Multipart,
) -> Response {
    let Some(role) = role_of(&role) else {
        return super::not_found().await.into_response();
    };
    let c = match load(&state, &session, &caller, id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let page = |errors: Vec<String>, status: StatusCode| {
        photo_page(&state, &session, &caller, &c, role, errors, status)
    };
    // One upload at a time per account, and the election's limit enforced while reading.
    let (_turn, form) =
        match super::upload::receive(actor(&caller).account_id, multipart, c.photo_max_bytes).await
        {
            Ok(received) => received,
            Err(super::upload::UploadError::TooLarge { limit, .. }) => {
                let message = format!(
                    "La fotografía pesa más de {}, el máximo de esta elección.",
                    super::upload::size(limit)
                );
                return page(vec![message], StatusCode::PAYLOAD_TOO_LARGE).await;
            }
            Err(e) => return page(vec![e.message()], e.status()).await,
        };
    let (csrf, date, bytes) = (
        form.text("csrf"),
        form.text("fecha"),
        form.file("foto").unwrap_or_default(),
    );
    if !csrf_matches(&session.csrf_token, &csrf) {
        return page(vec![PAGE_EXPIRED.into()], StatusCode::FORBIDDEN).await;
    }
    let taken_on = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").ok();
    match curricular::save_photo(
        &state.pool,
        &actor(&caller),
        &c,
        role,
        bytes,
        taken_on,
        conoceles_kit::clock::now(),
    )
    .await
    {
        Ok(()) => Redirect::to(&format!("/captura/{id}?guardado=foto")).into_response(),
        Err(e) => {
            let status = e.code().http_status();
            page(e.messages(), status).await
        }
    }
}

/// `GET /captura/{id}/{role}/foto.jpg`: the public derivative, for its owner's preview.
pub async fn photo_image(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path((id, role)): Path<(Uuid, String)>,
) -> Response {
    let Some(role) = role_of(&role) else {
        return super::not_found().await.into_response();
    };
    let c = match load(&state, &session, &caller, id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Ok(person) = c.person(role) else {
        return super::not_found().await.into_response();
    };
    match curricular::photo_bytes(&state.pool, person.id).await {
        Ok(Some(bytes)) => ([(header::CONTENT_TYPE, "image/jpeg")], bytes).into_response(),
        Ok(None) => super::not_found().await.into_response(),
        Err(e) => error_page(&session, &e.into()),
    }
}

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
            missing.push(format!("{}: {item}", person.role.label()));
        }
        persons.push(PreviewPerson {
            role: person.role.as_str(),
            role_label: person.role.label(),
            full_name: person.full_name.clone(),
            has_photo: p.is_some_and(|p| p.photo.is_some()),
            sections,
        });
    }
    let now = conoceles_kit::clock::now();
    let can_submit = missing.is_empty()
        && curricular::may_edit(&actor(caller), c)
        && (c.window_open(now) || c.correcting)
        && matches!(
            c.status,
            conoceles_kit::CandidacyStatus::Draft | conoceles_kit::CandidacyStatus::Observed
        );
    render(
        status,
        &PreviewPage {
            nav: Some(Nav::of(session)),
            csrf: session.csrf_token.clone(),
            heading: heading(c),
            persons,
            missing,
            can_submit,
            window: window_text(c.capture_opens_at, c.capture_closes_at, &c.time_zone, now),
            errors,
        },
    )
}

/// `GET /captura/{id}/vista-previa`: the public profile as citizens will see it.
pub async fn preview(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<Uuid>,
) -> Response {
    match load(&state, &session, &caller, id).await {
        Ok(c) => preview_page(&state, &session, &caller, &c, Vec::new(), StatusCode::OK).await,
        Err(r) => r,
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /captura/{id}/envio`: the final submission; on success, the receipt.
pub async fn submit(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<Uuid>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let c = match load(&state, &session, &caller, id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !csrf_matches(&session.csrf_token, &form.csrf) {
        return preview_page(
            &state,
            &session,
            &caller,
            &c,
            vec![PAGE_EXPIRED.into()],
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    match curricular::submit(
        &state.pool,
        &actor(&caller),
        &c,
        conoceles_kit::clock::now(),
    )
    .await
    {
        Ok(receipt) => {
            Redirect::to(&format!("/captura/{id}/acuses/{}", receipt.submission_id)).into_response()
        }
        Err(e) => {
            let status = e.code().http_status();
            preview_page(&state, &session, &caller, &c, e.messages(), status).await
        }
    }
}

/// `GET /captura/{id}/acuses/{submission}`: the printable receipt.
pub async fn receipt(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path((id, submission)): Path<(Uuid, Uuid)>,
) -> Response {
    let c = match load(&state, &session, &caller, id).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match curricular::receipt(&state.pool, &c, submission).await {
        Ok(r) => render(
            StatusCode::OK,
            &ReceiptPage {
                nav: Some(Nav::of(&session)),
                heading: heading(&c),
                election: c.election_name.clone(),
                submission_id: r.submission_id.to_string(),
                round: r.round,
                at: local(r.submitted_at, &c.time_zone),
                sha256: r.content_sha256,
            },
        ),
        Err(e) => error_page(&session, &e),
    }
}

/// `GET /admin/envios-fuera-de-plazo`: submissions refused by the capture window.
pub async fn attempts(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
) -> Response {
    let tz = crate::front::election_time_zone(&state).await;
    match curricular::attempts(&state.pool, 500).await {
        Ok(list) => render(
            StatusCode::OK,
            &AttemptsPage {
                nav: Some(Nav::of(&session)),
                attempts: list
                    .into_iter()
                    .map(|a| AttemptLine {
                        at: crate::election::local(a.at, &tz),
                        external_id: a.external_id,
                        postulant: a.postulant,
                        reason: a.reason,
                    })
                    .collect(),
            },
        ),
        Err(e) => error_page(&session, &e.into()),
    }
}

/// The manuals, kept once in `docs/`: parties and candidates, and the electoral body's staff.
static MANUAL: &str = include_str!("../../../../../docs/manual-captura.md");
static STAFF_MANUAL: &str = include_str!("../../../../../docs/manual-revision.md");

/// A page from a Markdown document of the repository (trusted content).
fn markdown_page(session: Option<Arc<SessionInfo>>, markdown: &str) -> Response {
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new(markdown));
    render(
        StatusCode::OK,
        &HelpPage {
            nav: session.map(|s| Nav::of(&s)),
            manual: html,
        },
    )
}

#[derive(serde::Deserialize, Default)]
pub struct HelpQuery {
    #[serde(default)]
    manual: String,
}

/// `GET /ayuda[?manual=captura|revision]`: the staff's manual for reviewers, parity reviewers
/// and admins, the capture manual for everyone else (either one on request).
pub async fn help(
    session: Option<Extension<Arc<SessionInfo>>>,
    Query(query): Query<HelpQuery>,
) -> Response {
    use conoceles_kit::access::Role;
    let session = session.map(|Extension(s)| s);
    let staff = session
        .as_ref()
        .is_some_and(|s| matches!(s.role, Role::Reviewer | Role::ParityReviewer | Role::Admin));
    let manual = match query.manual.as_str() {
        "revision" => STAFF_MANUAL,
        "captura" => MANUAL,
        _ if staff => STAFF_MANUAL,
        _ => MANUAL,
    };
    markdown_page(session, manual)
}

fn bulk_page(
    session: &SessionInfo,
    summary: Option<String>,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    render(
        status,
        &BulkPage {
            nav: Some(Nav::of(session)),
            csrf: session.csrf_token.clone(),
            summary,
            errors,
        },
    )
}

/// `GET /captura/carga-masiva`
pub async fn bulk_form(Extension(session): Extension<Arc<SessionInfo>>) -> Response {
    bulk_page(&session, None, Vec::new(), StatusCode::OK)
}

/// `GET /captura/plantilla.csv[?municipio=<code>]`: the account's candidacies (those of one
/// municipality's slates), one row per person.
#[derive(Deserialize, Default)]
pub struct TemplateQuery {
    /// Only the candidacies of this municipality (its slates and RP lists).
    #[serde(default)]
    municipio: String,
}

pub async fn bulk_template(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<TemplateQuery>,
) -> Response {
    let municipality = Some(query.municipio.as_str()).filter(|m| !m.is_empty());
    match curricular::bulk::template(&state.pool, &actor(&caller), municipality).await {
        Ok(csv) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"plantilla-captura.csv\"",
                ),
            ],
            format!("\u{feff}{csv}"),
        )
            .into_response(),
        Err(e) => error_page(&session, &e),
    }
}

/// `POST /captura/carga-masiva` (multipart: `csrf`, `archivo`).
pub async fn bulk_upload(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    multipart: Multipart,
) -> Response {
    let (_turn, form) = match super::upload::receive(
        actor(&caller).account_id,
        multipart,
        crate::curricular::bulk::MAX_BYTES,
    )
    .await
    {
        Ok(received) => received,
        Err(e) => return bulk_page(&session, None, vec![e.message()], e.status()),
    };
    let (csrf, bytes) = (form.text("csrf"), form.file("archivo").unwrap_or_default());
    if !csrf_matches(&session.csrf_token, &csrf) {
        return bulk_page(
            &session,
            None,
            vec![PAGE_EXPIRED.into()],
            StatusCode::FORBIDDEN,
        );
    }
    if bytes.is_empty() {
        return bulk_page(
            &session,
            None,
            vec!["Elija un archivo CSV.".into()],
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    match curricular::bulk::apply(
        &state.pool,
        &actor(&caller),
        &bytes,
        conoceles_kit::clock::now(),
    )
    .await
    {
        Ok(outcome) => {
            let summary = format!(
                "Se guardaron {} filas ({} secciones) como borrador; {} problemas.",
                outcome.saved_rows,
                outcome.saved_sections,
                outcome.errors.len()
            );
            let status = if outcome.errors.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            let errors = outcome.errors.iter().map(ToString::to_string).collect();
            bulk_page(&session, Some(summary), errors, status)
        }
        Err(e) => bulk_page(&session, None, e.messages(), e.code().http_status()),
    }
}
