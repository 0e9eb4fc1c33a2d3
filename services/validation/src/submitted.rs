//! The consumer `validation.curricular`: each `curricular.submitted` fetches the submission from
//! `capture` and the identity completion from `identity` (never answers), runs the automatic
//! rules and records the review. Idempotent (inbox); a submission capture does not know is a
//! poison message and goes to the dead-letter queue. A substitution or a cancellation
//! supersedes the candidacy's pending reviews (`reviews::supersede`).

use std::collections::HashSet;

use conoceles_curricular::Bounds;
use conoceles_kit::access::with_bearer;
use conoceles_kit::amqp::{HandleError, Handler, Incoming};
use conoceles_kit::proto_time::from_proto;
use conoceles_proto::capture::v1 as capture;
use conoceles_proto::capture::v1::capture_service_client::CaptureServiceClient;
use conoceles_proto::common::v1 as common;
use conoceles_proto::events::v1 as events;
use conoceles_proto::identity::v1 as identity;
use conoceles_proto::identity::v1::identity_service_client::IdentityServiceClient;
use conoceles_proto::routing_keys;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::reviews::{Review, record};
use crate::rules::check;

pub const CONSUMER: &str = "validation.curricular";
pub const ROUTING_KEYS: [&str; 3] = [
    routing_keys::CURRICULAR_SUBMITTED,
    routing_keys::CANDIDACY_SUBSTITUTED,
    routing_keys::CANDIDACY_CANCELLED,
];

pub struct Submitted {
    pub upstream: crate::compliance::Upstream,
}

fn transient(e: impl std::fmt::Display) -> HandleError {
    HandleError::Transient(anyhow::anyhow!("{e}"))
}

fn permanent(message: &str) -> HandleError {
    HandleError::Permanent(anyhow::anyhow!("{message}"))
}

#[async_trait::async_trait]
impl Handler for Submitted {
    async fn handle(&self, tx: &mut PgConnection, message: &Incoming) -> Result<(), HandleError> {
        let (candidacy, at) = match message.routing_key.as_str() {
            routing_keys::CANDIDACY_SUBSTITUTED => {
                let e: events::CandidacySubstituted = message.decode()?;
                if !e.questionnaire_restarted {
                    // An alternate who answers no questionnaire: the rounds stand.
                    return Ok(());
                }
                (e.candidacy_id, e.occurred_at)
            }
            routing_keys::CANDIDACY_CANCELLED => {
                let e: events::CandidacyCancelled = message.decode()?;
                (e.candidacy_id, e.occurred_at)
            }
            _ => return self.submitted(tx, message.decode()?).await,
        };
        let candidacy = candidacy
            .and_then(|c| c.uuid())
            .ok_or_else(|| permanent("event without a valid candidacy id"))?;
        let at = from_proto(at.as_ref()).unwrap_or_else(chrono::Utc::now);
        crate::reviews::supersede(tx, candidacy, at).await?;
        Ok(())
    }
}

impl Submitted {
    async fn submitted(
        &self,
        tx: &mut PgConnection,
        event: events::CurricularSubmitted,
    ) -> Result<(), HandleError> {
        let token = self
            .upstream
            .tokens
            .service_token("capture")
            .await
            .map_err(transient)?;
        let submission = CaptureServiceClient::new(self.upstream.capture.clone())
            .get_submission(with_bearer(
                capture::GetSubmissionRequest {
                    submission_id: event.submission_id.clone(),
                },
                &token,
            ))
            .await;
        let submission = match submission {
            Ok(s) => s.into_inner(),
            Err(s)
                if matches!(
                    s.code(),
                    tonic::Code::NotFound | tonic::Code::InvalidArgument
                ) =>
            {
                return Err(permanent("capture does not know this submission"));
            }
            Err(s) => return Err(transient(s)),
        };
        let d = submission
            .dimensions
            .clone()
            .ok_or_else(|| permanent("submission without dimensions"))?;
        let candidacy = Uuid::parse_str(
            d.candidacy_id
                .as_ref()
                .map(|c| c.value.as_str())
                .unwrap_or_default(),
        )
        .map_err(|_| permanent("submission without candidacy id"))?;
        let election = Uuid::parse_str(
            d.election_id
                .as_ref()
                .map(|e| e.value.as_str())
                .unwrap_or_default(),
        )
        .map_err(|_| permanent("submission without election id"))?;
        let token = self
            .upstream
            .tokens
            .service_token("identity")
            .await
            .map_err(transient)?;
        let sent: HashSet<Uuid> = IdentityServiceClient::new(self.upstream.identity.clone())
            .get_completion_status(with_bearer(
                identity::GetCompletionStatusRequest {
                    candidacy_ids: vec![common::CandidacyId::from(candidacy)],
                },
                &token,
            ))
            .await
            .map_err(transient)?
            .into_inner()
            .statuses
            .into_iter()
            .filter(|s| s.submitted)
            .filter_map(|s| s.person_id.and_then(|p| p.uuid()))
            .collect();
        let content: serde_json::Value = serde_json::from_str(&submission.content_json)
            .map_err(|_| permanent("submission content is not JSON"))?;
        let submitted_at =
            from_proto(submission.submitted_at.as_ref()).unwrap_or_else(chrono::Utc::now);
        let bounds = Bounds {
            text_min: submission.text_min_chars as usize,
            text_max: submission.text_max_chars as usize,
            proposal_min: submission.proposal_min_chars as usize,
            proposal_max: submission.proposal_max_chars as usize,
        };
        let findings = check(&content, &bounds, submitted_at, &sent);
        let submission_id = Uuid::parse_str(&submission.submission_id)
            .map_err(|_| permanent("bad submission id"))?;
        record(
            tx,
            &Review {
                submission_id,
                candidacy_id: candidacy,
                election_id: election,
                round: submission.round as i32,
                office: d.office.clone(),
                principle: if d.principle == common::Principle::Rp as i32 {
                    "rp"
                } else {
                    "mr"
                }
                .into(),
                constituency: d.constituency.clone(),
                postulant: d.postulant.clone(),
                content_sha256: submission.content_sha256.clone(),
                submitted_at,
                findings,
                status: "pending".into(),
            },
        )
        .await?;
        Ok(())
    }
}
