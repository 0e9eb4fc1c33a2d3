//! The capture JSON API under `/api/v1/`, described by `/api/v1/openapi.json`.
//!
//! Same rules, scope and Spanish messages as the pages. Callers authenticate with
//! `Authorization: Bearer <token>` (from `POST /api/v1/sessions`) or the session cookie; errors
//! are `{code, message, violations: [{field, reason, message}]}`.

mod openapi;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use chrono::{DateTime, NaiveDate, Utc};
use conoceles_kit::FieldViolation;
use conoceles_kit::access::{Actor, Caller, Role, Rule};
use conoceles_kit::error::{AppError, ErrorCode};
use conoceles_kit::http::input::{ApiPath, ApiQuery, json_body};
use conoceles_kit::http::{ClientAddress, DeclaredRouter};
use http::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::candidacies::{self, Filters};
use crate::domain::curricular::{self, PersonRole, Section, sections::Fields};
use crate::domain::election;
use crate::domain::import;
use crate::http::FrontState;
use crate::http::upload::{Turn, size};

const ADMINS: &[Role] = &[Role::Admin];
const CAPTURERS: &[Role] = &[Role::Party, Role::Candidate];
const READERS: &[Role] = &[Role::Party, Role::Candidate, Role::Admin, Role::Reviewer];

type ApiResult<T> = Result<T, AppError>;

/// Adds the API's routes, each with its access rule.
pub fn declare(router: DeclaredRouter<FrontState>) -> DeclaredRouter<FrontState> {
    router
        .route(
            Method::GET,
            "/api/v1/openapi.json",
            Rule::public(),
            get(openapi::document),
        )
        .route(
            Method::POST,
            "/api/v1/sessions",
            Rule::public(),
            post(create_session),
        )
        .route_before_password_change(
            Method::POST,
            "/api/v1/account/password",
            Rule::people(&Role::ALL),
            post(change_password),
        )
        .route(
            Method::GET,
            "/api/v1/election",
            Rule::people(READERS),
            get(get_election),
        )
        .route(
            Method::PUT,
            "/api/v1/election",
            Rule::people(ADMINS),
            put(put_election),
        )
        .route(
            Method::GET,
            "/api/v1/candidacies",
            Rule::people(READERS),
            get(list_candidacies),
        )
        .route(
            Method::POST,
            "/api/v1/candidacies/import",
            Rule::people(ADMINS),
            post(import_candidacies)
                .layer(axum::extract::DefaultBodyLimit::max(import::MAX_BYTES + 1)),
        )
        .route(
            Method::GET,
            "/api/v1/candidacies/{id}",
            Rule::people(READERS),
            get(get_candidacy),
        )
        .route(
            Method::GET,
            "/api/v1/bulk/template.csv",
            Rule::people(CAPTURERS),
            get(bulk_template),
        )
        .route(
            Method::POST,
            "/api/v1/bulk",
            Rule::people(CAPTURERS),
            post(bulk_upload).layer(axum::extract::DefaultBodyLimit::max(
                curricular::bulk::MAX_BYTES + 1,
            )),
        )
        .route(
            Method::POST,
            "/api/v1/candidacies/{id}/substitution",
            Rule::people(ADMINS),
            post(substitute),
        )
        .route(
            Method::POST,
            "/api/v1/candidacies/{id}/cancellation",
            Rule::people(ADMINS),
            post(cancel),
        )
        .route(
            Method::POST,
            "/api/v1/candidacies/{id}/deadline-extension",
            Rule::people(ADMINS),
            post(extend_deadline),
        )
        .route(
            Method::GET,
            "/api/v1/candidacies/{id}/curricula/{role}",
            Rule::people(READERS),
            get(get_curriculum),
        )
        .route(
            Method::PUT,
            "/api/v1/candidacies/{id}/curricula/{role}/sections/{section}",
            Rule::people(CAPTURERS),
            put(put_section),
        )
        .route(
            Method::PUT,
            "/api/v1/candidacies/{id}/curricula/{role}/photo",
            Rule::people(CAPTURERS),
            put(put_photo).layer(axum::extract::DefaultBodyLimit::max(
                crate::http::pages::party::PHOTO_BODY_LIMIT,
            )),
        )
        .route(
            Method::POST,
            "/api/v1/candidacies/{id}/submissions",
            Rule::people(CAPTURERS),
            post(submit),
        )
        .route(
            Method::GET,
            "/api/v1/candidacies/{id}/submissions/{submission}",
            Rule::people(READERS),
            get(get_submission),
        )
}

