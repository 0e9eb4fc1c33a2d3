//! The statisticians' HTTP API (DESIGN §11): `GET /api/v1/tables`, `GET /api/v1/tables/{name}`
//! (`?format=json|csv`, `?at=` cut-off, dimension filters), `GET|POST /api/v1/reports/progress`,
//! `GET /api/v1/reports/{id}` (a stored snapshot, byte for byte), `GET /api/v1/openapi.json`.
//! `statistician` or `admin` bearer tokens (from the capture API's `POST /api/v1/sessions`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use conoceles_kit::access::{Caller, Role, Rule};
use conoceles_kit::error::AppError;
use conoceles_kit::http::DeclaredRouter;
use conoceles_kit::http::input::{ApiPath, ApiQuery};
use http::{Method, header};
use serde_json::{Value, json};

use crate::report::{self, Kind};
use crate::service::{Statistics, TableQuery, compute, identity_tables, invalid, ledger};
use crate::tables::{self, Table};
use conoceles_proto::statistics::v1::ReportFormat;

const STATISTICIANS: &[Role] = &[Role::Statistician, Role::Admin];

pub fn declared() -> DeclaredRouter<Statistics> {
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
            "/api/v1/privacy-ledger",
            people,
            axum::routing::get(privacy_ledger),
        )
        .route(
            Method::GET,
            "/api/v1/openapi.json",
            Rule::public(),
            axum::routing::get(openapi),
        )
}

async fn list(State(state): State<Statistics>) -> Response {
    match identity_tables(&state).await {
        Ok((_, names)) => Json(json!({ "tables": tables::catalog(&names) })).into_response(),
        Err(e) => e.into_response(),
    }
}

/// How the identity tables are protected and every differentially private release so far.
async fn privacy_ledger(State(state): State<Statistics>) -> Response {
    match ledger(&state).await {
        Ok(l) => Json(l).into_response(),
        Err(e) => e.into_response(),
    }
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
    State(state): State<Statistics>,
    ApiPath(name): ApiPath<String>,
    ApiQuery(query): ApiQuery<HashMap<String, String>>,
) -> Response {
    if let Some(format) = query.get("format")
        && format != "json"
        && format != "csv"
    {
        return invalid("format", "invalid", "El formato debe ser json o csv.").into_response();
    }
    let asked = TableQuery {
        at: query.get("at").cloned(),
        filters: query
            .iter()
            .filter(|(k, _)| k.as_str() != "at" && k.as_str() != "format")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    };
    match compute(&state, &name, &asked).await {
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
    State(state): State<Statistics>,
    ApiQuery(query): ApiQuery<HashMap<String, String>>,
) -> Response {
    let produced = match kind_of(&query) {
        Ok(kind) => report::produce(&state, kind, query.get("at").map(String::as_str)).await,
        Err(e) => Err(e),
    };
    match produced {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `POST /api/v1/reports/progress[?at=&kind=]`: stores the report as produced, with its SHA-256.
async fn snapshot(
    State(state): State<Statistics>,
    Extension(caller): Extension<Caller>,
    ApiQuery(query): ApiQuery<HashMap<String, String>>,
) -> Response {
    let kind = match kind_of(&query) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    let by = caller.actor.as_ref().map(|a| a.account_id);
    match report::create(&state, kind, query.get("at").map(String::as_str), by).await {
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
async fn stored_reports(State(state): State<Statistics>) -> Response {
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
    State(state): State<Statistics>,
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
            "/api/v1/reports/{id}": { "get": { "summary": "Un reporte guardado, byte por byte (JSON) o como CSV", "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }, report_format], "responses": { "200": { "description": "Reporte" }, "401": error.clone(), "403": error.clone(), "404": error.clone(), "422": error.clone() } } },
            "/api/v1/privacy-ledger": { "get": { "summary": "Cómo se protegen las tablas de identidad y, con privacidad diferencial, el registro de pérdida de privacidad (ρ por publicación y acumulado, (ε, δ) equivalente, escala del ruido)", "responses": { "200": { "description": "Registro" }, "401": error.clone(), "403": error.clone(), "503": error } } },
            "/api/v1/openapi.json": { "get": { "summary": "Este documento", "security": [], "responses": { "200": { "description": "OpenAPI" } } } }
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": { "Error": { "type": "object", "required": ["code", "message"], "properties": { "code": { "type": "string" }, "message": { "type": "string" }, "violations": { "type": "array" } } } }
        }
    }))
}

pub fn router(
    state: Statistics,
    authenticator: Arc<dyn conoceles_kit::http::Authenticator>,
) -> axum::Router {
    let (router, _) = declared().finish(authenticator);
    router.with_state(state)
}
