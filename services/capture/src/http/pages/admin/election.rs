//! `GET/POST /admin/eleccion`: the election's calendar and limits, edited in the state's time
//! zone. Changing a date emits `election.updated`.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::response::Response;
use http::StatusCode;
use serde::Deserialize;

use super::views::{ElectionForm, ElectionPage};
use crate::domain::election::{self, Settings};
use crate::domain::identity_protection::{IdentityProtection, parse_decimal};
use crate::http::FrontState;
use crate::http::extract::CheckedForm;
use crate::http::layout::{Chrome, render};
use crate::http::session::SessionInfo;

fn form_of(s: &Settings) -> ElectionForm {
    ElectionForm {
        name: s.name.clone(),
        time_zone: s.time_zone.clone(),
        capture_opens: election::to_local_input(s.capture_opens_at, &s.time_zone),
        capture_closes: election::to_local_input(s.capture_closes_at, &s.time_zone),
        publication: election::to_local_input(s.publication_starts_at, &s.time_zone),
        election_day: s.election_day.to_string(),
        photo_kb: (s.photo_max_bytes / 1024).to_string(),
        text_min: s.text_min_chars.to_string(),
        text_max: s.text_max_chars.to_string(),
        proposal_min: s.proposal_min_chars.to_string(),
        proposal_max: s.proposal_max_chars.to_string(),
        retention_days: s.retention_days.to_string(),
        alternate: s.alternate_questionnaire,
        deadline_rule: s.deadlines.kind.code().into(),
        deadline_days: s.deadlines.days.to_string(),
        outer_bound: s
            .deadlines
            .outer_bound
            .map(|b| election::to_local_input(b, &s.time_zone))
            .unwrap_or_default(),
        campaign_ends: s
            .campaign_ends_on
            .map(|d| d.to_string())
            .unwrap_or_default(),
        holidays: s
            .holidays
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
        corrections_email: s.corrections_email.clone(),
        ..protection_form(s.identity_protection)
    }
}

/// The protection's fields: the method chosen with its values, the other with its defaults.
fn protection_form(p: IdentityProtection) -> ElectionForm {
    let threshold = match p {
        IdentityProtection::Suppression { threshold } => threshold,
        _ => 5,
    };
    let (rho_budget, rho_per_release, delta, detail_threshold) = p.private_parameters();
    ElectionForm {
        protection: p.code().into(),
        suppression_threshold: threshold.to_string(),
        rho_budget: rho_budget.to_string(),
        rho_per_release: rho_per_release.to_string(),
        delta: format!("{delta}"),
        detail_threshold: detail_threshold.to_string(),
        ..Default::default()
    }
}

/// When identity already published under a protection other than the one saved here, what
/// stays in force (identity keeps it: switching would let one release be differenced against
/// another). Nothing when identity cannot be reached: the page still serves.
async fn protection_in_force(state: &FrontState, settings: &Settings) -> Option<String> {
    use conoceles_proto::common::v1::identity_protection::Method;
    let ledger = state.identity.ledger(settings.id).await.ok()?;
    let in_force = ledger.protection?;
    if !ledger.fixed || in_force == settings.identity_protection.to_proto() {
        return None;
    }
    let method = match in_force.method? {
        Method::Suppression(s) => format!("supresión de celdas (umbral {})", s.threshold),
        Method::DifferentialPrivacy(p) => format!(
            "privacidad diferencial (presupuesto ρ = {}, ρ = {} por publicación)",
            p.rho_budget, p.rho_per_release
        ),
    };
    Some(format!(
        "Las estadísticas de identidad de esta elección ya se publicaron con {method}: ese método y sus parámetros quedan fijos, y lo que se elija aquí no se aplica."
    ))
}

async fn page(
    state: &FrontState,
    session: &SessionInfo,
    status: StatusCode,
    notice: Option<String>,
    errors: Vec<String>,
) -> Response {
    let settings = match election::current(&state.pool).await {
        Ok(Some(current)) => election::settings(&state.pool, current.id).await.ok(),
        _ => None,
    };
    let Some(settings) = settings else {
        return render(
            StatusCode::NOT_FOUND,
            &crate::http::layout::MessagePage::new(session, "Aún no hay una elección configurada."),
        );
    };
    let protection_fixed = protection_in_force(state, &settings).await;
    render(
        status,
        &ElectionPage {
            chrome: Chrome::of(session),
            form: form_of(&settings),
            notice,
            errors,
            protection_fixed,
        },
    )
}

