//! How the site presents each election, as the unit set it in the back office
//! (`election.site_identity_updated`): the electoral body's name, colour and emblem, whether the
//! site is a demonstration, and each postulant's emblem (PNG derivatives made by capture).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use conoceles_proto::events::v1 as events;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

/// The presentation of the election the site shows.
#[derive(Debug, Clone, Default)]
pub struct Presentation {
    pub body_name: String,
    /// `#rrggbb`; empty: the site's own colour.
    pub color: String,
    pub demonstration: bool,
    /// Emblem owner (`''` the body, otherwise a postulant's code) → its version.
    pub emblems: HashMap<String, String>,
}

/// Replaces the election's presentation with the event's, unless a newer event was already
/// applied (events may be redelivered or arrive out of order). True when applied.
pub async fn replace(
    conn: &mut PgConnection,
    election: Uuid,
    at: DateTime<Utc>,
    e: &events::SiteIdentityUpdated,
) -> sqlx::Result<bool> {
    let applied = sqlx::query(
        "INSERT INTO site_identity (election_id, body_name, color, demonstration, occurred_at) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (election_id) DO UPDATE SET body_name = EXCLUDED.body_name, color = EXCLUDED.color, \
         demonstration = EXCLUDED.demonstration, occurred_at = EXCLUDED.occurred_at \
         WHERE site_identity.occurred_at <= EXCLUDED.occurred_at",
    )
    .bind(election)
    .bind(&e.body_name)
    .bind(&e.color)
    .bind(e.demonstration)
    .bind(at)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if !applied {
        return Ok(false);
    }
    sqlx::query("DELETE FROM emblems WHERE election_id = $1")
        .bind(election)
        .execute(&mut *conn)
        .await?;
    for emblem in &e.emblems {
        sqlx::query("INSERT INTO emblems (election_id, owner, png, etag) VALUES ($1, $2, $3, $4)")
            .bind(election)
            .bind(&emblem.owner)
            .bind(&emblem.png)
            .bind(&hex::encode(Sha256::digest(&emblem.png))[..16])
            .execute(&mut *conn)
            .await?;
    }
    Ok(true)
}

/// The presentation of the election the site shows (the defaults when none is set).
pub async fn current(pool: &PgPool) -> sqlx::Result<Presentation> {
    let row = sqlx::query(
        "SELECT s.body_name, s.color, s.demonstration, \
                coalesce((SELECT array_agg(m.owner) FROM emblems m WHERE m.election_id = e.id), '{}') AS owners, \
                coalesce((SELECT array_agg(m.etag) FROM emblems m WHERE m.election_id = e.id), '{}') AS etags \
         FROM (SELECT id FROM elections ORDER BY publication_starts_at DESC LIMIT 1) e \
         LEFT JOIN site_identity s ON s.election_id = e.id",
    )
    .fetch_optional(pool)
    .await?;
    let Some(row) = row else {
        return Ok(Presentation::default());
    };
    let owners: Vec<String> = row.get("owners");
    let etags: Vec<String> = row.get("etags");
    Ok(Presentation {
        body_name: row
            .get::<Option<String>, _>("body_name")
            .unwrap_or_default(),
        color: row.get::<Option<String>, _>("color").unwrap_or_default(),
        demonstration: row.get::<Option<bool>, _>("demonstration").unwrap_or(false),
        emblems: owners.into_iter().zip(etags).collect(),
    })
}

/// An emblem of the election the site shows, with its version.
pub async fn emblem(pool: &PgPool, owner: &str) -> sqlx::Result<Option<(Vec<u8>, String)>> {
    Ok(sqlx::query(
        "SELECT m.png, m.etag FROM emblems m \
         WHERE m.owner = $1 AND m.election_id = \
               (SELECT id FROM elections ORDER BY publication_starts_at DESC LIMIT 1)",
    )
    .bind(owner)
    .fetch_optional(pool)
    .await?
    .map(|r| (r.get("png"), r.get("etag"))))
}
