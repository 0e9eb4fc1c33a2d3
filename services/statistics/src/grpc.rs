//! `conoceles.statistics.v1.StatisticsService`: the public subset of the tables, for the
//! citizens' site (`publication`). Statisticians use the HTTP API.

use std::collections::HashMap;

use conoceles_kit::access::{Policy, Rule};
use conoceles_kit::error::{AppError, ErrorCode};
use conoceles_kit::proto_time::{from_proto, to_proto};
use conoceles_proto::statistics::v1 as pb;
use conoceles_proto::statistics::v1::statistics_service_server::StatisticsService;
use tonic::{Request, Response, Status};

use crate::api::{ApiState, compute, identity_tables};
use crate::tables::{self, Table, is_public};

const SERVICE: &str = "conoceles.statistics.v1.StatisticsService";

pub fn policy() -> Policy {
    let site = Rule::services(&["publication"]);
    Policy::new().grpc_methods(
        SERVICE,
        &[
            ("ListTables", site),
            ("GetTable", site),
            ("GetProgressReport", site),
        ],
    )
}

pub struct StatisticsApi {
    pub state: ApiState,
}

fn definition(d: tables::Definition) -> pb::TableDefinition {
    pb::TableDefinition {
        public: is_public(&d.name),
        name: d.name,
        title: d.title,
        description: d.description,
        dimensions: d.dimensions,
    }
}

fn response(t: Table) -> pb::GetTableResponse {
    pb::GetTableResponse {
        cells: t
            .cells
            .into_iter()
            .map(|c| pb::Cell {
                dimensions: c.dimensions.into_iter().collect(),
                count: c.count,
                suppressed: c.suppressed,
            })
            .collect(),
        n: t.n.unwrap_or(0),
        answered: t.answered.unwrap_or(0),
        declined: t.declined.unwrap_or(0),
        cut_off: Some(to_proto(t.cut_off)),
        definition: Some(definition(t.definition)),
    }
}

#[tonic::async_trait]
impl StatisticsService for StatisticsApi {
    async fn list_tables(
        &self,
        _request: Request<pb::ListTablesRequest>,
    ) -> Result<Response<pb::ListTablesResponse>, Status> {
        let (_, names) = identity_tables(&self.state).await?;
        Ok(Response::new(pb::ListTablesResponse {
            tables: tables::catalog(&names)
                .into_iter()
                .filter(|d| is_public(&d.name))
                .map(definition)
                .collect(),
        }))
    }

    async fn get_table(
        &self,
        request: Request<pb::GetTableRequest>,
    ) -> Result<Response<pb::GetTableResponse>, Status> {
        let r = request.into_inner();
        if !is_public(&r.name) {
            return Err(
                AppError::new(ErrorCode::PermissionDenied, "Esa tabla no es pública.").into(),
            );
        }
        let mut query: HashMap<String, String> = r.filters.into_iter().collect();
        if let Some(at) = from_proto(r.at.as_ref()) {
            query.insert("at".into(), at.to_rfc3339());
        }
        Ok(Response::new(response(
            compute(&self.state, &r.name, &query).await?,
        )))
    }

    async fn get_progress_report(
        &self,
        request: Request<pb::GetProgressReportRequest>,
    ) -> Result<Response<pb::GetProgressReportResponse>, Status> {
        let r = request.into_inner();
        let mut query = HashMap::new();
        if let Some(at) = from_proto(r.at.as_ref()) {
            query.insert("at".to_string(), at.to_rfc3339());
        }
        let t = compute(&self.state, "progress.by_postulant", &query).await?;
        let cut_off = Some(to_proto(t.cut_off));
        let bytes = serde_json::to_vec(&t).map_err(|e| AppError::from(anyhow::Error::from(e)))?;
        use sha2::Digest;
        Ok(Response::new(pb::GetProgressReportResponse {
            content_sha256: hex::encode(sha2::Sha256::digest(&bytes)),
            cut_off,
            cells: response(t).cells,
        }))
    }
}
