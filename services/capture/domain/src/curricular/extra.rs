//! The election's own curricular fields (`conoceles_curricular::definition`): the versioned
//! definition per election, the values each person's party types (links, commitments) and the
//! PDFs it uploads, saved like any section — as a draft, checked field by field — in the section
//! «Información adicional», and required before sending where the definition says so.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use conoceles_curricular::definition::{self, Definition, EXTRA_SECTION, ExtraKind};
use conoceles_kit::FieldViolation;
use conoceles_kit::access::Actor;
use conoceles_kit::error::{AppError, ErrorCode};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use super::{Candidacy, PersonRole, check_part_editable, store::recheck_part_locked};

/// The largest document accepted.
pub const DOCUMENT_MAX_BYTES: usize = 5 * 1024 * 1024;

/// The election's definition in force and its version (1: the Lineamientos alone, when the body
/// has added none).
pub async fn definition(
    conn: &mut PgConnection,
    election: Uuid,
) -> Result<(i32, Definition), AppError> {
    let row: Option<(i32, serde_json::Value)> = sqlx::query_as(
        "SELECT version, body FROM curricular_definitions WHERE election_id = $1 ORDER BY version DESC LIMIT 1",
    )
    .bind(election)
    .fetch_optional(conn)
    .await?;
    match row {
        None => Ok((1, Definition::lineamientos())),
        Some((version, body)) => Ok((
            version,
            serde_json::from_value(body).map_err(anyhow::Error::from)?,
        )),
    }
}

/// Adds a version of the election's definition after checking it; every problem at once. The
/// definition in use sent again adds nothing: (version in use, whether it was added).
pub async fn add_definition(
    pool: &PgPool,
    election: Uuid,
    json: &str,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(i32, bool), AppError> {
    let parsed = Definition::parse(json).map_err(|problems| {
        AppError::invalid(
            problems
                .into_iter()
                .map(|p| FieldViolation::new("definicion", "invalid", p))
                .collect(),
        )
    })?;
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT id FROM elections WHERE id = $1 FOR UPDATE")
        .bind(election)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::NotFound, "No existe esa elección."))?;
    let (current, in_use) = definition(&mut tx, election).await?;
    if in_use == parsed {
        return Ok((current, false));
    }
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM curricular_definitions WHERE election_id = $1")
            .bind(election)
            .fetch_one(&mut *tx)
            .await?;
    // The Lineamientos alone are version 1 even when not stored: a body's first is version 2.
    let version = if stored == 0 { 2 } else { current + 1 };
    sqlx::query(
        "INSERT INTO curricular_definitions (election_id, version, body, created_at, created_by) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(election)
    .bind(version)
    .bind(serde_json::to_value(&parsed).map_err(anyhow::Error::from)?)
    .bind(now)
    .bind(by)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(%election, version, extra = parsed.extra.len(), "curricular definition added");
    Ok((version, true))
}

/// What a person has in the section «Información adicional»: values by field, and each uploaded
/// document's SHA-256 and size.
#[derive(Debug, Clone, Default)]
pub struct Saved {
    pub values: BTreeMap<String, String>,
    pub documents: BTreeMap<String, (String, usize)>,
}

pub async fn saved(pool: &PgPool, person: Uuid) -> sqlx::Result<Saved> {
    let values: Option<serde_json::Value> = sqlx::query_scalar(
        "SELECT fields FROM curricular_sections WHERE person_id = $1 AND section = $2",
    )
    .bind(person)
    .bind(EXTRA_SECTION)
    .fetch_optional(pool)
    .await?;
    let documents = sqlx::query(
        "SELECT field, content_sha256, length(content) AS size FROM curricular_documents WHERE person_id = $1",
    )
    .bind(person)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| {
        (
            r.get::<String, _>("field"),
            (
                r.get::<String, _>("content_sha256"),
                r.get::<i32, _>("size").max(0) as usize,
            ),
        )
    })
    .collect();
    Ok(Saved {
        values: values
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default(),
        documents,
    })
}

