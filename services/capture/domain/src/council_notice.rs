//! The notice to the General Council at the end of the campaigns ("dar vista al Órgano
//! Superior de Dirección"): every live candidacy whose information is not complete — its
//! curricular questionnaire not approved, or a person's identity questionnaire not sent — by
//! name, party and office. It is stored as produced (canonical JSON) with its SHA-256, so its
//! printout and CSV come out the same every time, like the Council's reports.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use conoceles_kit::CandidacyStatus;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

/// A live candidacy as the notice reads it.
#[derive(Debug, sqlx::FromRow)]
pub struct Live {
    pub id: Uuid,
    pub external_id: String,
    pub holder: Option<String>,
    pub postulant: String,
    pub office: String,
    pub constituency: String,
    pub status: String,
    /// The persons who answer questionnaires (the holder; the alternate when the election asks).
    pub persons: Vec<Uuid>,
}

/// The election's live candidacies, by postulant, office and registry id.
pub async fn live(pool: &PgPool, election: Uuid) -> sqlx::Result<Vec<Live>> {
    sqlx::query_as(
        "SELECT c.id, c.external_id, h.full_name AS holder, s.name AS postulant, o.name AS office, \
                COALESCE(k.name, c.constituency_code) AS constituency, c.status, \
                ARRAY(SELECT p.id FROM persons p WHERE p.candidacy_id = c.id AND p.active \
                      AND (p.role = 'holder' OR e.alternate_questionnaire) ORDER BY p.role DESC) AS persons \
         FROM candidacies c JOIN elections e ON e.id = c.election_id \
         JOIN offices o ON o.election_id = c.election_id AND o.code = c.office_code \
         JOIN postulants s ON s.election_id = c.election_id AND s.code = c.postulant_code \
         LEFT JOIN constituencies k ON k.election_id = c.election_id AND k.kind = o.constituency_kind \
              AND k.code = c.constituency_code \
         LEFT JOIN persons h ON h.candidacy_id = c.id AND h.role = 'holder' AND h.active \
         WHERE c.election_id = $1 AND c.status <> 'withdrawn' \
         ORDER BY s.name, o.name, c.external_id",
    )
    .bind(election)
    .fetch_all(pool)
    .await
}

/// One candidacy of the notice: who, where, and what is missing (in Spanish).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lacking {
    pub registro: String,
    pub persona: String,
    pub postulante: String,
    pub cargo: String,
    pub demarcacion: String,
    pub falta: Vec<String>,
}

/// The notice's content as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    pub eleccion: String,
    pub fin_de_campanas: NaiveDate,
    /// The instant the notice counts at (UTC).
    pub corte: DateTime<Utc>,
    pub candidaturas_vigentes: usize,
    pub sin_informacion_completa: Vec<Lacking>,
}

/// Which live candidacies lack information: a curricular questionnaire not approved (nor
/// published), and each answering person whose identity questionnaire `identity_sent` lacks.
pub fn lacking(live: &[Live], identity_sent: &HashSet<Uuid>) -> Vec<Lacking> {
    live.iter()
        .filter_map(|c| {
            let mut falta = Vec::new();
            let status = CandidacyStatus::parse(&c.status);
            if !status.is_some_and(CandidacyStatus::is_approved) {
                falta.push(format!(
                    "Cuestionario curricular: {}",
                    status.map_or("sin estado", CandidacyStatus::label)
                ));
            }
            falta.extend(identity_unsent(&c.persons, identity_sent));
            (!falta.is_empty()).then(|| Lacking {
                registro: c.external_id.clone(),
                persona: c.holder.clone().unwrap_or_default(),
                postulante: c.postulant.clone(),
                cargo: c.office.clone(),
                demarcacion: c.constituency.clone(),
                falta,
            })
        })
        .collect()
}

