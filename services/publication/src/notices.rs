//! What the site says of a published candidacy that changed: a substitution in progress (the
//! candidacy stays in its contest's list, "la información de la nueva persona está pendiente",
//! until the new person's questionnaire is approved) or a cancellation (a dated notice on its
//! former URL). Either way the profile is withdrawn at once, so no name, photo, answer or id of
//! the person replaced is served by any page, photo URL, API or open-data file; the log
//! records it.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::model::Election;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Substitution,
    Cancelled,
}

impl Kind {
    fn code(self) -> &'static str {
        match self {
            Kind::Substitution => "substitution",
            Kind::Cancelled => "cancelled",
        }
    }
}

/// A notice as the pages show it.
#[derive(Debug, Clone)]
pub struct Notice {
    pub candidacy: Uuid,
    pub kind: Kind,
    pub since: DateTime<Utc>,
    pub office: String,
    pub constituency: String,
    pub postulant: String,
    pub list_position: i32,
}

impl Notice {
    /// "Partido X · Diputación MR · lugar 2 · Distrito 08": the contest, never a name.
    pub fn contest(&self) -> String {
        let mut parts = vec![self.postulant.clone(), self.office.clone()];
        if self.list_position > 0 {
            parts.push(format!("lugar {}", self.list_position));
        }
        parts.push(self.constituency.clone());
        parts.join(" · ")
    }

    pub fn since_local(&self, election: &Election) -> String {
        election.local(self.since)
    }
}

fn notice_of(r: &sqlx::postgres::PgRow) -> Notice {
    Notice {
        candidacy: r.get("candidacy_id"),
        kind: if r.get::<&str, _>("kind") == "cancelled" {
            Kind::Cancelled
        } else {
            Kind::Substitution
        },
        since: r.get("since"),
        office: r.get("office"),
        constituency: r.get("constituency"),
        postulant: r.get("postulant"),
        list_position: r.get("list_position"),
    }
}

/// Withdraws the candidacy's profile and leaves the notice `kind` in its place (only for a
/// candidacy that was ever published); removes the photos of `persons` (None: all of the
/// candidacy's). Logs the change when a live profile was withdrawn.
pub async fn record(
    tx: &mut PgConnection,
    candidacy: Uuid,
    kind: Kind,
    persons: Option<&[Uuid]>,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    let withdrawn: Option<String> = sqlx::query_scalar(
        "UPDATE profiles SET withdrawn_at = $2 WHERE candidacy_id = $1 AND withdrawn_at IS NULL \
         RETURNING content_sha256",
    )
    .bind(candidacy)
    .bind(at)
    .fetch_optional(&mut *tx)
    .await?;
    // A cancellation replaces a substitution's notice; a second substitution keeps the first
    // date (the candidacy has been waiting since then).
    sqlx::query(
        "INSERT INTO candidacy_notices (candidacy_id, election_id, kind, since, office_code, office, \
             constituency_code, constituency, postulant_code, postulant, list_position) \
         SELECT candidacy_id, election_id, $2, $3, office_code, office, constituency_code, constituency, \
             postulant_code, postulant, list_position FROM profiles WHERE candidacy_id = $1 \
         ON CONFLICT (candidacy_id) DO UPDATE SET kind = EXCLUDED.kind, \
             since = CASE WHEN candidacy_notices.kind = EXCLUDED.kind THEN candidacy_notices.since ELSE EXCLUDED.since END",
    )
    .bind(candidacy)
    .bind(kind.code())
    .bind(at)
    .execute(&mut *tx)
    .await?;
    match persons {
        Some(persons) => {
            sqlx::query("DELETE FROM photos WHERE candidacy_id = $1 AND person_id = ANY($2)")
                .bind(candidacy)
                .bind(persons)
                .execute(&mut *tx)
                .await?
        }
        None => {
            sqlx::query("DELETE FROM photos WHERE candidacy_id = $1")
                .bind(candidacy)
                .execute(&mut *tx)
                .await?
        }
    };
    if let Some(content) = withdrawn {
        let action = match kind {
            Kind::Substitution => "substituted",
            Kind::Cancelled => "cancelled",
        };
        crate::log::append(tx, candidacy, action, &content, at).await?;
    }
    Ok(())
}

/// A new version was published: its substitution notice goes.
pub async fn clear_substitution(tx: &mut PgConnection, candidacy: Uuid) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM candidacy_notices WHERE candidacy_id = $1 AND kind = 'substitution'")
        .bind(candidacy)
        .execute(tx)
        .await?;
    Ok(())
}

/// The notice on a candidacy's former URL, if any.
pub async fn get(pool: &PgPool, election: Uuid, candidacy: Uuid) -> sqlx::Result<Option<Notice>> {
    Ok(
        sqlx::query("SELECT * FROM candidacy_notices WHERE candidacy_id = $1 AND election_id = $2")
            .bind(candidacy)
            .bind(election)
            .fetch_optional(pool)
            .await?
            .map(|r| notice_of(&r)),
    )
}

/// The substitutions in progress of the contests a list shows (empty filters: all).
pub async fn substitutions(
    pool: &PgPool,
    election: Uuid,
    office: &str,
    constituency: &str,
    postulant: &str,
) -> sqlx::Result<Vec<Notice>> {
    let some = |v: &str| (!v.is_empty()).then(|| v.to_string());
    Ok(sqlx::query(
        "SELECT * FROM candidacy_notices WHERE election_id = $1 AND kind = 'substitution' \
           AND ($2::text IS NULL OR office_code = $2) AND ($3::text IS NULL OR constituency_code = $3) \
           AND ($4::text IS NULL OR postulant_code = $4) \
         ORDER BY office_code, constituency_code, list_position, postulant_code LIMIT 200",
    )
    .bind(election)
    .bind(some(office))
    .bind(some(constituency))
    .bind(some(postulant))
    .fetch_all(pool)
    .await?
    .iter()
    .map(notice_of)
    .collect())
}
