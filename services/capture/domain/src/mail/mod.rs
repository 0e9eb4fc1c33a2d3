//! Mail to parties and candidates: the mail outbox. A message is queued in the same transaction
//! as what caused it (an observation, an approval, a requirement, a deadline drawing near),
//! addressed to an audience — the accounts of the party responsible, a candidacy's private email
//! — never to addresses frozen at that moment. The mail worker resolves each message into one
//! delivery per address, sends each over SMTP and retries it, with a growing pause, until the
//! server accepts it: a mail server that is down delays mail and never loses it, and never fails
//! the action that caused it. Each delivery records its attempts, its last error and the server's
//! reply.

pub mod contacts;
pub mod messages;
pub mod reminders;

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// Why a message is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The unit's formal notice of what is missing (always sent).
    Requirement,
    /// The reviewers observed a submission.
    Observation,
    /// A candidacy's deadline is three days away and its questionnaire is not sent.
    DeadlineReminder,
    /// The curricular questionnaire was approved.
    Approval,
}

impl Kind {
    pub fn code(self) -> &'static str {
        match self {
            Kind::Requirement => "requirement",
            Kind::Observation => "observation",
            Kind::DeadlineReminder => "deadline_reminder",
            Kind::Approval => "approval",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        [
            Kind::Requirement,
            Kind::Observation,
            Kind::DeadlineReminder,
            Kind::Approval,
        ]
        .into_iter()
        .find(|k| k.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Requirement => "Requerimiento",
            Kind::Observation => "Observaciones",
            Kind::DeadlineReminder => "Plazo próximo a vencer",
            Kind::Approval => "Aprobación",
        }
    }

    /// Whether a person may ask not to receive it (requirements are formal notices).
    pub fn optional(self) -> bool {
        self != Kind::Requirement
    }
}

/// A message to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub kind: Kind,
    /// One message per cause: queuing the same key again does nothing.
    pub dedup_key: String,
    /// The party (or independent) whose accounts receive it.
    pub party: Option<Uuid>,
    /// The candidacy whose private email receives it.
    pub candidacy: Option<Uuid>,
    pub subject: String,
    pub body: String,
}

/// Queues `mail` in the caller's transaction; `None` when its cause was already queued.
pub async fn queue(
    conn: &mut PgConnection,
    election: Uuid,
    mail: &Outgoing,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "INSERT INTO mail_outbox (id, election_id, kind, dedup_key, party_id, candidacy_id, subject, body, queued_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(election)
    .bind(mail.kind.code())
    .bind(&mail.dedup_key)
    .bind(mail.party)
    .bind(mail.candidacy)
    .bind(&mail.subject)
    .bind(&mail.body)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// A queued message whose recipients are not resolved yet.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Unexpanded {
    pub id: Uuid,
    pub kind: String,
    pub party_id: Option<Uuid>,
    pub candidacy_id: Option<Uuid>,
}

impl Unexpanded {
    pub fn kind(&self) -> Kind {
        Kind::parse(&self.kind).unwrap_or(Kind::Requirement)
    }
}

pub async fn unexpanded(pool: &PgPool, limit: i64) -> sqlx::Result<Vec<Unexpanded>> {
    sqlx::query_as(
        "SELECT id, kind, party_id, candidacy_id FROM mail_outbox WHERE expanded_at IS NULL \
         ORDER BY queued_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// The private email the candidacy's active holder gave "to be told of observations", unless an
/// account of the candidacy asked not to receive optional mail.
pub async fn candidate_address(
    pool: &PgPool,
    candidacy: Uuid,
    kind: Kind,
) -> sqlx::Result<Option<String>> {
    let address: Option<String> = sqlx::query_scalar(
        "SELECT NULLIF(btrim(s.fields->>'private_email'), '') FROM persons p \
         JOIN curricular_sections s ON s.person_id = p.id AND s.section = 'general' \
         WHERE p.candidacy_id = $1 AND p.role = 'holder' AND p.active",
    )
    .bind(candidacy)
    .fetch_optional(pool)
    .await?
    .flatten();
    if kind.optional() {
        let out: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM mail_opt_outs WHERE candidacy_id = $1)",
        )
        .bind(candidacy)
        .fetch_one(pool)
        .await?;
        if out {
            return Ok(None);
        }
    }
    Ok(address)
}

/// The addresses a party is emailed at for a message of `kind`: those the unit registered and
/// those its accounts set, without the accounts that declined optional mail.
pub async fn party_addresses(pool: &PgPool, party: Uuid, kind: Kind) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT email FROM mail_contacts WHERE party_id = $1 AND (receive_optional OR NOT $2) ORDER BY email",
    )
    .bind(party)
    .bind(kind.optional())
    .fetch_all(pool)
    .await
}

