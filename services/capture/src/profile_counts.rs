//! The curricular profile of the candidates, counted: education level and status (from the
//! saved education section), age band on the day the capture closes (birth dates compared with
//! the band limits, not an age computed per person), sex and role, by office
//! and postulant. What the statisticians' curricular tables are built from; no person appears.

use conoceles_proto::capture::v1 as pb;
use sqlx::{PgPool, Row};
use uuid::Uuid;

/// Active persons of the candidacies in force (not withdrawn), grouped by their profile.
pub async fn counts(pool: &PgPool, election: Uuid) -> sqlx::Result<Vec<pb::ProfileCount>> {
    let rows = sqlx::query(
        "WITH cut AS ( \
             SELECT (capture_closes_at::date - interval '30 years')::date AS c30, \
                    (capture_closes_at::date - interval '40 years')::date AS c40, \
                    (capture_closes_at::date - interval '50 years')::date AS c50, \
                    (capture_closes_at::date - interval '60 years')::date AS c60 \
             FROM elections WHERE id = $1) \
         SELECT c.office_code, c.postulant_code, p.sex, p.role, \
                COALESCE(NULLIF(s.fields->>'level', ''), 'sin_dato') AS level, \
                COALESCE(NULLIF(s.fields->>'status', ''), 'sin_dato') AS status, \
                CASE WHEN p.birth_date > cut.c30 THEN '18-29' WHEN p.birth_date > cut.c40 THEN '30-39' \
                     WHEN p.birth_date > cut.c50 THEN '40-49' WHEN p.birth_date > cut.c60 THEN '50-59' \
                     ELSE '60+' END AS band, \
                count(*) AS n \
         FROM cut, candidacies c \
         JOIN persons p ON p.candidacy_id = c.id AND p.active \
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
