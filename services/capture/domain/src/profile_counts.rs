//! The curricular profile of the candidates, counted: education level and status (from the
//! saved education section), age band on the day the capture closes (birth dates compared with
//! the band limits, not an age computed per person), sex and role, by office
//! and postulant. What the statisticians' curricular tables are built from; no person appears.

use conoceles_proto::capture::v1 as pb;
use sqlx::{PgPool, Row};
use uuid::Uuid;

/// Active persons of the candidacies in force (not withdrawn), grouped by their profile.
///
/// The age bands are a five-row table of birth-date limits joined by range, not a `CASE`: the
/// planner then knows the band has five values and counts in a hash table (about 1,000 groups
/// at national scale), where a `CASE` expression counts as 200 distinct values and led it to
/// sort all 200,000 persons first (docs/benchmarks.md, section 4).
pub async fn counts(pool: &PgPool, election: Uuid) -> sqlx::Result<Vec<pb::ProfileCount>> {
    let rows = sqlx::query(
        "WITH bands (band, born_after, born_by) AS MATERIALIZED ( \
             SELECT b.band, \
                    COALESCE((e.capture_closes_at::date - make_interval(years => b.older))::date, '-infinity'), \
                    COALESCE((e.capture_closes_at::date - make_interval(years => b.younger))::date, 'infinity') \
             FROM elections e, \
                  (VALUES ('18-29', 30, NULL), ('30-39', 40, 30), ('40-49', 50, 40), \
                          ('50-59', 60, 50), ('60+', NULL, 60)) AS b (band, older, younger) \
             WHERE e.id = $1) \
         SELECT c.office_code, c.postulant_code, p.sex, p.role, \
                COALESCE(NULLIF(s.fields->>'level', ''), 'sin_dato') AS level, \
                COALESCE(NULLIF(s.fields->>'status', ''), 'sin_dato') AS status, \
                b.band, count(*) AS n \
         FROM candidacies c \
         JOIN persons p ON p.candidacy_id = c.id AND p.active \
         JOIN bands b ON p.birth_date > b.born_after AND p.birth_date <= b.born_by \
         LEFT JOIN curricular_sections s ON s.person_id = p.id AND s.section = 'education' \
         WHERE c.election_id = $1 AND c.status <> 'withdrawn' \
         GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7",
    )
    .bind(election)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| pb::ProfileCount {
            office: r.get("office_code"),
            postulant: r.get("postulant_code"),
            sex: r.get("sex"),
            role: r.get("role"),
            education_level: r.get("level"),
            education_status: r.get("status"),
            age_band: r.get("band"),
            count: r.get::<i64, _>("n").max(0) as u64,
        })
        .collect())
}
