//! What the reviewers decided, applied to the candidacy. Only the latest round counts: an outcome
//! of an older round (a late or repeated message) changes nothing.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// One observation of a section: the section's code and the reviewer's message.
pub struct Observation {
    pub section: String,
    pub message: String,
}

/// Whether `round` is the candidacy's latest submission and it is still under review (locks the
/// candidacy's row until the transaction ends).
async fn current(conn: &mut PgConnection, candidacy: Uuid, round: u32) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT c.status = 'submitted' AND (SELECT max(round) FROM submissions WHERE candidacy_id = c.id) = $2 \
         FROM candidacies c WHERE c.id = $1 FOR UPDATE",
    )
    .bind(candidacy)
    .bind(round as i32)
    .fetch_optional(conn)
    .await
    .map(|v: Option<Option<bool>>| v.flatten().unwrap_or(false))
}

/// An observation round: the observed sections (only those) reopen and the messages are kept for
/// the party. Returns whether it applied (false for an outdated round).
#[tracing::instrument(skip(tx, observations), fields(candidacy_id = %candidacy, round))]
pub async fn observed(
    tx: &mut PgConnection,
    candidacy: Uuid,
    submission: Uuid,
    round: u32,
    at: DateTime<Utc>,
    observations: &[Observation],
) -> sqlx::Result<bool> {
    if !current(tx, candidacy, round).await? {
        return Ok(false);
    }
    let sections: Vec<String> = observations.iter().map(|o| o.section.clone()).collect();
    for o in observations {
        sqlx::query(
            "INSERT INTO observations (candidacy_id, submission_id, round, section, message, observed_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(candidacy)
        .bind(submission)
        .bind(round as i32)
        .bind(&o.section)
        .bind(&o.message)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "UPDATE candidacies SET status = 'observed', reopened_sections = $2, updated_at = $3 WHERE id = $1",
    )
    .bind(candidacy)
    .bind(&sections)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    crate::import::apply_history(
        tx,
        candidacy,
        at,
        "observed",
        None,
        json!({ "round": round, "sections": sections }),
    )
    .await?;
    Ok(true)
}

/// An approval of the latest round. Returns whether it applied (false for an outdated round).
#[tracing::instrument(skip(tx), fields(candidacy_id = %candidacy, round))]
pub async fn approved(
    tx: &mut PgConnection,
    candidacy: Uuid,
    round: u32,
    at: DateTime<Utc>,
) -> sqlx::Result<bool> {
    if !current(tx, candidacy, round).await? {
        return Ok(false);
    }
    sqlx::query("UPDATE candidacies SET status = 'approved', updated_at = $2 WHERE id = $1")
        .bind(candidacy)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    crate::import::apply_history(
        tx,
        candidacy,
        at,
        "approved",
        None,
        json!({ "round": round }),
    )
    .await?;
    Ok(true)
}

/// The observations of the candidacy's latest observed round: (section, message).
pub async fn latest_observations(
    pool: &PgPool,
    candidacy: Uuid,
) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query_as(
        "SELECT section, message FROM observations WHERE candidacy_id = $1 \
         AND round = (SELECT max(round) FROM observations WHERE candidacy_id = $1) ORDER BY id",
    )
    .bind(candidacy)
    .fetch_all(pool)
    .await
}

/// What a reviewer needs beside a submission: the same candidacy's previous round (its number
/// and content) and every observation made before this round: (round, section, message).
pub async fn earlier_rounds(
    pool: &PgPool,
    submission: Uuid,
) -> sqlx::Result<(Option<(i32, serde_json::Value)>, Vec<(i32, String, String)>)> {
    let previous = sqlx::query_as::<_, (i32, String)>(
        "SELECT p.round, p.canonical FROM submissions s JOIN submissions p \
         ON p.candidacy_id = s.candidacy_id AND p.round < s.round \
         WHERE s.id = $1 ORDER BY p.round DESC LIMIT 1",
    )
    .bind(submission)
    .fetch_optional(pool)
    .await?
    .map(|(round, canonical)| (round, serde_json::from_str(&canonical).unwrap_or_default()));
    let observations = sqlx::query_as(
        "SELECT o.round, o.section, o.message FROM observations o JOIN submissions s \
         ON s.candidacy_id = o.candidacy_id AND o.round < s.round \
         WHERE s.id = $1 ORDER BY o.round, o.id",
    )
    .bind(submission)
    .fetch_all(pool)
    .await?;
    Ok((previous, observations))
}

/// The latest approval of each live candidacy of an election: (candidacy, submission, approved
/// at, how many approvals it has had — more than one means it was corrected after an approval).
pub async fn approved_versions(
    pool: &PgPool,
    election: Uuid,
) -> sqlx::Result<Vec<(Uuid, Uuid, DateTime<Utc>, i64)>> {
    sqlx::query_as(
        "WITH approvals AS ( \
             SELECT h.candidacy_id, (h.detail->>'round')::int AS round, h.at, \
                    row_number() OVER (PARTITION BY h.candidacy_id ORDER BY h.at DESC, h.id DESC) AS latest, \
                    count(*) OVER (PARTITION BY h.candidacy_id) AS approvals \
             FROM candidacy_history h JOIN candidacies c ON c.id = h.candidacy_id \
             WHERE h.action = 'approved' AND c.election_id = $1 AND c.status <> 'withdrawn') \
         SELECT a.candidacy_id, s.id, a.at, a.approvals FROM approvals a \
         JOIN submissions s ON s.candidacy_id = a.candidacy_id AND s.round = a.round \
         WHERE a.latest = 1 ORDER BY a.candidacy_id",
    )
    .bind(election)
    .fetch_all(pool)
    .await
}

/// A submission as the reviewers' validation reads it: its content and the election's limits.
#[derive(sqlx::FromRow)]
pub struct SubmissionForReview {
    pub candidacy_id: Uuid,
    pub round: i32,
    pub canonical: String,
    pub content_sha256: String,
    pub submitted_at: DateTime<Utc>,
    pub text_min_chars: i32,
    pub text_max_chars: i32,
    pub proposal_min_chars: i32,
    pub proposal_max_chars: i32,
    /// The holder's name (`persons.full_name`), if the candidacy has an active one.
    pub full_name: Option<String>,
}

/// The submission `id`, if it exists.
pub async fn submission_for_review(
    pool: &PgPool,
    id: Uuid,
) -> sqlx::Result<Option<SubmissionForReview>> {
    sqlx::query_as(
        "SELECT s.candidacy_id, s.round, s.canonical, s.content_sha256, s.submitted_at, e.text_min_chars, \
                e.text_max_chars, e.proposal_min_chars, e.proposal_max_chars, h.full_name \
         FROM submissions s JOIN candidacies c ON c.id = s.candidacy_id JOIN elections e ON e.id = c.election_id \
         LEFT JOIN persons h ON h.candidacy_id = c.id AND h.role = 'holder' AND h.active WHERE s.id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}
