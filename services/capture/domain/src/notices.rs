//! The privacy-notice texts of an election (DESIGN §4.4): a simplified notice shown above the
//! identity questionnaire and the full notice, both written by the electoral body's admin. An
//! election that has not written its own shows the repository's default texts.

use sqlx::PgPool;
use uuid::Uuid;

use conoceles_kit::FieldViolation;

pub const SIMPLIFIED_MAX: usize = 4000;
pub const FULL_MAX: usize = 60000;

/// The texts an election wrote (`None`: it uses the default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notices {
    pub simplified: Option<String>,
    pub full: Option<String>,
}

impl Notices {
    /// Trims both texts (an empty one means "use the default") and checks their lengths.
    pub fn parse(simplified: &str, full: &str) -> Result<Self, Vec<FieldViolation>> {
        let mut problems = Vec::new();
        let mut text = |value: &str, field: &'static str, label: &str, max: usize| {
            let value = value.trim().replace("\r\n", "\n");
            if value.chars().count() > max {
                problems.push(FieldViolation::new(
                    field,
                    "too_long",
                    format!("{label}: hasta {max} caracteres."),
                ));
            }
            (!value.is_empty()).then_some(value)
        };
        let notices = Notices {
            simplified: text(
                simplified,
                "simplificado",
                "Aviso simplificado",
                SIMPLIFIED_MAX,
            ),
            full: text(full, "integral", "Aviso integral", FULL_MAX),
        };
        if problems.is_empty() {
            Ok(notices)
        } else {
            Err(problems)
        }
    }
}

/// Paragraphs of a plain text (separated by blank lines), for pages that show it escaped.
pub fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

pub async fn of(pool: &PgPool, election: Uuid) -> sqlx::Result<Notices> {
    let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT privacy_notice_simplified, privacy_notice_full FROM elections WHERE id = $1",
    )
    .bind(election)
    .fetch_optional(pool)
    .await?;
    Ok(row
        .map(|(simplified, full)| Notices { simplified, full })
        .unwrap_or_default())
}

pub async fn save(pool: &PgPool, election: Uuid, notices: &Notices) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE elections SET privacy_notice_simplified = $2, privacy_notice_full = $3, updated_at = now() \
         WHERE id = $1",
    )
    .bind(election)
    .bind(&notices.simplified)
    .bind(&notices.full)
    .execute(pool)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_texts_mean_the_default_and_long_ones_are_refused() {
        let n = Notices::parse("  ", "Aviso integral.\r\n\r\nSegundo párrafo.").unwrap();
        assert_eq!(n.simplified, None);
        assert_eq!(
            paragraphs(n.full.as_deref().unwrap()),
            ["Aviso integral.", "Segundo párrafo."]
        );
        let long = "á".repeat(SIMPLIFIED_MAX + 1);
        let problems = Notices::parse(&long, "").unwrap_err();
        assert_eq!(problems[0].field, "simplificado");
    }
}
