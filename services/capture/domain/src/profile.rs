//! The public projection of a submitted curricular questionnaire, for `publication`: the
//! candidacy's public data, each person's public fields (never the private email, never the
//! birth date: only the age on election day) and the photo's public derivative.

use base64::Engine;
use chrono::NaiveDate;
use conoceles_kit::error::{AppError, ErrorCode};
use serde_json::{Map, Value, json};
use sqlx::{PgPool, Row};
use uuid::Uuid;

use crate::curricular::{Bounds, Section};

/// Bumped when the shape below changes.
pub const SCHEMA_VERSION: u32 = 1;

/// The profile as JSON and the submission's SHA-256. Without a submission id, the candidacy's
/// latest submission. A submission a substitution left behind is refused (FailedPrecondition).
pub async fn public_profile(
    pool: &PgPool,
    candidacy: Uuid,
    submission: Option<Uuid>,
) -> Result<(Value, String), AppError> {
    let not_found = || AppError::new(ErrorCode::NotFound, "No hay un envío de esa candidatura.");
    let row = sqlx::query(
        "SELECT s.id, s.canonical, s.content_sha256, s.submitted_at, s.superseded_at, c.election_id, c.office_code, o.name AS office, o.slate_role, \
                o.principle, c.constituency_code, COALESCE(k.name, c.constituency_code) AS constituency, \
                c.postulant_code, p.name AS postulant, p.kind AS postulant_kind, c.list_position, c.affirmative_action, \
                e.election_day, e.state_code, o.constituency_kind \
         FROM submissions s JOIN candidacies c ON c.id = s.candidacy_id JOIN elections e ON e.id = c.election_id \
         JOIN offices o ON o.election_id = c.election_id AND o.code = c.office_code \
         JOIN postulants p ON p.election_id = c.election_id AND p.code = c.postulant_code \
         LEFT JOIN constituencies k ON k.election_id = c.election_id AND k.kind = o.constituency_kind AND k.code = c.constituency_code \
         WHERE s.candidacy_id = $1 AND ($2::uuid IS NULL OR s.id = $2) ORDER BY s.round DESC LIMIT 1",
    )
    .bind(candidacy)
    .bind(submission)
    .fetch_optional(pool)
    .await?
    .ok_or_else(not_found)?;
    if row
        .get::<Option<chrono::DateTime<chrono::Utc>>, _>("superseded_at")
        .is_some()
    {
        return Err(AppError::new(
            ErrorCode::FailedPrecondition,
            "Ese envío es de una persona que fue sustituida; no se publica.",
        ));
    }
    let content: Value =
        serde_json::from_str(row.get::<&str, _>("canonical")).map_err(anyhow::Error::from)?;
    let election_day: NaiveDate = row.get("election_day");
    let mut persons = Vec::new();
    for person in content["persons"].as_array().cloned().unwrap_or_default() {
        let id = person["person_id"]
            .as_str()
            .and_then(|p| Uuid::parse_str(p).ok())
            .ok_or_else(not_found)?;
        let p = sqlx::query(
            "SELECT p.sex, p.birth_date, f.public_jpeg FROM persons p LEFT JOIN photos f ON f.person_id = p.id WHERE p.id = $1",
        )
        .bind(id)
        .fetch_one(pool)
        .await?;
        let birth: NaiveDate = p.get("birth_date");
        let mut sections = Map::new();
        for section in Section::ALL {
            let mut fields = Map::new();
            for spec in section
                .fields(&Bounds::default())
                .into_iter()
                .filter(|f| f.public)
            {
                if let Some(v) = person["sections"][section.slug()]
                    .get(spec.name)
                    .and_then(Value::as_str)
                {
                    fields.insert(
                        spec.name.into(),
                        json!({ "label": spec.label, "value": v, "shown": spec.display(v) }),
                    );
                }
            }
            sections.insert(
                section.slug().into(),
                json!({ "title": section.title(), "fields": fields }),
            );
        }
        // The election's own fields the definition made public, as the submission recorded
        // them; a public document travels with its bytes (when they are still the recorded ones).
        if let Some(own) =
            person["sections"][crate::curricular::definition::EXTRA_SECTION].as_object()
        {
            let mut fields = Map::new();
            for (field, e) in own {
                if e["public"] != Value::Bool(true) {
                    continue;
                }
                let value = e["value"].as_str().unwrap_or_default();
                let (shown, document) = match e["kind"].as_str() {
                    Some("commitment") => ("Aceptado".to_string(), None),
                    Some("document") => {
                        let bytes: Option<(Vec<u8>, String)> = sqlx::query_as(
                            "SELECT content, content_sha256 FROM curricular_documents WHERE person_id = $1 AND field = $2",
                        )
                        .bind(id)
                        .bind(field)
                        .fetch_optional(pool)
                        .await?;
                        (
                            "Documento PDF".to_string(),
                            bytes
                                .filter(|(_, sha)| sha == value)
                                .map(|(b, _)| base64::engine::general_purpose::STANDARD.encode(b)),
                        )
                    }
                    _ => (value.to_string(), None),
                };
                let mut entry = json!({ "label": e["label"], "value": value, "shown": shown, "kind": e["kind"] });
                if let Some(document) = document {
                    entry["document_pdf_base64"] = document.into();
                }
                fields.insert(field.clone(), entry);
            }
            sections.insert(
                crate::curricular::definition::EXTRA_SECTION.into(),
                json!({ "title": crate::curricular::definition::EXTRA_TITLE, "fields": fields }),
            );
        }
        let photo: Option<Vec<u8>> = p.get("public_jpeg");
        persons.push(json!({
            "person_id": id.to_string(),
            "role": person["role"],
            "full_name": person["full_name"],
            "sex": p.get::<String, _>("sex"),
            "age": election_day.years_since(birth).unwrap_or(0),
            "sections": sections,
            "photo_jpeg_base64": photo.map(|b| base64::engine::general_purpose::STANDARD.encode(b)),
        }));
    }
    let profile = json!({
        "schema_version": SCHEMA_VERSION,
        "candidacy_id": candidacy.to_string(),
        "election_id": row.get::<Uuid, _>("election_id").to_string(),
        "submission_id": row.get::<Uuid, _>("id").to_string(),
        "office_code": row.get::<String, _>("office_code"),
        "office": row.get::<String, _>("office"),
        // An ayuntamiento slate's position: `presidencia`, `sindicatura` or `regiduria` (with
        // `list_position` its number); absent for other offices.
        "slate_role": row.get::<Option<String>, _>("slate_role"),
        "principle": row.get::<String, _>("principle"),
        "constituency_code": row.get::<String, _>("constituency_code"),
        "constituency": row.get::<String, _>("constituency"),
        "constituency_kind": row.get::<String, _>("constituency_kind"),
        "state_code": row.get::<String, _>("state_code"),
        "state": crate::election::states()
            .into_iter()
            .find(|(code, _)| *code == row.get::<&str, _>("state_code"))
            .map(|(_, name)| name)
            .unwrap_or_default(),
        "postulant_code": row.get::<String, _>("postulant_code"),
        "postulant": row.get::<String, _>("postulant"),
        "postulant_kind": row.get::<String, _>("postulant_kind"),
        "list_position": row.get::<i32, _>("list_position"),
        "affirmative_action": row.get::<String, _>("affirmative_action"),
        "submitted_at": row.get::<chrono::DateTime<chrono::Utc>, _>("submitted_at").to_rfc3339(),
        "persons": persons,
    });
    Ok((profile, row.get("content_sha256")))
}
