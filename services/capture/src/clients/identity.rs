//! The capture front's calls to `identity`: the definition and completion status on its own
//! behalf, the submission on behalf of the logged-in party or candidate. Answers pass through
//! this process only in memory, on their way to `identity`; they are never stored or logged here.

use std::sync::Arc;

use conoceles_identity_questionnaire::Definition;
use conoceles_kit::ServiceName;
use conoceles_kit::access::{Peer, TokenSource, with_bearer};
use conoceles_proto::common::v1 as common;
use conoceles_proto::identity::v1 as pb;
use conoceles_proto::identity::v1::identity_service_client::IdentityServiceClient;
use tonic::transport::Channel;
use uuid::Uuid;

#[derive(Clone)]
pub struct IdentityClient {
    client: IdentityServiceClient<Channel>,
    peer: Peer,
}

impl IdentityClient {
    pub fn new(channel: Channel, tokens: Arc<TokenSource>) -> Self {
        Self {
            client: IdentityServiceClient::new(channel),
            peer: Peer::new(ServiceName::Identity, tokens),
        }
    }

    pub async fn definition(&self, election: Uuid) -> Result<(u32, Definition), tonic::Status> {
        let request = self
            .peer
            .own(pb::GetDefinitionRequest {
                election_id: Some(common::ElectionId::from(election)),
            })
            .await?;
        let response = self
            .client
            .clone()
            .get_definition(request)
            .await?
            .into_inner();
        let definition = Definition::parse(&response.definition_json)
            .map_err(|_| tonic::Status::internal("La definición del cuestionario no es válida."))?;
        Ok((response.version, definition))
    }

    /// Persons of the candidacies whose questionnaire was submitted.
    pub async fn submitted(&self, candidacies: &[Uuid]) -> Result<Vec<Uuid>, tonic::Status> {
        let request = self
            .peer
            .own(pb::GetCompletionStatusRequest {
                candidacy_ids: candidacies.iter().map(common::CandidacyId::from).collect(),
            })
            .await?;
        let response = self
            .client
            .clone()
            .get_completion_status(request)
            .await?
            .into_inner();
        Ok(response
            .statuses
            .into_iter()
            .filter(|s| s.submitted)
            .filter_map(|s| s.person_id.and_then(|p| p.uuid()))
            .collect())
    }

    pub async fn submit(
        &self,
        session: &str,
        request: pb::SubmitQuestionnaireRequest,
    ) -> Result<pb::SubmitQuestionnaireResponse, tonic::Status> {
        let token = self.peer.acting_token(session).await?;
        Ok(self
            .client
            .clone()
            .submit_questionnaire(with_bearer(request, &token))
            .await?
            .into_inner())
    }

    /// The one correction, on behalf of the logged-in admin.
    pub async fn correct(
        &self,
        session: &str,
        request: pb::ApplyCorrectionRequest,
    ) -> Result<pb::ApplyCorrectionResponse, tonic::Status> {
        let token = self.peer.acting_token(session).await?;
        Ok(self
            .client
            .clone()
            .apply_correction(with_bearer(request, &token))
            .await?
            .into_inner())
    }

    /// Releases every identity table under differential privacy, on behalf of the logged-in
    /// administrator (identity spends the election's ρ per release, or refuses).
    pub async fn private_release(
        &self,
        session: &str,
        election: Uuid,
    ) -> Result<pb::LedgerEntry, tonic::Status> {
        let token = self.peer.acting_token(session).await?;
        let response = self
            .client
            .clone()
            .create_private_release(with_bearer(
                pb::CreatePrivateReleaseRequest {
                    election_id: Some(common::ElectionId::from(election)),
                },
                &token,
            ))
            .await?
            .into_inner();
        response
            .entry
            .ok_or_else(|| tonic::Status::internal("identity answered without its ledger line"))
    }

    /// The election's protection and privacy-loss ledger, on capture's own behalf.
    pub async fn ledger(
        &self,
        election: Uuid,
    ) -> Result<pb::GetPrivacyLedgerResponse, tonic::Status> {
        let request = self
            .peer
            .own(pb::GetPrivacyLedgerRequest {
                election_id: Some(common::ElectionId::from(election)),
            })
            .await?;
        Ok(self
            .client
            .clone()
            .get_privacy_ledger(request)
            .await?
            .into_inner())
    }

    /// Keeps the questionnaire's draft in `identity` (sealed there), on behalf of the
    /// logged-in party or candidate.
    pub async fn save_draft(
        &self,
        session: &str,
        candidacy: Uuid,
        person: Uuid,
        draft_json: String,
    ) -> Result<(), tonic::Status> {
        let token = self.peer.acting_token(session).await?;
        self.client
            .clone()
            .save_draft(with_bearer(
                pb::SaveDraftRequest {
                    candidacy_id: Some(common::CandidacyId::from(candidacy)),
                    person_id: Some(common::PersonId::from(person)),
                    draft_json,
                },
                &token,
            ))
            .await?;
        Ok(())
    }

    /// The questionnaire's draft and when it was saved, if there is one.
    pub async fn draft(
        &self,
        session: &str,
        candidacy: Uuid,
        person: Uuid,
    ) -> Result<Option<(String, chrono::DateTime<chrono::Utc>)>, tonic::Status> {
        let token = self.peer.acting_token(session).await?;
        let response = self
            .client
            .clone()
            .get_draft(with_bearer(
                pb::GetDraftRequest {
                    candidacy_id: Some(common::CandidacyId::from(candidacy)),
                    person_id: Some(common::PersonId::from(person)),
                },
                &token,
            ))
            .await?
            .into_inner();
        Ok(response.draft_json.map(|json| {
            (
                json,
                conoceles_kit::proto_time::from_proto(response.saved_at.as_ref())
                    .unwrap_or_else(chrono::Utc::now),
            )
        }))
    }
}
