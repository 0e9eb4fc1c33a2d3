//! Compliance (DESIGN §4.5): per postulant and office, the candidacies not started, incomplete,
//! observed and not answered, and without the identity questionnaire, as of a cut-off — what the
//! unit reports to the General Council. Statuses come from `capture` (as of the cut-off) and
//! completion counts from `identity` (never answers).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use conoceles_kit::access::TokenSource;
use conoceles_kit::proto_time::to_proto;
use conoceles_proto::capture::v1 as capture;
use conoceles_proto::capture::v1::capture_service_client::CaptureServiceClient;
use conoceles_proto::common::v1 as common;
use conoceles_proto::identity::v1 as identity;
use conoceles_proto::identity::v1::identity_service_client::IdentityServiceClient;
use conoceles_proto::validation::v1 as pb;
use tonic::Status;
use tonic::transport::Channel;

/// The services compliance reads from, with this service's tokens.
#[derive(Clone)]
pub struct Upstream {
    pub capture: Channel,
    pub identity: Channel,
    pub tokens: Arc<TokenSource>,
}

impl Upstream {
    pub async fn compliance(
        &self,
        election: Option<common::ElectionId>,
        at: DateTime<Utc>,
    ) -> Result<pb::GetComplianceResponse, Status> {
        let request = self
            .tokens
            .own_request(
                "capture",
                capture::CountByStatusRequest {
                    election_id: election,
                    at: Some(to_proto(at)),
                    group_by: [
                        capture::CountDimension::Postulant,
                        capture::CountDimension::Office,
                    ]
                    .map(|d| d as i32)
                    .to_vec(),
                },
            )
            .await?;
        let counts = CaptureServiceClient::new(self.capture.clone())
            .max_decoding_message_size(64 * 1024 * 1024)
            .count_by_status(request)
            .await?
            .into_inner();
        let request = self
            .tokens
            .own_request(
                "identity",
                identity::CountCompletionRequest {
                    election_id: counts.election_id.clone(),
                    at: Some(to_proto(at)),
                },
            )
            .await?;
        let sent = IdentityServiceClient::new(self.identity.clone())
            .count_completion(request)
            .await?
            .into_inner();
        Ok(pb::GetComplianceResponse {
            rows: rows(&counts.rows, &sent.rows),
            election_id: counts.election_id,
            at: Some(to_proto(at)),
        })
    }
}

/// Folds status counts and identity completion into one row per postulant and office.
pub fn rows(
    counts: &[capture::StatusCount],
    sent: &[identity::CompletionCount],
) -> Vec<pb::ComplianceRow> {
    use common::CandidacyStatus as S;
    let mut rows: BTreeMap<(String, String), pb::ComplianceRow> = BTreeMap::new();
    for c in counts {
        let Some(d) = &c.dimensions else { continue };
        let row = rows
            .entry((c.postulant_name.clone(), c.office_name.clone()))
            .or_insert_with(|| pb::ComplianceRow {
                postulant: c.postulant_name.clone(),
                office: c.office_name.clone(),
                postulant_code: d.postulant.clone(),
                office_code: d.office.clone(),
                ..Default::default()
            });
        let status = S::try_from(c.status).unwrap_or(S::Unspecified);
        if status == S::Withdrawn {
            continue;
        }
        row.total += c.count;
        match status {
            S::NotStarted => row.not_started += c.count,
            S::Draft => row.incomplete += c.count,
            S::Observed => row.observed_unanswered += c.count,
            S::Submitted => row.submitted += c.count,
            S::Approved | S::Published => row.approved += c.count,
            _ => {}
        }
    }
    for row in rows.values_mut() {
        let answered: u64 = sent
            .iter()
            .filter(|s| s.postulant == row.postulant_code && s.office == row.office_code)
            .map(|s| s.submitted)
            .sum();
        row.identity_missing = row.total.saturating_sub(answered);
    }
    rows.into_values().filter(|r| r.total > 0).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(
        postulant: &str,
        office: &str,
        status: common::CandidacyStatus,
        n: u64,
    ) -> capture::StatusCount {
        capture::StatusCount {
            dimensions: Some(common::CandidacyDimensions {
                postulant: postulant.into(),
                office: office.into(),
                ..Default::default()
            }),
            status: status as i32,
            count: n,
            office_name: format!("Cargo {office}"),
            postulant_name: format!("Partido {postulant}"),
        }
    }

    #[test]
    fn statuses_fold_by_postulant_and_office_and_withdrawn_ones_do_not_count() {
        use common::CandidacyStatus as S;
        let counts = vec![
            count("PAN", "DMR", S::NotStarted, 3),
            count("PAN", "DMR", S::Draft, 2),
            count("PAN", "DMR", S::Observed, 1),
            count("PAN", "DMR", S::Approved, 4),
            count("PAN", "DMR", S::Withdrawn, 5),
            count("PRI", "DMR", S::Submitted, 2),
        ];
        let sent = vec![identity::CompletionCount {
            postulant: "PAN".into(),
            office: "DMR".into(),
            submitted: 6,
        }];
        let rows = rows(&counts, &sent);
        assert_eq!(rows.len(), 2);
        let pan = &rows[0];
        assert_eq!(
            (
                pan.total,
                pan.not_started,
                pan.incomplete,
                pan.observed_unanswered,
                pan.approved
            ),
            (10, 3, 2, 1, 4)
        );
        assert_eq!(pan.identity_missing, 4);
        assert_eq!(
            (rows[1].total, rows[1].submitted, rows[1].identity_missing),
            (2, 2, 2)
        );
    }
}
