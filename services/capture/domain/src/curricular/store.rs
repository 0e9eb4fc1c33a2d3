//! Drafts per person and section, photos, and each account's dashboard.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use conoceles_kit::FieldViolation;
use conoceles_kit::access::{Actor, Role};
use conoceles_kit::error::AppError;
use serde::Serialize;
use sqlx::{PgPool, Row};
use uuid::Uuid;

use super::photo::{self, PhotoError};
use super::sections::{self, Fields, Section};
use super::{Candidacy, PersonRole, RESPONSIBLE_PARTY, check_editable};
use conoceles_kit::CandidacyStatus;

/// A section as last saved.
#[derive(Debug, Clone, Serialize)]
pub struct SavedSection {
    pub fields: Fields,
    pub complete: bool,
    pub saved_at: DateTime<Utc>,
}

/// The saved sections of one person.
pub async fn sections_of(
    pool: &PgPool,
    person_id: Uuid,
) -> sqlx::Result<BTreeMap<Section, SavedSection>> {
    let rows = sqlx::query(
        "SELECT section, fields, complete, saved_at FROM curricular_sections WHERE person_id = $1",
    )
    .bind(person_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let section = Section::from_slug(r.get::<&str, _>("section"))?;
            let fields: serde_json::Value = r.get("fields");
            Some((
                section,
                SavedSection {
                    fields: serde_json::from_value(fields).unwrap_or_default(),
                    complete: r.get("complete"),
                    saved_at: r.get("saved_at"),
                },
            ))
        })
        .collect())
}

