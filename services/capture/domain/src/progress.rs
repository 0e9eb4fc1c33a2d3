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
    conoceles_kit::CandidacyStatus::parse(status)
        .map_or(common::CandidacyStatus::Unspecified, |s| s.proto())
}

/// Which dimensions the counts keep (the others are left empty); see [`Grouping::parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grouping {
    pub office: bool,
    pub principle: bool,
    pub constituency: bool,
    pub postulant: bool,
    pub holder_sex: bool,
    pub affirmative_action: bool,
}

impl Grouping {
    pub const EVERY: Grouping = Grouping {
        office: true,
        principle: true,
        constituency: true,
        postulant: true,
        holder_sex: true,
        affirmative_action: true,
    };

    /// The request's dimensions; none asked (or only unknown ones): every dimension.
    pub fn parse(group_by: &[i32]) -> Self {
        use pb::CountDimension as D;
        let asked: Vec<D> = group_by
            .iter()
            .filter_map(|d| D::try_from(*d).ok())
            .filter(|d| *d != D::Unspecified)
            .collect();
        if asked.is_empty() {
            return Self::EVERY;
        }
        Self {
            office: asked.contains(&D::Office),
            principle: asked.contains(&D::Principle),
            constituency: asked.contains(&D::Constituency),
            postulant: asked.contains(&D::Postulant),
            holder_sex: asked.contains(&D::HolderSex),
            affirmative_action: asked.contains(&D::AffirmativeAction),
        }
    }
}

/// Candidacies by status and the dimensions of `grouping`, of the candidacies that existed at
/// `at`. A candidacy's status then is its current one unless it changed after `at`; only those
/// are looked up in `status_changes`, so the cost follows the changes since the cut-off rather
/// than the whole history.
pub async fn counts(
    pool: &PgPool,
    election: Uuid,
    at: DateTime<Utc>,
    grouping: Grouping,
) -> sqlx::Result<Vec<pb::StatusCount>> {
    let mut tx = pool.begin().await?;
    // The holder's sex is joined only when asked for (`$7 AND`: the planner drops the join).
    // A national election groups 100,000 rows: in memory (the default 4 MB spills them to disk
    // and sorts), and without JIT compilation (its estimate of the CASE groups makes it compile
    // for longer than the query runs).
    sqlx::query("SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true)")
        .execute(&mut *tx)
        .await?;
    let rows = sqlx::query(
        "WITH changed_since AS MATERIALIZED ( \
             SELECT l.candidacy_id, ( \
                 SELECT s.status FROM status_changes s \
                 WHERE s.candidacy_id = l.candidacy_id AND s.changed_at <= $2 \
                 ORDER BY s.changed_at DESC, s.id DESC LIMIT 1) AS status \
             FROM (SELECT DISTINCT candidacy_id FROM status_changes WHERE changed_at > $2) l), \
         at_cut_off AS ( \
             SELECT c.id, c.office_code, c.constituency_code, c.postulant_code, c.affirmative_action, \
                    CASE WHEN l.candidacy_id IS NULL THEN c.status ELSE l.status END AS status \
             FROM candidacies c LEFT JOIN changed_since l ON l.candidacy_id = c.id \
             WHERE c.election_id = $1), \
         counted AS ( \
             SELECT CASE WHEN $3 THEN a.office_code ELSE '' END AS office_code, \
                    CASE WHEN $4 THEN o.principle ELSE '' END AS principle, \
                    CASE WHEN $5 THEN a.constituency_code ELSE '' END AS constituency_code, \
                    CASE WHEN $6 THEN a.postulant_code ELSE '' END AS postulant_code, \
                    CASE WHEN $7 THEN COALESCE(h.sex, '') ELSE '' END AS sex, \
                    CASE WHEN $8 THEN a.affirmative_action ELSE '' END AS affirmative_action, \
                    a.status, count(*) AS n \
             FROM at_cut_off a \
             JOIN offices o ON o.election_id = $1 AND o.code = a.office_code \
             LEFT JOIN persons h ON $7 AND h.candidacy_id = a.id AND h.role = 'holder' AND h.active \
             WHERE a.status IS NOT NULL \
             GROUP BY 1, 2, 3, 4, 5, 6, 7) \
         SELECT k.*, COALESCE(o.name, '') AS office_name, COALESCE(p.name, '') AS postulant_name \
         FROM counted k \
         LEFT JOIN offices o ON o.election_id = $1 AND o.code = k.office_code \
         LEFT JOIN postulants p ON p.election_id = $1 AND p.code = k.postulant_code",
    )
    .bind(election)
    .bind(at)
    .bind(grouping.office)
    .bind(grouping.principle)
    .bind(grouping.constituency)
    .bind(grouping.postulant)
    .bind(grouping.holder_sex)
    .bind(grouping.affirmative_action)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let principle: String = r.get("principle");
            pb::StatusCount {
                dimensions: Some(common::CandidacyDimensions {
                    candidacy_id: None,
                    election_id: Some(common::ElectionId::from(election)),
                    office: r.get("office_code"),
                    principle: match principle.as_str() {
                        "rp" => common::Principle::Rp,
                        "mr" => common::Principle::Mr,
                        _ => common::Principle::Unspecified,
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
