//! Bulk capture: a CSV of many candidacies' curricular answers, checked whole before it applies.

use super::*;

fn bulk_page(
    session: &SessionInfo,
    summary: Option<String>,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    render(
        status,
        &BulkPage {
            chrome: Chrome::of(session),
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
    let (_turn, form) = match crate::http::upload::receive(
        actor(&caller).account_id,
        multipart,
        crate::domain::curricular::bulk::MAX_BYTES,
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
            let count = |n: usize, one: &str, many: &str| {
                if n == 1 {
                    format!("1 {one}")
                } else {
                    format!("{n} {many}")
                }
            };
            let summary = format!(
                "Se guardaron como borrador {} ({}); {}.",
                count(outcome.saved_rows, "fila", "filas"),
                count(outcome.saved_sections, "sección", "secciones"),
                if outcome.errors.is_empty() {
                    "sin problemas".to_string()
                } else {
                    count(outcome.errors.len(), "problema", "problemas")
                }
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