fn actor(caller: &Caller) -> ApiResult<Actor> {
    caller.actor.clone().ok_or_else(|| {
        AppError::new(
            ErrorCode::Unauthenticated,
            ErrorCode::Unauthenticated.default_message(),
        )
    })
}

fn invalid(field: &str, message: &str) -> AppError {
    AppError::invalid(vec![FieldViolation::new(field, "invalid", message)])
}

fn role_of(value: &str) -> ApiResult<PersonRole> {
    PersonRole::parse(value)
        .ok_or_else(|| invalid("role", "La persona debe ser «holder» o «alternate»."))
}

#[derive(Deserialize)]
struct Credentials {
    email: String,
    password: String,
}

#[derive(Serialize)]
struct SessionCreated {
    token: String,
    expires_at: Option<DateTime<Utc>>,
    must_change_password: bool,
}

/// `POST /api/v1/sessions`: a session token for `Authorization: Bearer`.
async fn create_session(
    State(state): State<FrontState>,
    ClientAddress(client): ClientAddress,
    body: Bytes,
) -> ApiResult<Response> {
    let credentials: Credentials = json_body(&body)?;
    let login = state
        .auth
        .login(
            &credentials.email,
            &credentials.password,
            &client.to_string(),
        )
        .await?;

    let body = SessionCreated {
        token: login.session_token,
        expires_at: login
            .expires_at
            .and_then(|t| DateTime::from_timestamp(t.seconds, 0)),
        must_change_password: login.account.is_some_and(|a| a.must_change_password),
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

#[derive(Deserialize)]
struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// `POST /api/v1/account/password`: changes one's password (required first with a password
/// given by someone else); every session of the account ends and a new token is returned.
async fn change_password(
    State(state): State<FrontState>,
    axum::Extension(session): axum::Extension<std::sync::Arc<crate::http::session::SessionInfo>>,
    body: Bytes,
) -> ApiResult<Response> {
    let change: PasswordChange = json_body(&body)?;
    let changed = state
        .auth
        .change_password(
            &session.token,
            &change.current_password,
            &change.new_password,
        )
        .await?;
    let body = SessionCreated {
        token: changed.session_token,
        expires_at: changed
            .expires_at
            .and_then(|t| DateTime::from_timestamp(t.seconds, 0)),
        must_change_password: false,
    };
    Ok((StatusCode::OK, Json(body)).into_response())
}

async fn current_settings(state: &FrontState) -> ApiResult<election::Settings> {
    let current = election::current(&state.pool).await?.ok_or_else(|| {
        AppError::new(ErrorCode::NotFound, "Aún no hay una elección configurada.")
    })?;
    Ok(election::settings(&state.pool, current.id).await?)
}

async fn get_election(State(state): State<FrontState>) -> ApiResult<Json<election::Settings>> {
    Ok(Json(current_settings(&state).await?))
}

/// `PUT /api/v1/election`: the whole settings object; `id`, `state_code` and `time_zone` stay.
async fn put_election(
    State(state): State<FrontState>,
    body: Bytes,
) -> ApiResult<Json<election::Settings>> {
    let before = current_settings(&state).await?;
    let mut after: election::Settings = json_body(&body)?;
    after.id = before.id;
    after.state_code = before.state_code.clone();
    after.time_zone = before.time_zone.clone();
    let violations = election::check(&after);
    if !violations.is_empty() {
        return Err(AppError::invalid(violations));
    }
    election::update(&state.pool, &before, &after).await?;
    Ok(Json(after))
}

#[derive(Serialize)]
struct CandidacyItem {
    id: Uuid,
    office: String,
    constituency: String,
    postulant: String,
    list_position: i32,
    holder: String,
    status: conoceles_kit::CandidacyStatus,
}

#[derive(Serialize)]
struct CandidacyList {
    total: usize,
    items: Vec<CandidacyItem>,
}

/// `GET /api/v1/candidacies`: the unit's staff see the election's (with filters); parties and
/// candidates see their own.
async fn list_candidacies(
    State(state): State<FrontState>,
    axum::Extension(caller): axum::Extension<Caller>,
    ApiQuery(filters): ApiQuery<Filters>,
) -> ApiResult<Json<CandidacyList>> {
    let actor = actor(&caller)?;
    let items: Vec<CandidacyItem> = if matches!(actor.role, Role::Party | Role::Candidate) {
        curricular::dashboard(&state.pool, &actor)
            .await?
            .into_iter()
            .map(|r| CandidacyItem {
                id: r.id,
                office: r.office,
                constituency: r.constituency,
                postulant: r.postulant,
                list_position: r.list_position,
                holder: r.holder,
                status: r.status,
            })
            .collect()
    } else {
        let settings = current_settings(&state).await?;
        candidacies::list(&state.pool, settings.id, &filters)
            .await?
            .into_iter()
            .map(|r| CandidacyItem {
                id: r.id,
                office: r.office,
                constituency: r.constituency,
                postulant: r.postulant,
                list_position: r.list_position,
                holder: r.holder,
                status: r.status,
            })
            .collect()
    };
    Ok(Json(CandidacyList {
        total: items.len(),
        items,
    }))
}

#[derive(Serialize)]
struct ImportFailed<'a> {
    code: ErrorCode,
    message: &'a str,
    errors: Vec<import::ImportError>,
}

#[derive(Deserialize, Default)]
struct ImportQuery {
    #[serde(default)]
    preview: bool,
}

/// `POST /api/v1/candidacies/import` with the CSV as the body: all or nothing;
/// `?preview=true` says what it would do, line by line, and changes nothing.
async fn import_candidacies(
    State(state): State<FrontState>,
    axum::Extension(caller): axum::Extension<Caller>,
    query: Result<axum::extract::Query<ImportQuery>, axum::extract::rejection::QueryRejection>,
    body: Bytes,
) -> ApiResult<Response> {
    let Ok(axum::extract::Query(ImportQuery { preview })) = query else {
        return Err(invalid("preview", "preview debe ser true o false."));
    };
    let actor = actor(&caller)?;
    let settings = current_settings(&state).await?;
    let catalog = election::catalog(&state.pool, settings.id).await?;
    match import::parse(&body, &catalog) {
        Err(errors) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(ImportFailed {
                code: ErrorCode::InvalidArgument,
                message: "El archivo tiene errores; no se importó ninguna fila.",
                errors,
            }),
        )
            .into_response()),
        Ok(rows) if preview => {
            let summary = import::preview(&state.pool, settings.id, &catalog, &rows).await?;
            Ok(Json(summary).into_response())
        }
        Ok(rows) => {
            let summary = import::apply(
                &state.pool,
                settings.id,
                &catalog,
                &rows,
                Some(actor.account_id),
            )
            .await?;
            Ok(Json(summary).into_response())
        }
    }
}

