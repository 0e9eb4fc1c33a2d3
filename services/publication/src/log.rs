//! Tamper evidence: every change to a public profile appends a line to `profile_log`, whose
//! hash covers the line and the previous line's hash. Rewriting or deleting a past line breaks
//! every hash after it; `conoceles-publication verify` recomputes the chain.

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

/// The hash before the first line.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn line_hash(
    candidacy: Uuid,
    action: &str,
    content_sha256: &str,
    at: DateTime<Utc>,
    prev: &str,
) -> String {
    let line = format!(
        "{candidacy}|{action}|{content_sha256}|{}|{prev}",
        at.to_rfc3339_opts(SecondsFormat::Micros, true)
    );
    hex::encode(Sha256::digest(line.as_bytes()))
}

/// Appends a change (in the caller's transaction, so it is logged exactly when it happens).
pub async fn append(
    tx: &mut PgConnection,
    candidacy: Uuid,
    action: &str,
    content_sha256: &str,
    at: DateTime<Utc>,
) -> sqlx::Result<String> {
    // One writer at a time, so each line chains to the line before it.
    sqlx::query("SELECT pg_advisory_xact_lock(7461)")
        .execute(&mut *tx)
        .await?;
    let prev: String = sqlx::query_scalar("SELECT hash FROM profile_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *tx)
        .await?
        .unwrap_or_else(|| GENESIS.to_string());
    // Microseconds: what PostgreSQL keeps, so the hash can be recomputed from the row.
    let at = DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at);
    let hash = line_hash(candidacy, action, content_sha256, at, &prev);
    sqlx::query(
        "INSERT INTO profile_log (candidacy_id, action, content_sha256, at, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(candidacy)
    .bind(action)
    .bind(content_sha256)
    .bind(at)
    .bind(&prev)
    .bind(&hash)
    .execute(&mut *tx)
    .await?;
    Ok(hash)
}

/// The head of the chain (the last line's hash) and its length.
pub async fn head(pool: &PgPool) -> sqlx::Result<(String, i64)> {
    let row: Option<(String, i64)> =
        sqlx::query_as("SELECT hash, seq FROM profile_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(pool)
            .await?;
    Ok(row.unwrap_or_else(|| (GENESIS.to_string(), 0)))
}

/// Recomputes the whole chain; the first broken line is reported.
pub async fn verify(pool: &PgPool) -> anyhow::Result<u64> {
    let rows = sqlx::query(
        "SELECT seq, candidacy_id, action, content_sha256, at, prev_hash, hash FROM profile_log ORDER BY seq",
    )
    .fetch_all(pool)
    .await?;
    let mut prev = GENESIS.to_string();
    for r in &rows {
        let seq: i64 = r.get("seq");
        let stored_prev: String = r.get("prev_hash");
        let expected = line_hash(
            r.get("candidacy_id"),
            r.get("action"),
            r.get("content_sha256"),
            r.get("at"),
            &prev,
        );
        anyhow::ensure!(
            stored_prev == prev,
            "line {seq}: does not follow the line before it"
        );
        let hash: String = r.get("hash");
        anyhow::ensure!(hash == expected, "line {seq}: its content was changed");
        prev = hash;
    }
    Ok(rows.len() as u64)
}