/// Resolves a message into one pending delivery per address, at once.
pub async fn expand(
    pool: &PgPool,
    mail: Uuid,
    addresses: &[String],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let mut unique: Vec<String> = addresses.iter().map(|a| a.trim().to_lowercase()).collect();
    unique.sort();
    unique.dedup();
    let mut tx = pool.begin().await?;
    for address in &unique {
        sqlx::query(
            "INSERT INTO mail_deliveries (id, mail_id, address, next_attempt_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (mail_id, address) DO NOTHING",
        )
        .bind(Uuid::now_v7())
        .bind(mail)
        .bind(address)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "UPDATE mail_outbox SET expanded_at = $2, recipients = $3 WHERE id = $1 AND expanded_at IS NULL",
    )
    .bind(mail)
    .bind(now)
    .bind(i32::try_from(unique.len()).unwrap_or(i32::MAX))
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// A delivery due now, with its message.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Due {
    pub id: Uuid,
    pub address: String,
    pub attempts: i32,
    pub subject: String,
    pub body: String,
}

/// Locks up to `limit` due deliveries in `tx` (other workers skip them) for sending.
pub async fn claim_due(
    tx: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<Due>> {
    sqlx::query_as(
        "SELECT d.id, d.address, d.attempts, m.subject, m.body FROM mail_deliveries d \
         JOIN mail_outbox m ON m.id = d.mail_id \
         WHERE d.state = 'pending' AND d.next_attempt_at <= $1 \
         ORDER BY d.next_attempt_at LIMIT $2 FOR UPDATE OF d SKIP LOCKED",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(tx)
    .await
}

/// The server accepted the delivery.
pub async fn sent(
    tx: &mut PgConnection,
    delivery: Uuid,
    reply: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE mail_deliveries SET state = 'sent', attempts = attempts + 1, sent_at = $2, \
         server_reply = $3, last_error = NULL WHERE id = $1",
    )
    .bind(delivery)
    .bind(now)
    .bind(reply)
    .execute(tx)
    .await?;
    Ok(())
}

/// The pause before attempt `attempts + 1`: 30 s, doubling, at most an hour.
pub fn backoff(attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.clamp(0, 7)).unwrap_or(0);
    Duration::from_secs((30u64 << doublings).min(3600))
}

/// The attempt failed: recorded, and the delivery waits for its next attempt.
pub async fn failed(
    tx: &mut PgConnection,
    delivery: &Due,
    error: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let next = now + backoff(delivery.attempts);
    sqlx::query(
        "UPDATE mail_deliveries SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 WHERE id = $1",
    )
    .bind(delivery.id)
    .bind(error.chars().take(500).collect::<String>())
    .bind(next)
    .execute(tx)
    .await?;
    Ok(())
}

/// One delivery as the back office lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Delivery {
    pub kind: String,
    pub subject: String,
    pub address: String,
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub queued_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// The election's latest deliveries, newest first.
pub async fn deliveries(pool: &PgPool, election: Uuid, limit: i64) -> sqlx::Result<Vec<Delivery>> {
    sqlx::query_as(
        "SELECT m.kind, m.subject, d.address, d.state, d.attempts, d.last_error, m.queued_at, d.sent_at \
         FROM mail_deliveries d JOIN mail_outbox m ON m.id = d.mail_id \
         WHERE m.election_id = $1 ORDER BY m.queued_at DESC, d.address LIMIT $2",
    )
    .bind(election)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// How many of the election's messages wait for recipients, and deliveries wait to be accepted.
pub async fn waiting(pool: &PgPool, election: Uuid) -> sqlx::Result<(i64, i64)> {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM mail_outbox WHERE election_id = $1 AND expanded_at IS NULL), \
                (SELECT count(*) FROM mail_deliveries d JOIN mail_outbox m ON m.id = d.mail_id \
                 WHERE m.election_id = $1 AND d.state = 'pending')",
    )
    .bind(election)
    .fetch_one(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_up_to_an_hour() {
        assert_eq!(backoff(0), Duration::from_secs(30));
        assert_eq!(backoff(1), Duration::from_secs(60));
        assert_eq!(backoff(3), Duration::from_secs(240));
        assert_eq!(backoff(7), Duration::from_secs(3600));
        assert_eq!(backoff(500), Duration::from_secs(3600));
    }

    #[test]
    fn only_requirements_cannot_be_declined() {
        for kind in [Kind::Observation, Kind::DeadlineReminder, Kind::Approval] {
            assert!(kind.optional());
            assert_eq!(Kind::parse(kind.code()), Some(kind));
        }
        assert!(!Kind::Requirement.optional());
    }
}
