//! The review of each submitted round: recorded with its automatic findings when the submission
//! arrives, then approved (`candidacy.approved`) or observed per section (`curricular.observed`)
//! by a reviewer. A round is decided once: two reviewers cannot both decide it.

use chrono::{DateTime, Utc};
use conoceles_curricular::Section;
use conoceles_kit::FieldViolation;
use conoceles_kit::amqp::enqueue_event;
use conoceles_kit::error::{AppError, ErrorCode};
use conoceles_kit::proto_time::to_proto;
use conoceles_proto::common::v1 as common;
use conoceles_proto::events::v1 as events;
use conoceles_proto::routing_keys;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::rules::{Finding, approvable};

/// A recorded review.
#[derive(Debug, Clone)]
pub struct Review {
    pub submission_id: Uuid,
    pub candidacy_id: Uuid,
    pub election_id: Uuid,
    pub round: i32,
    pub office: String,
    pub principle: String,
    pub constituency: String,
    pub postulant: String,
    pub content_sha256: String,
    pub submitted_at: DateTime<Utc>,
    pub findings: Vec<Finding>,
    pub status: String,
}

/// Records the review, superseded at once when the candidacy changed person (or was cancelled)
/// after the round was sent.
pub async fn record(conn: &mut PgConnection, r: &Review) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO reviews (submission_id, candidacy_id, election_id, round, office, principle, constituency, postulant, \
         content_sha256, submitted_at, findings, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
         CASE WHEN EXISTS (SELECT 1 FROM candidacy_changes WHERE candidacy_id = $2 AND changed_at >= $10) \
              THEN 'superseded' ELSE 'pending' END) \
         ON CONFLICT (submission_id) DO NOTHING",
    )
    .bind(r.submission_id)
    .bind(r.candidacy_id)
    .bind(r.election_id)
    .bind(r.round)
    .bind(&r.office)
    .bind(&r.principle)
    .bind(&r.constituency)
    .bind(&r.postulant)
    .bind(&r.content_sha256)
    .bind(r.submitted_at)
    .bind(serde_json::to_value(&r.findings).unwrap_or_default())
    .execute(conn)
    .await?;
    Ok(())
}

/// A person of the candidacy was substituted, or it was cancelled, at `at`: its pending
/// reviews of rounds sent until then are superseded.
pub async fn supersede(
    conn: &mut PgConnection,
    candidacy: Uuid,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO candidacy_changes (candidacy_id, changed_at) VALUES ($1, $2) \
         ON CONFLICT (candidacy_id) DO UPDATE SET changed_at = GREATEST(candidacy_changes.changed_at, EXCLUDED.changed_at)",
    )
    .bind(candidacy)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE reviews SET status = 'superseded', decided_at = $2 \
         WHERE candidacy_id = $1 AND status = 'pending' AND submitted_at <= $2",
    )
    .bind(candidacy)
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn review_of(row: &sqlx::postgres::PgRow) -> Review {
    Review {
        submission_id: row.get("submission_id"),
        candidacy_id: row.get("candidacy_id"),
        election_id: row.get("election_id"),
        round: row.get("round"),
        office: row.get("office"),
        principle: row.get("principle"),
        constituency: row.get("constituency"),
        postulant: row.get("postulant"),
        content_sha256: row.get("content_sha256"),
        submitted_at: row.get("submitted_at"),
        findings: serde_json::from_value(row.get("findings")).unwrap_or_default(),
        status: row.get("status"),
    }
}

#[derive(Debug, Clone, Default)]
pub struct QueueFilters {
    pub office: Option<String>,
    pub postulant: Option<String>,
    pub status: Option<String>,
    /// Only submissions sent before this instant.
    pub submitted_before: Option<DateTime<Utc>>,
}

/// The queue, oldest submission first (the one waiting longest).
pub async fn queue(pool: &PgPool, filters: &QueueFilters, limit: i64) -> sqlx::Result<Vec<Review>> {
    let rows = sqlx::query(
        "SELECT * FROM reviews WHERE ($1::text IS NULL OR office = $1) AND ($2::text IS NULL OR postulant = $2) \
         AND status = COALESCE($3, 'pending') AND ($5::timestamptz IS NULL OR submitted_at < $5) \
         ORDER BY submitted_at LIMIT $4",
    )
    .bind(&filters.office)
    .bind(&filters.postulant)
    .bind(&filters.status)
    .bind(limit)
    .bind(filters.submitted_before)
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(review_of).collect())
}

pub async fn get(pool: &PgPool, submission: Uuid) -> Result<Review, AppError> {
    let row = sqlx::query("SELECT * FROM reviews WHERE submission_id = $1")
        .bind(submission)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| AppError::new(ErrorCode::NotFound, "No existe esa revisión."))?;
    Ok(review_of(&row))
}

