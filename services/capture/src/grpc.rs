//! `conoceles.capture.v1.CaptureService`: what the other services may read from capture. The
//! submission content carries the private email for the reviewers; the public projection for
//! publication never does.

use conoceles_kit::access::{Policy, Rule};
use conoceles_kit::error::{AppError, ErrorCode, FieldViolation};
use conoceles_kit::proto_time::to_proto;
use conoceles_proto::capture::v1 as pb;
use conoceles_proto::capture::v1::capture_service_server::CaptureService;
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

const SERVICE: &str = "conoceles.capture.v1.CaptureService";

/// Who may call each method.
pub fn policy() -> Policy {
    let readers = Rule::services(&["validation", "publication", "statistics"]);
    Policy::new().grpc_methods(
        SERVICE,
        &[
            ("GetElection", readers),
            ("ListCandidacies", readers),
            ("GetCandidacy", readers),
            ("GetPublicProfile", Rule::services(&["publication"])),
            ("GetSubmission", Rule::services(&["validation"])),
            (
                "CountByStatus",
                Rule::services(&["validation", "statistics"]),
            ),
            ("ListApproved", Rule::services(&["publication"])),
            ("CountCurricularProfile", Rule::services(&["statistics"])),
            ("CountSubstitutions", Rule::services(&["statistics"])),
        ],
    )
}

/// A request's candidacy id, or the field's error.
fn candidacy_id(id: Option<&conoceles_proto::common::v1::CandidacyId>) -> Result<Uuid, AppError> {
    Uuid::parse_str(id.map(|c| c.value.as_str()).unwrap_or_default()).map_err(|_| {
        AppError::invalid(vec![FieldViolation::new(
            "candidacy_id",
            "invalid_format",
            "El identificador no es válido.",
        )])
    })
}

pub struct CaptureApi {
    pub pool: PgPool,
}

impl CaptureApi {
    /// The election asked for, or the one the back office works on.
    async fn election(
        &self,
        id: Option<conoceles_proto::common::v1::ElectionId>,
    ) -> Result<Uuid, AppError> {
        match id.map(|e| e.value).filter(|v| !v.is_empty()) {
            Some(value) => Uuid::parse_str(&value).map_err(|_| {
                AppError::invalid(vec![FieldViolation::new(
                    "election_id",
                    "invalid_format",
                    "El identificador no es válido.",
                )])
            }),
            None => Ok(crate::domain::election::current(&self.pool)
                .await?
                .ok_or_else(|| AppError::new(ErrorCode::NotFound, "Aún no hay una elección."))?
                .id),
        }
    }
}

#[tonic::async_trait]
impl CaptureService for CaptureApi {
    async fn get_election(
        &self,
        request: Request<pb::GetElectionRequest>,
    ) -> Result<Response<pb::GetElectionResponse>, Status> {
        let election = self.election(request.into_inner().election_id).await?;
        let s = crate::domain::election::settings(&self.pool, election)
            .await
            .map_err(AppError::from)?;
        let (offices, postulants) = crate::domain::election::choices(&self.pool, election)
            .await
            .map_err(AppError::from)?;
        let constituencies = crate::domain::election::constituency_names(&self.pool, election)
            .await
            .map_err(AppError::from)?;
        let names = |rows: Vec<(String, String)>| {
            rows.into_iter()
                .map(|(code, name)| pb::CatalogName { code, name })
                .collect()
        };
        Ok(Response::new(pb::GetElectionResponse {
            postulants: names(postulants),
            offices: names(offices),
            constituencies: names(constituencies),
            election: Some(pb::Election {
                id: Some(conoceles_proto::common::v1::ElectionId::from(s.id)),
                name: s.name,
                state_code: s.state_code,
                time_zone: s.time_zone,
                capture_opens_at: Some(to_proto(s.capture_opens_at)),
                capture_closes_at: Some(to_proto(s.capture_closes_at)),
                publication_starts_at: Some(to_proto(s.publication_starts_at)),
                election_day: s
                    .election_day
                    .and_hms_opt(12, 0, 0)
                    .map(|d| to_proto(d.and_utc())),
                photo_max_bytes: s.photo_max_bytes.max(0) as u32,
                corrections_email: s.corrections_email,
            }),
        }))
    }

