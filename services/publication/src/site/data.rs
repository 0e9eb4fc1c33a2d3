//! Open data (`/datos`) and the JSON API (`/api/v1/`): the same published candidacies, one row
//! per person, with stable ids; never a private field.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use conoceles_kit::http::input::ApiQuery;
use http::{HeaderMap, StatusCode, header};
use serde_json::{Value, json};
use uuid::Uuid;

use super::SiteState;
use super::open_data_files::{COLUMNS, public_json};
use super::pages::open_election;
use super::views::DataPage;
use super::views::render;
use crate::model::{self, Filters};

pub async fn page(State(state): State<SiteState>) -> Response {
    let election = match open_election(&state).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let total = model::count(&state.pool, election.id)
        .await
        .map_or(0, |n| n.max(0) as usize);
    // Links to the release's own addresses: the files a person downloads belong together.
    let files = match crate::open_data::release(&state.pool).await {
        Ok(Some(version)) => format!("/datos/version/{version}"),
        _ => "/datos".to_string(),
    };
    render(
        StatusCode::OK,
        &DataPage {
            election: election.name,
            total,
            columns: COLUMNS.to_vec(),
            files,
        },
    )
}

/// How long a file under a release's own address is kept: it never changes.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `GET /datos/version/{version}/{file}`: a file of one release. Its content never changes, so
/// browsers and CDNs keep it for a year; the files of one release verify against its own
/// `SHA256SUMS`. A release since replaced redirects to the same file of the current one.
pub async fn of_release(
    State(state): State<SiteState>,
    Path((version, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    use crate::open_data::{DATA_FILES, PUBLIC_KEY, SIGNATURE, SUMS};
    let Ok(version) = version.parse::<i64>() else {
        return super::pages::not_found().await;
    };
    let (name, spreadsheet) = match file.as_str() {
        "candidaturas-excel.csv" => ("candidaturas.csv", true),
        f if DATA_FILES.contains(&f) || [SUMS, SIGNATURE, PUBLIC_KEY].contains(&f) => (f, false),
        _ => return super::pages::not_found().await,
    };
    serve(
        &state,
        &headers,
        name,
        Release::Asked {
            version,
            file: &file,
        },
        spreadsheet,
    )
    .await
}

/// Which release a request names.
#[derive(Clone, Copy)]
enum Release<'a> {
    /// The unversioned address: whatever is current, revalidated each minute.
    Current,
    /// `/datos/version/{version}/{file}`.
    Asked { version: i64, file: &'a str },
}

/// A stored open-data file, as generated from the read model's last version; `ETag` is the
/// SHA-256 of its content, so a client revalidating gets `304 Not Modified` until the next
/// change. The data files are kept gzip-compressed: sent as they are to clients that accept
/// gzip, decompressed on the way to the others.
async fn file(state: &SiteState, headers: &HeaderMap, name: &str) -> Response {
    serve(state, headers, name, Release::Current, false).await
}

/// The UTF-8 byte-order mark: spreadsheet programs set to Spanish (Mexico) read a CSV that
/// starts with it as UTF-8, so accents open correctly; without it they guess a Windows code
/// page.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// `GET /datos/candidaturas-excel.csv`: the same rows as `candidaturas.csv`, starting with the
/// byte-order mark, for spreadsheet programs.
pub async fn csv_for_spreadsheets(State(state): State<SiteState>, headers: HeaderMap) -> Response {
    serve(&state, &headers, "candidaturas.csv", Release::Current, true).await
}

/// A stored open-data file; `spreadsheet`: the CSV with the byte-order mark, never compressed.
async fn serve(
    state: &SiteState,
    headers: &HeaderMap,
    name: &str,
    release: Release<'_>,
    spreadsheet: bool,
) -> Response {
    if let Err(r) = open_election(state).await {
        return r;
    }
    let stored = crate::open_data::Stored::of(&state.pool, name)
        .await
        .ok()
        .flatten();
    let Some(stored) = stored else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "5")],
            "Los datos abiertos se están generando; intente en unos segundos.",
        )
            .into_response();
    };
    let cache_control = match release {
        Release::Current => "public, max-age=60",
        Release::Asked { version, .. } if version == stored.version => IMMUTABLE,
        Release::Asked { file, .. } => {
            return (
                StatusCode::TEMPORARY_REDIRECT,
                [
                    (
                        header::LOCATION,
                        format!("/datos/version/{}/{file}", stored.version),
                    ),
                    (header::CACHE_CONTROL, "no-store".to_string()),
                ],
            )
                .into_response();
        }
    };
    let (sha256, encoding) = (stored.sha256.clone(), stored.encoding.clone());
    let gzipped = encoding == "gzip";
    let accepts_gzip = super::cache::Encoding::takes_gzip(
        headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok()),
    );
    let send_gzip = gzipped && accepts_gzip && !spreadsheet;
    let etag = if spreadsheet {
        format!("\"{sha256}-excel\"")
    } else if send_gzip {
        format!("\"{sha256}-gz\"")
    } else {
        format!("\"{sha256}\"")
    };
    let content_type = match name {
        n if n.ends_with(".csv") => "text/csv; charset=utf-8",
        n if n.ends_with(".json") => "application/json",
        crate::open_data::SIGNATURE => "application/octet-stream",
        crate::open_data::PUBLIC_KEY => "application/x-pem-file",
        _ => "text/plain; charset=utf-8",
    };
    let revalidated = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let common = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, cache_control.to_string()),
        (header::CONTENT_TYPE, content_type.to_string()),
        (header::VARY, "Accept-Encoding".to_string()),
    ];
    if revalidated {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    let disposition = if spreadsheet {
        "attachment; filename=\"candidaturas-excel.csv\"".to_string()
    } else {
        format!("attachment; filename=\"{name}\"")
    };
    // Read piece by piece only now, after the revalidation was answered.
    let body = if send_gzip {
        axum::body::Body::from_stream(stored.bytes(&state.pool, name))
    } else {
        axum::body::Body::from_stream(stored.content(&state.pool, name))
    };
    let body = if spreadsheet {
        use futures::StreamExt;
        let mark =
            futures::stream::once(async { Ok::<_, axum::Error>(bytes::Bytes::from_static(BOM)) });
        axum::body::Body::from_stream(mark.chain(body.into_data_stream()))
    } else {
        body
    };
    let mut response = (common, [(header::CONTENT_DISPOSITION, disposition)], body).into_response();
    if send_gzip {
        response.headers_mut().insert(
            header::CONTENT_ENCODING,
            http::HeaderValue::from_static("gzip"),
        );
    }
    response
}

