//! The capture pages of parties and candidates: dashboard, questionnaire sections, photo,
//! preview, final submission and receipts. Every page loads the candidacy through
//! `curricular::load`, which answers "not found" to anyone outside its scope.

mod bulk;
mod candidacy;
mod consent;
mod dashboard;
mod extra;
pub mod identity;
mod photo;
mod sections;
mod submission;
pub mod views;

pub use consent::{
    BODY_LIMIT as CONSENT_BODY_LIMIT, form as consent_form, upload as consent_upload,
};
pub use identity::{form as identity_form, post as identity_post, privacy_notice};
pub use photo::PHOTO_BODY_LIMIT;

use std::sync::Arc;

use axum::Extension;
use axum::routing::{get, post};
use conoceles_kit::access::Rule;
use conoceles_kit::http::DeclaredRouter;
use http::Method;

use super::{CAPTURE_READERS, CAPTURERS, CORRECTORS, PARTIES};
use axum::Form;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use conoceles_kit::access::{Actor, Caller};
use conoceles_kit::error::AppError;
use http::{StatusCode, header};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::curricular::{self, Candidacy, PersonRole, Section, sections::Fields};
use crate::http::layout::{Chrome, render};
use crate::http::session::{SessionInfo, csrf_matches};
use crate::http::{FrontState, PAGE_EXPIRED, PageError, error_page};
use views::*;

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

pub(crate) use crate::domain::election::{local, local_deadline};

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
        holder_label: c.role_label(PersonRole::Holder).to_lowercase(),
        status_label: c.status_label(),
    }
}

/// The unit's observation of one part of the questionnaire (a section's slug, `photo`), while
/// the candidacy waits for it to be attended.
async fn observation_of(state: &FrontState, c: &Candidacy, part: &str) -> Option<String> {
    if c.status != conoceles_kit::CandidacyStatus::Observed {
        return None;
    }
    let notes: Vec<String> = crate::domain::reviews::latest_observations(&state.pool, c.id)
        .await
        .ok()?
        .into_iter()
        .filter(|(section, _)| section == part)
        .map(|(_, message)| message)
        .collect();
    (!notes.is_empty()).then(|| notes.join(" "))
}

async fn load(state: &FrontState, caller: &Caller, id: Uuid) -> Result<Candidacy, PageError> {
    Ok(curricular::load(&state.pool, id, &actor(caller)).await?)
}

/// A form's fields, with the CSRF token it carried set apart.
fn fields_and_csrf(form: Vec<(String, String)>) -> (Fields, String) {
    let mut fields = Fields::new();
    let mut csrf = String::new();
    for (k, v) in form {
        if k == "csrf" {
            csrf = v;
        } else {
            fields.insert(k, v);
        }
    }
    (fields, csrf)
}

fn role_of(value: &str) -> Option<PersonRole> {
    PersonRole::parse(value)
}

/// Parties and candidates: the dashboard, each candidacy's questionnaires, photos, identity questionnaire and consent, bulk capture, submission and receipts.
pub fn routes(router: DeclaredRouter<FrontState>) -> DeclaredRouter<FrontState> {
    // The unit's requirements to the party, as the party reads them (the unit's own page shows
    // the same printout).
    use super::admin::requirements;
    router
        .route(
            Method::GET,
            "/captura/requerimientos",
            Rule::people(PARTIES),
            get(requirements::of_party),
        )
        .route(
            Method::GET,
            "/captura/requerimientos/{id}",
            Rule::people(PARTIES),
            get(requirements::show),
        )
        .route(
            Method::GET,
            "/captura/{id}/{role}/identidad",
            Rule::people(CAPTURERS),
            get(identity_form),
        )
        .route(
            Method::POST,
            "/captura/{id}/{role}/identidad",
            Rule::people(CAPTURERS),
            post(identity_post),
        )
        .route(
            Method::GET,
            "/captura/{id}/{role}/identidad/consentimiento",
            Rule::people(CAPTURERS),
            get(consent_form),
        )
        .route(
            Method::POST,
            "/captura/{id}/{role}/identidad/consentimiento",
            Rule::people(CAPTURERS),
            post(consent_upload).layer(axum::extract::DefaultBodyLimit::max(CONSENT_BODY_LIMIT)),
        )
        .route(
            Method::GET,
            "/captura",
            Rule::people(CAPTURERS),
            get(dashboard::dashboard),
        )
        .route(
            Method::GET,
            "/captura/carga-masiva",
            Rule::people(CAPTURERS),
            get(bulk::bulk_form),
        )
        .route(
            Method::POST,
            "/captura/carga-masiva",
            Rule::people(CAPTURERS),
            post(bulk::bulk_upload).layer(axum::extract::DefaultBodyLimit::max(
                crate::domain::curricular::bulk::MAX_BYTES + 64 * 1024,
            )),
        )
        .route(
            Method::GET,
            "/captura/plantilla.csv",
            Rule::people(CAPTURERS),
            get(bulk::bulk_template),
        )
        .route(
            Method::GET,
            "/captura/{id}",
            Rule::people(CAPTURE_READERS),
            get(candidacy::candidacy),
        )
        .route(
            Method::GET,
            "/captura/{id}/vista-previa",
            Rule::people(CAPTURE_READERS),
            get(submission::preview),
        )
        .route(
            Method::POST,
            "/captura/{id}/envio",
            Rule::people(CORRECTORS),
            post(submission::submit),
        )
        .route(
            Method::GET,
            "/captura/{id}/acuses/{submission}",
            Rule::people(CAPTURE_READERS),
            get(submission::receipt),
        )
        .route(
            Method::GET,
            "/captura/{id}/{role}/foto",
            Rule::people(CAPTURE_READERS),
            get(photo::photo_form),
        )
        .route(
            Method::POST,
            "/captura/{id}/{role}/foto",
            Rule::people(CORRECTORS),
            post(photo::photo_upload).layer(axum::extract::DefaultBodyLimit::max(
                photo::PHOTO_BODY_LIMIT,
            )),
        )
        .route(
            Method::GET,
            "/captura/{id}/{role}/foto.jpg",
            Rule::people(CAPTURE_READERS),
            get(photo::photo_image),
        )
        .route(
            Method::GET,
            "/captura/{id}/{role}/adicional",
            Rule::people(CAPTURE_READERS),
            get(extra::form),
        )
        .route(
            Method::POST,
            "/captura/{id}/{role}/adicional",
            Rule::people(CORRECTORS),
            post(extra::save),
        )
        .route(
            Method::GET,
            "/captura/{id}/{role}/adicional/{field}",
            Rule::people(CAPTURE_READERS),
            get(extra::document),
        )
        .route(
            Method::POST,
            "/captura/{id}/{role}/adicional/{field}",
            Rule::people(CORRECTORS),
            post(extra::upload).layer(axum::extract::DefaultBodyLimit::max(
                extra::DOCUMENT_BODY_LIMIT,
            )),
        )
        .route(
            Method::GET,
            "/captura/{id}/{role}/{section}",
            Rule::people(CAPTURE_READERS),
            get(sections::section_form),
        )
        .route(
            Method::POST,
            "/captura/{id}/{role}/{section}",
            Rule::people(CORRECTORS),
            post(sections::section_save),
        )
}
