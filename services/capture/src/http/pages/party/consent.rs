//! `GET/POST /captura/{id}/{role}/identidad/consentimiento`: the printable express-consent form
//! of independent candidates and the upload of the signed copy (checked by content, DESIGN
//! §4.4). The questionnaire cannot be sent until the signed form is here.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Multipart, Path, State};
use axum::response::Response;
use chrono::Utc;
use conoceles_kit::access::Caller;
use http::StatusCode;
use uuid::Uuid;

use super::identity::{Context, context};
use super::local;
use super::views::ConsentPage;
use crate::domain::consent_form::{self, FormError};
use crate::http::PageError;
use crate::http::layout::{Chrome, render};
use crate::http::session::{SessionInfo, csrf_matches};
use crate::http::{FrontState, PAGE_EXPIRED};

/// The request body limit: the file and the form's small fields.
pub const BODY_LIMIT: usize = consent_form::MAX_BYTES + 64 * 1024;

async fn page(
    state: &FrontState,
    session: &SessionInfo,
    cx: &Context,
    (notice, errors): (Option<String>, Vec<String>),
    status: StatusCode,
) -> Response {
    let received = consent_form::received(&state.pool, cx.person)
        .await
        .ok()
        .flatten()
        .map(|(at, sha)| format!("{} · SHA-256 {sha}", local(at, &cx.candidacy.time_zone)));
    render(
        status,
        &ConsentPage {
            chrome: Chrome::of(session),
            heading: cx.heading.clone(),
            election_name: cx.candidacy.election_name.clone(),
            role: cx.role.segment(),
            role_label: cx.candidacy.role_label(cx.role),
            person_name: cx.person_name.clone(),
            received,
            notice,
            errors,
        },
    )
}

/// `GET /captura/{id}/{role}/identidad/consentimiento`
pub async fn form(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path((id, role)): Path<(Uuid, String)>,
) -> Result<Response, PageError> {
    let cx = context(&state, &caller, (id, &role), false).await?;
    Ok(page(&state, &session, &cx, (None, Vec::new()), StatusCode::OK).await)
}

/// `POST /captura/{id}/{role}/identidad/consentimiento` (multipart: `csrf`, `archivo`).
pub async fn upload(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<Caller>,
    Path((id, role)): Path<(Uuid, String)>,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let cx = context(&state, &caller, (id, &role), false).await?;
    let refused = |message: String, status| {
        let (state, session, cx) = (&state, &session, &cx);
        async move { page(state, session, cx, (None, vec![message]), status).await }
    };
    let account = super::actor(&caller).account_id;
    let (_turn, form) =
        match crate::http::upload::receive(account, multipart, consent_form::MAX_BYTES).await {
            Ok(received) => received,
            Err(e) => return Ok(refused(e.message(), e.status()).await),
        };
    let (csrf, bytes) = (form.text("csrf"), form.file("archivo").unwrap_or_default());
    if !csrf_matches(&session.csrf_token, &csrf) {
        return Ok(refused(PAGE_EXPIRED.into(), StatusCode::FORBIDDEN).await);
    }
    match state.identity.submitted(&[cx.candidacy.id]).await {
        Ok(done) if done.contains(&cx.person) => {
            return Ok(refused(
                "El cuestionario de identidad ya se envió; el formato firmado ya no se puede reemplazar.".into(),
                StatusCode::CONFLICT,
            )
            .await);
        }
        Ok(_) => {}
        Err(status) => {
            return Ok(refused(
                crate::http::status_messages(&status).join(" "),
                StatusCode::SERVICE_UNAVAILABLE,
            )
            .await);
        }
    }
    let checked = {
        let permit = crate::domain::curricular::DECODING.acquire().await;
        let bytes = bytes.clone();
        let checked = tokio::task::spawn_blocking(move || consent_form::check(&bytes)).await;
        drop(permit);
        checked
    };
    let checked = match checked {
        Ok(Ok(checked)) => checked,
        Ok(Err(FormError(message))) => {
            return Ok(refused(message, StatusCode::UNPROCESSABLE_ENTITY).await);
        }
        Err(e) => {
            tracing::error!(error = %e, "checking a consent form panicked");
            return Ok(refused(
                "No se pudo revisar el archivo. Intente de nuevo.".into(),
                StatusCode::INTERNAL_SERVER_ERROR,
            )
            .await);
        }
    };
    let saved = consent_form::save(
        &state.pool,
        cx.candidacy.id,
        cx.person,
        super::actor(&caller).account_id,
        &bytes,
        &checked,
        Utc::now(),
    )
    .await;
    Ok(match saved {
        Ok(()) => {
            page(
                &state,
                &session,
                &cx,
                (Some("Se recibió el formato firmado.".into()), Vec::new()),
                StatusCode::OK,
            )
            .await
        }
        Err(e) => {
            tracing::error!(error = %e, "storing a consent form failed");
            refused(
                "No se pudo guardar el archivo. Intente de nuevo.".into(),
                StatusCode::SERVICE_UNAVAILABLE,
            )
            .await
        }
    })
}
