//! `conoceles.identity.v1.IdentityService`.

use std::collections::BTreeMap;

use chrono::Utc;
use conoceles_kit::access::layer::caller_of;
use conoceles_kit::error::{AppError, FieldViolation};
use conoceles_kit::proto_time::{from_proto, to_proto};
use conoceles_proto::common::v1 as common;
use conoceles_proto::identity::v1 as pb;
use conoceles_proto::identity::v1::identity_service_server::IdentityService;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::private::Entry;
use crate::protection::Protection;
use crate::store::{Consents, Correction, Identity, Submission};

pub struct IdentityApi {
    pub identity: Identity,
}

/// The candidacy and the person a request names.
fn candidacy_and_person(
    candidacy: Option<&common::CandidacyId>,
    person: Option<&common::PersonId>,
) -> Result<(Uuid, Uuid), Status> {
    Ok((
        id("candidacy_id", candidacy.map(|c| c.value.as_str()))?,
        id("person_id", person.map(|p| p.value.as_str()))?,
    ))
}

fn id(field: &str, value: Option<&str>) -> Result<Uuid, Status> {
    value.and_then(|v| Uuid::parse_str(v).ok()).ok_or_else(|| {
        AppError::invalid(vec![FieldViolation::new(
            field,
            "invalid_format",
            "El identificador no es válido.",
        )])
        .into()
    })
}

#[tonic::async_trait]
impl IdentityService for IdentityApi {
    async fn get_definition(
        &self,
        request: Request<pb::GetDefinitionRequest>,
    ) -> Result<Response<pb::GetDefinitionResponse>, Status> {
        let election = id(
            "election_id",
            request
                .get_ref()
                .election_id
                .as_ref()
                .map(|e| e.value.as_str()),
        )?;
        let (version, definition) = self.identity.definition(election).await?;
        Ok(Response::new(pb::GetDefinitionResponse {
            version: version as u32,
            definition_json: serde_json::to_string(&definition)
                .map_err(|e| AppError::Unexpected(e.into()))?,
        }))
    }

    async fn submit_questionnaire(
        &self,
        request: Request<pb::SubmitQuestionnaireRequest>,
    ) -> Result<Response<pb::SubmitQuestionnaireResponse>, Status> {
        let caller = caller_of(&request);
        let r = request.into_inner();
        let (candidacy, person) =
            candidacy_and_person(r.candidacy_id.as_ref(), r.person_id.as_ref())?;
        let consents = r.consents.unwrap_or_default();
        let (sha, at) = self
            .identity
            .submit(
                &caller,
                Submission {
                    candidacy,
                    person,
                    version: r.definition_version as i32,
                    consents: Consents {
                        processing_at: from_proto(consents.processing_at.as_ref()),
                        publication_at: from_proto(consents.publication_at.as_ref()),
                        statistics_at: from_proto(consents.statistics_at.as_ref()),
                        given_by: crate::store::ConsentEvidence::parse(&consents.given_by),
                    },
                    answers: conoceles_identity_questionnaire::wire::from_proto(r.answers),
                },
                Utc::now(),
            )
            .await?;
        Ok(Response::new(pb::SubmitQuestionnaireResponse {
            receipt_sha256: sha,
            submitted_at: Some(to_proto(at)),
        }))
    }

    async fn save_draft(
        &self,
        request: Request<pb::SaveDraftRequest>,
    ) -> Result<Response<pb::SaveDraftResponse>, Status> {
        let caller = caller_of(&request);
        let r = request.into_inner();
        let (candidacy, person) =
            candidacy_and_person(r.candidacy_id.as_ref(), r.person_id.as_ref())?;
        let at = self
            .identity
            .save_draft(&caller, candidacy, person, &r.draft_json, Utc::now())
            .await?;
        Ok(Response::new(pb::SaveDraftResponse {
            saved_at: Some(to_proto(at)),
        }))
    }

    async fn get_draft(
        &self,
        request: Request<pb::GetDraftRequest>,
    ) -> Result<Response<pb::GetDraftResponse>, Status> {
        let caller = caller_of(&request);
        let r = request.into_inner();
        let (candidacy, person) =
            candidacy_and_person(r.candidacy_id.as_ref(), r.person_id.as_ref())?;
        let draft = self.identity.draft(&caller, candidacy, person).await?;
        Ok(Response::new(match draft {
            Some((json, at)) => pb::GetDraftResponse {
                draft_json: Some(json),
                saved_at: Some(to_proto(at)),
            },
            None => pb::GetDraftResponse::default(),
        }))
    }

    async fn get_completion_status(
        &self,
        request: Request<pb::GetCompletionStatusRequest>,
    ) -> Result<Response<pb::GetCompletionStatusResponse>, Status> {
        let ids = request
            .into_inner()
            .candidacy_ids
            .iter()
            .map(|c| id("candidacy_ids", Some(c.value.as_str())))
            .collect::<Result<Vec<_>, _>>()?;
        let statuses = self.identity.status(&ids).await?;
        Ok(Response::new(pb::GetCompletionStatusResponse {
            statuses: statuses
                .into_iter()
                .map(|(candidacy, person, submitted)| pb::CompletionStatus {
                    candidacy_id: Some(common::CandidacyId::from(candidacy)),
                    person_id: Some(common::PersonId::from(person)),
                    submitted,
                })
                .collect(),
        }))
    }

    async fn count_completion(
        &self,
        request: Request<pb::CountCompletionRequest>,
    ) -> Result<Response<pb::CountCompletionResponse>, Status> {
        let r = request.into_inner();
        let election = election_of(r.election_id.as_ref())?;
        let at =
            conoceles_kit::proto_time::from_proto(r.at.as_ref()).unwrap_or_else(chrono::Utc::now);
        let rows = self.identity.completion_counts(election, at).await?;
        Ok(Response::new(pb::CountCompletionResponse {
            rows: rows
                .into_iter()
                .map(|(postulant, office, submitted)| pb::CompletionCount {
                    postulant,
                    office,
                    submitted,
                })
                .collect(),
        }))
    }