/// Validates and saves a section as a draft (also when it has problems, so nothing typed is
/// lost); returns what was stored and the problems. A candidacy not started becomes a draft.
#[tracing::instrument(skip_all, fields(candidacy_id = %candidacy.id, role = ?role, section = section.slug()))]
pub async fn save_section(
    pool: &PgPool,
    actor: &Actor,
    candidacy: &Candidacy,
    role: PersonRole,
    section: Section,
    input: &Fields,
    now: DateTime<Utc>,
) -> Result<(Fields, Vec<FieldViolation>), AppError> {
    check_editable(actor, candidacy, Some(section), now)?;
    let person = candidacy.person(role)?;
    let (stored, violations) = sections::validate(section, &candidacy.bounds, input);
    let mut tx = pool.begin().await?;
    recheck_locked(&mut tx, actor, candidacy, Some(section), now).await?;
    sqlx::query(
        "INSERT INTO curricular_sections (person_id, section, fields, complete, saved_at, saved_by) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (person_id, section) DO UPDATE \
         SET fields = EXCLUDED.fields, complete = EXCLUDED.complete, saved_at = EXCLUDED.saved_at, saved_by = EXCLUDED.saved_by",
    )
    .bind(person.id)
    .bind(section.slug())
    .bind(serde_json::to_value(&stored).map_err(anyhow::Error::from)?)
    .bind(violations.is_empty())
    .bind(now)
    .bind(actor.account_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE candidacies SET status = 'draft', updated_at = $2 WHERE id = $1 AND status = 'not_started'")
        .bind(candidacy.id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((stored, violations))
}

/// Locks the candidacy and checks again, on its current status, that the change is allowed: a
/// submission or an observation racing with a save wins or loses whole.
/// The photo's part of the questionnaire, as observations name it.
pub const PHOTO_PART: &str = "photo";

pub(crate) async fn recheck_locked(
    tx: &mut sqlx::PgConnection,
    actor: &Actor,
    candidacy: &Candidacy,
    section: Option<Section>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    recheck_part_locked(
        tx,
        actor,
        candidacy,
        section.unwrap_or(Section::General).slug(),
        now,
    )
    .await
}

/// [`recheck_locked`] for a part named by its slug.
pub(crate) async fn recheck_part_locked(
    tx: &mut sqlx::PgConnection,
    actor: &Actor,
    candidacy: &Candidacy,
    part: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let row =
        sqlx::query("SELECT status, reopened_sections, correction_reopened_at IS NOT NULL AS reopened FROM candidacies WHERE id = $1 FOR UPDATE")
            .bind(candidacy.id)
            .fetch_one(&mut *tx)
            .await?;
    let status: CandidacyStatus = row.get("status");
    let current = Candidacy {
        correcting: row.get::<bool, _>("reopened") && status == CandidacyStatus::Observed,
        status,
        reopened_sections: row.get("reopened_sections"),
        ..candidacy.clone()
    };
    super::check_part_editable(actor, &current, part, now)
}

/// Only so many photos are decoded at once, so uploads cannot exhaust memory or both cores.
pub static DECODING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Checks and stores a person's photo with its declared date; nothing is stored if any check fails.
#[tracing::instrument(skip_all, fields(candidacy_id = %candidacy.id, role = ?role, bytes = bytes.len()))]
pub async fn save_photo(
    pool: &PgPool,
    actor: &Actor,
    candidacy: &Candidacy,
    role: PersonRole,
    bytes: Vec<u8>,
    taken_on: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    super::check_part_editable(actor, candidacy, PHOTO_PART, now)?;
    let person = candidacy.person(role)?;
    let invalid = |field: &str, message: String| {
        AppError::invalid(vec![FieldViolation::new(field, "invalid", message)])
    };
    let Some(taken_on) = taken_on else {
        return Err(invalid(
            "taken_on",
            "Indique la fecha en que se tomó la fotografía.".into(),
        ));
    };
    photo::check_date(taken_on, now.date_naive()).map_err(|e| invalid("taken_on", e.0))?;
    let max = candidacy.photo_max_bytes;
    let checked = {
        let _permit = DECODING.acquire().await.map_err(anyhow::Error::from)?;
        tokio::task::spawn_blocking(move || photo::check(&bytes, max))
            .await
            .map_err(anyhow::Error::from)?
    }
    .map_err(|PhotoError(message)| invalid("photo", message))?;
    let mut tx = pool.begin().await?;
    recheck_part_locked(&mut tx, actor, candidacy, PHOTO_PART, now).await?;
    sqlx::query(
        "INSERT INTO photos (person_id, media_type, original, public_jpeg, width, height, taken_on, sha256, uploaded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (person_id) DO UPDATE SET \
         media_type = EXCLUDED.media_type, original = EXCLUDED.original, public_jpeg = EXCLUDED.public_jpeg, \
         width = EXCLUDED.width, height = EXCLUDED.height, taken_on = EXCLUDED.taken_on, sha256 = EXCLUDED.sha256, \
         uploaded_at = EXCLUDED.uploaded_at",
    )
    .bind(person.id)
    .bind(checked.media_type)
    .bind(&checked.original)
    .bind(&checked.public_jpeg)
    .bind(checked.width as i32)
    .bind(checked.height as i32)
    .bind(taken_on)
    .bind(&checked.sha256)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE candidacies SET status = 'draft', updated_at = $2 WHERE id = $1 AND status = 'not_started'")
        .bind(candidacy.id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The public derivative of a person's photo (JPEG), if uploaded.
pub async fn photo_bytes(pool: &PgPool, person_id: Uuid) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar("SELECT public_jpeg FROM photos WHERE person_id = $1")
        .bind(person_id)
        .fetch_optional(pool)
        .await
}

/// How far one person's questionnaire is.
#[derive(Debug, Clone, Serialize)]
pub struct PersonProgress {
    pub role: PersonRole,
    pub complete_sections: Vec<Section>,
    pub photo: Option<PhotoInfo>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PhotoInfo {
    pub taken_on: NaiveDate,
    pub sha256: String,
    pub width: i32,
    pub height: i32,
}

impl PersonProgress {
    /// Sections plus the photo.
    pub fn done(&self) -> usize {
        self.complete_sections.len() + usize::from(self.photo.is_some())
    }

    pub const TOTAL: usize = Section::ALL.len() + 1;

    pub fn missing(&self) -> Vec<String> {
        let mut missing: Vec<String> = Section::ALL
            .iter()
            .filter(|s| !self.complete_sections.contains(s))
            .map(|s| s.title().to_string())
            .collect();
        if self.photo.is_none() {
            missing.push("Fotografía".into());
        }
        missing
    }
}

pub async fn progress(pool: &PgPool, candidacy: &Candidacy) -> sqlx::Result<Vec<PersonProgress>> {
    let mut out = Vec::new();
    for person in &candidacy.persons {
        let complete: Vec<String> = sqlx::query_scalar(
            "SELECT section FROM curricular_sections WHERE person_id = $1 AND complete",
        )
        .bind(person.id)
        .fetch_all(pool)
        .await?;
        let photo =
            sqlx::query("SELECT taken_on, sha256, width, height FROM photos WHERE person_id = $1")
                .bind(person.id)
                .fetch_optional(pool)
                .await?
                .map(|r| PhotoInfo {
                    taken_on: r.get("taken_on"),
                    sha256: r.get("sha256"),
                    width: r.get("width"),
                    height: r.get("height"),
                });
        let mut complete_sections: Vec<Section> = complete
            .iter()
            .filter_map(|s| Section::from_slug(s))
            .collect();
        complete_sections.sort();
        out.push(PersonProgress {
            role: person.role,
            complete_sections,
            photo,
        });
    }
    Ok(out)
}

/// One line of a party's or candidate's dashboard.
#[derive(Debug, Clone, Serialize)]
pub struct DashboardRow {
    pub id: Uuid,
    pub office: String,
    pub constituency_code: String,
    pub constituency: String,
    pub postulant: String,
    pub list_position: i32,
    /// For a position of an ayuntamiento's slate: `presidencia`, `sindicatura` or `regiduria`.
    pub slate_role: Option<String>,
    /// `mr` or `rp`.
    pub principle: String,
    pub holder: String,
    pub status: CandidacyStatus,
    #[serde(skip)]
    pub status_label: &'static str,
    /// Sections and photos completed, over all the persons captured.
    pub done: i64,
    pub total: i64,
    pub capture_closes_at: DateTime<Utc>,
}

impl DashboardRow {
    /// The slate this candidacy is a position of, as the party reads it: «Planilla de Morena
    /// en Hermosillo», «Regidurías de representación proporcional de Morena en Hermosillo».
    pub fn slate(&self) -> Option<String> {
        self.slate_role.as_ref()?;
        Some(if self.principle == "rp" {
            format!(
                "Regidurías de representación proporcional de {} en {}",
                self.postulant, self.constituency
            )
        } else {
            format!("Planilla de {} en {}", self.postulant, self.constituency)
        })
    }

    /// What the candidacy runs for: a slate's position as the ballot names it («Sindicatura
    /// 1», «Regiduría 3», «Regiduría RP 2»), a list's place, or the office.
    pub fn seat(&self) -> String {
        match (self.slate_role.as_deref(), self.principle.as_str()) {
            (Some("presidencia"), _) => self.office.clone(),
            (Some("sindicatura"), _) => format!("Sindicatura {}", self.list_position),
            (Some(_), "rp") => format!("Regiduría RP {}", self.list_position),
            (Some(_), _) => format!("Regiduría {}", self.list_position),
            (None, _) if self.list_position > 0 => {
                format!("{} · lugar {}", self.office, self.list_position)
            }
            (None, _) => self.office.clone(),
        }
    }
}

/// The candidacies an account captures (deputies first; then, municipality by municipality,
/// each slate in ballot order followed by the municipality's RP list): a party's (coalition ones it is responsible for
/// included), or a candidate's own. Empty for other roles.
pub async fn dashboard(pool: &PgPool, actor: &Actor) -> sqlx::Result<Vec<DashboardRow>> {
    let (condition, id) = match (actor.role, actor.party_id, actor.candidacy_id) {
        (Role::Party, Some(party), _) => (format!("{RESPONSIBLE_PARTY} = $1"), party),
        (Role::Candidate, _, Some(candidacy)) => ("c.id = $1".to_string(), candidacy),
        _ => return Ok(Vec::new()),
    };
    let rows = sqlx::query(&format!(
        "SELECT c.id, o.name AS office, o.slate_role, o.principle, c.constituency_code, COALESCE(k.name, c.constituency_code) AS constituency, p.name AS postulant, \
                c.list_position, h.full_name AS holder, c.status, COALESCE(c.capture_deadline, e.capture_closes_at) AS capture_closes_at, \
                (SELECT count(*) FROM persons x JOIN curricular_sections s ON s.person_id = x.id \
                   WHERE x.candidacy_id = c.id AND x.active AND s.complete \
                     AND (x.role = 'holder' OR e.alternate_questionnaire)) \
              + (SELECT count(*) FROM persons x JOIN photos f ON f.person_id = x.id \
                   WHERE x.candidacy_id = c.id AND x.active AND (x.role = 'holder' OR e.alternate_questionnaire)) AS done, \
                CASE WHEN e.alternate_questionnaire THEN 2 ELSE 1 END AS persons \
         FROM candidacies c JOIN elections e ON e.id = c.election_id \
         JOIN offices o ON o.election_id = c.election_id AND o.code = c.office_code \
         JOIN postulants p ON p.election_id = c.election_id AND p.code = c.postulant_code \
         LEFT JOIN constituencies k ON k.election_id = c.election_id AND k.kind = o.constituency_kind AND k.code = c.constituency_code \
         LEFT JOIN persons h ON h.candidacy_id = c.id AND h.role = 'holder' AND h.active \
         WHERE {condition} AND c.status <> 'withdrawn' \
         ORDER BY o.slate_role IS NOT NULL, \
                  CASE WHEN o.slate_role IS NOT NULL THEN c.constituency_code END, \
                  o.principle, c.constituency_code, p.name, \
                  CASE o.slate_role WHEN 'presidencia' THEN 0 WHEN 'sindicatura' THEN 1 ELSE 2 END, \
                  o.code, c.list_position"
    ))
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let status: CandidacyStatus = r.get("status");
            DashboardRow {
                id: r.get("id"),
                office: r.get("office"),
                constituency_code: r.get("constituency_code"),
                constituency: r.get("constituency"),
                postulant: r.get("postulant"),
                list_position: r.get("list_position"),
                slate_role: r.get("slate_role"),
                principle: r.get("principle"),
                holder: r.get::<Option<String>, _>("holder").unwrap_or_default(),
                status_label: status.label(),
                status,
                done: r.get("done"),
                total: i64::from(r.get::<i32, _>("persons")) * PersonProgress::TOTAL as i64,
                capture_closes_at: r.get("capture_closes_at"),
            }
        })
        .collect())
}
