//! The read model: one row per published candidacy, with the public profile as JSON.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

/// Lower case without accents, for accent- and case-insensitive search.
pub use conoceles_kit::text::fold;

#[derive(Debug, Clone, Serialize)]
pub struct Election {
    pub id: Uuid,
    pub name: String,
    pub time_zone: String,
    pub publication_starts_at: DateTime<Utc>,
    pub election_day: NaiveDate,
    /// Where citizens report an error in the published information (empty: not set).
    pub corrections_email: String,
}

impl Election {
    pub fn open(&self, now: DateTime<Utc>) -> bool {
        now >= self.publication_starts_at
    }

    pub fn local(&self, at: DateTime<Utc>) -> String {
        let tz: chrono_tz::Tz = self
            .time_zone
            .parse()
            .unwrap_or(chrono_tz::America::Mexico_City);
        at.with_timezone(&tz)
            .format("%d/%m/%Y %H:%M (%Z)")
            .to_string()
    }
}

/// The election the site shows (the most recent one known).
pub async fn election(pool: &PgPool) -> sqlx::Result<Option<Election>> {
    Ok(
        sqlx::query("SELECT * FROM elections ORDER BY publication_starts_at DESC LIMIT 1")
            .fetch_optional(pool)
            .await?
            .map(|r| Election {
                id: r.get("id"),
                name: r.get("name"),
                time_zone: r.get("time_zone"),
                publication_starts_at: r.get("publication_starts_at"),
                election_day: r.get("election_day"),
                corrections_email: r.get("corrections_email"),
            }),
    )
}

/// Stores (or updates) the election the site shows.
pub async fn upsert_election(conn: &mut PgConnection, e: &Election) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO elections (id, name, time_zone, publication_starts_at, election_day, corrections_email) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, time_zone = EXCLUDED.time_zone, \
         publication_starts_at = EXCLUDED.publication_starts_at, election_day = EXCLUDED.election_day, \
         corrections_email = EXCLUDED.corrections_email",
    )
    .bind(e.id)
    .bind(&e.name)
    .bind(&e.time_zone)
    .bind(e.publication_starts_at)
    .bind(e.election_day)
    .bind(&e.corrections_email)
    .execute(conn)
    .await?;
    Ok(())
}

/// A line of the list.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    pub id: Uuid,
    pub office_code: String,
    pub office: String,
    pub principle: String,
    pub constituency_code: String,
    pub constituency: String,
    pub postulant_code: String,
    pub postulant: String,
    pub list_position: i32,
    /// A position of an ayuntamiento's slate (`presidencia`, `sindicatura`, `regiduria`), or
    /// empty.
    pub slate_role: String,
    pub holder_name: String,
    pub holder_sex: String,
    pub holder_age: i32,
    pub education_level: String,
    pub affirmative_action: String,
    pub corrected_at: Option<DateTime<Utc>>,
}

/// What a slate position is called on the ballot: «Presidencia municipal», «Sindicatura 1»,
/// «Regiduría 3».
pub fn position_label(office: &str, slate_role: &str, position: i32) -> String {
    match slate_role {
        "sindicatura" if position > 0 => format!("Sindicatura {position}"),
        "regiduria" if position > 0 => format!("Regiduría {position}"),
        _ => office.to_string(),
    }
}

impl Listed {
    /// What the candidacy runs for, as people read it: «Sindicatura 1», «Diputación local de
    /// representación proporcional · lugar 2», «Presidencia municipal».
    pub fn seat(&self) -> String {
        match (self.slate_role.as_str(), self.principle.as_str()) {
            ("sindicatura" | "regiduria" | "presidencia", "mr") => {
                position_label(&self.office, &self.slate_role, self.list_position)
            }
            _ if self.list_position > 0 => {
                format!("{} · lugar {}", self.office, self.list_position)
            }
            _ => self.office.clone(),
        }
    }
}

/// The name people read for an affirmative-action code of the registry.
pub fn affirmative_label(code: &str) -> &str {
    match code {
        "indigena" => "Persona indígena",
        "afromexicana" => "Persona afromexicana",
        "discapacidad" => "Persona con discapacidad",
        "diversidad_sexual" => "Diversidad sexual (LGBTTTIQ+)",
        "migrante" => "Persona migrante",
        "joven" => "Persona joven",
        "persona_mayor" => "Persona mayor",
        other => other,
    }
}