/// "Cuestionario de identidad: sin enviar" (with how many of how many persons when the
/// alternate answers too) when one of `persons` has not sent it.
pub fn identity_unsent(persons: &[Uuid], identity_sent: &HashSet<Uuid>) -> Option<String> {
    let unsent = persons
        .iter()
        .filter(|p| !identity_sent.contains(p))
        .count();
    match unsent {
        0 => None,
        1 if persons.len() == 1 => Some("Cuestionario de identidad: sin enviar".into()),
        n => Some(format!(
            "Cuestionario de identidad: sin enviar ({n} de {} personas)",
            persons.len()
        )),
    }
}

/// A stored notice.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Stored {
    pub id: Uuid,
    pub cut_off: DateTime<Utc>,
    pub content: String,
    pub content_sha256: String,
    pub lacking: i32,
    pub produced_at: DateTime<Utc>,
}

impl Stored {
    /// The content as stored (it always parses: only `store` writes it).
    pub fn content(&self) -> Result<Content, serde_json::Error> {
        serde_json::from_str(&self.content)
    }
}

/// Stores the notice as produced, with the SHA-256 of exactly the stored text.
#[tracing::instrument(skip(pool, content), fields(lacking = content.sin_informacion_completa.len()))]
pub async fn store(
    pool: &PgPool,
    election: Uuid,
    content: &Content,
    produced_by: Option<Uuid>,
    now: DateTime<Utc>,
) -> anyhow::Result<Stored> {
    let text = serde_json::to_string(content)?;
    let sha = hex::encode(Sha256::digest(text.as_bytes()));
    let stored = Stored {
        id: Uuid::now_v7(),
        cut_off: content.corte,
        content: text,
        content_sha256: sha,
        lacking: i32::try_from(content.sin_informacion_completa.len()).unwrap_or(i32::MAX),
        produced_at: now,
    };
    sqlx::query(
        "INSERT INTO council_notices (id, election_id, cut_off, content, content_sha256, lacking, produced_at, produced_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(stored.id)
    .bind(election)
    .bind(stored.cut_off)
    .bind(&stored.content)
    .bind(&stored.content_sha256)
    .bind(stored.lacking)
    .bind(stored.produced_at)
    .bind(produced_by)
    .execute(pool)
    .await?;
    Ok(stored)
}

/// The election's notices, newest first.
pub async fn list(pool: &PgPool, election: Uuid) -> sqlx::Result<Vec<Stored>> {
    sqlx::query_as(
        "SELECT id, cut_off, content, content_sha256, lacking, produced_at FROM council_notices \
         WHERE election_id = $1 ORDER BY produced_at DESC",
    )
    .bind(election)
    .fetch_all(pool)
    .await
}

/// One stored notice.
pub async fn get(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<Stored>> {
    sqlx::query_as(
        "SELECT id, cut_off, content, content_sha256, lacking, produced_at FROM council_notices WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(status: &str, persons: Vec<Uuid>) -> Live {
        Live {
            id: Uuid::now_v7(),
            external_id: format!("R-{status}"),
            holder: Some("Ana Pérez".into()),
            postulant: "Partido Verde".into(),
            office: "Diputación MR".into(),
            constituency: "Distrito 08".into(),
            status: status.into(),
            persons,
        }
    }

    #[test]
    fn only_candidacies_missing_something_are_named_with_what_they_miss() {
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let all = [
            live("published", vec![a]),
            live("draft", vec![b]),
            live("approved", vec![c]),
        ];
        let sent: HashSet<Uuid> = [a, b].into_iter().collect();
        let notice = lacking(&all, &sent);
        assert_eq!(notice.len(), 2);
        assert_eq!(notice[0].registro, "R-draft");
        assert_eq!(
            notice[0].falta,
            [format!(
                "Cuestionario curricular: {}",
                CandidacyStatus::Draft.label()
            )]
        );
        assert_eq!(notice[1].falta, ["Cuestionario de identidad: sin enviar"]);
        let pair = [live("approved", vec![a, c])];
        assert_eq!(
            lacking(&pair, &sent)[0].falta,
            ["Cuestionario de identidad: sin enviar (1 de 2 personas)"]
        );
    }
}
