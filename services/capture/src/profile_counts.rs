//! The curricular profile of the candidates, counted: education level and status (from the
//! saved education section), age band on the day the capture closes, sex and role, by office
//! and postulant. What the statisticians' curricular tables are built from; no person appears.

use conoceles_proto::capture::v1 as pb;
use sqlx::{PgPool, Row};
use uuid::Uuid;

/// Active persons of the candidacies in force (not withdrawn), grouped by their profile.
pub async fn counts(pool: &PgPool, election: Uuid) -> sqlx::Result<Vec<pb::ProfileCount>> {
    let rows = sqlx::query(
        "SELECT c.office_code, c.postulant_code, p.sex, p.role, \
                COALESCE(NULLIF(s.fields->>'level', ''), 'sin_dato') AS level, \
                COALESCE(NULLIF(s.fields->>'status', ''), 'sin_dato') AS status, \
                CASE WHEN a.age < 30 THEN '18-29' WHEN a.age < 40 THEN '30-39' \
                     WHEN a.age < 50 THEN '40-49' WHEN a.age < 60 THEN '50-59' ELSE '60+' END AS band, \
                count(*) AS n \
         FROM candidacies c \
         JOIN elections e ON e.id = c.election_id \
         JOIN persons p ON p.candidacy_id = c.id AND p.active \
         LEFT JOIN curricular_sections s ON s.person_id = p.id AND s.section = 'education' \
         CROSS JOIN LATERAL (SELECT extract(year FROM age(e.capture_closes_at::date, p.birth_date))::int AS age) a \
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