impl Listed {
    /// The affirmative action as people read it (empty: none).
    pub fn affirmative(&self) -> &str {
        affirmative_label(&self.affirmative_action)
    }
}

pub(crate) fn listed(r: &sqlx::postgres::PgRow) -> Listed {
    Listed {
        id: r.get("candidacy_id"),
        office_code: r.get("office_code"),
        office: r.get("office"),
        principle: r.get("principle"),
        constituency_code: r.get("constituency_code"),
        constituency: r.get("constituency"),
        postulant_code: r.get("postulant_code"),
        postulant: r.get("postulant"),
        list_position: r.get("list_position"),
        slate_role: r.get("slate_role"),
        holder_name: r.get("holder_name"),
        holder_sex: r.get("holder_sex"),
        holder_age: r.get("holder_age"),
        education_level: r.get("education_level"),
        affirmative_action: r.get("affirmative_action"),
        corrected_at: r.get("corrected_at"),
    }
}

/// The list's filters (DESIGN §11), as query parameters.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct Filters {
    pub cargo: String,
    pub principio: String,
    pub distrito: String,
    pub municipio: String,
    pub postulante: String,
    pub sexo: String,
    pub edad: String,
    pub escolaridad: String,
    pub accion_afirmativa: String,
    pub q: String,
    pub pagina: Page,
}

/// A page number of the list, 1 to [`Page::MAX`] (absent: the first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page(u32);

impl Page {
    pub const MAX: u32 = 1_000_000;

    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for Page {
    fn default() -> Self {
        Page(1)
    }
}

impl<'de> serde::Deserialize<'de> for Page {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let n = u32::deserialize(deserializer)?;
        if (1..=Page::MAX).contains(&n) {
            Ok(Page(n))
        } else {
            Err(serde::de::Error::custom(format!(
                "page {n} is outside 1..={}",
                Page::MAX
            )))
        }
    }
}

pub const PAGE_SIZE: i64 = 50;

/// A published candidacy with its profile and publishable identity information.
#[derive(Debug, Clone, Serialize)]
pub struct Published {
    #[serde(flatten)]
    pub listed: Listed,
    pub profile: Value,
    pub identity: Value,
    pub alternate_identity: Value,
    pub approved_at: DateTime<Utc>,
    /// The alternate as the registry names them, when the profile does not (only the holder
    /// answers the questionnaire).
    #[serde(skip)]
    pub registered_alternate: Option<RegisteredPerson>,
}

/// A person of a candidacy as the registry has them.
#[derive(Debug, Clone)]
pub struct RegisteredPerson {
    pub id: Option<Uuid>,
    pub full_name: String,
    pub sex: String,
}

/// A published profile with the registry's alternate beside it (a macro, so that each query
/// below is one literal).
macro_rules! published_select {
    () => {
        "SELECT p.*, r.alternate_id AS registry_alternate_id, \
         r.alternate_name AS registry_alternate_name, r.alternate_sex AS registry_alternate_sex \
         FROM profiles p LEFT JOIN registry r ON r.candidacy_id = p.candidacy_id"
    };
}

fn published(r: &sqlx::postgres::PgRow) -> Published {
    let profile: Value = r.get("profile");
    let answers_alternate = profile["persons"]
        .as_array()
        .is_some_and(|persons| persons.iter().any(|p| p["role"] == "alternate"));
    let name: Option<String> = r.get("registry_alternate_name");
    Published {
        listed: listed(r),
        identity: r.get("identity"),
        alternate_identity: r.get("alternate_identity"),
        approved_at: r.get("approved_at"),
        registered_alternate: name.filter(|n| !n.is_empty() && !answers_alternate).map(
            |full_name| RegisteredPerson {
                id: r.get("registry_alternate_id"),
                full_name,
                sex: r
                    .get::<Option<String>, _>("registry_alternate_sex")
                    .unwrap_or_default(),
            },
        ),
        profile,
    }
}

pub async fn get(pool: &PgPool, election: Uuid, id: Uuid) -> sqlx::Result<Option<Published>> {
    Ok(sqlx::query(concat!(
        published_select!(),
        " WHERE p.candidacy_id = $1 AND p.election_id = $2 AND p.withdrawn_at IS NULL"
    ))
    .bind(id)
    .bind(election)
    .fetch_optional(pool)
    .await?
    .map(|r| published(&r)))
}

