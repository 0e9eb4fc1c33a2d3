//! The final submission: inside the capture window only, complete, written with its
//! `curricular.submitted` outbox row in one transaction, answered with a receipt (acuse).

use chrono::{DateTime, NaiveDate, Utc};
use conoceles_kit::CandidacyStatus;
use conoceles_kit::FieldViolation;
use conoceles_kit::access::Actor;
use conoceles_kit::amqp::enqueue_event;
use conoceles_kit::error::{AppError, ErrorCode, OnConstraint};
use conoceles_kit::proto_time::to_proto;
use conoceles_proto::common::v1 as common;
use conoceles_proto::events::v1 as events;
use conoceles_proto::routing_keys;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::{Candidacy, Section, may_change};

/// Proof of a submission: what, when, and the SHA-256 of exactly what was submitted.
#[derive(Debug, Clone, Serialize)]
pub struct Receipt {
    pub submission_id: Uuid,
    pub candidacy_id: Uuid,
    pub round: i32,
    pub submitted_at: DateTime<Utc>,
    pub content_sha256: String,
    /// The submitted content as canonical JSON (keys sorted, no spaces): the hashed text.
    pub content: String,
}

/// JSON with object keys sorted and no insignificant whitespace, so the same content always
/// gives the same bytes and the same hash.
pub fn canonical_json(value: &Value) -> String {
    fn write(value: &Value, out: &mut String) {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (i, key) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(key.clone()).to_string());
                    out.push(':');
                    write(&map[key], out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(item, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    write(value, &mut out);
    out
}

use crate::election::local;

/// Records a submission refused by the window, for the admin.
async fn record_attempt(
    pool: &PgPool,
    candidacy: &Candidacy,
    actor: &Actor,
    now: DateTime<Utc>,
    reason: &str,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO submission_attempts (candidacy_id, at, actor, reason) VALUES ($1, $2, $3, $4)",
    )
    .bind(candidacy.id)
    .bind(now)
    .bind(actor.account_id)
    .bind(reason)
    .execute(pool)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(candidacy_id = %candidacy.id))]