pub async fn show(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
) -> Response {
    page(&state, &session, StatusCode::OK, None, Vec::new()).await
}

#[derive(Deserialize)]
pub struct ElectionInput {
    #[serde(default)]
    nombre: String,
    #[serde(default)]
    captura_inicio: String,
    #[serde(default)]
    captura_fin: String,
    #[serde(default)]
    publicacion: String,
    #[serde(default)]
    jornada: String,
    #[serde(default)]
    foto_kb: String,
    #[serde(default)]
    texto_min: String,
    #[serde(default)]
    texto_max: String,
    #[serde(default)]
    propuesta_min: String,
    #[serde(default)]
    propuesta_max: String,
    #[serde(default)]
    retencion: String,
    #[serde(default)]
    suplente: Option<String>,
    #[serde(default)]
    regla_plazo: String,
    #[serde(default)]
    dias_plazo: String,
    #[serde(default)]
    limite_captura: String,
    #[serde(default)]
    fin_campanas: String,
    #[serde(default)]
    inhabiles: String,
    #[serde(default)]
    correo_errores: String,
    #[serde(default)]
    proteccion: String,
    #[serde(default)]
    umbral_supresion: String,
    #[serde(default)]
    rho_presupuesto: String,
    #[serde(default)]
    rho_publicacion: String,
    #[serde(default)]
    delta: String,
    #[serde(default)]
    umbral_detalle: String,
}

/// The protection chosen in the form, or what is wrong with it.
fn protection_of(input: &ElectionInput, errors: &mut Vec<String>) -> Option<IdentityProtection> {
    let integer = |text: &str| text.trim().parse::<i32>().ok();
    match input.proteccion.as_str() {
        "suppression" => match integer(&input.umbral_supresion) {
            Some(threshold) => Some(IdentityProtection::Suppression { threshold }),
            None => {
                errors.push("Umbral de supresión: escriba un número entero, como 5.".into());
                None
            }
        },
        "differential_privacy" => {
            let mut decimal = |text: &str, label: &str| {
                parse_decimal(text).or_else(|| {
                    errors.push(format!("{label}: escriba un número, como 0.5."));
                    None
                })
            };
            let rho_budget = decimal(
                &input.rho_presupuesto,
                "Presupuesto de privacidad (ρ total)",
            );
            let rho_per_release = decimal(&input.rho_publicacion, "ρ por publicación");
            let delta = decimal(&input.delta, "δ");
            let detail_threshold = integer(&input.umbral_detalle);
            if detail_threshold.is_none() {
                errors.push("Umbral de detalle: escriba un número entero, como 10.".into());
            }
            Some(IdentityProtection::DifferentialPrivacy {
                rho_budget: rho_budget?,
                rho_per_release: rho_per_release?,
                delta: delta?,
                detail_threshold: detail_threshold?,
            })
        }
        _ => {
            errors.push(
                "Protección de las estadísticas de identidad: elija uno de los dos métodos.".into(),
            );
            None
        }
    }
}

