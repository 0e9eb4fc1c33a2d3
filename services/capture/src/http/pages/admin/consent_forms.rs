//! `GET /admin/formatos-consentimiento`: the unit's archive of independents' signed consent
//! forms, and each file shown or downloaded (admins only; every access recorded).

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use conoceles_kit::access::Caller;
use conoceles_kit::error::{AppError, ErrorCode};
use http::{StatusCode, header};
use serde::Deserialize;
use uuid::Uuid;

use super::views::{ConsentFormLine, ConsentFormsPage};
use crate::domain::consent_form::{self, Access};
use crate::domain::election;
use crate::http::layout::{Chrome, render};
use crate::http::session::SessionInfo;
use crate::http::{FrontState, PageError};

/// The archive of the current election's signed forms.
pub async fn list(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
) -> Result<Response, PageError> {
    let current = crate::http::current_election(&state).await?;
    let tz = current.time_zone.clone();
    let forms = consent_form::archive(&state.pool, current.id)
        .await?
        .into_iter()
        .map(|f| ConsentFormLine {
            person: f.person_id.to_string(),
            full_name: f.full_name,
            role_label: role_label(&f.role, &f.sex),
            former: !f.current,
            postulant: f.postulant,
            office: f.office,
            constituency: f.constituency,
            kind: kind_of(&f.media_type),
            received: election::local(f.uploaded_at, &tz),
            sha256: f.content_sha256,
            accesses: f.accesses,
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &ConsentFormsPage {
            chrome: Chrome::of(&session),
            election: current.name,
            forms,
        },
    ))
}

/// The person's place in the candidacy, in agreement with their sex.
fn role_label(role: &str, sex: &str) -> &'static str {
    match (role, sex) {
        ("alternate", _) => "Suplente",
        (_, "mujer") => "Propietaria",
        (_, "hombre") => "Propietario",
        _ => "Persona propietaria",
    }
}

fn kind_of(media_type: &str) -> &'static str {
    match media_type {
        "application/pdf" => "PDF",
        "image/png" => "PNG",
        _ => "JPEG",
    }
}

fn extension_of(media_type: &str) -> &'static str {
    match media_type {
        "application/pdf" => "pdf",
        "image/png" => "png",
        _ => "jpg",
    }
}

#[derive(Deserialize, Default)]
pub struct FileQuery {
    #[serde(default)]
    descargar: String,
}

/// `GET /admin/formatos-consentimiento/{person}[?descargar=1]`: the file itself, shown in the
/// browser or saved, the access recorded first.
pub async fn file(
    State(state): State<FrontState>,
    Extension(caller): Extension<Caller>,
    Path(person): Path<Uuid>,
    Query(query): Query<FileQuery>,
) -> Result<Response, PageError> {
    let access = if query.descargar.is_empty() {
        Access::Viewed
    } else {
        Access::Downloaded
    };
    let by = caller.actor.as_ref().map(|a| a.account_id).ok_or_else(|| {
        AppError::new(
            ErrorCode::PermissionDenied,
            "Solo la Unidad consulta los formatos.",
        )
    })?;
    let opened = consent_form::open(&state.pool, person, by, access, chrono::Utc::now())
        .await?
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::NotFound,
                "No hay un formato firmado de esa persona (o ya se eliminó al terminar el plazo de conservación).",
            )
        })?;
    let disposition = format!(
        "{}; filename=\"formato-consentimiento-{person}.{}\"",
        if access == Access::Downloaded {
            "attachment"
        } else {
            "inline"
        },
        extension_of(&opened.media_type)
    );
    Ok((
        [
            (header::CONTENT_TYPE, opened.media_type),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::HeaderName::from_static("x-content-sha256"),
                opened.content_sha256,
            ),
        ],
        opened.content,
    )
        .into_response())
}
