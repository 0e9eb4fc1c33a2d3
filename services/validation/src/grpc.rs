//! `conoceles.validation.v1.ValidationService`, called by the capture front's back office on
//! behalf of the unit's reviewers.

use chrono::Utc;
use conoceles_kit::access::layer::caller_of;
use conoceles_kit::access::{Policy, Role, Rule};
use conoceles_kit::error::{AppError, FieldViolation};
use conoceles_kit::proto_time::to_proto;
use conoceles_proto::common::v1 as common;
use conoceles_proto::validation::v1 as pb;
use conoceles_proto::validation::v1::validation_service_server::ValidationService;
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::reviews::{self, QueueFilters, Review};

const SERVICE: &str = "conoceles.validation.v1.ValidationService";
const STAFF: &[Role] = &[Role::Reviewer, Role::Admin];

pub fn policy() -> Policy {
    let staff = Rule::acting_for(&["capture"], STAFF);
    Policy::new().grpc_methods(
        SERVICE,
        &[
            ("ListReviewQueue", staff),
            ("GetReview", staff),
            ("Approve", staff),
            ("Observe", staff),
            // The capture front asks on its own behalf behind its staff-only page.
            ("GetCompliance", Rule::services(&["capture", "statistics"])),
        ],
    )
}

pub struct ValidationApi {
    pub pool: PgPool,
    pub upstream: crate::compliance::Upstream,
}

fn submission_id(value: &str) -> Result<Uuid, Status> {
    Uuid::parse_str(value).map_err(|_| {
        AppError::invalid(vec![FieldViolation::new(
            "submission_id",
            "invalid_format",
            "El identificador no es válido.",
        )])
        .into()
    })
}

fn status_of(status: &str) -> common::CandidacyStatus {
    match status {
        "approved" => common::CandidacyStatus::Approved,
        "observed" => common::CandidacyStatus::Observed,
        // The round's person was substituted or the candidacy cancelled: nothing to decide.
        "superseded" => common::CandidacyStatus::Withdrawn,
        _ => common::CandidacyStatus::Submitted,
    }
}

fn item(r: Review) -> pb::ReviewItem {
    pb::ReviewItem {
        submission_id: r.submission_id.to_string(),
        dimensions: Some(common::CandidacyDimensions {
            candidacy_id: Some(common::CandidacyId::from(r.candidacy_id)),
            election_id: Some(common::ElectionId::from(r.election_id)),
            office: r.office,
            principle: if r.principle == "rp" {
                common::Principle::Rp
            } else {
                common::Principle::Mr
            } as i32,
            constituency: r.constituency,
            postulant: r.postulant,
            ..Default::default()
        }),
        round: r.round as u32,
        status: status_of(&r.status) as i32,
        submitted_at: Some(to_proto(r.submitted_at)),
        findings: r
            .findings
            .into_iter()
            .map(|f| pb::Finding {
                section: f.section,
                passed: f.passed,
                reason: f.reason,
            })
            .collect(),
    }
}

fn non_empty(value: &str) -> Option<String> {
    (!value.trim().is_empty()).then(|| value.trim().to_string())
}

#[tonic::async_trait]
impl ValidationService for ValidationApi {
    async fn list_review_queue(
        &self,
        request: Request<pb::ListReviewQueueRequest>,
    ) -> Result<Response<pb::ListReviewQueueResponse>, Status> {
        let r = request.into_inner();
        let status = match common::CandidacyStatus::try_from(r.status)
            .unwrap_or(common::CandidacyStatus::Unspecified)
        {
            common::CandidacyStatus::Approved => Some("approved".to_string()),
            common::CandidacyStatus::Observed => Some("observed".to_string()),
            _ => None,
        };
        let limit = r
            .page
            .map(|p| p.page_size)
            .filter(|n| *n > 0)
            .unwrap_or(100)
            .min(500);
        let items = reviews::queue(
            &self.pool,
            &QueueFilters {
                office: non_empty(&r.office),
                postulant: non_empty(&r.postulant),
                status,
                submitted_before: conoceles_kit::proto_time::from_proto(
                    r.submitted_before.as_ref(),
                ),
            },
            i64::from(limit),
        )
        .await
        .map_err(AppError::from)?;
        Ok(Response::new(pb::ListReviewQueueResponse {
            page: Some(common::PageInfo {
                next_page_token: String::new(),
                total_size: items.len() as u64,
            }),
            items: items.into_iter().map(item).collect(),
        }))
    }

    async fn get_review(
        &self,
        request: Request<pb::GetReviewRequest>,
    ) -> Result<Response<pb::GetReviewResponse>, Status> {
        let id = submission_id(&request.get_ref().submission_id)?;
        let review = reviews::get(&self.pool, id).await?;
        Ok(Response::new(pb::GetReviewResponse {
            item: Some(item(review)),
        }))
    }

    async fn approve(
        &self,
        request: Request<pb::ApproveRequest>,
    ) -> Result<Response<pb::ApproveResponse>, Status> {
        let reviewer = caller_of(&request).actor.map(|a| a.account_id);
        let r = request.into_inner();
        let at = reviews::approve(
            &self.pool,
            submission_id(&r.submission_id)?,
            r.round as i32,
            reviewer,
            Utc::now(),
        )
        .await?;
        Ok(Response::new(pb::ApproveResponse {
            approved_at: Some(to_proto(at)),
        }))
    }

    async fn observe(
        &self,
        request: Request<pb::ObserveRequest>,
    ) -> Result<Response<pb::ObserveResponse>, Status> {
        let reviewer = caller_of(&request).actor.map(|a| a.account_id);
        let r = request.into_inner();
        let observations: Vec<(String, String)> = r
            .observations
            .into_iter()
            .map(|o| (o.section, o.message))
            .collect();
        let at = reviews::observe(
            &self.pool,
            submission_id(&r.submission_id)?,
            r.round as i32,
            &observations,
            reviewer,
            Utc::now(),
        )
        .await?;
        Ok(Response::new(pb::ObserveResponse {
            observed_at: Some(to_proto(at)),
        }))
    }

    async fn get_compliance(
        &self,
        request: Request<pb::GetComplianceRequest>,
    ) -> Result<Response<pb::GetComplianceResponse>, Status> {
        let r = request.into_inner();
        let at = conoceles_kit::proto_time::from_proto(r.at.as_ref()).unwrap_or_else(Utc::now);
        Ok(Response::new(
            self.upstream.compliance(r.election_id, at).await?,
        ))
    }
}