/// Saves the typed own fields (links, commitments) as a draft; answers the problems by field.
pub async fn save(
    pool: &PgPool,
    actor: &Actor,
    candidacy: &Candidacy,
    role: PersonRole,
    input: &BTreeMap<String, String>,
    now: DateTime<Utc>,
) -> Result<Vec<(String, String)>, AppError> {
    check_part_editable(actor, candidacy, EXTRA_SECTION, now)?;
    let person = candidacy.person(role)?;
    let mut tx = pool.begin().await?;
    recheck_part_locked(&mut tx, actor, candidacy, EXTRA_SECTION, now).await?;
    let (_, definition) = definition(&mut tx, candidacy.election_id).await?;
    let (stored, problems) = definition::validate_extra(&definition, input);
    sqlx::query(
        "INSERT INTO curricular_sections (person_id, section, fields, complete, saved_at, saved_by) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (person_id, section) DO UPDATE \
         SET fields = EXCLUDED.fields, complete = EXCLUDED.complete, saved_at = EXCLUDED.saved_at, saved_by = EXCLUDED.saved_by",
    )
    .bind(person.id)
    .bind(EXTRA_SECTION)
    .bind(serde_json::to_value(&stored).map_err(anyhow::Error::from)?)
    .bind(problems.is_empty())
    .bind(now)
    .bind(actor.account_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE candidacies SET status = 'draft', updated_at = $2 WHERE id = $1 AND status = 'not_started'",
    )
    .bind(candidacy.id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(problems)
}

/// Checks and stores a PDF for an own field of kind document.
pub async fn save_document(
    pool: &PgPool,
    actor: &Actor,
    candidacy: &Candidacy,
    role: PersonRole,
    field: &str,
    bytes: &[u8],
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    check_part_editable(actor, candidacy, EXTRA_SECTION, now)?;
    let person = candidacy.person(role)?;
    let invalid =
        |message: &str| AppError::invalid(vec![FieldViolation::new(field, "invalid", message)]);
    if bytes.is_empty() {
        return Err(invalid("Elija un archivo PDF."));
    }
    if bytes.len() > DOCUMENT_MAX_BYTES {
        return Err(invalid("El documento pesa más de 5 MB."));
    }
    if !bytes.starts_with(b"%PDF-") {
        return Err(invalid("El documento debe ser un PDF."));
    }
    let mut tx = pool.begin().await?;
    recheck_part_locked(&mut tx, actor, candidacy, EXTRA_SECTION, now).await?;
    let (_, definition) = definition(&mut tx, candidacy.election_id).await?;
    if definition
        .extra_field(field)
        .is_none_or(|f| f.kind != ExtraKind::Document)
    {
        return Err(AppError::new(
            ErrorCode::NotFound,
            "La elección no pide ese documento.",
        ));
    }
    sqlx::query(
        "INSERT INTO curricular_documents (person_id, field, content, content_sha256, uploaded_at, uploaded_by) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (person_id, field) DO UPDATE \
         SET content = EXCLUDED.content, content_sha256 = EXCLUDED.content_sha256, \
             uploaded_at = EXCLUDED.uploaded_at, uploaded_by = EXCLUDED.uploaded_by",
    )
    .bind(person.id)
    .bind(field)
    .bind(bytes)
    .bind(hex::encode(Sha256::digest(bytes)))
    .bind(now)
    .bind(actor.account_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A person's uploaded document (its bytes), for the pages that show it.
pub async fn document(pool: &PgPool, person: Uuid, field: &str) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar(
        "SELECT content FROM curricular_documents WHERE person_id = $1 AND field = $2",
    )
    .bind(person)
    .bind(field)
    .fetch_optional(pool)
    .await
}

/// An own field as the submission records it: what was asked (label, kind, whether public) and
/// the answer (a document: its SHA-256), so the record reads the same whatever later versions of
/// the definition say.
fn entry(field: &definition::ExtraField, value: &str) -> serde_json::Value {
    serde_json::json!({
        "label": field.label,
        "kind": field.kind,
        "public": field.public,
        "value": value,
    })
}

/// The section «Información adicional» of a person as the submission carries it and what is
/// missing before sending.
pub async fn for_submission(
    tx: &mut PgConnection,
    definition: &Definition,
    person: Uuid,
    role: PersonRole,
) -> Result<(serde_json::Value, Vec<FieldViolation>), AppError> {
    let values: BTreeMap<String, String> = sqlx::query_scalar::<_, serde_json::Value>(
        "SELECT fields FROM curricular_sections WHERE person_id = $1 AND section = $2",
    )
    .bind(person)
    .bind(EXTRA_SECTION)
    .fetch_optional(&mut *tx)
    .await?
    .and_then(|v| serde_json::from_value(v).ok())
    .unwrap_or_default();
    let documents: BTreeMap<String, String> = sqlx::query_as(
        "SELECT field, content_sha256 FROM curricular_documents WHERE person_id = $1",
    )
    .bind(person)
    .fetch_all(&mut *tx)
    .await?
    .into_iter()
    .collect();
    let (checked, problems) = definition::validate_extra(definition, &values);
    let mut missing: Vec<FieldViolation> = problems
        .into_iter()
        .map(|(field, message)| {
            FieldViolation::new(
                format!("{}.{EXTRA_SECTION}.{field}", role.as_str()),
                "incomplete",
                format!(
                    "{}: {} — {message}",
                    role.label(),
                    definition
                        .extra_field(&field)
                        .map_or(field.as_str(), |f| f.label.as_str())
                ),
            )
        })
        .collect();
    let mut section = serde_json::Map::new();
    for field in &definition.extra {
        match field.kind {
            ExtraKind::Document => match documents.get(&field.id) {
                Some(sha) => {
                    section.insert(field.id.clone(), entry(field, sha));
                }
                None if field.required => missing.push(FieldViolation::new(
                    format!("{}.{EXTRA_SECTION}.{}", role.as_str(), field.id),
                    "incomplete",
                    format!("{}: falta el documento «{}».", role.label(), field.label),
                )),
                None => {}
            },
            _ => {
                if let Some(value) = checked.get(&field.id) {
                    section.insert(field.id.clone(), entry(field, value));
                }
            }
        }
    }
    Ok((serde_json::Value::Object(section), missing))
}

/// What the election's own fields still lack, person by person, in the words the submission
/// refuses with (empty: nothing, or the election has no fields of its own).
pub async fn missing(pool: &PgPool, candidacy: &Candidacy) -> Result<Vec<String>, AppError> {
    let mut conn = pool.acquire().await?;
    let (_, definition) = definition(&mut conn, candidacy.election_id).await?;
    if definition.extra.is_empty() {
        return Ok(Vec::new());
    }
    let mut missing = Vec::new();
    for person in &candidacy.persons {
        let (_, incomplete) =
            for_submission(&mut conn, &definition, person.id, person.role).await?;
        missing.extend(incomplete.into_iter().map(|v| v.message));
    }
    Ok(missing)
}
