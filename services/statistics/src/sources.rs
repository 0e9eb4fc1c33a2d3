//! Where the numbers come from: `capture` (candidacies by status as of a cut-off), `validation`
//! (compliance), `identity` (its suppressed aggregate tables and the questionnaire definition).
//! Never a person's answers.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use conoceles_kit::access::TokenSource;
use conoceles_kit::proto_time::to_proto;
use conoceles_proto::capture::v1 as capture;
use conoceles_proto::capture::v1::capture_service_client::CaptureServiceClient;
use conoceles_proto::identity::v1 as identity;
use conoceles_proto::identity::v1::identity_service_client::IdentityServiceClient;
use conoceles_proto::validation::v1 as validation;
use conoceles_proto::validation::v1::validation_service_client::ValidationServiceClient;
use tonic::Status;
use tonic::transport::Channel;

#[derive(Clone)]
pub struct Sources {
    pub capture: Channel,
    pub identity: Channel,
    pub validation: Channel,
    pub tokens: Arc<TokenSource>,
}

const LARGE: usize = 64 * 1024 * 1024;

impl Sources {
    /// Candidacies by status at `at`, counted by `group_by` only (capture groups them).
    pub async fn progress(
        &self,
        at: DateTime<Utc>,
        group_by: Vec<capture::CountDimension>,
    ) -> Result<capture::CountByStatusResponse, Status> {
        let request = self
            .tokens
            .own_request(
                "capture",
                capture::CountByStatusRequest {
                    election_id: None,
                    at: Some(to_proto(at)),
                    group_by: group_by.into_iter().map(|d| d as i32).collect(),
                },
            )
            .await?;
        Ok(CaptureServiceClient::new(self.capture.clone())
            .max_decoding_message_size(LARGE)
            .count_by_status(request)
            .await?
            .into_inner())
    }

    pub async fn compliance(
        &self,
        at: DateTime<Utc>,
    ) -> Result<validation::GetComplianceResponse, Status> {
        let request = self
            .tokens
            .own_request(
                "validation",
                validation::GetComplianceRequest {
                    election_id: None,
                    at: Some(to_proto(at)),
                },
            )
            .await?;
        Ok(ValidationServiceClient::new(self.validation.clone())
            .max_decoding_message_size(LARGE)
            .get_compliance(request)
            .await?
            .into_inner())
    }

    pub async fn curricular_profile(
        &self,
    ) -> Result<capture::CountCurricularProfileResponse, Status> {
        let request = self
            .tokens
            .own_request("capture", capture::CountCurricularProfileRequest::default())
            .await?;
        Ok(CaptureServiceClient::new(self.capture.clone())
            .max_decoding_message_size(LARGE)
            .count_curricular_profile(request)
            .await?
            .into_inner())
    }

    /// Substitutions up to `at`, by postulant and office.
    pub async fn substitutions(
        &self,
        at: DateTime<Utc>,
    ) -> Result<capture::CountSubstitutionsResponse, Status> {
        let request = self
            .tokens
            .own_request(
                "capture",
                capture::CountSubstitutionsRequest {
                    election_id: None,
                    at: Some(to_proto(at)),
                },
            )
            .await?;
        Ok(CaptureServiceClient::new(self.capture.clone())
            .max_decoding_message_size(LARGE)
            .count_substitutions(request)
            .await?
            .into_inner())
    }

    /// The election the back office works on, with its catalogs' names (for reports).
    pub async fn election_with_names(&self) -> Result<capture::GetElectionResponse, Status> {
        let request = self
            .tokens
            .own_request("capture", capture::GetElectionRequest::default())
            .await?;
        Ok(CaptureServiceClient::new(self.capture.clone())
            .max_decoding_message_size(LARGE)
            .get_election(request)
            .await?
            .into_inner())
    }

    /// The election the back office works on (as `capture` reports it).
    pub async fn election(&self) -> Result<String, Status> {
        let request = self
            .tokens
            .own_request("capture", capture::GetElectionRequest::default())
            .await?;
        CaptureServiceClient::new(self.capture.clone())
            .get_election(request)
            .await?
            .into_inner()
            .election
            .and_then(|e| e.id)
            .map(|e| e.value)
            .ok_or_else(|| Status::not_found("Aún no hay una elección."))
    }

    /// The questionnaire definition of the election (to name the identity tables).
    pub async fn definition(&self, election: &str) -> Result<String, Status> {
        let request = self
            .tokens
            .own_request(
                "identity",
                identity::GetDefinitionRequest {
                    election_id: Some(conoceles_proto::common::v1::ElectionId {
                        value: election.to_string(),
                    }),
                },
            )
            .await?;
        Ok(IdentityServiceClient::new(self.identity.clone())
            .get_definition(request)
            .await?
            .into_inner()
            .definition_json)
    }

    pub async fn identity_table(
        &self,
        election: &str,
        table: &str,
        filters: HashMap<String, String>,
        at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<identity::GetAggregateTableResponse, Status> {
        let request = self
            .tokens
            .own_request(
                "identity",
                identity::GetAggregateTableRequest {
                    election_id: Some(conoceles_proto::common::v1::ElectionId {
                        value: election.to_string(),
                    }),
                    table: table.to_string(),
                    filters,
                    at: at.map(conoceles_kit::proto_time::to_proto),
                },
            )
            .await?;
        Ok(IdentityServiceClient::new(self.identity.clone())
            .max_decoding_message_size(LARGE)
            .get_aggregate_table(request)
            .await?
            .into_inner())
    }

    /// The election's protection and privacy-loss ledger.
    pub async fn privacy_ledger(
        &self,
        election: &str,
    ) -> Result<identity::GetPrivacyLedgerResponse, Status> {
        let request = self
            .tokens
            .own_request(
                "identity",
                identity::GetPrivacyLedgerRequest {
                    election_id: Some(conoceles_proto::common::v1::ElectionId {
                        value: election.to_string(),
                    }),
                },
            )
            .await?;
        Ok(IdentityServiceClient::new(self.identity.clone())
            .get_privacy_ledger(request)
            .await?
            .into_inner())
    }
}