    async fn list_approved(
        &self,
        request: Request<pb::ListApprovedRequest>,
    ) -> Result<Response<pb::ListApprovedResponse>, Status> {
        let election = self.election(request.into_inner().election_id).await?;
        let rows = crate::domain::reviews::approved_versions(&self.pool, election)
            .await
            .map_err(AppError::from)?;
        Ok(Response::new(pb::ListApprovedResponse {
            election_id: Some(conoceles_proto::common::v1::ElectionId::from(election)),
            approved: rows
                .into_iter()
                .map(
                    |(candidacy, submission, at, approvals)| pb::ApprovedVersion {
                        candidacy_id: Some(conoceles_proto::common::v1::CandidacyId::from(
                            candidacy,
                        )),
                        submission_id: submission.to_string(),
                        approved_at: Some(to_proto(at)),
                        corrected_at: (approvals > 1).then(|| to_proto(at)),
                    },
                )
                .collect(),
        }))
    }

    async fn list_candidacies(
        &self,
        request: Request<pb::ListCandidaciesRequest>,
    ) -> Result<Response<pb::ListCandidaciesResponse>, Status> {
        let r = request.into_inner();
        let election = self.election(r.election_id).await?;
        let page = r.page.unwrap_or_default();
        let after = match page.page_token.as_str() {
            "" => None,
            token => Some(Uuid::parse_str(token).map_err(|_| {
                AppError::invalid(vec![FieldViolation::new(
                    "page_token",
                    "invalid_format",
                    "El cursor de la página no es válido.",
                )])
            })?),
        };
        let size = if page.page_size == 0 {
            100
        } else {
            page.page_size
        };
        let (candidacies, more) = crate::domain::roster::page(&self.pool, election, after, size)
            .await
            .map_err(AppError::from)?;
        let total = crate::domain::roster::count(&self.pool, election)
            .await
            .map_err(AppError::from)?;
        let next_page_token = if more {
            candidacies
                .last()
                .and_then(|c| c.dimensions.as_ref()?.candidacy_id.as_ref())
                .map(|id| id.value.clone())
                .unwrap_or_default()
        } else {
            String::new()
        };
        Ok(Response::new(pb::ListCandidaciesResponse {
            candidacies,
            page: Some(conoceles_proto::common::v1::PageInfo {
                next_page_token,
                total_size: total.max(0) as u64,
            }),
        }))
    }

    async fn get_candidacy(
        &self,
        request: Request<pb::GetCandidacyRequest>,
    ) -> Result<Response<pb::GetCandidacyResponse>, Status> {
        let id = candidacy_id(request.get_ref().candidacy_id.as_ref())?;
        let candidacy = crate::domain::roster::get(&self.pool, id)
            .await
            .map_err(AppError::from)?
            .ok_or_else(|| AppError::new(ErrorCode::NotFound, "No existe esa candidatura."))?;
        Ok(Response::new(pb::GetCandidacyResponse {
            candidacy: Some(candidacy),
        }))
    }

    async fn get_public_profile(
        &self,
        request: Request<pb::GetPublicProfileRequest>,
    ) -> Result<Response<pb::GetPublicProfileResponse>, Status> {
        let r = request.into_inner();
        let candidacy = candidacy_id(r.candidacy_id.as_ref())?;
        let submission = Uuid::parse_str(&r.submission_id).ok();
        let (profile, sha) =
            crate::domain::profile::public_profile(&self.pool, candidacy, submission).await?;
        Ok(Response::new(pb::GetPublicProfileResponse {
            candidacy_id: r.candidacy_id,
            profile_json: profile.to_string(),
            schema_version: crate::domain::profile::SCHEMA_VERSION,
            content_sha256: sha,
        }))
    }