pub async fn photo(pool: &PgPool, person: Uuid) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar(
        "SELECT f.jpeg FROM photos f JOIN profiles p ON p.candidacy_id = f.candidacy_id \
         WHERE f.person_id = $1 AND p.withdrawn_at IS NULL",
    )
    .bind(person)
    .fetch_optional(pool)
    .await
}

/// The holder's photo of a published candidacy (not the alternate's).
pub async fn holder_photo(pool: &PgPool, candidacy: Uuid) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar(
        "SELECT f.jpeg FROM profiles p \
         CROSS JOIN LATERAL jsonb_array_elements(p.profile -> 'persons') AS person \
         JOIN photos f ON f.candidacy_id = p.candidacy_id AND f.person_id::text = person ->> 'person_id' \
         WHERE p.candidacy_id = $1 AND p.withdrawn_at IS NULL \
           AND person ->> 'role' IS DISTINCT FROM 'alternate' \
         LIMIT 1",
    )
    .bind(candidacy)
    .fetch_optional(pool)
    .await
}

/// A published person's document for an own field of the election (while the profile is shown).
pub async fn document(pool: &PgPool, person: Uuid, field: &str) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar(
        "SELECT d.pdf FROM documents d JOIN profiles p ON p.candidacy_id = d.candidacy_id \
         WHERE d.person_id = $1 AND d.field = $2 AND p.withdrawn_at IS NULL",
    )
    .bind(person)
    .bind(field)
    .fetch_optional(pool)
    .await
}

/// Everything published, in the neutral order, one candidacy at a time (open data: a national
/// release never holds every profile in memory).
pub fn stream_all(
    pool: &PgPool,
    election: Uuid,
) -> impl futures::Stream<Item = sqlx::Result<Published>> + '_ {
    use futures::TryStreamExt;
    sqlx::query(concat!(
        published_select!(),
        " WHERE p.election_id = $1 AND p.withdrawn_at IS NULL ORDER BY p.neutral_rank"
    ))
    .bind(election)
    .fetch(pool)
    .map_ok(|r| published(&r))
}

/// How many candidacies are published.
pub async fn count(pool: &PgPool, election: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT count(*) FROM profiles WHERE election_id = $1 AND withdrawn_at IS NULL",
    )
    .bind(election)
    .fetch_one(pool)
    .await
}

pub struct NewProfile<'a> {
    pub candidacy: Uuid,
    pub election: Uuid,
    pub submission: Uuid,
    pub content_sha256: &'a str,
    pub profile: &'a Value,
    pub identity: &'a Value,
    /// The alternate's publishable answers.
    pub alternate_identity: &'a Value,
    pub at: DateTime<Utc>,
}