/// Takes the round's decision, or says it was already taken.
async fn decide(
    conn: &mut PgConnection,
    submission: Uuid,
    round: i32,
    status: &str,
    reviewer: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<Review, AppError> {
    let row = sqlx::query(
        "UPDATE reviews SET status = $3, decided_at = $4, decided_by = $5 \
         WHERE submission_id = $1 AND round = $2 AND status = 'pending' RETURNING *",
    )
    .bind(submission)
    .bind(round)
    .bind(status)
    .bind(now)
    .bind(reviewer)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(r) = row {
        return Ok(review_of(&r));
    }
    let current: Option<String> =
        sqlx::query_scalar("SELECT status FROM reviews WHERE submission_id = $1")
            .bind(submission)
            .fetch_optional(&mut *conn)
            .await?;
    Err(AppError::new(
        ErrorCode::FailedPrecondition,
        if current.as_deref() == Some("superseded") {
            "Este envío ya no se puede resolver: la persona fue sustituida (o la candidatura cancelada) \
             después de enviarlo. La candidatura espera el cuestionario de la nueva persona."
        } else {
            "Esta revisión ya fue resuelta (o la ronda no corresponde)."
        },
    ))
}

#[tracing::instrument(skip(pool), fields(submission_id = %submission))]
pub async fn approve(
    pool: &PgPool,
    submission: Uuid,
    round: i32,
    reviewer: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, AppError> {
    let mut tx = pool.begin().await?;
    let review = decide(&mut tx, submission, round, "approved", reviewer, now).await?;
    if !approvable(&review.findings) {
        return Err(AppError::new(
            ErrorCode::FailedPrecondition,
            "Hay reglas automáticas sin cumplir; envíe observaciones en lugar de aprobar.",
        ));
    }
    enqueue_event(
        &mut tx,
        routing_keys::CANDIDACY_APPROVED,
        &events::CandidacyApproved {
            candidacy_id: Some(common::CandidacyId::from(review.candidacy_id)),
            submission_id: submission.to_string(),
            round: round as u32,
            content_sha256: review.content_sha256.clone(),
            occurred_at: Some(to_proto(now)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(now)
}

#[tracing::instrument(skip(pool, observations), fields(submission_id = %submission, sections = observations.len()))]
pub async fn observe(
    pool: &PgPool,
    submission: Uuid,
    round: i32,
    observations: &[(String, String)],
    reviewer: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, AppError> {
    let mut problems = Vec::new();
    if observations.is_empty() {
        problems.push(FieldViolation::new(
            "observations",
            "required",
            "Escriba al menos una observación.",
        ));
    }
    for (section, message) in observations {
        if Section::from_slug(section).is_none()
            && section != "photo"
            && section != conoceles_curricular::definition::EXTRA_SECTION
        {
            problems.push(FieldViolation::new(
                section,
                "unknown",
                "Sección desconocida.",
            ));
        }
        if message.trim().is_empty() {
            problems.push(FieldViolation::new(
                section,
                "required",
                "Cada observación necesita su mensaje.",
            ));
        }
    }
    if !problems.is_empty() {
        return Err(AppError::invalid(problems));
    }
    let mut tx = pool.begin().await?;
    let review = decide(&mut tx, submission, round, "observed", reviewer, now).await?;
    for (section, message) in observations {
        sqlx::query(
            "INSERT INTO review_observations (submission_id, section, message) VALUES ($1, $2, $3)",
        )
        .bind(submission)
        .bind(section)
        .bind(message.trim())
        .execute(&mut *tx)
        .await?;
    }
    enqueue_event(
        &mut tx,
        routing_keys::CURRICULAR_OBSERVED,
        &events::CurricularObserved {
            candidacy_id: Some(common::CandidacyId::from(review.candidacy_id)),
            submission_id: submission.to_string(),
            round: round as u32,
            observations: observations
                .iter()
                .map(|(section, message)| events::SectionObservation {
                    // `photo` reopens the photo alone.
                    section: section.clone(),
                    message: message.trim().to_string(),
                })
                .collect(),
            occurred_at: Some(to_proto(now)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(now)
}

/// Approves every pending review whose automatic rules pass. Returns how many.
pub async fn approve_passing(pool: &PgPool, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let pending = queue(pool, &QueueFilters::default(), 100_000).await?;
    let mut approved = 0;
    for review in pending.into_iter().filter(|r| approvable(&r.findings)) {
        if approve(pool, review.submission_id, review.round, None, now)
            .await
            .is_ok()
        {
            approved += 1;
        }
    }
    Ok(approved)
}
