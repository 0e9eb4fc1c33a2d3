//! The back office's calls to `statistics` (the General Council's reports), always on behalf
//! of the logged-in admin or statistician.

use std::sync::Arc;

use conoceles_kit::ServiceName;
use conoceles_kit::access::{Peer, TokenSource};
use conoceles_proto::statistics::v1 as pb;
use conoceles_proto::statistics::v1::statistics_service_client::StatisticsServiceClient;
use tonic::transport::Channel;

#[derive(Clone)]
pub struct StatisticsClient {
    client: StatisticsServiceClient<Channel>,
    peer: Peer,
}

impl StatisticsClient {
    pub fn new(channel: Channel, tokens: Arc<TokenSource>) -> Self {
        Self {
            client: StatisticsServiceClient::new(channel)
                .max_decoding_message_size(32 * 1024 * 1024),
            peer: Peer::new(ServiceName::Statistics, tokens),
        }
    }

    pub async fn create(
        &self,
        session: &str,
        kind: pb::ReportKind,
        at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<pb::ReportSummary, tonic::Status> {
        let request = self
            .peer
            .acting(
                session,
                pb::CreateReportRequest {
                    kind: kind as i32,
                    at: at.map(conoceles_kit::proto_time::to_proto),
                },
            )
            .await?;
        self.client
            .clone()
            .create_report(request)
            .await?
            .into_inner()
            .report
            .ok_or_else(|| tonic::Status::internal("report without summary"))
    }

    pub async fn list(&self, session: &str) -> Result<Vec<pb::ReportSummary>, tonic::Status> {
        let request = self.peer.acting(session, pb::ListReportsRequest {}).await?;
        Ok(self
            .client
            .clone()
            .list_reports(request)
            .await?
            .into_inner()
            .reports)
    }

    pub async fn get(
        &self,
        session: &str,
        id: &str,
        format: pb::ReportFormat,
    ) -> Result<pb::GetReportResponse, tonic::Status> {
        let request = self
            .peer
            .acting(
                session,
                pb::GetReportRequest {
                    id: id.into(),
                    format: format as i32,
                },
            )
            .await?;
        Ok(self.client.clone().get_report(request).await?.into_inner())
    }
}
