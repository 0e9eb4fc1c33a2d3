//! The statisticians' HTTP API (DESIGN §11): `GET /api/v1/tables`, `GET /api/v1/tables/{name}`
//! (`?format=json|csv`, `?at=` cut-off, dimension filters), `GET|POST /api/v1/reports/progress`,
//! `GET /api/v1/reports/{id}` (a stored snapshot, byte for byte), `GET /api/v1/openapi.json`.
//! `statistician` or `admin` bearer tokens (from the capture API's `POST /api/v1/sessions`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use conoceles_kit::access::{Caller, Role, Rule};
use conoceles_kit::error::{AppError, ErrorCode};
use conoceles_kit::http::DeclaredRouter;
use conoceles_kit::http::input::{ApiPath, ApiQuery};
use http::{Method, header};
use serde_json::{Value, json};

use crate::cache::Results;
use crate::report::{self, Kind};
use crate::sources::Sources;
use crate::tables::{self, COMPLIANCE, CURRICULAR_FILTERS, PROGRESS_DIMENSIONS, Table};
use conoceles_proto::statistics::v1::ReportFormat;

#[derive(Clone)]
pub struct ApiState {
    pub sources: Sources,
    pub results: Results,
    pub pool: sqlx::PgPool,
}

const STATISTICIANS: &[Role] = &[Role::Statistician, Role::Admin];

pub fn declared() -> DeclaredRouter<ApiState> {
    let people = Rule::people(STATISTICIANS);
    DeclaredRouter::new()
        .route(
            Method::GET,
            "/api/v1/tables",
            people,
            axum::routing::get(list),
        )
        .route(
            Method::GET,
            "/api/v1/tables/{name}",
            people,
            axum::routing::get(table),
        )
        .route(
            Method::GET,
            "/api/v1/reports/progress",
            people,
            axum::routing::get(progress_report),
        )
        .route(
            Method::POST,
            "/api/v1/reports/progress",
            people,
            axum::routing::post(snapshot),
        )
        .route(
            Method::GET,
            "/api/v1/reports",
            people,
            axum::routing::get(stored_reports),
        )
        .route(
            Method::GET,
            "/api/v1/reports/{id}",
            people,
            axum::routing::get(stored_report),
        )
        .route(
            Method::GET,
            "/api/v1/openapi.json",
            Rule::public(),
            axum::routing::get(openapi),
        )
}

/// A source's answer passed on: bad input and "not found" as they are; anything else (the
/// statistics' own credentials refused included) is the source being unavailable.
fn upstream(status: tonic::Status) -> AppError {
    let passed_on = match status.code() {
        tonic::Code::Unauthenticated | tonic::Code::PermissionDenied => AppError::new(
            ErrorCode::Unavailable,
            ErrorCode::Unavailable.default_message(),
        ),
        _ => AppError::from_status(&status),
    };
    if passed_on.code() == ErrorCode::Unavailable {
        tracing::warn!(code = ?status.code(), "a source of the statistics is unavailable");
    }
    passed_on
}

fn invalid(field: &str, reason: &str, message: &str) -> AppError {
    AppError::field(field, reason, message)
}

/// `at` (RFC 3339 or a day `AAAA-MM-DD`, its end in UTC); in the future it is refused (a day
/// that has begun counts up to now); absent: now.
pub fn cut_off(query: &HashMap<String, String>) -> Result<(DateTime<Utc>, bool), AppError> {
    let now = Utc::now();
    let Some(value) = query.get("at").map(|v| v.trim()) else {
        return Ok((now, true));
    };
    let instant = DateTime::parse_from_rfc3339(value)
        .map(|d| d.with_timezone(&Utc))
        .ok();
    // A day counts up to its end, or up to now if it has begun.
    let day = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|d| {
            Some((
                d.and_hms_opt(0, 0, 0)?.and_utc(),
                d.and_hms_opt(23, 59, 59)?.and_utc(),
            ))
        })
        .filter(|(start, _)| *start <= now)
        .map(|(_, end)| end.min(now));
    let future = || {
        invalid(
            "at",
            "in_the_future",
            "El corte no puede estar en el futuro.",
        )
    };
    let at = match (instant, day) {
        (Some(at), _) if at > now + Duration::seconds(60) => return Err(future()),
        (Some(at), _) | (None, Some(at)) => at,
        (None, None) if chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok() => {
            return Err(future());
        }
        (None, None) => {
            return Err(invalid(
                "at",
                "invalid_format",
                "Use una fecha RFC 3339 o AAAA-MM-DD.",
            ));
        }
    };
    Ok((at.min(now), at >= now - Duration::seconds(60)))
}

