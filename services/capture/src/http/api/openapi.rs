//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of every JSON route of the service.

use axum::Json;
use serde_json::{Value, json};

fn error_response(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

fn path_param(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": description, "schema": schema })
}

/// Text a person writes: something besides spaces, and no NUL character (which nothing stores).
fn text() -> Value {
    json!({ "type": "string", "pattern": "^[^\\u0000]*\\S[^\\u0000]*$" })
}

/// Any text without a NUL character.
fn no_nul() -> Value {
    json!({ "type": "string", "pattern": "^[^\\u0000]*$" })
}

fn uuid() -> Value {
    json!({ "type": "string", "format": "uuid" })
}

fn json_body(schema: Value) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": schema } } })
}

fn ok(description: &str, schema: Value) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema } } })
}

fn schema(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The common error answers of an authenticated route.
fn errors(extra: &[(&str, &str)]) -> serde_json::Map<String, Value> {
    let mut map = serde_json::Map::new();
    map.insert("401".into(), error_response("No hay sesión o caducó."));
    map.insert(
        "422".into(),
        error_response("Datos inválidos: cada problema en `violations`."),
    );
    map.insert(
        "403".into(),
        error_response("El rol no admite esta operación."),
    );
    for (code, description) in extra {
        map.insert((*code).into(), error_response(description));
    }
    map
}

fn responses(success: (&str, Value), extra: &[(&str, &str)]) -> Value {
    let mut map = errors(extra);
    map.insert(success.0.into(), success.1);
    Value::Object(map)
}

pub fn spec() -> Value {
    let id = path_param("id", "Id de la candidatura", uuid());
    let role = path_param(
        "role",
        "Persona: propietaria (holder) o suplente (alternate)",
        json!({ "type": "string", "enum": ["holder", "alternate"] }),
    );
    let sections: Vec<&str> = crate::domain::curricular::Section::ALL
        .iter()
        .map(|s| s.slug())
        .collect();
    let section = path_param(
        "section",
        "Sección del cuestionario",
        json!({ "type": "string", "enum": sections }),
    );
    let filters: Vec<Value> = ["office", "constituency", "postulant", "status"]
        .iter()
        .map(|n| json!({ "name": n, "in": "query", "required": false, "schema": no_nul() }))
        .collect();
    let secured = json!([{ "bearer": [] }, { "cookie": [] }]);
    let chars = json!({ "type": "integer", "minimum": 0, "maximum": 20_000 });
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Conóceles — API de captura",
            "version": "1.0.0",
            "description": "Elecciones, candidaturas y cuestionario curricular. Mensajes de error en español; cada problema de un campo en `violations` (field, reason, message)."
        },
        "servers": [{ "url": "/" }],
        "security": secured,
        "paths": {
            "/api/v1/openapi.json": { "get": {
                "summary": "Este documento", "security": [],
                "responses": { "200": ok("Documento OpenAPI", json!({ "type": "object" })) }
            }},
            "/api/v1/sessions": { "post": {
                "summary": "Inicia una sesión y devuelve el token para `Authorization: Bearer`", "security": [],
                "requestBody": json_body(json!({ "type": "object", "required": ["email", "password"], "properties": {
                    "email": { "type": "string" }, "password": { "type": "string" } } })),
                "responses": {
                    "201": ok("Sesión creada", json!({ "type": "object", "required": ["token"], "properties": {
                        "token": { "type": "string" },
                        "expires_at": { "type": ["string", "null"], "format": "date-time" },
                        "must_change_password": { "type": "boolean" } } })),
                    "401": error_response("Correo o contraseña incorrectos."),
                    "422": error_response("Datos incompletos."),
                    "429": error_response("Demasiados intentos."),
                    "503": error_response("Servicio no disponible.")
                }
            }},
            "/api/v1/account/password": { "post": {
                "summary": "Cambia la contraseña propia (obligatorio antes de cualquier otra operación si se la entregó alguien más); cierra todas las sesiones y devuelve un token nuevo",
                "requestBody": json_body(json!({ "type": "object", "required": ["current_password", "new_password"], "properties": {
                    "current_password": { "type": "string" }, "new_password": { "type": "string" } } })),
                "responses": {
                    "200": ok("Contraseña cambiada", json!({ "type": "object", "required": ["token"], "properties": {
                        "token": { "type": "string" },
                        "expires_at": { "type": ["string", "null"], "format": "date-time" },
                        "must_change_password": { "type": "boolean" } } })),
                    "401": error_response("Sesión no válida o contraseña actual incorrecta."),
                    "422": error_response("La nueva contraseña no cumple la regla."),
                    "503": error_response("Servicio no disponible.")
                }
            }},
            "/api/v1/election": {
                "get": { "summary": "Configuración de la elección en curso",
                    "responses": responses(("200", ok("Configuración", schema("Election"))), &[("404", "Aún no hay elección.")]) },
                "put": { "summary": "Cambia la configuración (solo administración); un cambio de fechas emite election.updated",
                    "requestBody": json_body(schema("Election")),
                    "responses": responses(("200", ok("Configuración guardada", schema("Election"))), &[("404", "Aún no hay elección."), ("422", "Configuración inválida.")]) }
            },
            "/api/v1/candidacies": { "get": {
                "summary": "Candidaturas: todas para el personal del organismo (con filtros), las propias para partidos y personas candidatas",
                "parameters": filters,
                "responses": responses(("200", ok("Lista", json!({ "type": "object", "required": ["total", "items"], "properties": {
                    "total": { "type": "integer" }, "items": { "type": "array", "items": schema("CandidacyItem") } } }))), &[("404", "Aún no hay elección.")])
            }},
            "/api/v1/candidacies/import": { "post": {
                "summary": "Importa el CSV de candidaturas aprobadas (todo o nada; ver docs/import.md); con preview=true solo dice qué haría",
                "parameters": [{ "name": "preview", "in": "query", "required": false, "description": "true: vista previa, no cambia nada", "schema": { "type": "boolean" } }],
                "requestBody": { "required": true, "content": { "text/csv": { "schema": { "type": "string" } } } },
                "responses": responses(("200", ok("Resumen", json!({ "type": "object", "properties": {
                    "created": { "type": "integer" }, "updated": { "type": "integer" }, "substituted": { "type": "integer" },
                    "cancelled": { "type": "integer" }, "unchanged": { "type": "integer" },
                    "changes": { "type": "array", "items": { "type": "object", "properties": {
                        "line": { "type": "integer" }, "external_id": { "type": "string" }, "action": { "type": "string" }, "detail": { "type": "string" } } } } } }))),
                    &[("404", "Aún no hay elección."), ("413", "Archivo demasiado grande."), ("422", "El archivo tiene errores, o preview no es true o false.")])
            }},
            "/api/v1/bulk/template.csv": { "get": {
                "summary": "Plantilla CSV de carga masiva: una fila por persona de las candidaturas de la cuenta",
                "responses": responses(("200", json!({ "description": "CSV", "content": { "text/csv": { "schema": { "type": "string" } } } })), &[])
            }},
            "/api/v1/bulk": { "post": {
                "summary": "Carga masiva: guarda como borrador las filas sin problemas y lista todos los problemas",
                "requestBody": { "required": true, "content": { "text/csv": { "schema": { "type": "string" } } } },
                "responses": {
                    "200": ok("Todas las filas guardadas", schema("BulkOutcome")),
                    "401": error_response("No hay sesión o caducó."),
                    "403": error_response("El rol no admite esta operación."),
                    "413": error_response("Archivo demasiado grande."),
                    "422": ok("Filas con problemas (las demás se guardaron)", schema("BulkOutcome")),
                    "429": error_response("Ya hay un archivo de su cuenta cargándose; espere a que termine.")
                }
            }},
            "/api/v1/candidacies/{id}": { "get": {
                "summary": "Una candidatura con el avance de su captura",
                "parameters": [id],
                "responses": responses(("200", ok("Candidatura", json!({ "type": "object" }))), &[("404", "No existe o no está a su alcance.")])
            }},
            "/api/v1/candidacies/{id}/substitution": { "post": {
                "summary": "Sustituye a una persona (solo administración); emite candidacy.substituted",
                "parameters": [id],
                "requestBody": json_body(json!({ "type": "object", "required": ["role", "full_name", "sex", "birth_date", "reason"], "properties": {
                    "role": { "type": "string", "enum": ["holder", "alternate"] }, "full_name": text(),
                    "sex": { "type": "string", "enum": ["mujer", "hombre", "no_binario"] },
                    "birth_date": { "type": "string", "format": "date" }, "reason": text() } })),
                "responses": responses(("201", ok("Persona nueva", json!({ "type": "object", "properties": { "person_id": uuid() } }))),
                    &[("404", "No existe esa candidatura."), ("409", "La candidatura no admite el cambio."), ("422", "Datos inválidos.")])
            }},
            "/api/v1/candidacies/{id}/cancellation": { "post": {
                "summary": "Cancela la candidatura (solo administración); emite candidacy.cancelled",
                "parameters": [id],
                "requestBody": json_body(json!({ "type": "object", "required": ["reason"], "properties": { "reason": text() } })),
                "responses": responses(("204", json!({ "description": "Cancelada" })),
                    &[("404", "No existe esa candidatura."), ("409", "Ya estaba cancelada o sustituida."), ("422", "Falta el motivo.")])
            }},
            "/api/v1/candidacies/{id}/deadline-extension": { "post": {
                "summary": "Prorroga el plazo de captura de una candidatura (solo administración), con motivo; queda en su historial",
                "parameters": [id],
                "requestBody": json_body(json!({ "type": "object", "required": ["until", "reason"], "properties": {
                    "until": { "type": "string", "format": "date-time" }, "reason": text() } })),
                "responses": responses(("200", ok("Prorrogado", json!({ "type": "object", "required": ["previous_deadline", "capture_deadline"], "properties": {
                    "previous_deadline": { "type": "string", "format": "date-time" }, "capture_deadline": { "type": "string", "format": "date-time" } } }))),
                    &[("404", "No existe esa candidatura."), ("409", "La candidatura está cancelada."), ("422", "Falta el motivo, o el plazo no es posterior al vigente o pasa del límite de la elección.")])
            }},
            "/api/v1/candidacies/{id}/curricula/{role}": { "get": {
                "summary": "El cuestionario curricular de una persona: secciones guardadas y fotografía",
                "parameters": [id, role],
                "responses": responses(("200", ok("Cuestionario", json!({ "type": "object" }))), &[("404", "No existe o no está a su alcance."), ("422", "Persona inválida.")])
            }},
            "/api/v1/candidacies/{id}/curricula/{role}/sections/{section}": { "put": {
                "summary": "Guarda una sección como borrador (también con problemas, listados en violations)",
                "parameters": [id, role, section],
                "requestBody": json_body(json!({ "type": "object", "required": ["fields"], "properties": {
                    "fields": { "type": "object", "propertyNames": no_nul(), "additionalProperties": no_nul() } } })),
                "responses": responses(("200", ok("Guardada", json!({ "type": "object", "required": ["section", "complete", "fields", "violations"], "properties": {
                    "section": { "type": "string" }, "complete": { "type": "boolean" },
                    "fields": { "type": "object", "additionalProperties": { "type": "string" } },
                    "violations": { "type": "array", "items": schema("FieldViolation") } } }))),
                    &[("404", "No existe o no está a su alcance."), ("409", "La sección no se puede modificar ahora."), ("422", "Datos inválidos.")])
            }},
            "/api/v1/candidacies/{id}/curricula/{role}/photo": { "put": {
                "summary": "Carga la fotografía (JPEG o PNG por contenido, dentro del límite de la elección)",
                "parameters": [id, role, { "name": "taken_on", "in": "query", "required": true, "description": "Fecha en que se tomó (AAAA-MM-DD), de hasta tres meses", "schema": { "type": "string", "format": "date" } }],
                "requestBody": { "required": true, "content": { "image/jpeg": { "schema": { "type": "string", "contentMediaType": "image/jpeg" } }, "image/png": { "schema": { "type": "string", "contentMediaType": "image/png" } } } },
                "responses": responses(("204", json!({ "description": "Guardada" })),
                    &[("404", "No existe o no está a su alcance."), ("409", "La fotografía no se puede modificar ahora."), ("413", "Archivo demasiado grande."), ("422", "Fotografía o fecha inválida."), ("429", "Ya hay un archivo de su cuenta cargándose; espere a que termine.")])
            }},
            "/api/v1/candidacies/{id}/submissions": { "post": {
                "summary": "Envío definitivo dentro del periodo de captura; devuelve el acuse y emite curricular.submitted",
                "parameters": [id],
                "responses": responses(("201", ok("Acuse", schema("Receipt"))),
                    &[("404", "No existe o no está a su alcance."), ("409", "Fuera del periodo de captura o ya enviado."), ("422", "Faltan secciones o la fotografía.")])
            }},
            "/api/v1/candidacies/{id}/submissions/{submission}": { "get": {
                "summary": "Un acuse con el contenido exacto cuyo SHA-256 muestra",
                "parameters": [id, path_param("submission", "Folio del envío", uuid())],
                "responses": responses(("200", ok("Acuse", schema("Receipt"))), &[("404", "No existe.")])
            }}
        },
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "Token de POST /api/v1/sessions" },
                "cookie": { "type": "apiKey", "in": "cookie", "name": "__Host-conoceles_sesion" }
            },
            "schemas": {
                "FieldViolation": { "type": "object", "required": ["field", "reason", "message"], "properties": {
                    "field": { "type": "string" }, "reason": { "type": "string" }, "message": { "type": "string" } } },
                "Error": { "type": "object", "required": ["code", "message"], "properties": {
                    "code": { "type": "string" }, "message": { "type": "string" },
                    "violations": { "type": "array", "items": schema("FieldViolation") },
                    "errors": { "type": "array", "items": { "type": "object" } } } },
                "Election": { "type": "object", "required": ["name", "capture_opens_at", "capture_closes_at", "publication_starts_at", "election_day", "photo_max_bytes", "text_min_chars", "text_max_chars", "proposal_min_chars", "proposal_max_chars", "retention_days", "alternate_questionnaire"],
                    "properties": {
                        "id": uuid(), "name": text(), "state_code": { "type": "string" }, "time_zone": { "type": "string" },
                        "capture_opens_at": { "type": "string", "format": "date-time" }, "capture_closes_at": { "type": "string", "format": "date-time" },
                        "publication_starts_at": { "type": "string", "format": "date-time" }, "election_day": { "type": "string", "format": "date" },
                        "photo_max_bytes": { "type": "integer", "minimum": 50 * 1024, "maximum": 5000 * 1024 },
                        "text_min_chars": chars, "text_max_chars": chars, "proposal_min_chars": chars, "proposal_max_chars": chars,
                        "retention_days": { "type": "integer", "minimum": 0, "maximum": 3650 }, "alternate_questionnaire": { "type": "boolean" } } },
                "CandidacyItem": { "type": "object", "properties": {
                    "id": uuid(), "office": { "type": "string" }, "constituency": { "type": "string" }, "postulant": { "type": "string" },
                    "list_position": { "type": "integer" }, "holder": { "type": "string" }, "status": { "type": "string" } } },
                "BulkOutcome": { "type": "object", "required": ["saved_rows", "saved_sections", "errors"], "properties": {
                    "saved_rows": { "type": "integer" }, "saved_sections": { "type": "integer" },
                    "errors": { "type": "array", "items": { "type": "object", "required": ["line", "column", "message"], "properties": {
                        "line": { "type": "integer" }, "column": { "type": "string" }, "message": { "type": "string" } } } } } },
                "Receipt": { "type": "object", "required": ["submission_id", "candidacy_id", "round", "submitted_at", "content_sha256", "content"], "properties": {
                    "submission_id": uuid(), "candidacy_id": uuid(), "round": { "type": "integer" },
                    "submitted_at": { "type": "string", "format": "date-time" },
                    "content_sha256": { "type": "string", "pattern": "^[0-9a-f]{64}$" },
                    "content": { "type": "string", "description": "El contenido enviado como JSON canónico (claves ordenadas, sin espacios): el texto cuyo SHA-256 es content_sha256" } } }
            }
        }
    })
}

pub async fn document() -> Json<Value> {
    Json(spec())
}
