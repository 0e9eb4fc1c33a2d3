//! Capture progress as of any moment: candidacies by status and public dimensions, read from
//! the status changes the database keeps (`status_changes`), so the April and May reports can be
//! asked again later and give the counts of their date, not today's.

use chrono::{DateTime, Utc};
use conoceles_proto::capture::v1 as pb;
use conoceles_proto::common::v1 as common;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::import::sex_proto;

pub fn status_proto(status: &str) -> common::CandidacyStatus {
    match status {
        "not_started" => common::CandidacyStatus::NotStarted,
        "draft" => common::CandidacyStatus::Draft,
        "submitted" => common::CandidacyStatus::Submitted,
        "observed" => common::CandidacyStatus::Observed,
        "approved" => common::CandidacyStatus::Approved,
        "published" => common::CandidacyStatus::Published,
        "withdrawn" => common::CandidacyStatus::Withdrawn,
        _ => common::CandidacyStatus::Unspecified,
    }
}

/// Counts by office, principle, constituency, postulant, holder's sex, affirmative action and
/// status, of the candidacies that existed at `at`.
pub async fn counts(
    pool: &PgPool,
    election: Uuid,
    at: DateTime<Utc>,
) -> sqlx::Result<Vec<pb::StatusCount>> {
    let rows = sqlx::query(
        "WITH last AS ( \
             SELECT DISTINCT ON (s.candidacy_id) s.candidacy_id, s.status FROM status_changes s \
             JOIN candidacies c ON c.id = s.candidacy_id AND c.election_id = $1 \
             WHERE s.changed_at <= $2 ORDER BY s.candidacy_id, s.changed_at DESC, s.id DESC) \
         SELECT c.office_code, o.name AS office_name, o.principle, c.constituency_code, c.postulant_code, \
                p.name AS postulant_name, COALESCE(h.sex, '') AS sex, c.affirmative_action, last.status, count(*) AS n \
         FROM last JOIN candidacies c ON c.id = last.candidacy_id \
         JOIN offices o ON o.election_id = c.election_id AND o.code = c.office_code \
         JOIN postulants p ON p.election_id = c.election_id AND p.code = c.postulant_code \
         LEFT JOIN persons h ON h.candidacy_id = c.id AND h.role = 'holder' AND h.active \
         GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9 ORDER BY 6, 2, 4, 9",
    )
    .bind(election)
    .bind(at)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let principle: String = r.get("principle");
            pb::StatusCount {
                dimensions: Some(common::CandidacyDimensions {
                    candidacy_id: None,
                    election_id: Some(common::ElectionId {
                        value: election.to_string(),
                    }),
                    office: r.get("office_code"),
                    principle: if principle == "rp" {
                        common::Principle::Rp
                    } else {
                        common::Principle::Mr
                    } as i32,
                    constituency: r.get("constituency_code"),
                    postulant: r.get("postulant_code"),
                    holder_sex: sex_proto(r.get::<&str, _>("sex")) as i32,
                    holder_age: 0,
                    affirmative_action: r.get("affirmative_action"),
                }),
                status: status_proto(r.get::<&str, _>("status")) as i32,
                count: r.get::<i64, _>("n").max(0) as u64,
                office_name: r.get("office_name"),
                postulant_name: r.get("postulant_name"),
            }
        })
        .collect())
}