pub async fn identity_tables(state: &ApiState) -> Result<(String, Vec<String>), AppError> {
    let election = state.sources.election().await.map_err(upstream)?;
    let definition = state
        .sources
        .definition(&election)
        .await
        .map_err(upstream)?;
    let definition = conoceles_identity_questionnaire::Definition::parse(&definition)
        .map_err(|e| anyhow::anyhow!("identity's definition does not parse: {e}"))?;
    Ok((election, definition.aggregate_tables()))
}

async fn list(State(state): State<ApiState>) -> Response {
    match identity_tables(&state).await {
        Ok((_, names)) => Json(json!({ "tables": tables::catalog(&names) })).into_response(),
        Err(e) => e.into_response(),
    }
}

/// Computes (or finds in the cache) one table.
pub async fn compute(
    state: &ApiState,
    name: &str,
    query: &HashMap<String, String>,
) -> Result<Table, AppError> {
    let (at, live) = cut_off(query)?;
    let filters: BTreeMap<String, String> = query
        .iter()
        .filter(|(k, _)| k.as_str() != "at" && k.as_str() != "format")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // JSON, not `k=v&…`: a value holding `&` or `=` cannot pass for two filters and poison the
    // genuine query's entry.
    let filter_key = serde_json::to_string(&filters).unwrap_or_default();
    let key = if live {
        format!(
            "table:{name}:{filter_key}:now:v{}",
            state.results.version().await
        )
    } else {
        format!("table:{name}:{filter_key}:{}", at.timestamp())
    };
    if let Some(hit) = state.results.get(&key).await
        && let Ok(table) = serde_json::from_str::<Table>(&hit)
    {
        return Ok(table);
    }
    // Only identity tables need identity's names (and the election they belong to).
    let (election, identity_names) = if name.starts_with("identity.") {
        identity_tables(state).await?
    } else {
        (String::new(), Vec::new())
    };
    let definition = tables::catalog(&identity_names)
        .into_iter()
        .find(|d| d.name == name)
        .ok_or_else(|| AppError::new(ErrorCode::NotFound, "No existe esa tabla predeclarada."))?;
    let table = if let Some(dimension) = name.strip_prefix("progress.by_") {
        for key in filters.keys() {
            if !PROGRESS_DIMENSIONS.contains(&key.as_str()) || key == dimension {
                return Err(invalid(
                    key,
                    "unknown_filter",
                    "Filtro desconocido para esta tabla.",
                ));
            }
        }
        let group_by = tables::progress_grouping(dimension, &filters);
        let rows = state
            .sources
            .progress(at, group_by)
            .await
            .map_err(upstream)?;
        Table::counts(
            definition,
            at,
            tables::progress(&rows.rows, dimension, &filters),
        )
    } else if let Some((measure, dimension)) = name
        .strip_prefix("curricular.")
        .and_then(|rest| rest.split_once(".by_"))
    {
        if !live {
            return Err(invalid(
                "at",
                "not_supported",
                "El perfil curricular se calcula al momento de la consulta.",
            ));
        }
        for key in filters.keys() {
            if !CURRICULAR_FILTERS.contains(&key.as_str()) || key == dimension || key == measure {
                return Err(invalid(
                    key,
                    "unknown_filter",
                    "Filtro desconocido para esta tabla.",
                ));
            }
        }
        let rows = state.sources.curricular_profile().await.map_err(upstream)?;
        let cut_off =
            conoceles_kit::proto_time::from_proto(rows.computed_at.as_ref()).unwrap_or(at);
        Table::counts(
            definition,
            cut_off,
            tables::curricular(&rows.rows, measure, dimension, &filters),
        )
    } else if name == COMPLIANCE {
        if let Some(key) = filters.keys().next() {
            return Err(invalid(
                key,
                "unknown_filter",
                "Esta tabla no tiene filtros.",
            ));
        }
        let rows = state.sources.compliance(at).await.map_err(upstream)?;
        Table::counts(definition, at, tables::compliance(&rows.rows))
    } else {
        let t = state
            .sources
            .identity_table(
                &election,
                name,
                filters.clone().into_iter().collect(),
                (!live).then_some(at),
            )
            .await
            .map_err(upstream)?;
        Table {
            definition,
            cut_off: conoceles_kit::proto_time::from_proto(t.cut_off.as_ref()).unwrap_or(at),
            n: t.n,
            answered: t.answered,
            declined: t.declined,
            cells: t
                .cells
                .into_iter()
                .map(|c| tables::Cell {
                    dimensions: c.dimensions.into_iter().collect(),
                    count: c.count,
                    suppressed: c.suppressed,
                })
                .collect(),
        }
    };
    if let Ok(text) = serde_json::to_string(&table) {
        state
            .results
            .put(&key, &text, if live { 30 } else { 86_400 })
            .await;
    }
    Ok(table)
}

