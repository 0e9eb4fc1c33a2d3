//! Open data (`/datos`) and the JSON API (`/api/v1/`): the same published candidacies, one row
//! per person, with stable ids; never a private field.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use serde_json::{Value, json};
use uuid::Uuid;

use super::SiteState;
use super::pages::{open_election, render};
use super::views::DataPage;
use crate::model::{self, Filters, Published};

/// The CSV's columns and what each holds (the data dictionary).
pub const COLUMNS: [(&str, &str); 24] = [
    ("ID_CANDIDATURA", "Identificador estable de la candidatura"),
    ("ID_PERSONA", "Identificador estable de la persona"),
    (
        "PARTIDO_COALICION",
        "Partido, coalición, candidatura común o independiente",
    ),
    ("CARGO", "Cargo"),
    (
        "PRINCIPIO",
        "mr (mayoría relativa) o rp (representación proporcional)",
    ),
    ("DISTRITO_LOCAL", "Distrito o lista"),
    ("NUM_LISTA_O_FORMULA", "Lugar en la lista (RP)"),
    ("NOMBRE_CANDIDATO", "Nombre completo"),
    ("TIPO_CANDIDATO", "PROPIETARIO o SUPLENTE"),
    ("EDAD", "Edad el día de la jornada electoral"),
    ("SEXO", "mujer, hombre o no_binario"),
    ("ACCION_AFIRMATIVA", "Tipo de acción afirmativa, si la hay"),
    ("DIRECCION_CASA_CAMPANA", "Domicilio de casa de campaña"),
    ("TELEFONO", "Teléfono público"),
    ("CORREO_ELECTRONICO", "Correo electrónico público"),
    ("PAGINA_WEB", "Página web"),
    ("REDES", "Redes sociales (separadas por espacio)"),
    ("ESCOLARIDAD", "Grado máximo de estudios"),
    ("ESTATUS_ESCOLARIDAD", "Situación del grado máximo"),
    ("CURSOS", "Otra formación"),
    ("HISTORIA_PROFESIONAL", "Trayectoria profesional"),
    (
        "TRAYECTORIA_POLITICA",
        "Trayectoria política y participación ciudadana",
    ),
    (
        "MOTIVO_CARGO_PUBLICO",
        "Por qué quiere ocupar un cargo público",
    ),
    (
        "PROPUESTAS",
        "Propuesta 1, propuesta 2 y propuesta en materia de género",
    ),
];

fn field(person: &Value, section: &str, name: &str) -> String {
    person["sections"][section]["fields"][name]["shown"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn rows(p: &Published) -> Vec<Vec<String>> {
    let l = &p.listed;
    p.profile["persons"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|person| {
            let networks = [
                "website",
                "facebook",
                "x",
                "youtube",
                "instagram",
                "tiktok",
                "other_network",
            ]
            .iter()
            .skip(1)
            .map(|n| field(person, "general", n))
            .filter(|v| !v.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
            let proposals = [
                field(person, "proposals", "proposal_1"),
                field(person, "proposals", "proposal_2"),
                field(person, "gender", "proposal"),
            ]
            .into_iter()
            .filter(|v| !v.is_empty())
            .collect::<Vec<_>>()
            .join(" | ");
            vec![
                l.id.to_string(),
                person["person_id"].as_str().unwrap_or_default().to_string(),
                l.postulant.clone(),
                l.office.clone(),
                l.principle.clone(),
                l.constituency.clone(),
                if l.list_position > 0 {
                    l.list_position.to_string()
                } else {
                    String::new()
                },
                person["full_name"].as_str().unwrap_or_default().to_string(),
                if person["role"] == "alternate" {
                    "SUPLENTE"
                } else {
                    "PROPIETARIO"
                }
                .to_string(),
                person["age"].as_i64().unwrap_or(0).to_string(),
                person["sex"].as_str().unwrap_or_default().to_string(),
                l.affirmative_action.clone(),
                field(person, "general", "campaign_address_1"),
                field(person, "general", "phone_1"),
                field(person, "general", "public_email_1"),
                field(person, "general", "website"),
                networks,
                field(person, "education", "level"),
                field(person, "education", "status"),
                field(person, "education", "other_training"),
                field(person, "professional", "history"),
                field(person, "political", "trajectory"),
                field(person, "motivation", "reason"),
                proposals,
            ]
        })
        .collect()
}

fn csv_cell(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@']) {
        format!("'{v}")
    } else {
        v.to_string()
    };
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}

pub async fn page(State(state): State<SiteState>) -> Response {
    let election = match open_election(&state).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let total = model::all(&state.pool, election.id)
        .await
        .map(|a| a.len())
        .unwrap_or(0);
    render(
        StatusCode::OK,
        &DataPage {
            election: election.name,
            total,
            columns: COLUMNS.to_vec(),
        },
    )
}

pub async fn csv(State(state): State<SiteState>) -> Response {
    let election = match open_election(&state).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    let Ok(all) = model::all(&state.pool, election.id).await else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let mut out = COLUMNS
        .iter()
        .map(|(c, _)| *c)
        .collect::<Vec<_>>()
        .join(",");
    out.push_str("\r\n");
    for p in &all {
        for row in rows(p) {
            out.push_str(
                &row.iter()
                    .map(|c| csv_cell(c))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push_str("\r\n");
        }
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"candidaturas.csv\"",
            ),
        ],
        out,
    )
        .into_response()
}

fn public_json(p: &Published) -> Value {
    json!({
        "id": p.listed.id,
        "office": p.listed.office,
        "office_code": p.listed.office_code,
        "principle": p.listed.principle,
        "constituency": p.listed.constituency,
        "constituency_code": p.listed.constituency_code,
        "postulant": p.listed.postulant,
        "postulant_code": p.listed.postulant_code,
        "list_position": p.listed.list_position,
        "affirmative_action": p.listed.affirmative_action,
        "corrected_at": p.listed.corrected_at,
        "persons": p.profile["persons"],
        "identity": p.identity,
        "content_sha256": p.profile["content_sha256"],
    })
}

pub async fn json(State(state): State<SiteState>) -> Response {
    let election = match open_election(&state).await {
        Ok(e) => e,
        Err(r) => return r,
    };
    match model::all(&state.pool, election.id).await {
        Ok(all) => Json(json!({
            "election": election.name,
            "candidacies": all.iter().map(public_json).collect::<Vec<_>>(),
        }))
        .into_response(),
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

fn api_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "code": code, "message": message, "violations": [] })),
    )
        .into_response()
}

pub async fn api_list(State(state): State<SiteState>, Query(filters): Query<Filters>) -> Response {
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
    match model::list(&state.pool, election.id, &filters).await {
        Ok((items, total)) => Json(json!({
            "total": total,
            "page": filters.pagina.max(1),
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
    .map(|n| json!({ "name": n, "in": "query", "required": false, "schema": { "type": "string" } }))
    .chain(std::iter::once(json!({ "name": "pagina", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1 } })))
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
                    "404": error.clone(), "503": error.clone()
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