pub async fn csv(State(state): State<SiteState>, headers: HeaderMap) -> Response {
    file(&state, &headers, "candidaturas.csv").await
}

pub async fn json(State(state): State<SiteState>, headers: HeaderMap) -> Response {
    file(&state, &headers, "candidaturas.json").await
}

pub async fn popolo(State(state): State<SiteState>, headers: HeaderMap) -> Response {
    file(&state, &headers, "popolo.json").await
}

pub async fn sums(State(state): State<SiteState>, headers: HeaderMap) -> Response {
    file(&state, &headers, crate::open_data::SUMS).await
}

pub async fn signature(State(state): State<SiteState>, headers: HeaderMap) -> Response {
    file(&state, &headers, crate::open_data::SIGNATURE).await
}

pub async fn public_key(State(state): State<SiteState>, headers: HeaderMap) -> Response {
    file(&state, &headers, crate::open_data::PUBLIC_KEY).await
}

fn api_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "code": code, "message": message, "violations": [] })),
    )
        .into_response()
}

pub async fn api_list(
    State(state): State<SiteState>,
    ApiQuery(filters): ApiQuery<Filters>,
) -> Response {
    let election = match model::election(&state.pool).await {
        Ok(Some(e)) if e.open(chrono::Utc::now()) => e,
        Ok(_) => {
            return api_error(
                StatusCode::NOT_FOUND,
                "not_found",
                "Aún no hay candidaturas publicadas.",
            );
        }
        Err(_) => {
            return api_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "No disponible.",
            );
        }
    };
    match state.listing.list(&state.pool, election.id, &filters).await {
        Ok((items, total)) => Json(json!({
            "total": total,
            "page": filters.pagina.get(),
            "page_size": model::PAGE_SIZE,
            "items": items,
        }))
        .into_response(),
        Err(_) => api_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "No disponible.",
        ),
    }
}

pub async fn api_get(State(state): State<SiteState>, Path(id): Path<String>) -> Response {
    let Ok(id) = Uuid::parse_str(&id) else {
        return api_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "No existe esa candidatura.",
        );
    };
    let election = match model::election(&state.pool).await {
        Ok(Some(e)) if e.open(chrono::Utc::now()) => e,
        _ => {
            return api_error(
                StatusCode::NOT_FOUND,
                "not_found",
                "No existe esa candidatura.",
            );
        }
    };
    match model::get(&state.pool, election.id, id).await {
        Ok(Some(p)) => Json(public_json(&p)).into_response(),
        Ok(None) => api_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "No existe esa candidatura.",
        ),
        Err(_) => api_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "No disponible.",
        ),
    }
}

pub async fn openapi() -> Json<Value> {
    let filters: Vec<Value> = [
        "cargo", "principio", "distrito", "municipio", "postulante", "sexo", "edad", "escolaridad",
        "accion_afirmativa", "q",
    ]
    .iter()
    .map(|n| json!({ "name": n, "in": "query", "required": false, "schema": { "type": "string", "pattern": "^[^\\u0000]*$" } }))
    .chain(std::iter::once(json!({ "name": "pagina", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "maximum": model::Page::MAX } })))
    .collect();
    let error = json!({ "description": "Error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
    Json(json!({
        "openapi": "3.1.0",
        "info": { "title": "Conóceles — API pública de candidaturas", "version": "1.0.0" },
        "paths": {
            "/api/v1/candidacies": { "get": {
                "summary": "Candidaturas publicadas, con los filtros del sitio, en el orden neutral declarado, 50 por página",
                "parameters": filters,
                "responses": {
                    "200": { "description": "Página", "content": { "application/json": { "schema": { "type": "object", "required": ["total", "page", "items"] } } } },
                    "404": error.clone(), "422": error.clone(), "503": error.clone()
                }
            }},
            "/api/v1/candidacies/{id}": { "get": {
                "summary": "Una candidatura publicada",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                "responses": {
                    "200": { "description": "Candidatura", "content": { "application/json": { "schema": { "type": "object" } } } },
                    "404": error.clone(), "503": error
                }
            }},
            "/api/v1/openapi.json": { "get": { "summary": "Este documento", "responses": { "200": { "description": "OpenAPI" } } } }
        },
        "components": { "schemas": { "Error": { "type": "object", "required": ["code", "message"], "properties": {
            "code": { "type": "string" }, "message": { "type": "string" }, "violations": { "type": "array" } } } } }
    }))
}
