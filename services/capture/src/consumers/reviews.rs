//! The consumer `capture.reviews`: what the reviewers decided comes back to the candidacy
//! (`domain::reviews`): an observation reopens exactly the observed sections and shows its
//! messages to the party; an approval marks the candidacy approved; an outcome of an older round
//! changes nothing. The delivery of a candidacy's accounts
//! starts its deadline where the election's rule counts from it. An observation or an approval
//! that applied queues its email to the party and the candidate in the same transaction
//! (`domain::mail`).

use chrono::Utc;
use conoceles_kit::amqp::{HandleError, Handler, Incoming};
use conoceles_kit::proto_time::from_proto;
use conoceles_proto::events::v1 as events;
use conoceles_proto::routing_keys;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::mail::{self, messages};
use crate::domain::reviews::{self, Observation};

pub const CONSUMER: &str = "capture.reviews";
pub const ROUTING_KEYS: [&str; 3] = [
    routing_keys::CURRICULAR_OBSERVED,
    routing_keys::CANDIDACY_APPROVED,
    routing_keys::ACCOUNTS_DELIVERED,
];

pub struct Reviews {
    /// Where people reach the back office (the link in the emails).
    pub link: String,
}

/// Queues a candidacy's email in the consumer's transaction.
async fn notify(
    tx: &mut PgConnection,
    candidacy: Uuid,
    at: chrono::DateTime<Utc>,
    compose: impl FnOnce(&messages::About) -> mail::Outgoing,
) -> Result<(), HandleError> {
    let about = messages::about(tx, candidacy).await?;
    mail::queue(tx, about.election, &compose(&about), at).await?;
    Ok(())
}

fn id(value: Option<&str>) -> Result<Uuid, HandleError> {
    value
        .and_then(|v| Uuid::parse_str(v).ok())
        .ok_or_else(|| HandleError::Permanent(anyhow::anyhow!("event without a valid id")))
}

#[async_trait::async_trait]
impl Handler for Reviews {
    async fn handle(&self, tx: &mut PgConnection, message: &Incoming) -> Result<(), HandleError> {
        match message.routing_key.as_str() {
            routing_keys::CURRICULAR_OBSERVED => {
                let e: events::CurricularObserved = message.decode()?;
                let candidacy = id(e.candidacy_id.as_ref().map(|c| c.value.as_str()))?;
                let submission = id(Some(&e.submission_id))?;
                let at = from_proto(e.occurred_at.as_ref()).unwrap_or_else(Utc::now);
                let observations: Vec<Observation> = e
                    .observations
                    .into_iter()
                    .map(|o| Observation {
                        section: o.section,
                        message: o.message,
                    })
                    .collect();
                if reviews::observed(tx, candidacy, submission, e.round, at, &observations).await? {
                    let listed: Vec<(String, String)> = observations
                        .into_iter()
                        .map(|o| (o.section, o.message))
                        .collect();
                    let round = i32::try_from(e.round).unwrap_or(i32::MAX);
                    notify(tx, candidacy, at, |about| {
                        messages::observation(about, submission, round, &listed, &self.link)
                    })
                    .await?;
                }
            }
            routing_keys::CANDIDACY_APPROVED => {
                let e: events::CandidacyApproved = message.decode()?;
                let candidacy = id(e.candidacy_id.as_ref().map(|c| c.value.as_str()))?;
                let at = from_proto(e.occurred_at.as_ref()).unwrap_or_else(Utc::now);
                if reviews::approved(tx, candidacy, e.round, at).await? {
                    let round = i32::try_from(e.round).unwrap_or(i32::MAX);
                    notify(tx, candidacy, at, |about| {
                        messages::approval(about, round, &self.link)
                    })
                    .await?;
                }
            }
            routing_keys::ACCOUNTS_DELIVERED => {
                let e: events::AccountsDelivered = message.decode()?;
                let at = from_proto(e.delivered_at.as_ref()).unwrap_or_else(Utc::now);
                let candidacies: Vec<Uuid> =
                    e.candidacy_ids.iter().filter_map(|c| c.uuid()).collect();
                crate::domain::deadlines::accounts_delivered(tx, &candidacies, at)
                    .await
                    .map_err(|e| HandleError::Transient(anyhow::anyhow!("{e}")))?;
            }
            _ => {}
        }
        Ok(())
    }
}
