//! `conoceles.publication.v1.PublicationService`: the unit's commands on the read model —
//! rebuild it from its sources (as `conoceles-publication rebuild` does) and read its status —
//! for `capture` acting for an admin. The public site itself is HTTP.

use conoceles_kit::access::{Policy, Role, Rule};
use conoceles_kit::error::AppError;
use conoceles_kit::proto_time::to_proto;
use conoceles_proto::publication::v1 as pb;
use conoceles_proto::publication::v1::publication_service_server::PublicationService;
use sqlx::PgPool;
use tonic::{Request, Response, Status};

use crate::events::Profiles;

const SERVICE: &str = "conoceles.publication.v1.PublicationService";

pub fn policy() -> Policy {
    let admin = Rule::acting_for(&["capture"], &[Role::Admin]);
    Policy::new().grpc_methods(
        SERVICE,
        &[("RebuildReadModel", admin), ("GetPublicationStatus", admin)],
    )
}

pub struct PublicationApi {
    pub pool: PgPool,
    pub profiles: Profiles,
}

#[tonic::async_trait]
impl PublicationService for PublicationApi {
    async fn rebuild_read_model(
        &self,
        _request: Request<pb::RebuildReadModelRequest>,
    ) -> Result<Response<pb::RebuildReadModelResponse>, Status> {
        let done = crate::rebuild::rebuild(&self.pool, &self.profiles)
            .await
            .map_err(AppError::from)?;
        tracing::info!(
            published = done.published,
            withdrawn = done.withdrawn,
            "read model rebuilt on request"
        );
        Ok(Response::new(pb::RebuildReadModelResponse {
            profiles: done.published as u64,
            finished_at: Some(to_proto(chrono::Utc::now())),
        }))
    }

    async fn get_publication_status(
        &self,
        _request: Request<pb::GetPublicationStatusRequest>,
    ) -> Result<Response<pb::GetPublicationStatusResponse>, Status> {
        let election = crate::model::election(&self.pool)
            .await
            .map_err(AppError::from)?;
        let published = match &election {
            Some(e) => crate::model::count(&self.pool, e.id)
                .await
                .map_err(AppError::from)?,
            None => 0,
        };
        let (head, _) = crate::log::head(&self.pool).await.map_err(AppError::from)?;
        let now = chrono::Utc::now();
        Ok(Response::new(pb::GetPublicationStatusResponse {
            publication_starts_at: election.as_ref().map(|e| to_proto(e.publication_starts_at)),
            open: election.as_ref().is_some_and(|e| e.open(now)),
            published_profiles: published.max(0) as u64,
            chain_head_sha256: head,
        }))
    }
}
