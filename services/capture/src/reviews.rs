//! The consumer `capture.reviews`: what the reviewers decided comes back to the candidacy. An
//! observation reopens exactly the observed sections and shows its messages to the party; an
//! approval marks the candidacy approved. Only the latest round counts: an outcome of an older
//! round (a late or repeated message) changes nothing. The delivery of a candidacy's accounts
//! starts its deadline where the election's rule counts from it.

use chrono::Utc;
use conoceles_kit::amqp::{HandleError, Handler, Incoming};
use conoceles_kit::proto_time::from_proto;
use conoceles_proto::events::v1 as events;
use conoceles_proto::routing_keys;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

pub const CONSUMER: &str = "capture.reviews";
pub const ROUTING_KEYS: [&str; 3] = [
    routing_keys::CURRICULAR_OBSERVED,
    routing_keys::CANDIDACY_APPROVED,
    routing_keys::ACCOUNTS_DELIVERED,
];

pub struct Reviews;

fn id(value: Option<&str>) -> Result<Uuid, HandleError> {
    value
        .and_then(|v| Uuid::parse_str(v).ok())
        .ok_or_else(|| HandleError::Permanent(anyhow::anyhow!("event without a valid id")))
}

/// Whether `round` is the candidacy's latest submission and it is still under review.
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

#[async_trait::async_trait]
impl Handler for Reviews {
    async fn handle(&self, tx: &mut PgConnection, message: &Incoming) -> Result<(), HandleError> {
        match message.routing_key.as_str() {
            routing_keys::CURRICULAR_OBSERVED => {
                let e: events::CurricularObserved = message.decode()?;
                let candidacy = id(e.candidacy_id.as_ref().map(|c| c.value.as_str()))?;
                let submission = id(Some(&e.submission_id))?;
                if !current(tx, candidacy, e.round).await? {
                    return Ok(());
                }
                let at = from_proto(e.occurred_at.as_ref()).unwrap_or_else(Utc::now);
                let sections: Vec<String> =
                    e.observations.iter().map(|o| o.section.clone()).collect();
                for o in &e.observations {
                    sqlx::query(
                        "INSERT INTO observations (candidacy_id, submission_id, round, section, message, observed_at) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(candidacy)
                    .bind(submission)
                    .bind(e.round as i32)
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
                    json!({ "round": e.round, "sections": sections }),
                )
                .await?;
            }
            routing_keys::CANDIDACY_APPROVED => {
                let e: events::CandidacyApproved = message.decode()?;
                let candidacy = id(e.candidacy_id.as_ref().map(|c| c.value.as_str()))?;
                if !current(tx, candidacy, e.round).await? {
                    return Ok(());
                }
                let at = from_proto(e.occurred_at.as_ref()).unwrap_or_else(Utc::now);
                sqlx::query(
                    "UPDATE candidacies SET status = 'approved', updated_at = $2 WHERE id = $1",
                )
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
                    json!({ "round": e.round }),
                )
                .await?;
            }
            routing_keys::ACCOUNTS_DELIVERED => {
                let e: events::AccountsDelivered = message.decode()?;
                let at = from_proto(e.delivered_at.as_ref()).unwrap_or_else(Utc::now);
                let candidacies: Vec<Uuid> = e
                    .candidacy_ids
                    .iter()
                    .filter_map(|c| Uuid::parse_str(&c.value).ok())
                    .collect();
                crate::deadlines::accounts_delivered(tx, &candidacies, at)
                    .await
                    .map_err(|e| HandleError::Transient(anyhow::anyhow!("{e}")))?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// The observations of the candidacy's latest observed round: (section, message).
pub async fn latest_observations(
    pool: &sqlx::PgPool,
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