pub async fn submit(
    pool: &PgPool,
    actor: &Actor,
    candidacy: &Candidacy,
    now: DateTime<Utc>,
) -> Result<Receipt, AppError> {
    if !may_change(actor, candidacy) {
        return Err(AppError::new(
            ErrorCode::PermissionDenied,
            "Solo el partido responsable o la persona candidata envían esta candidatura.",
        ));
    }
    let tz = &candidacy.time_zone;
    if now < candidacy.capture_opens_at {
        record_attempt(pool, candidacy, actor, now, "before_opening").await?;
        return Err(AppError::new(
            ErrorCode::FailedPrecondition,
            format!(
                "El periodo de captura aún no empieza: abre el {}.",
                local(candidacy.capture_opens_at, tz)
            ),
        ));
    }
    if now >= candidacy.capture_closes_at && !candidacy.correcting {
        record_attempt(pool, candidacy, actor, now, "after_closing").await?;
        return Err(AppError::new(
            ErrorCode::FailedPrecondition,
            format!(
                "El periodo de captura terminó el {}; ya no se reciben envíos.",
                crate::election::local_deadline(candidacy.capture_closes_at, tz)
            ),
        ));
    }

    let mut tx = pool.begin().await?;
    let status: CandidacyStatus =
        sqlx::query_scalar("SELECT status FROM candidacies WHERE id = $1 FOR UPDATE")
            .bind(candidacy.id)
            .fetch_one(&mut *tx)
            .await?;
    match status {
        CandidacyStatus::Draft | CandidacyStatus::Observed | CandidacyStatus::NotStarted => {}
        CandidacyStatus::Withdrawn => {
            return Err(AppError::new(
                ErrorCode::FailedPrecondition,
                "La candidatura está cancelada o sustituida.",
            ));
        }
        _ => {
            return Err(AppError::new(
                ErrorCode::FailedPrecondition,
                "El cuestionario ya fue enviado.",
            ));
        }
    }

    // The election's own fields (its definition's «Información adicional»), when it has any.
    let (definition_version, definition) =
        super::extra::definition(&mut tx, candidacy.election_id).await?;
    let mut persons = Vec::new();
    let mut missing = Vec::new();
    for person in &candidacy.persons {
        let rows = sqlx::query(
            "SELECT section, fields, complete FROM curricular_sections WHERE person_id = $1",
        )
        .bind(person.id)
        .fetch_all(&mut *tx)
        .await?;
        let mut sections = serde_json::Map::new();
        for row in rows {
            let slug: String = row.get("section");
            if row.get::<bool, _>("complete") {
                sections.insert(slug, row.get::<Value, _>("fields"));
            }
        }
        if !definition.extra.is_empty() {
            let (extra, incomplete) =
                super::extra::for_submission(&mut tx, &definition, person.id, person.role).await?;
            missing.extend(incomplete);
            sections.insert(
                conoceles_curricular::definition::EXTRA_SECTION.to_string(),
                extra,
            );
        }
        for section in Section::ALL {
            if !sections.contains_key(section.slug()) {
                missing.push(FieldViolation::new(
                    format!("{}.{}", person.role.as_str(), section.slug()),
                    "incomplete",
                    format!(
                        "{}: falta completar «{}».",
                        person.role.label(),
                        section.title()
                    ),
                ));
            }
        }
        let photo =
            sqlx::query("SELECT sha256, taken_on, width, height FROM photos WHERE person_id = $1")
                .bind(person.id)
                .fetch_optional(&mut *tx)
                .await?;
        let photo = match photo {
            Some(r) => json!({
                "sha256": r.get::<String, _>("sha256"),
                "taken_on": r.get::<NaiveDate, _>("taken_on").to_string(),
                "width": r.get::<i32, _>("width"),
                "height": r.get::<i32, _>("height"),
            }),
            None => {
                missing.push(FieldViolation::new(
                    format!("{}.photo", person.role.as_str()),
                    "incomplete",
                    format!("{}: falta la fotografía.", person.role.label()),
                ));
                Value::Null
            }
        };
        persons.push(json!({
            "person_id": person.id.to_string(),
            "role": person.role.as_str(),
            "full_name": person.full_name,
            "sections": sections,
            "photo": photo,
        }));
    }
    if !missing.is_empty() {
        return Err(AppError::invalid(missing));
    }

    let round: i32 = sqlx::query_scalar(
        "SELECT COALESCE(max(round), 0) + 1 FROM submissions WHERE candidacy_id = $1",
    )
    .bind(candidacy.id)
    .fetch_one(&mut *tx)
    .await?;
    let mut content = json!({
        "candidacy_id": candidacy.id.to_string(),
        "election_id": candidacy.election_id.to_string(),
        "round": round,
        "persons": persons,
    });
    // Which definition the questionnaire answered (absent: the Lineamientos alone, version 1).
    if definition_version > 1 {
        content["curricular_definition"] = json!(definition_version);
    }
    let canonical = canonical_json(&content);
    let sha256 = hex::encode(Sha256::digest(canonical.as_bytes()));
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO submissions (id, candidacy_id, round, canonical, content_sha256, submitted_at, submitted_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(candidacy.id)
    .bind(round)
    .bind(&canonical)
    .bind(&sha256)
    .bind(now)
    .bind(actor.account_id)
    .execute(&mut *tx)
    .await
    .on_constraint("submissions_one_per_round", || {
        AppError::new(ErrorCode::AlreadyExists, "El cuestionario ya fue enviado.")
    })?;
    sqlx::query(
        "UPDATE candidacies SET status = 'submitted', reopened_sections = '{}', updated_at = $2 WHERE id = $1",
    )
    .bind(candidacy.id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    crate::import::apply_history(
        &mut tx,
        candidacy.id,
        now,
        "submitted",
        Some(actor.account_id),
        json!({ "submission_id": id, "round": round, "content_sha256": sha256 }),
    )
    .await?;
    enqueue_event(
        &mut tx,
        routing_keys::CURRICULAR_SUBMITTED,
        &events::CurricularSubmitted {
            candidacy_id: Some(common::CandidacyId::from(candidacy.id)),
            election_id: Some(common::ElectionId::from(candidacy.election_id)),
            submission_id: id.to_string(),
            round: round as u32,
            content_sha256: sha256.clone(),
            occurred_at: Some(to_proto(now)),
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(candidacy_id = %candidacy.id, round, "curricular questionnaire submitted");
    Ok(Receipt {
        submission_id: id,
        candidacy_id: candidacy.id,
        round,
        submitted_at: now,
        content_sha256: sha256,
        content: canonical,
    })
}

/// A receipt of the candidacy (the caller has loaded it, so may see it).
pub async fn receipt(
    pool: &PgPool,
    candidacy: &Candidacy,
    submission_id: Uuid,
) -> Result<Receipt, AppError> {
    let row = sqlx::query(
        "SELECT round, canonical, content_sha256, submitted_at FROM submissions WHERE id = $1 AND candidacy_id = $2",
    )
    .bind(submission_id)
    .bind(candidacy.id)
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::new(ErrorCode::NotFound, "No existe ese acuse."))?;
    Ok(Receipt {
        submission_id,
        candidacy_id: candidacy.id,
        round: row.get("round"),
        submitted_at: row.get("submitted_at"),
        content_sha256: row.get("content_sha256"),
        content: row.get("canonical"),
    })
}

/// (submission id, round, time) of every submission of the candidacy, newest first.
pub async fn receipts_of(
    pool: &PgPool,
    candidacy_id: Uuid,
) -> sqlx::Result<Vec<(Uuid, i32, DateTime<Utc>)>> {
    sqlx::query_as(
        "SELECT id, round, submitted_at FROM submissions WHERE candidacy_id = $1 ORDER BY round DESC",
    )
    .bind(candidacy_id)
    .fetch_all(pool)
    .await
}

/// A submission refused because the window was closed, for the admin.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    pub at: DateTime<Utc>,
    pub candidacy_id: Uuid,
    pub external_id: String,
    pub postulant: String,
    pub reason: String,
}

pub async fn attempts(pool: &PgPool, limit: i64) -> sqlx::Result<Vec<Attempt>> {
    let rows = sqlx::query(
        "SELECT a.at, a.candidacy_id, c.external_id, c.postulant_code, a.reason FROM submission_attempts a \
         JOIN candidacies c ON c.id = a.candidacy_id ORDER BY a.at DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Attempt {
            at: r.get("at"),
            candidacy_id: r.get("candidacy_id"),
            external_id: r.get("external_id"),
            postulant: r.get("postulant_code"),
            reason: match r.get::<&str, _>("reason") {
                "before_opening" => "Antes de que abriera el periodo de captura",
                _ => "Después de que cerró el periodo de captura",
            }
            .to_string(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let a = json!({"b": 1, "a": {"z": [1, {"y": "é", "x": null}], "c": true}});
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"c":true,"z":[1,{"x":null,"y":"é"}]},"b":1}"#
        );
        let reparsed: Value = serde_json::from_str(&canonical_json(&a)).unwrap();
        assert_eq!(canonical_json(&reparsed), canonical_json(&a));
    }
}