/// Stores (or replaces) a candidacy's published profile; a second approval stamps "corrected on".
pub async fn upsert(conn: &mut PgConnection, p: &NewProfile<'_>) -> anyhow::Result<()> {
    use base64::Engine;
    let v = p.profile;
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    let persons = v["persons"].as_array().cloned().unwrap_or_default();
    let holder = persons
        .iter()
        .find(|x| x["role"] == "holder")
        .cloned()
        .unwrap_or_default();
    let names: Vec<String> = persons
        .iter()
        .filter_map(|x| x["full_name"].as_str().map(str::to_string))
        .collect();
    let mut stored = v.clone();
    // The hash of the submission the profile shows, as the page, the CSV and the log give it.
    stored["content_sha256"] = Value::String(p.content_sha256.to_string());
    // Photos and documents are kept apart from the profile (served from their own tables).
    let mut documents: Vec<(Uuid, String, Vec<u8>)> = Vec::new();
    for person in stored["persons"].as_array_mut().into_iter().flatten() {
        let person_id = person["person_id"]
            .as_str()
            .and_then(|i| Uuid::parse_str(i).ok());
        if let Some(fields) = person["sections"]["adicional"]["fields"].as_object_mut() {
            for (field, entry) in fields.iter_mut() {
                let Some(o) = entry.as_object_mut() else {
                    continue;
                };
                let pdf = o.remove("document_pdf_base64");
                if let (Some(id), Some(pdf)) = (person_id, pdf.as_ref().and_then(Value::as_str)) {
                    documents.push((
                        id,
                        field.clone(),
                        base64::engine::general_purpose::STANDARD.decode(pdf)?,
                    ));
                    o.insert("has_document".into(), Value::Bool(true));
                }
            }
        }
        if let Some(o) = person.as_object_mut() {
            let has_photo = o.remove("photo_jpeg_base64").is_some_and(|p| !p.is_null());
            o.insert("has_photo".into(), Value::Bool(has_photo));
        }
    }
    sqlx::query(
        "INSERT INTO profiles (candidacy_id, election_id, submission_id, content_sha256, office_code, office, principle, \
         constituency_code, constituency, postulant_code, postulant, list_position, affirmative_action, holder_name, \
         holder_sex, holder_age, education_level, search, neutral_rank, profile, identity, approved_at, alternate_identity, slate_role) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, md5($1::text || $2::text), $19, $20, $21, $22, $23) \
         ON CONFLICT (candidacy_id) DO UPDATE SET submission_id = EXCLUDED.submission_id, \
         content_sha256 = EXCLUDED.content_sha256, office = EXCLUDED.office, constituency = EXCLUDED.constituency, \
         postulant = EXCLUDED.postulant, affirmative_action = EXCLUDED.affirmative_action, holder_name = EXCLUDED.holder_name, \
         holder_sex = EXCLUDED.holder_sex, holder_age = EXCLUDED.holder_age, education_level = EXCLUDED.education_level, \
         search = EXCLUDED.search, profile = EXCLUDED.profile, identity = EXCLUDED.identity, \
         alternate_identity = EXCLUDED.alternate_identity, slate_role = EXCLUDED.slate_role, \
         corrected_at = CASE WHEN profiles.submission_id <> EXCLUDED.submission_id THEN EXCLUDED.approved_at ELSE profiles.corrected_at END, \
         withdrawn_at = NULL",
    )
    .bind(p.candidacy)
    .bind(p.election)
    .bind(p.submission)
    .bind(p.content_sha256)
    .bind(s("office_code"))
    .bind(s("office"))
    .bind(s("principle"))
    .bind(s("constituency_code"))
    .bind(s("constituency"))
    .bind(s("postulant_code"))
    .bind(s("postulant"))
    .bind(v["list_position"].as_i64().unwrap_or(0) as i32)
    .bind(s("affirmative_action"))
    .bind(holder["full_name"].as_str().unwrap_or_default())
    .bind(holder["sex"].as_str().unwrap_or_default())
    .bind(holder["age"].as_i64().unwrap_or(0) as i32)
    .bind(holder["sections"]["education"]["fields"]["level"]["value"].as_str().unwrap_or_default())
    .bind(fold(&names.join(" ")))
    .bind(&stored)
    .bind(p.identity)
    .bind(p.at)
    .bind(p.alternate_identity)
    .bind(s("slate_role"))
    .execute(&mut *conn)
    .await?;
    crate::log::append(conn, p.candidacy, "published", p.content_sha256, p.at).await?;
    // Only the photos of the persons this version shows stay served.
    let shown: Vec<Uuid> = persons
        .iter()
        .filter_map(|x| {
            x["person_id"]
                .as_str()
                .and_then(|i| Uuid::parse_str(i).ok())
        })
        .collect();
    sqlx::query("DELETE FROM photos WHERE candidacy_id = $1 AND NOT (person_id = ANY($2))")
        .bind(p.candidacy)
        .bind(&shown)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM documents WHERE candidacy_id = $1")
        .bind(p.candidacy)
        .execute(&mut *conn)
        .await?;
    for (person, field, pdf) in documents {
        sqlx::query(
            "INSERT INTO documents (person_id, field, candidacy_id, pdf) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (person_id, field) DO UPDATE SET pdf = EXCLUDED.pdf, candidacy_id = EXCLUDED.candidacy_id",
        )
        .bind(person)
        .bind(field)
        .bind(p.candidacy)
        .bind(pdf)
        .execute(&mut *conn)
        .await?;
    }
    for person in &persons {
        let (Some(id), Some(photo)) = (
            person["person_id"]
                .as_str()
                .and_then(|i| Uuid::parse_str(i).ok()),
            person["photo_jpeg_base64"].as_str(),
        ) else {
            continue;
        };
        let jpeg = base64::engine::general_purpose::STANDARD.decode(photo)?;
        sqlx::query(
            "INSERT INTO photos (person_id, candidacy_id, jpeg) VALUES ($1, $2, $3) \
             ON CONFLICT (person_id) DO UPDATE SET jpeg = EXCLUDED.jpeg",
        )
        .bind(id)
        .bind(p.candidacy)
        .bind(jpeg)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