#[derive(Serialize)]
struct CandidacyDetail {
    #[serde(flatten)]
    candidacy: curricular::Candidacy,
    progress: Vec<curricular::PersonProgress>,
    editable: bool,
}

async fn get_candidacy(
    State(state): State<FrontState>,
    axum::Extension(caller): axum::Extension<Caller>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<CandidacyDetail>> {
    let actor = actor(&caller)?;
    let candidacy = curricular::load(&state.pool, id, &actor).await?;
    let progress = curricular::progress(&state.pool, &candidacy).await?;
    Ok(Json(CandidacyDetail {
        editable: curricular::may_edit(&actor, &candidacy)
            && conoceles_kit::clock::now() < candidacy.capture_closes_at,
        candidacy,
        progress,
    }))
}

#[derive(Deserialize)]
struct SubstitutionInput {
    role: String,
    full_name: String,
    sex: String,
    birth_date: NaiveDate,
    reason: String,
}

async fn substitute(
    State(state): State<FrontState>,
    axum::Extension(caller): axum::Extension<Caller>,
    ApiPath(id): ApiPath<Uuid>,
    body: Bytes,
) -> ApiResult<Response> {
    let actor = actor(&caller)?;
    let input: SubstitutionInput = json_body(&body)?;
    let full_name = input
        .full_name
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if full_name.is_empty() {
        return Err(invalid("full_name", "Escriba el nombre completo."));
    }
    if !matches!(input.sex.as_str(), "mujer" | "hombre" | "no_binario") {
        return Err(invalid(
            "sex",
            "El sexo debe ser mujer, hombre o no_binario.",
        ));
    }
    let person = import::PersonRow {
        full_name,
        sex: input.sex,
        birth_date: input.birth_date,
    };
    let new_person = candidacies::substitute(
        &state.pool,
        id,
        &input.role,
        &person,
        input.reason.trim(),
        Some(actor.account_id),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "person_id": new_person })),
    )
        .into_response())
}