    async fn get_submission(
        &self,
        request: Request<pb::GetSubmissionRequest>,
    ) -> Result<Response<pb::GetSubmissionResponse>, Status> {
        let id = Uuid::parse_str(&request.get_ref().submission_id).map_err(|_| {
            AppError::invalid(vec![FieldViolation::new(
                "submission_id",
                "invalid_format",
                "El identificador no es válido.",
            )])
        })?;
        let row = crate::domain::reviews::submission_for_review(&self.pool, id)
            .await
            .map_err(AppError::from)?
            .ok_or_else(|| AppError::new(ErrorCode::NotFound, "No existe ese envío."))?;
        let candidacy = row.candidacy_id;
        let mut tx = self.pool.begin().await.map_err(AppError::from)?;
        let (dimensions, _) = crate::domain::candidacies::dimensions(&mut tx, candidacy).await?;
        tx.commit().await.map_err(AppError::from)?;
        let n = |value: i32| value.max(0) as u32;
        Ok(Response::new(pb::GetSubmissionResponse {
            submission_id: id.to_string(),
            candidacy_id: dimensions.candidacy_id.clone(),
            round: row.round as u32,
            content_json: row.canonical,
            content_sha256: row.content_sha256,
            submitted_at: Some(to_proto(row.submitted_at)),
            dimensions: Some(dimensions),
            text_min_chars: n(row.text_min_chars),
            text_max_chars: n(row.text_max_chars),
            proposal_min_chars: n(row.proposal_min_chars),
            proposal_max_chars: n(row.proposal_max_chars),
            holder_name: row.full_name.unwrap_or_default(),
        }))
    }

    async fn count_by_status(
        &self,
        request: Request<pb::CountByStatusRequest>,
    ) -> Result<Response<pb::CountByStatusResponse>, Status> {
        let r = request.into_inner();
        let election = self.election(r.election_id).await?;
        let at =
            conoceles_kit::proto_time::from_proto(r.at.as_ref()).unwrap_or_else(chrono::Utc::now);
        let grouping = crate::domain::progress::Grouping::parse(&r.group_by);
        let rows = crate::domain::progress::counts(&self.pool, election, at, grouping)
            .await
            .map_err(AppError::from)?;
        Ok(Response::new(pb::CountByStatusResponse {
            rows,
            election_id: Some(conoceles_proto::common::v1::ElectionId::from(election)),
            at: Some(to_proto(at)),
        }))
    }

    async fn count_curricular_profile(
        &self,
        request: Request<pb::CountCurricularProfileRequest>,
    ) -> Result<Response<pb::CountCurricularProfileResponse>, Status> {
        let election = self.election(request.into_inner().election_id).await?;
        let rows = crate::domain::profile_counts::counts(&self.pool, election)
            .await
            .map_err(AppError::from)?;
        Ok(Response::new(pb::CountCurricularProfileResponse {
            rows,
            computed_at: Some(to_proto(chrono::Utc::now())),
        }))
    }

    async fn count_substitutions(
        &self,
        request: Request<pb::CountSubstitutionsRequest>,
    ) -> Result<Response<pb::CountSubstitutionsResponse>, Status> {
        let request = request.into_inner();
        let election = self.election(request.election_id).await?;
        let at = conoceles_kit::proto_time::from_proto(request.at.as_ref())
            .unwrap_or_else(chrono::Utc::now);
        let rows = crate::domain::candidacies::substitution_counts(&self.pool, election, at)
            .await
            .map_err(AppError::from)?
            .into_iter()
            .map(|(postulant, office, count)| pb::SubstitutionCount {
                postulant,
                office,
                count: count.max(0) as u64,
            })
            .collect();
        Ok(Response::new(pb::CountSubstitutionsResponse { rows }))
    }
}
