//! The final report's data annex for the qualitative analysis (INE's methodology reads the
//! candidacies' own words): the public long texts — professional and political trajectory,
//! motivation, proposals, gender agenda — of every live candidacy's latest approved curricular
//! questionnaire, one row per text, by office and postulant, as CSV. Only fields the public
//! profile shows; never the private email, never an identity answer.

use std::collections::HashMap;

use conoceles_curricular::{Bounds, Section};
use conoceles_kit::csv::csv_field;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

/// The sections whose texts the annex carries.
const SECTIONS: [Section; 5] = [
    Section::Professional,
    Section::Political,
    Section::Motivation,
    Section::Proposals,
    Section::Gender,
];

#[derive(Debug, sqlx::FromRow)]
struct Approved {
    office: String,
    postulant: String,
    constituency: String,
    external_id: String,
    canonical: String,
}

/// The live candidacies' latest approved submissions, by office, postulant and registry id.
async fn approved(pool: &PgPool, election: Uuid) -> sqlx::Result<Vec<Approved>> {
    sqlx::query_as(
        "SELECT o.name AS office, s.name AS postulant, COALESCE(k.name, c.constituency_code) AS constituency, \
                c.external_id, x.canonical \
         FROM candidacies c \
         JOIN offices o ON o.election_id = c.election_id AND o.code = c.office_code \
         JOIN postulants s ON s.election_id = c.election_id AND s.code = c.postulant_code \
         LEFT JOIN constituencies k ON k.election_id = c.election_id AND k.kind = o.constituency_kind \
              AND k.code = c.constituency_code \
         JOIN LATERAL (SELECT b.canonical FROM candidacy_history h \
                       JOIN submissions b ON b.candidacy_id = h.candidacy_id \
                            AND b.round = (h.detail->>'round')::int \
                       WHERE h.candidacy_id = c.id AND h.action = 'approved' \
                       ORDER BY h.at DESC, h.id DESC LIMIT 1) x ON TRUE \
         WHERE c.election_id = $1 AND c.status IN ('approved', 'published') \
         ORDER BY o.name, s.name, c.external_id",
    )
    .bind(election)
    .fetch_all(pool)
    .await
}

/// The annex as CSV: `cargo, partido_o_candidatura, demarcacion, registro, persona, calidad,
/// seccion, campo, texto`.
pub async fn csv(pool: &PgPool, election: Uuid) -> sqlx::Result<String> {
    let bounds = Bounds::default();
    // Each public field's section title, label and place in its section, looked up once.
    let labels: HashMap<(&str, &str), (&str, &str, usize)> = SECTIONS
        .iter()
        .flat_map(|section| {
            section
                .fields(&bounds)
                .into_iter()
                .enumerate()
                .filter(|(_, f)| f.public)
                .map(move |(i, f)| ((section.slug(), f.name), (section.title(), f.label, i)))
        })
        .collect();
    let mut out = String::from(
        "cargo,partido_o_candidatura,demarcacion,registro,persona,calidad,seccion,campo,texto\r\n",
    );
    let sexes: HashMap<String, String> = sqlx::query_as(
        "SELECT p.id::text, p.sex FROM persons p JOIN candidacies c ON c.id = p.candidacy_id \
         WHERE c.election_id = $1",
    )
    .bind(election)
    .fetch_all(pool)
    .await?
    .into_iter()
    .collect();
    for row in approved(pool, election).await? {
        let content: Value = serde_json::from_str(&row.canonical).unwrap_or(Value::Null);
        for person in content["persons"].as_array().into_iter().flatten() {
            let sex = person["person_id"]
                .as_str()
                .and_then(|id| sexes.get(id))
                .map(String::as_str);
            let quality = match (person["role"].as_str(), sex) {
                (Some("alternate"), _) => "Suplente",
                (_, Some("mujer")) => "Propietaria",
                (_, Some("hombre")) => "Propietario",
                _ => "Propietaria o propietario",
            };
            for section in SECTIONS {
                let Some(fields) = person["sections"][section.slug()].as_object() else {
                    continue;
                };
                let mut names: Vec<(&String, (&str, &str, usize))> = fields
                    .keys()
                    .filter_map(|n| Some((n, *labels.get(&(section.slug(), n.as_str()))?)))
                    .collect();
                names.sort_by_key(|(_, (_, _, place))| *place);
                for (name, (section_title, label, _)) in names {
                    let text = fields[name].as_str().unwrap_or_default().trim();
                    if text.is_empty() {
                        continue;
                    }
                    out.push_str(&format!(
                        "{},{},{},{},{},{},{},{},{}\r\n",
                        csv_field(&row.office),
                        csv_field(&row.postulant),
                        csv_field(&row.constituency),
                        csv_field(&row.external_id),
                        csv_field(person["full_name"].as_str().unwrap_or_default()),
                        quality,
                        csv_field(section_title),
                        csv_field(label),
                        csv_field(text),
                    ));
                }
            }
        }
    }
    Ok(out)
}
