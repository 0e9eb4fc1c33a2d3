//! `GET/POST /admin/sitio`: how the citizens' site presents the election — the electoral body's
//! name, colour and emblem, the demonstration notice — and `POST /admin/sitio/emblema[/quitar]`:
//! the emblems of the body and of each party, coalition and independent candidacy. Every change
//! reaches the public site through `election.site_identity_updated`.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use http::StatusCode;
use serde::Deserialize;

use super::views::{EmblemLine, SiteIdentityPage};
use crate::domain::election;
use crate::domain::site_identity::{self, SiteIdentity};
use crate::http::extract::CheckedForm;
use crate::http::layout::{Chrome, render};
use crate::http::session::{SessionInfo, csrf_matches};
use crate::http::{FrontState, PAGE_EXPIRED};

/// What the page shows besides the stored values: a notice, errors, the form as typed.
#[derive(Default)]
struct Outcome {
    notice: Option<String>,
    errors: Vec<String>,
    typed: Option<SiteIdentityInput>,
}

async fn page(
    state: &FrontState,
    session: &SessionInfo,
    status: StatusCode,
    outcome: Outcome,
) -> Response {
    let Ok(Some(current)) = election::current(&state.pool).await else {
        return Redirect::to("/admin/elecciones/nueva").into_response();
    };
    let loaded: sqlx::Result<_> = async {
        let mut conn = state.pool.acquire().await?;
        let identity = site_identity::get(&mut conn, current.id).await?;
        let (_, postulants) = election::choices(&state.pool, current.id).await?;
        let mut lines = vec![(String::new(), "Organismo electoral".to_string())];
        lines.extend(postulants);
        let mut emblems = Vec::new();
        for (owner, name) in lines {
            let png = site_identity::emblem(&mut conn, current.id, &owner).await?;
            emblems.push(EmblemLine {
                image: png.map(|p| {
                    format!(
                        "data:image/png;base64,{}",
                        base64::engine::general_purpose::STANDARD.encode(p)
                    )
                }),
                owner,
                name,
            });
        }
        Ok((identity, emblems))
    }
    .await;
    let (identity, emblems) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => {
            tracing::error!(error = %e, "reading the site's presentation failed");
            return render(
                StatusCode::SERVICE_UNAVAILABLE,
                &crate::http::layout::MessagePage::new(
                    session,
                    "No fue posible leer la presentación del sitio. Intente de nuevo en unos minutos.",
                ),
            );
        }
    };
    let typed = outcome.typed.unwrap_or(SiteIdentityInput {
        organismo: identity.body_name,
        color: identity.color,
        demostracion: identity.demonstration.then(|| "si".to_string()),
    });
    render(
        status,
        &SiteIdentityPage {
            chrome: Chrome::of(session),
            election_name: current.name,
            body_name: typed.organismo,
            color: typed.color,
            demonstration: typed.demostracion.is_some(),
            emblems,
            notice: outcome.notice,
            errors: outcome.errors,
        },
    )
}

pub async fn show(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
) -> Response {
    page(&state, &session, StatusCode::OK, Outcome::default()).await
}

#[derive(Deserialize, Default, Clone)]
pub struct SiteIdentityInput {
    #[serde(default)]
    organismo: String,
    #[serde(default)]
    color: String,
    #[serde(default)]
    demostracion: Option<String>,
}

/// `POST /admin/sitio`: the body's name, colour and the demonstration notice.
pub async fn update(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    CheckedForm(input): CheckedForm<SiteIdentityInput>,
) -> Response {
    let name = site_identity::parse_body_name(&input.organismo);
    let color = site_identity::parse_color(&input.color);
    let (Ok(body_name), Ok(color)) = (&name, &color) else {
        let errors = [name.err(), color.err()]
            .into_iter()
            .flatten()
            .map(|e| e.0)
            .collect();
        return page(
            &state,
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            Outcome {
                errors,
                typed: Some(input),
                ..Outcome::default()
            },
        )
        .await;
    };
    let Ok(Some(current)) = election::current(&state.pool).await else {
        return Redirect::to("/admin/elecciones/nueva").into_response();
    };
    let identity = SiteIdentity {
        body_name: body_name.clone(),
        color: color.clone(),
        demonstration: input.demostracion.is_some(),
    };
    let saved: sqlx::Result<()> = async {
        let mut tx = state.pool.begin().await?;
        site_identity::save(&mut tx, current.id, &identity).await?;
        site_identity::announce(&mut tx, current.id).await?;
        tx.commit().await
    }
    .await;
    let outcome = match saved {
        Ok(()) => Outcome {
            notice: Some(
                "Se guardó la presentación del sitio. El sitio público la muestra en menos de un minuto."
                    .into(),
            ),
            ..Outcome::default()
        },
        Err(e) => {
            tracing::error!(error = %e, "saving the site's presentation failed");
            Outcome {
                errors: vec!["No fue posible guardar. Intente de nuevo.".into()],
                typed: Some(input),
                ..Outcome::default()
            }
        }
    };
    page(&state, &session, StatusCode::OK, outcome).await
}