fn respond(table: &Table, query: &HashMap<String, String>) -> Response {
    if query.get("format").map(String::as_str) == Some("csv") {
        (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}.csv\"", table.definition.name),
                ),
            ],
            tables::csv(table),
        )
            .into_response()
    } else {
        Json(table).into_response()
    }
}

async fn table(
    State(state): State<ApiState>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(query): ApiQuery<HashMap<String, String>>,
) -> Response {
    if let Some(format) = query.get("format")
        && format != "json"
        && format != "csv"
    {
        return invalid("format", "invalid", "El formato debe ser json o csv.").into_response();
    }
    match compute(&state, &name, &query).await {
        Ok(t) => respond(&t, &query),
        Err(e) => e.into_response(),
    }
}

fn kind_of(query: &HashMap<String, String>) -> Result<Kind, AppError> {
    match query.get("kind").map(String::as_str) {
        None => Ok(Kind::Progress),
        Some(k) => Kind::parse(k).ok_or_else(|| {
            invalid(
                "kind",
                "invalid",
                "El tipo de informe debe ser april, may, final o progress.",
            )
        }),
    }
}

/// `GET /api/v1/reports/progress[?at=&kind=]`: the report as it would be produced now.
async fn progress_report(
    State(state): State<ApiState>,
    ApiQuery(query): ApiQuery<HashMap<String, String>>,
) -> Response {
    let produced = match kind_of(&query) {
        Ok(kind) => report::produce(&state, kind, &query).await,
        Err(e) => Err(e),
    };
    match produced {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `POST /api/v1/reports/progress[?at=&kind=]`: stores the report as produced, with its SHA-256.
async fn snapshot(
    State(state): State<ApiState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(query): ApiQuery<HashMap<String, String>>,
) -> Response {
    let kind = match kind_of(&query) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    let by = caller.actor.as_ref().map(|a| a.account_id);
    match report::create(&state, kind, &query, by).await {
        Ok(r) => (
            http::StatusCode::CREATED,
            [(header::LOCATION, format!("/api/v1/reports/{}", r.id))],
            Json(json!({ "id": r.id, "kind": r.kind, "content_sha256": r.content_sha256, "cut_off": r.cut_off })),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /api/v1/reports`: the stored reports, newest first.
async fn stored_reports(State(state): State<ApiState>) -> Response {
    match report::list(&state.pool).await {
        Ok(all) => Json(json!({ "reports": all.iter().map(|r| json!({
            "id": r.id, "kind": r.kind, "cut_off": r.cut_off, "created_at": r.created_at,
            "content_sha256": r.content_sha256,
        })).collect::<Vec<_>>() }))
        .into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /api/v1/reports/{id}[?format=json|csv]`: a stored report, byte for byte (JSON) or as CSV.
async fn stored_report(
    State(state): State<ApiState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<HashMap<String, String>>,
) -> Response {
    let format = match query.get("format").map(String::as_str) {
        None | Some("json") => ReportFormat::Json,
        Some("csv") => ReportFormat::Csv,
        Some(_) => {
            return invalid("format", "invalid", "El formato debe ser json o csv.").into_response();
        }
    };
    let rendered = match report::find(&state.pool, &id).await {
        Ok(r) => report::render(&r, format).map(|(bytes, content_type)| (r, bytes, content_type)),
        Err(e) => Err(e),
    };
    match rendered {
        Ok((r, bytes, content_type)) => (
            [
                (header::CONTENT_TYPE, content_type.to_string()),
                (
                    header::HeaderName::from_static("x-content-sha256"),
                    r.content_sha256,
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn openapi() -> Json<Value> {
    let error = json!({ "description": "Error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
    let at = json!({ "name": "at", "in": "query", "required": false, "schema": { "anyOf": [{ "type": "string", "format": "date" }, { "type": "string", "format": "date-time" }] }, "description": "Corte: RFC 3339 o AAAA-MM-DD (por omisión, ahora)" });
    let format = json!({ "name": "format", "in": "query", "required": false, "schema": { "type": "string", "enum": ["json", "csv"] } });
    let bearer = json!([{ "bearer": [] }]);
    let kind = json!({ "name": "kind", "in": "query", "required": false, "schema": { "type": "string", "enum": ["april", "may", "final", "progress"] } });
    let report_format = json!({ "name": "format", "in": "query", "required": false, "schema": { "type": "string", "enum": ["json", "csv"] } });
    Json(json!({
        "openapi": "3.1.0",
        "info": { "title": "Conóceles — API de estadística", "version": "1.0.0" },
        "security": bearer,
        "paths": {
            "/api/v1/tables": { "get": { "summary": "Tablas predeclaradas", "responses": { "200": { "description": "Catálogo" }, "401": error.clone(), "403": error.clone() } } },
            "/api/v1/tables/{name}": { "get": {
                "summary": "Una tabla al corte, con filtros por dimensión (códigos)",
                "parameters": [{ "name": "name", "in": "path", "required": true, "schema": { "type": "string" } }, at.clone(), format],
                "responses": { "200": { "description": "Tabla" }, "401": error.clone(), "403": error.clone(), "404": error.clone(), "422": error.clone(), "503": error.clone() } } },
            "/api/v1/reports/progress": {
                "get": { "summary": "Reporte de avance al corte", "parameters": [at.clone(), kind.clone()], "responses": { "200": { "description": "Reporte" }, "401": error.clone(), "403": error.clone(), "422": error.clone(), "503": error.clone() } },
                "post": { "summary": "Guarda el reporte al corte, con su huella SHA-256", "parameters": [at, kind], "responses": { "201": { "description": "Guardado" }, "401": error.clone(), "403": error.clone(), "422": error.clone(), "503": error.clone() } } },
            "/api/v1/reports": { "get": { "summary": "Reportes guardados, del más reciente al más antiguo", "responses": { "200": { "description": "Reportes" }, "401": error.clone(), "403": error.clone() } } },
            "/api/v1/reports/{id}": { "get": { "summary": "Un reporte guardado, byte por byte (JSON) o como CSV", "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }, report_format], "responses": { "200": { "description": "Reporte" }, "401": error.clone(), "403": error.clone(), "404": error.clone(), "422": error } } },
            "/api/v1/openapi.json": { "get": { "summary": "Este documento", "security": [], "responses": { "200": { "description": "OpenAPI" } } } }
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": { "Error": { "type": "object", "required": ["code", "message"], "properties": { "code": { "type": "string" }, "message": { "type": "string" }, "violations": { "type": "array" } } } }
        }
    }))
}

pub fn router(
    state: ApiState,
    authenticator: Arc<dyn conoceles_kit::http::Authenticator>,
) -> axum::Router {
    let (router, _) = declared().finish(authenticator);
    router.with_state(state)
}
