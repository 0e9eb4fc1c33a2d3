//! `conoceles.statistics.v1.StatisticsService`: every table for statisticians and admins
//! calling with their session token (their scripts), the public subset for the citizens' site
//! (`publication`), and the General Council's reports for the back office (`capture` acting
//! for an admin or statistician).

use conoceles_kit::access::layer::caller_of;
use conoceles_kit::access::{Caller, Policy, Role, Rule};
use conoceles_kit::error::{AppError, ErrorCode, FieldViolation};
use conoceles_kit::proto_time::{from_proto, to_proto};
use conoceles_proto::statistics::v1 as pb;
use conoceles_proto::statistics::v1::statistics_service_server::StatisticsService;
use tonic::{Request, Response, Status};

use crate::privacy::{Protection, Release};
use crate::report::{self, Kind};
use crate::service::{Statistics, TableQuery, compute, identity_tables, ledger};
use crate::tables::{self, Table, is_public};

const SERVICE: &str = "conoceles.statistics.v1.StatisticsService";

const STATISTICIANS: &[Role] = &[Role::Statistician, Role::Admin];

pub fn policy() -> Policy {
    let site = Rule::services(&["publication"]).or_people(STATISTICIANS);
    let reports = Rule::acting_for(&["capture"], STATISTICIANS).or_people(STATISTICIANS);
    Policy::new().grpc_methods(
        SERVICE,
        &[
            ("ListTables", site),
            ("GetTable", site),
            ("GetProgressReport", site),
            ("CreateReport", reports),
            ("ListReports", reports),
            ("GetReport", reports),
            ("GetPrivacyLedger", site),
        ],
    )
}

/// Whether the caller sees every table (a statistician or admin) or the public subset only.
fn sees_all(caller: &Caller) -> bool {
    caller.role().is_some_and(|r| STATISTICIANS.contains(&r))
}

pub struct StatisticsApi {
    pub state: Statistics,
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
                half_width_90: c.half_width_90.unwrap_or_default(),
                coarsened: c.coarsened,
            })
            .collect(),
        n: t.n,
        answered: t.answered,
        declined: t.declined,
        cut_off: Some(to_proto(t.cut_off)),
        definition: Some(definition(t.definition)),
        protection: t.protection.as_ref().map(Protection::to_proto),
        release: t.release.as_ref().map(Release::to_proto),
        n_half_width_90: t.n_half_width_90.unwrap_or_default(),
    }
}

#[tonic::async_trait]
impl StatisticsService for StatisticsApi {
    async fn list_tables(
        &self,
        request: Request<pb::ListTablesRequest>,
    ) -> Result<Response<pb::ListTablesResponse>, Status> {
        let all = sees_all(&caller_of(&request));
        let (_, names) = identity_tables(&self.state).await?;
        Ok(Response::new(pb::ListTablesResponse {
            tables: tables::catalog(&names)
                .into_iter()
                .filter(|d| all || is_public(&d.name))
                .map(definition)
                .collect(),
        }))
    }

    async fn get_table(
        &self,
        request: Request<pb::GetTableRequest>,
    ) -> Result<Response<pb::GetTableResponse>, Status> {
        let all = sees_all(&caller_of(&request));
        let r = request.into_inner();
        if !all && !is_public(&r.name) {
            return Err(
                AppError::new(ErrorCode::PermissionDenied, "Esa tabla no es pública.").into(),
            );
        }
        let query = TableQuery {
            at: from_proto(r.at.as_ref()).map(|at| at.to_rfc3339()),
            filters: r.filters.into_iter().collect(),
        };
        Ok(Response::new(response(
            compute(&self.state, &r.name, &query).await?,
        )))
    }

    async fn get_progress_report(
        &self,
        request: Request<pb::GetProgressReportRequest>,
    ) -> Result<Response<pb::GetProgressReportResponse>, Status> {
        let r = request.into_inner();
        let kind = Kind::from_proto(r.kind).unwrap_or(Kind::Progress);
        let at = from_proto(r.at.as_ref()).map(|at| at.to_rfc3339());
        let (at, tables, names) = report::tables(&self.state, kind, at.as_deref()).await?;
        let content = report::content(kind, at, &tables, &names)?;
        let bytes =
            serde_json::to_vec(&content).map_err(|e| AppError::from(anyhow::Error::from(e)))?;
        use sha2::Digest;
        let tables: Vec<pb::GetTableResponse> = tables.into_iter().map(response).collect();
        Ok(Response::new(pb::GetProgressReportResponse {
            content_sha256: hex::encode(sha2::Sha256::digest(&bytes)),
            cut_off: Some(to_proto(at)),
            cells: tables.first().map(|t| t.cells.clone()).unwrap_or_default(),
            tables,
            title: kind.title().to_string(),
        }))
    }

    async fn create_report(
        &self,
        request: Request<pb::CreateReportRequest>,
    ) -> Result<Response<pb::CreateReportResponse>, Status> {
        let by = caller_of(&request).actor.map(|a| a.account_id);
        let r = request.into_inner();
        let kind = Kind::from_proto(r.kind).ok_or_else(|| {
            AppError::invalid(vec![FieldViolation::new(
                "kind",
                "required",
                "Elija el tipo de informe.",
            )])
        })?;
        let at = from_proto(r.at.as_ref()).map(|at| at.to_rfc3339());
        let stored = report::create(&self.state, kind, at.as_deref(), by).await?;
        Ok(Response::new(pb::CreateReportResponse {
            report: Some(stored.summary()),
        }))
    }

    async fn list_reports(
        &self,
        _request: Request<pb::ListReportsRequest>,
    ) -> Result<Response<pb::ListReportsResponse>, Status> {
        Ok(Response::new(pb::ListReportsResponse {
            reports: report::list(&self.state.pool)
                .await?
                .iter()
                .map(report::Stored::summary)
                .collect(),
        }))
    }

    async fn get_report(
        &self,
        request: Request<pb::GetReportRequest>,
    ) -> Result<Response<pb::GetReportResponse>, Status> {
        let r = request.into_inner();
        let stored = report::find(&self.state.pool, &r.id).await?;
        let format = pb::ReportFormat::try_from(r.format).unwrap_or(pb::ReportFormat::Json);
        let (content, content_type) = report::render(&stored, format)?;
        Ok(Response::new(pb::GetReportResponse {
            report: Some(stored.summary()),
            content,
            content_type: content_type.into(),
        }))
    }

    async fn get_privacy_ledger(
        &self,
        _request: Request<pb::GetPrivacyLedgerRequest>,
    ) -> Result<Response<pb::GetPrivacyLedgerResponse>, Status> {
        let l = ledger(&self.state).await?;
        Ok(Response::new(pb::GetPrivacyLedgerResponse {
            protection: l.protection.as_ref().map(Protection::to_proto),
            entries: l.releases.iter().map(Release::to_proto).collect(),
            rho_remaining: l.rho_remaining,
        }))
    }
}