/// Who an emblem belongs to, as the person reads it: the body or a postulant's name.
async fn owner_name(state: &FrontState, election: uuid::Uuid, owner: &str) -> Option<String> {
    if owner.is_empty() {
        return Some("el organismo electoral".into());
    }
    let (_, postulants) = election::choices(&state.pool, election).await.ok()?;
    postulants
        .into_iter()
        .find(|(code, _)| code == owner)
        .map(|(_, name)| name)
}

/// `POST /admin/sitio/emblema` (multipart: `csrf`, `titular`, `archivo`).
pub async fn upload_emblem(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    Extension(caller): Extension<conoceles_kit::access::Caller>,
    multipart: Multipart,
) -> Response {
    let refused = |status: StatusCode, message: String| {
        let state = state.clone();
        let session = session.clone();
        async move {
            page(
                &state,
                &session,
                status,
                Outcome {
                    errors: vec![message],
                    ..Outcome::default()
                },
            )
            .await
        }
    };
    let account = caller
        .actor
        .as_ref()
        .map_or(uuid::Uuid::nil(), |a| a.account_id);
    let (_turn, form) =
        match crate::http::upload::receive(account, multipart, site_identity::MAX_EMBLEM_BYTES)
            .await
        {
            Ok(received) => received,
            Err(e) => return refused(e.status(), e.message()).await,
        };
    if !csrf_matches(&session.csrf_token, &form.text("csrf")) {
        return refused(StatusCode::FORBIDDEN, PAGE_EXPIRED.into()).await;
    }
    let Ok(Some(current)) = election::current(&state.pool).await else {
        return Redirect::to("/admin/elecciones/nueva").into_response();
    };
    let owner = form.text("titular");
    let Some(name) = owner_name(&state, current.id, &owner).await else {
        return refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Elija de quién es el emblema.".into(),
        )
        .await;
    };
    let bytes = form.file("archivo").unwrap_or_default();
    let derived = tokio::task::spawn_blocking(move || site_identity::derive_emblem(&bytes)).await;
    let png = match derived {
        Ok(Ok(png)) => png,
        Ok(Err(refusal)) => {
            return refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("El emblema de {name} no se cargó: {}", refusal.0),
            )
            .await;
        }
        Err(e) => {
            tracing::error!(error = %e, "deriving an emblem failed");
            return refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "No se pudo procesar el emblema. Intente con otro archivo.".into(),
            )
            .await;
        }
    };
    let saved: sqlx::Result<()> = async {
        let mut tx = state.pool.begin().await?;
        site_identity::save_emblem(&mut tx, current.id, &owner, &png).await?;
        site_identity::announce(&mut tx, current.id).await?;
        tx.commit().await
    }
    .await;
    match saved {
        Ok(()) => {
            page(
                &state,
                &session,
                StatusCode::OK,
                Outcome {
                    notice: Some(format!("Se guardó el emblema de {name}.")),
                    ..Outcome::default()
                },
            )
            .await
        }
        Err(e) => {
            tracing::error!(error = %e, "saving an emblem failed");
            refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "No fue posible guardar el emblema. Intente de nuevo.".into(),
            )
            .await
        }
    }
}

#[derive(Deserialize, Default)]
pub struct RemoveInput {
    #[serde(default)]
    titular: String,
}

/// `POST /admin/sitio/emblema/quitar`: the site shows the name without an emblem.
pub async fn remove_emblem(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    CheckedForm(input): CheckedForm<RemoveInput>,
) -> Response {
    let Ok(Some(current)) = election::current(&state.pool).await else {
        return Redirect::to("/admin/elecciones/nueva").into_response();
    };
    let name = owner_name(&state, current.id, &input.titular)
        .await
        .unwrap_or_else(|| input.titular.clone());
    let removed: sqlx::Result<bool> = async {
        let mut tx = state.pool.begin().await?;
        let removed = site_identity::remove_emblem(&mut tx, current.id, &input.titular).await?;
        if removed {
            site_identity::announce(&mut tx, current.id).await?;
        }
        tx.commit().await?;
        Ok(removed)
    }
    .await;
    let outcome = match removed {
        Ok(true) => Outcome {
            notice: Some(format!("Se quitó el emblema de {name}.")),
            ..Outcome::default()
        },
        Ok(false) => Outcome {
            notice: Some(format!("{name} no tenía emblema.")),
            ..Outcome::default()
        },
        Err(e) => {
            tracing::error!(error = %e, "removing an emblem failed");
            Outcome {
                errors: vec!["No fue posible quitar el emblema. Intente de nuevo.".into()],
                ..Outcome::default()
            }
        }
    };
    page(&state, &session, StatusCode::OK, outcome).await
}
