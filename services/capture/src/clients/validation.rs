//! The back office's calls to `validation`, always on behalf of the logged-in reviewer.

use std::sync::Arc;

use conoceles_kit::ServiceName;
use conoceles_kit::access::{Peer, TokenSource};
use conoceles_proto::common::v1 as common;
use conoceles_proto::validation::v1 as pb;
use conoceles_proto::validation::v1::validation_service_client::ValidationServiceClient;
use tonic::transport::Channel;

#[derive(Clone)]
pub struct ValidationClient {
    client: ValidationServiceClient<Channel>,
    peer: Peer,
}

impl ValidationClient {
    pub fn new(channel: Channel, tokens: Arc<TokenSource>) -> Self {
        Self {
            client: ValidationServiceClient::new(channel),
            peer: Peer::new(ServiceName::Validation, tokens),
        }
    }

    /// Compliance by postulant and office as of `at` (the capture front asks on its own
    /// behalf, behind its staff-only pages).
    pub async fn compliance(
        &self,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<pb::GetComplianceResponse, tonic::Status> {
        let request = self
            .peer
            .own(pb::GetComplianceRequest {
                election_id: None,
                at: Some(conoceles_kit::proto_time::to_proto(at)),
            })
            .await?;
        Ok(self
            .client
            .clone()
            .get_compliance(request)
            .await?
            .into_inner())
    }

    pub async fn queue(
        &self,
        session: &str,
        office: &str,
        postulant: &str,
        status: common::CandidacyStatus,
        submitted_before: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Vec<pb::ReviewItem>, tonic::Status> {
        let request = self
            .peer
            .acting(
                session,
                pb::ListReviewQueueRequest {
                    office: office.into(),
                    postulant: postulant.into(),
                    status: status as i32,
                    submitted_before: submitted_before.map(conoceles_kit::proto_time::to_proto),
                    page: Some(common::PageRequest {
                        page_size: 500,
                        page_token: String::new(),
                    }),
                    election_id: None,
                },
            )
            .await?;
        Ok(self
            .client
            .clone()
            .list_review_queue(request)
            .await?
            .into_inner()
            .items)
    }

    pub async fn review(
        &self,
        session: &str,
        submission: &str,
    ) -> Result<pb::ReviewItem, tonic::Status> {
        let request = self
            .peer
            .acting(
                session,
                pb::GetReviewRequest {
                    submission_id: submission.into(),
                },
            )
            .await?;
        self.client
            .clone()
            .get_review(request)
            .await?
            .into_inner()
            .item
            .ok_or_else(|| tonic::Status::not_found("No existe esa revisión."))
    }

    pub async fn approve(
        &self,
        session: &str,
        submission: &str,
        round: u32,
    ) -> Result<(), tonic::Status> {
        let request = self
            .peer
            .acting(
                session,
                pb::ApproveRequest {
                    submission_id: submission.into(),
                    round,
                },
            )
            .await?;
        self.client.clone().approve(request).await?;
        Ok(())
    }

    pub async fn observe(
        &self,
        session: &str,
        submission: &str,
        round: u32,
        observations: Vec<(String, String)>,
    ) -> Result<(), tonic::Status> {
        let request = self
            .peer
            .acting(
                session,
                pb::ObserveRequest {
                    submission_id: submission.into(),
                    round,
                    observations: observations
                        .into_iter()
                        .map(|(section, message)| pb::SectionObservation { section, message })
                        .collect(),
                },
            )
            .await?;
        self.client.clone().observe(request).await?;
        Ok(())
    }
}
