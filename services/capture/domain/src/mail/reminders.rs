//! Three days before a candidacy's deadline, if its curricular questionnaire is not sent, the
//! party and the candidate are reminded — once per deadline (an extended deadline reminds again).

use chrono::{DateTime, Duration, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::messages;

/// How long before the deadline the reminder goes.
pub const AHEAD: Duration = Duration::days(3);

/// Queues the reminders due at `now`; returns how many were queued.
pub async fn queue_due(pool: &PgPool, now: DateTime<Utc>, link: &str) -> sqlx::Result<usize> {
    let due: Vec<(Uuid, DateTime<Utc>)> = sqlx::query_as(
        "SELECT c.id, COALESCE(c.capture_deadline, e.capture_closes_at) AS deadline \
         FROM candidacies c JOIN elections e ON e.id = c.election_id \
         WHERE c.status IN ('not_started', 'draft', 'observed') \
           AND COALESCE(c.capture_deadline, e.capture_closes_at) > $1 \
           AND COALESCE(c.capture_deadline, e.capture_closes_at) <= $2 \
           AND NOT EXISTS (SELECT 1 FROM mail_outbox m WHERE m.dedup_key = \
               'deadline:' || c.id::text || ':' || \
               floor(extract(epoch FROM COALESCE(c.capture_deadline, e.capture_closes_at)))::bigint::text) \
         LIMIT 500",
    )
    .bind(now)
    .bind(now + AHEAD)
    .fetch_all(pool)
    .await?;
    let mut queued = 0;
    for (candidacy, deadline) in due {
        let mut tx = pool.begin().await?;
        let about = messages::about(&mut tx, candidacy).await?;
        let mail = messages::deadline_reminder(&about, deadline, link);
        if super::queue(&mut tx, about.election, &mail, now)
            .await?
            .is_some()
        {
            queued += 1;
        }
        tx.commit().await?;
    }
    Ok(queued)
}