#[derive(Deserialize)]
struct CancellationInput {
    reason: String,
}

async fn cancel(
    State(state): State<FrontState>,
    axum::Extension(caller): axum::Extension<Caller>,
    ApiPath(id): ApiPath<Uuid>,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let actor = actor(&caller)?;
    let input: CancellationInput = json_body(&body)?;
    candidacies::cancel(&state.pool, id, input.reason.trim(), Some(actor.account_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct ExtensionInput {
    until: chrono::DateTime<Utc>,
    reason: String,
}

async fn extend_deadline(
    State(state): State<FrontState>,
    axum::Extension(caller): axum::Extension<Caller>,
    ApiPath(id): ApiPath<Uuid>,
    body: Bytes,
) -> ApiResult<Json<serde_json::Value>> {
    let actor = actor(&caller)?;
    let input: ExtensionInput = json_body(&body)?;
    let before = crate::domain::deadlines::extend(
        &state.pool,
        id,
        input.until,
        &input.reason,
        Some(actor.account_id),
        conoceles_kit::clock::now(),
    )
    .await?;
    Ok(Json(
        serde_json::json!({ "previous_deadline": before, "capture_deadline": input.until }),
    ))
}

#[derive(Serialize)]
struct Curriculum {
    role: PersonRole,
    person_id: Uuid,
    full_name: String,
    sections: std::collections::BTreeMap<Section, curricular::SavedSection>,
    progress: Option<curricular::PersonProgress>,
}

async fn get_curriculum(
    State(state): State<FrontState>,
    axum::Extension(caller): axum::Extension<Caller>,
    ApiPath((id, role)): ApiPath<(Uuid, String)>,
) -> ApiResult<Json<Curriculum>> {
    let role = role_of(&role)?;
    let candidacy = curricular::load(&state.pool, id, &actor(&caller)?).await?;
    let person = candidacy.person(role)?;
    let sections = curricular::sections_of(&state.pool, person.id).await?;
    let progress = curricular::progress(&state.pool, &candidacy)
        .await?
        .into_iter()
        .find(|p| p.role == role);
    Ok(Json(Curriculum {
        role,
        person_id: person.id,
        full_name: person.full_name.clone(),
        sections,
        progress,
    }))
}

#[derive(Deserialize)]
struct SectionInput {
    fields: Fields,
}

#[derive(Serialize)]
struct SectionSaved {
    section: Section,
    complete: bool,
    fields: Fields,
    violations: Vec<FieldViolation>,
}

/// `PUT …/sections/{section}`: saved as a draft even with problems (listed in `violations`);
/// `complete` says whether the section passes every rule.
async fn put_section(
    State(state): State<FrontState>,
    axum::Extension(caller): axum::Extension<Caller>,
    ApiPath((id, role, section)): ApiPath<(Uuid, String, String)>,
    body: Bytes,
) -> ApiResult<Json<SectionSaved>> {
    let role = role_of(&role)?;
    let section = Section::from_slug(&section)
        .ok_or_else(|| invalid("section", "No existe esa sección del cuestionario."))?;
    let input: SectionInput = json_body(&body)?;
    let actor = actor(&caller)?;
    let candidacy = curricular::load(&state.pool, id, &actor).await?;
    let (fields, violations) = curricular::save_section(
        &state.pool,
        &actor,
        &candidacy,
        role,
        section,
        &input.fields,
        conoceles_kit::clock::now(),
    )
    .await?;
    Ok(Json(SectionSaved {
        section,
        complete: violations.is_empty(),
        fields,
        violations,
    }))
}

#[derive(Deserialize)]
struct PhotoQuery {
    taken_on: Option<String>,
}

/// `PUT …/photo?taken_on=YYYY-MM-DD` with the image as the body.
async fn put_photo(
    State(state): State<FrontState>,
    axum::Extension(caller): axum::Extension<Caller>,
    ApiPath((id, role)): ApiPath<(Uuid, String)>,
    ApiQuery(query): ApiQuery<PhotoQuery>,
    body: axum::body::Body,
) -> ApiResult<StatusCode> {
    let role = role_of(&role)?;
    let actor = actor(&caller)?;
    let candidacy = curricular::load(&state.pool, id, &actor).await?;
    // One upload at a time per account; the election's limit enforced while reading.
    let (_turn, body) = upload(&actor, body, candidacy.photo_max_bytes, "photo").await?;
    let taken_on = match query.taken_on.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(value) => Some(
            NaiveDate::parse_from_str(value, "%Y-%m-%d")
                .map_err(|_| invalid("taken_on", "La fecha debe tener el formato AAAA-MM-DD."))?,
        ),
    };
    curricular::save_photo(
        &state.pool,
        &actor,
        &candidacy,
        role,
        body,
        taken_on,
        conoceles_kit::clock::now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An account's upload through the API: its turn (one at a time), then the body read up to
/// `limit` bytes, refused as soon as it passes them.
async fn upload(
    actor: &Actor,
    body: axum::body::Body,
    limit: usize,
    field: &str,
) -> Result<(Turn, Vec<u8>), AppError> {
    let turn = Turn::take(actor.account_id).ok_or_else(|| {
        AppError::new(
            ErrorCode::RateLimited,
            "Ya hay un archivo de su cuenta cargándose; espere a que termine.",
        )
    })?;
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        invalid(
            field,
            &format!(
                "El archivo pesa más de {}, el máximo permitido.",
                size(limit)
            ),
        )
    })?;
    Ok((turn, bytes.to_vec()))
}

async fn submit(
    State(state): State<FrontState>,
    axum::Extension(caller): axum::Extension<Caller>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    let actor = actor(&caller)?;
    let candidacy = curricular::load(&state.pool, id, &actor).await?;
    let receipt =
        curricular::submit(&state.pool, &actor, &candidacy, conoceles_kit::clock::now()).await?;
    Ok((StatusCode::CREATED, Json(receipt)).into_response())
}

async fn get_submission(
    State(state): State<FrontState>,
    axum::Extension(caller): axum::Extension<Caller>,
    ApiPath((id, submission)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<Json<curricular::Receipt>> {
    let candidacy = curricular::load(&state.pool, id, &actor(&caller)?).await?;
    Ok(Json(
        curricular::receipt(&state.pool, &candidacy, submission).await?,
    ))
}

async fn bulk_template(
    State(state): State<FrontState>,
    axum::Extension(caller): axum::Extension<Caller>,
) -> ApiResult<Response> {
    let csv = curricular::bulk::template(&state.pool, &actor(&caller)?, None).await?;
    Ok((
        [(http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        csv,
    )
        .into_response())
}

/// `POST /api/v1/bulk` with the filled template as the body: 200 when every row was saved,
/// 422 with every problem (rows without problems are saved all the same).
async fn bulk_upload(
    State(state): State<FrontState>,
    axum::Extension(caller): axum::Extension<Caller>,
    body: axum::body::Body,
) -> ApiResult<Response> {
    let actor = actor(&caller)?;
    let (_turn, body) = upload(&actor, body, curricular::bulk::MAX_BYTES, "file").await?;
    let outcome =
        curricular::bulk::apply(&state.pool, &actor, &body, conoceles_kit::clock::now()).await?;
    let status = if outcome.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Json(outcome)).into_response())
}
