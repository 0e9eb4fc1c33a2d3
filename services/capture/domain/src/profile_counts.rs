//! The curricular profile of the candidates, counted: education level and status (from the
//! saved education section), age band on the day the capture closes (birth dates compared with
//! the band limits, not an age computed per person), sex and role, by office
//! and postulant. What the statisticians' curricular tables are built from; no person appears.

use conoceles_proto::capture::v1 as pb;
use sqlx::{PgPool, Row};
use uuid::Uuid;

/// Active persons of the candidacies in force (not withdrawn), grouped by their profile.
///
/// One aggregate over every active person (200,000 at national scale), so it runs as one: in a
/// read-only transaction with room to hash the groups in memory (`work_mem`, instead of spilling
/// the joins to disk) and both cores (a parallel plan: PostgreSQL's default costs keep this
/// query on one). The age band is read from four birth-date limits computed once (a `CASE` over
/// dates, hashed with the other groups; ~1,000 groups), and the groups are put in order here:
/// asked to sort them, the planner expected 200,000 groups and sorted every person instead of
/// hashing them. Measured at national scale: 490 ms before, 170–190 ms (docs/benchmarks.md,
/// "Statistics at national scale").
pub async fn counts(pool: &PgPool, election: Uuid) -> sqlx::Result<Vec<pb::ProfileCount>> {
    let mut tx = pool.begin().await?;
    for setting in [
        "SET TRANSACTION READ ONLY",
        "SET LOCAL work_mem = '64MB'",
        "SET LOCAL parallel_setup_cost = 100",
        "SET LOCAL parallel_tuple_cost = 0.001",
    ] {
        sqlx::query(setting).execute(&mut *tx).await?;
    }
    let rows = sqlx::query(
        "WITH limits AS MATERIALIZED ( \
             SELECT (e.capture_closes_at::date - interval '30 years')::date AS born_after_30, \
                    (e.capture_closes_at::date - interval '40 years')::date AS born_after_40, \
                    (e.capture_closes_at::date - interval '50 years')::date AS born_after_50, \
                    (e.capture_closes_at::date - interval '60 years')::date AS born_after_60 \
             FROM elections e WHERE e.id = $1) \
         SELECT c.office_code, c.postulant_code, p.sex, p.role, \
                COALESCE(NULLIF(s.fields->>'level', ''), 'sin_dato') AS level, \
                COALESCE(NULLIF(s.fields->>'status', ''), 'sin_dato') AS status, \
                CASE WHEN p.birth_date > l.born_after_30 THEN '18-29' \
                     WHEN p.birth_date > l.born_after_40 THEN '30-39' \
                     WHEN p.birth_date > l.born_after_50 THEN '40-49' \
                     WHEN p.birth_date > l.born_after_60 THEN '50-59' \
                     ELSE '60+' END AS band, \
                count(*) AS n \
         FROM candidacies c \
         JOIN persons p ON p.candidacy_id = c.id AND p.active \
         CROSS JOIN limits l \
         LEFT JOIN curricular_sections s ON s.person_id = p.id AND s.section = 'education' \
         WHERE c.election_id = $1 AND c.status <> 'withdrawn' \
         GROUP BY 1, 2, 3, 4, 5, 6, 7",
    )
    .bind(election)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut counts: Vec<pb::ProfileCount> = rows
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
        .collect();
    counts.sort_by(|a, b| {
        (
            &a.office,
            &a.postulant,
            &a.sex,
            &a.role,
            &a.education_level,
            &a.education_status,
            &a.age_band,
        )
            .cmp(&(
                &b.office,
                &b.postulant,
                &b.sex,
                &b.role,
                &b.education_level,
                &b.education_status,
                &b.age_band,
            ))
    });
    Ok(counts)
}
