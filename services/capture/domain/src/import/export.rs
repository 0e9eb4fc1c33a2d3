//! The election's candidacies written back in the import's own format: a file the unit
//! downloads, corrects and imports again (the same rows change nothing).

use conoceles_kit::csv::csv_field;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::parse::{COLUMNS, OPTIONAL_COLUMNS};
use crate::candidacies::Filters;

/// The candidacies that pass `filters`, one row each, with the import's columns (required and
/// optional); a cancelled candidacy says `cancelada`.
pub async fn csv(pool: &PgPool, election: Uuid, filters: &Filters) -> sqlx::Result<String> {
    let [office, constituency, postulant, status] = filters.values();
    let rows = sqlx::query(&format!(
        "SELECT c.external_id, c.office_code, o.principle, c.constituency_code, c.postulant_code, \
                c.list_position, c.affirmative_action, c.approved_on, c.responsible_code, c.status, \
                h.full_name AS h_name, h.sex AS h_sex, h.birth_date AS h_birth, \
                a.full_name AS a_name, a.sex AS a_sex, a.birth_date AS a_birth \
         FROM candidacies c \
         JOIN offices o ON o.election_id = c.election_id AND o.code = c.office_code \
         LEFT JOIN persons h ON h.candidacy_id = c.id AND h.role = 'holder' AND h.active \
         LEFT JOIN persons a ON a.candidacy_id = c.id AND a.role = 'alternate' AND a.active \
         {}",
        Filters::SQL
    ))
    .bind(election)
    .bind(office)
    .bind(constituency)
    .bind(postulant)
    .bind(status)
    .fetch_all(pool)
    .await?;
    let mut out = COLUMNS
        .iter()
        .chain(OPTIONAL_COLUMNS.iter())
        .copied()
        .collect::<Vec<_>>()
        .join(",");
    out.push_str("\r\n");
    for r in rows {
        let date = |column: &str| {
            r.get::<Option<chrono::NaiveDate>, _>(column)
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default()
        };
        let text = |column: &str| r.get::<Option<String>, _>(column).unwrap_or_default();
        let position: i32 = r.get("list_position");
        let status: String = r.get("status");
        // In the order of `COLUMNS`, then `OPTIONAL_COLUMNS`.
        let fields = [
            text("external_id"),
            text("office_code"),
            text("principle"),
            text("constituency_code"),
            text("postulant_code"),
            if position > 0 {
                position.to_string()
            } else {
                String::new()
            },
            text("h_name"),
            text("h_sex"),
            date("h_birth"),
            text("a_name"),
            text("a_sex"),
            date("a_birth"),
            text("affirmative_action"),
            date("approved_on"),
            if status == "withdrawn" {
                "cancelada"
            } else {
                "aprobada"
            }
            .to_string(),
            text("responsible_code"),
        ];
        out.push_str(
            &fields
                .iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
    }
    Ok(out)
}