    async fn get_publishable_answers(
        &self,
        request: Request<pb::GetPublishableAnswersRequest>,
    ) -> Result<Response<pb::GetPublishableAnswersResponse>, Status> {
        let caller = caller_of(&request);
        let candidacy = id(
            "candidacy_id",
            request
                .get_ref()
                .candidacy_id
                .as_ref()
                .map(|c| c.value.as_str()),
        )?;
        let person = match request.get_ref().person_id.as_ref() {
            Some(p) if !p.value.is_empty() => Some(id("person_id", Some(p.value.as_str()))?),
            _ => None,
        };
        let (affirmative_action, answers) = self
            .identity
            .publishable(&caller, candidacy, person)
            .await?;
        Ok(Response::new(pb::GetPublishableAnswersResponse {
            affirmative_action,
            answers: conoceles_identity_questionnaire::wire::to_proto(answers),
        }))
    }

    async fn get_aggregate_table(
        &self,
        request: Request<pb::GetAggregateTableRequest>,
    ) -> Result<Response<pb::GetAggregateTableResponse>, Status> {
        let caller = caller_of(&request);
        let r = request.into_inner();
        let election = election_of(r.election_id.as_ref())?;
        let protection = Protection::of(&self.identity.pool, election).await?;
        let filters: BTreeMap<String, String> = r.filters.into_iter().collect();
        let table = self
            .identity
            .aggregate(
                &caller,
                election,
                &r.table,
                &filters,
                from_proto(r.at.as_ref()),
                protection,
            )
            .await?;
        let release = match table.release {
            Some(release) => self.identity.ledger_entry(release).await?,
            None => None,
        };
        Ok(Response::new(pb::GetAggregateTableResponse {
            cells: table
                .cells
                .into_iter()
                .map(|c| pb::AggregateCell {
                    dimensions: c.dimensions.into_iter().collect(),
                    suppressed: c.count.is_none() && !c.coarsened,
                    count: c.count,
                    half_width_90: c.half_width,
                    coarsened: c.coarsened,
                })
                .collect(),
            n: table.n,
            answered: table.answered,
            declined: table.declined,
            cut_off: Some(to_proto(table.cut_off)),
            protection: Some(protection.to_proto()),
            release: release.as_ref().map(entry_to_proto),
            n_half_width_90: table.n_half_width,
        }))
    }

    async fn create_private_release(
        &self,
        request: Request<pb::CreatePrivateReleaseRequest>,
    ) -> Result<Response<pb::CreatePrivateReleaseResponse>, Status> {
        let caller = caller_of(&request);
        let r = request.into_inner();
        let election = election_of(r.election_id.as_ref())?;
        let entry = self
            .identity
            .create_private_release(&caller, election)
            .await?;
        Ok(Response::new(pb::CreatePrivateReleaseResponse {
            entry: Some(entry_to_proto(&entry)),
        }))
    }

    async fn get_privacy_ledger(
        &self,
        request: Request<pb::GetPrivacyLedgerRequest>,
    ) -> Result<Response<pb::GetPrivacyLedgerResponse>, Status> {
        let r = request.into_inner();
        let election = election_of(r.election_id.as_ref())?;
        let protection = Protection::of(&self.identity.pool, election).await?;
        let entries = self.identity.ledger(election).await?;
        let spent = entries.last().map_or(0.0, |e| e.rho_total);
        let rho_remaining = match protection {
            Protection::DifferentialPrivacy(p) => (p.rho_budget - spent).max(0.0),
            Protection::Suppression { .. } => 0.0,
        };
        Ok(Response::new(pb::GetPrivacyLedgerResponse {
            protection: Some(protection.to_proto()),
            entries: entries.iter().map(entry_to_proto).collect(),
            rho_remaining,
            fixed: crate::protection::fixed(&self.identity.pool, election).await?,
        }))
    }

    async fn apply_correction(
        &self,
        request: Request<pb::ApplyCorrectionRequest>,
    ) -> Result<Response<pb::ApplyCorrectionResponse>, Status> {
        let caller = caller_of(&request);
        let r = request.into_inner();
        let (candidacy, person) =
            candidacy_and_person(r.candidacy_id.as_ref(), r.person_id.as_ref())?;
        let at = self
            .identity
            .correct(
                &caller,
                Correction {
                    candidacy,
                    person,
                    reference: r.request_reference,
                    reason: r.reason,
                    answers: conoceles_identity_questionnaire::wire::from_proto(r.answers),
                },
                Utc::now(),
            )
            .await?;
        Ok(Response::new(pb::ApplyCorrectionResponse {
            corrected_at: Some(to_proto(at)),
        }))
    }
}

/// The request's election, or the field's problem.
fn election_of(election: Option<&common::ElectionId>) -> Result<Uuid, Status> {
    id("election_id", election.map(|e| e.value.as_str()))
}

fn entry_to_proto(e: &Entry) -> pb::LedgerEntry {
    pb::LedgerEntry {
        sequence: e.sequence,
        release_id: e.release.to_string(),
        released_at: Some(to_proto(e.released_at)),
        cut_off: Some(to_proto(e.cut_off)),
        families: e.families.clone(),
        rho: e.rho,
        rho_total: e.rho_total,
        epsilon_total: e.epsilon_total,
        delta: e.delta,
        noise_scale: e.noise_scale,
        decision_scale: e.decision_scale,
        detail_threshold: e.detail_threshold.max(0) as u32,
        hash: e.hash.clone(),
    }
}