pub async fn update(
    State(state): State<FrontState>,
    Extension(session): Extension<Arc<SessionInfo>>,
    CheckedForm(input): CheckedForm<ElectionInput>,
) -> Response {
    let Ok(Some(current)) = election::current(&state.pool).await else {
        return page(&state, &session, StatusCode::NOT_FOUND, None, Vec::new()).await;
    };
    let Ok(before) = election::settings(&state.pool, current.id).await else {
        return page(
            &state,
            &session,
            StatusCode::SERVICE_UNAVAILABLE,
            None,
            vec!["No fue posible leer la elección.".into()],
        )
        .await;
    };
    let mut errors = Vec::new();
    let tz = before.time_zone.clone();
    let mut instant = |value: &str, label: &str| {
        election::from_local_input(value, &tz).or_else(|| {
            errors.push(format!("{label}: escriba fecha y hora válidas."));
            None
        })
    };
    let capture_opens_at = instant(&input.captura_inicio, "Inicio de la captura");
    let capture_closes_at = instant(&input.captura_fin, "Cierre de la captura");
    let publication_starts_at = instant(&input.publicacion, "Inicio de la publicación");
    let mut number =
        |value: &str, label: &str, min: i32, max: i32| match value.trim().parse::<i32>() {
            Ok(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                errors.push(format!("{label}: escriba un número entre {min} y {max}."));
                None
            }
        };
    let photo_kb = number(&input.foto_kb, "Tamaño de la fotografía", 50, 5000);
    let text_min = number(&input.texto_min, "Mínimo de caracteres", 0, 20_000);
    let text_max = number(&input.texto_max, "Máximo de caracteres", 1, 20_000);
    let proposal_min = number(&input.propuesta_min, "Mínimo por propuesta", 0, 20_000);
    let proposal_max = number(&input.propuesta_max, "Máximo por propuesta", 1, 20_000);
    let retention = number(&input.retencion, "Días de retención", 0, 3650);
    let deadline_days = number(&input.dias_plazo, "Días de captura por candidatura", 1, 90);
    let deadline_kind = crate::domain::deadlines::RuleKind::parse(&input.regla_plazo);
    if deadline_kind.is_none() {
        errors.push("Plazo de cada candidatura: elija una de las dos reglas.".into());
    }
    let outer_bound = if input.limite_captura.trim().is_empty() {
        Some(None)
    } else {
        election::from_local_input(&input.limite_captura, &tz)
            .map(Some)
            .or_else(|| {
                errors.push("Límite máximo de captura: escriba fecha y hora válidas.".into());
                None
            })
    };
    let campaign_ends_on = match input.fin_campanas.trim() {
        "" => None,
        day => match chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d") {
            Ok(day) => Some(day),
            Err(_) => {
                errors
                    .push("Fin de las campañas: escriba una fecha válida, o déjelo vacío.".into());
                None
            }
        },
    };
    let mut holidays = Vec::new();
    for line in input
        .inhabiles
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        match chrono::NaiveDate::parse_from_str(line, "%Y-%m-%d") {
            Ok(day) => holidays.push(day),
            Err(_) => errors.push(format!(
                "Días inhábiles: «{line}» no es una fecha AAAA-MM-DD."
            )),
        }
    }
    holidays.sort();
    holidays.dedup();
    let identity_protection = protection_of(&input, &mut errors);
    let election_day = chrono::NaiveDate::parse_from_str(input.jornada.trim(), "%Y-%m-%d").ok();
    if election_day.is_none() {
        errors.push("Jornada electoral: escriba una fecha válida.".into());
    }
    let name = input.nombre.trim().to_string();
    let (
        Some(capture_opens_at),
        Some(capture_closes_at),
        Some(publication_starts_at),
        Some(photo_kb),
        Some(text_min),
        Some(text_max),
        Some(proposal_min),
        Some(proposal_max),
        Some(retention_days),
        Some(election_day),
        Some(deadline_days),
        Some(deadline_kind),
        Some(outer_bound),
        Some(identity_protection),
    ) = (
        capture_opens_at,
        capture_closes_at,
        publication_starts_at,
        photo_kb,
        text_min,
        text_max,
        proposal_min,
        proposal_max,
        retention,
        election_day,
        deadline_days,
        deadline_kind,
        outer_bound,
        identity_protection,
    )
    else {
        return page(
            &state,
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            errors,
        )
        .await;
    };
    let after = Settings {
        id: before.id,
        name,
        state_code: before.state_code.clone(),
        time_zone: before.time_zone.clone(),
        capture_opens_at,
        capture_closes_at,
        publication_starts_at,
        election_day,
        photo_max_bytes: photo_kb * 1024,
        text_min_chars: text_min,
        text_max_chars: text_max,
        proposal_min_chars: proposal_min,
        proposal_max_chars: proposal_max,
        retention_days,
        alternate_questionnaire: input.suplente.is_some(),
        deadlines: crate::domain::deadlines::DeadlineRule {
            kind: deadline_kind,
            days: deadline_days,
            outer_bound,
        },
        campaign_ends_on,
        holidays,
        corrections_email: input.correo_errores.trim().to_lowercase(),
        identity_protection,
    };
    errors.extend(election::check(&after).into_iter().map(|v| v.message));
    if !errors.is_empty() {
        return page(
            &state,
            &session,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            errors,
        )
        .await;
    }
    match election::update(&state.pool, &before, &after).await {
        Ok(true) => page(&state, &session, StatusCode::OK, Some("Se guardó la configuración; las fechas cambiaron y se avisó a los demás servicios.".into()), Vec::new()).await,
        Ok(false) => page(&state, &session, StatusCode::OK, Some("Se guardó la configuración.".into()), Vec::new()).await,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "election update failed");
            page(&state, &session, StatusCode::SERVICE_UNAVAILABLE, None, vec!["No fue posible guardar la configuración.".into()]).await
        }
    }
}
