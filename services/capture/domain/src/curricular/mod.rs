//! The curricular questionnaire (DESIGN §4.4, §6): who may capture which candidacy, drafts per
//! person and section, photos, the final submission and its receipt.

pub mod bulk;
pub mod extra;
pub mod photo;

/// The sections and field rules, shared with `validation`.
pub use conoceles_curricular::{definition, fields, sections};
mod store;
mod submit;

use chrono::{DateTime, Utc};
use conoceles_kit::CandidacyStatus;
use conoceles_kit::access::{Actor, Role};
use conoceles_kit::error::{AppError, ErrorCode};
use serde::Serialize;
use sqlx::{PgPool, Row};
use uuid::Uuid;

pub use sections::{Bounds, Fields, Section};
pub use store::DECODING;
pub use store::{
    DashboardRow, PersonProgress, SavedSection, dashboard, photo_bytes, progress, save_photo,
    save_section, sections_of,
};
pub use submit::{Attempt, Receipt, attempts, canonical_json, receipt, receipts_of, submit};

/// `holder` (propietario/a) or `alternate` (suplente).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonRole {
    Holder,
    Alternate,
}

impl PersonRole {
    /// The role by its code, or by its segment in the front's addresses (`titular`, `suplente`).
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "holder" | "titular" => Some(PersonRole::Holder),
            "alternate" | "suplente" => Some(PersonRole::Alternate),
            _ => None,
        }
    }

    /// The role in the front's addresses, in Spanish.
    pub fn segment(self) -> &'static str {
        match self {
            PersonRole::Holder => "titular",
            PersonRole::Alternate => "suplente",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PersonRole::Holder => "holder",
            PersonRole::Alternate => "alternate",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            PersonRole::Holder => "Propietaria o propietario",
            PersonRole::Alternate => "Suplente",
        }
    }

    /// The label agreeing with the person's sex (`mujer`, `hombre`, `no_binario`).
    pub fn label_for(self, sex: &str) -> &'static str {
        match (self, sex) {
            (PersonRole::Alternate, _) => "Suplente",
            (PersonRole::Holder, "mujer") => "Propietaria",
            (PersonRole::Holder, "hombre") => "Propietario",
            (PersonRole::Holder, "no_binario") => "Persona propietaria",
            (PersonRole::Holder, _) => "Propietaria o propietario",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Person {
    pub id: Uuid,
    pub role: PersonRole,
    pub full_name: String,
    pub sex: String,
}

/// A candidacy as the capture front sees it, loaded for one actor who may see it.
#[derive(Debug, Clone, Serialize)]
pub struct Candidacy {
    pub id: Uuid,
    pub election_id: Uuid,
    pub election_name: String,
    pub office: String,
    pub principle: String,
    pub constituency: String,
    pub postulant: String,
    pub list_position: i32,
    pub affirmative_action: String,
    /// An independent candidacy (no party): its identity questionnaire needs the signed
    /// express-consent form.
    pub independent: bool,
    pub status: CandidacyStatus,
    pub reopened_sections: Vec<String>,
    /// Reopened after publication for the one correction and not yet sent again: it may be
    /// edited and sent after the capture window.
    pub correcting: bool,
    #[serde(skip)]
    pub responsible_party_id: Option<Uuid>,
    /// The persons whose questionnaire is captured: the holder, and the alternate where the
    /// election asks for it.
    pub persons: Vec<Person>,
    pub capture_opens_at: DateTime<Utc>,
    /// This candidacy's own deadline (the election's window unless the rule, a substitution,
    /// a late registration or an extension gave it another).
    pub capture_closes_at: DateTime<Utc>,
    pub time_zone: String,
    pub bounds: Bounds,
    pub photo_max_bytes: usize,
}

impl Candidacy {
    /// What the person in `role` is called, agreeing with their sex («Propietaria»).
    pub fn role_label(&self, role: PersonRole) -> &'static str {
        let sex = self
            .persons
            .iter()
            .find(|p| p.role == role)
            .map_or("", |p| p.sex.as_str());
        role.label_for(sex)
    }

    pub fn person(&self, role: PersonRole) -> Result<&Person, AppError> {
        self.persons.iter().find(|p| p.role == role).ok_or_else(|| {
            AppError::new(
                ErrorCode::NotFound,
                "Esta candidatura no captura el cuestionario de esa persona.",
            )
        })
    }

    /// Whether the section can be edited now (by status; the window is checked apart).
    pub fn section_open(&self, section: Section) -> bool {
        self.part_open(section.slug())
    }

    /// Whether a part of the questionnaire (a section's slug, or `adicional` for the election's
    /// own fields) can be changed now: before sending, or when the observations reopened it.
    pub fn part_open(&self, part: &str) -> bool {
        match self.status {
            CandidacyStatus::NotStarted | CandidacyStatus::Draft => true,
            // An observed photo reopens the photo alone; observations sent before the photo was
            // its own part reopened it with the general data.
            CandidacyStatus::Observed => {
                self.reopened_sections.is_empty()
                    || self
                        .reopened_sections
                        .iter()
                        .any(|s| s == part || (part == "photo" && s == "general"))
            }
            _ => false,
        }
    }

    /// Whether the photo can be replaced now.
    pub fn photo_open(&self) -> bool {
        self.part_open("photo")
    }

    pub fn window_open(&self, now: DateTime<Utc>) -> bool {
        self.capture_opens_at <= now && now < self.capture_closes_at
    }

    /// The identity questionnaire is answered within the candidacy's own capture period (it
    /// has no observation rounds: a correction of the curricular one does not reopen it).
    pub fn check_identity_window(&self, now: DateTime<Utc>) -> Result<(), AppError> {
        if now < self.capture_opens_at {
            return Err(AppError::new(
                ErrorCode::FailedPrecondition,
                format!(
                    "El periodo de captura comienza el {}; el cuestionario de identidad se responde a partir de entonces.",
                    crate::election::local(self.capture_opens_at, &self.time_zone)
                ),
            ));
        }
        if now >= self.capture_closes_at {
            return Err(AppError::new(
                ErrorCode::FailedPrecondition,
                format!(
                    "El periodo de captura de esta candidatura terminó el {}; ya no se puede responder ni enviar el cuestionario de identidad.",
                    crate::election::local_deadline(self.capture_closes_at, &self.time_zone)
                ),
            ));
        }
        Ok(())
    }

    pub fn status_label(&self) -> &'static str {
        self.status.label()
    }
}

const NO_SUCH_CANDIDACY: &str = "No existe esa candidatura.";

fn not_found() -> AppError {
    AppError::new(ErrorCode::NotFound, NO_SUCH_CANDIDACY)
}

/// Whether `actor` may see the candidacy: the unit's staff all; a party the candidacies it is
/// responsible for; a candidate only its own.
fn may_read(actor: &Actor, id: Uuid, responsible: Option<Uuid>) -> bool {
    match actor.role {
        Role::Admin | Role::Reviewer => true,
        Role::Party => actor.party_id.is_some() && actor.party_id == responsible,
        Role::Candidate => actor.candidacy_id == Some(id),
        _ => false,
    }
}

/// Only the party responsible and the candidate capture.
pub fn may_edit(actor: &Actor, candidacy: &Candidacy) -> bool {
    matches!(actor.role, Role::Party | Role::Candidate)
        && may_read(actor, candidacy.id, candidacy.responsible_party_id)
}

/// Whether `actor` may change the candidacy's curricular questionnaire: its capturers, or — once
/// the candidacy is reopened for a correction the party requested — the unit's administration,
/// which applies it itself (the Lineamientos' adjustment "a través del perfil de la Unidad").
pub fn may_change(actor: &Actor, candidacy: &Candidacy) -> bool {
    may_edit(actor, candidacy) || (actor.role == Role::Admin && candidacy.correcting)
}

/// The SQL giving the id of the party responsible for a candidacy `c`: the member party the
/// coalition agreement assigns it to, else its postulant, or for a coalition or common
/// candidacy the party named responsible.
pub const RESPONSIBLE_PARTY: &str = "(SELECT r.id FROM postulants p \
     JOIN postulants r ON r.election_id = p.election_id \
          AND r.code = COALESCE(c.responsible_code, p.responsible_code, p.code) \
     WHERE p.election_id = c.election_id AND p.code = c.postulant_code)";

/// The parties responsible for the election's candidacies (each capturing its own).
pub async fn responsible_parties(pool: &PgPool, election: Uuid) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(&format!(
        "SELECT DISTINCT {RESPONSIBLE_PARTY} FROM candidacies c WHERE c.election_id = $1"
    ))
    .bind(election)
    .fetch_all(pool)
    .await
}

/// Loads the candidacy if `actor` may see it; anyone else gets "not found", so ids of other
/// parties' candidacies reveal nothing.
pub async fn load(pool: &PgPool, id: Uuid, actor: &Actor) -> Result<Candidacy, AppError> {
    let row = sqlx::query(&format!(
        "SELECT c.id, c.election_id, e.name AS election_name, o.name AS office, o.principle, \
                COALESCE(k.name, c.constituency_code) AS constituency, p.name AS postulant, c.list_position, \
                c.affirmative_action, p.kind = 'independent' AS independent, c.status, c.reopened_sections, \
                (c.correction_reopened_at IS NOT NULL AND c.status = 'observed') AS correcting, {RESPONSIBLE_PARTY} AS responsible, \
                e.capture_opens_at, COALESCE(c.capture_deadline, e.capture_closes_at) AS capture_closes_at, e.time_zone, e.text_min_chars, e.text_max_chars, \
                e.proposal_min_chars, e.proposal_max_chars, e.photo_max_bytes, e.alternate_questionnaire \
         FROM candidacies c JOIN elections e ON e.id = c.election_id \
         JOIN offices o ON o.election_id = c.election_id AND o.code = c.office_code \
         JOIN postulants p ON p.election_id = c.election_id AND p.code = c.postulant_code \
         LEFT JOIN constituencies k ON k.election_id = c.election_id AND k.kind = o.constituency_kind \
              AND k.code = c.constituency_code \
         WHERE c.id = $1"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?
    .ok_or_else(not_found)?;
    let responsible: Option<Uuid> = row.get("responsible");
    if !may_read(actor, id, responsible) {
        return Err(not_found());
    }
    let alternate_too: bool = row.get("alternate_questionnaire");
    let persons = sqlx::query(
        "SELECT id, role, full_name, sex FROM persons WHERE candidacy_id = $1 AND active ORDER BY role DESC",
    )
    .bind(id)
    .fetch_all(pool)
    .await?
    .into_iter()
    .filter_map(|r| {
        let role = PersonRole::parse(r.get::<&str, _>("role"))?;
        (role == PersonRole::Holder || alternate_too).then(|| Person {
            id: r.get("id"),
            role,
            full_name: r.get("full_name"),
            sex: r.get("sex"),
        })
    })
    .collect();
    let usize_of = |name: &str| row.get::<i32, _>(name).max(0) as usize;
    Ok(Candidacy {
        id,
        election_id: row.get("election_id"),
        election_name: row.get("election_name"),
        office: row.get("office"),
        principle: row.get("principle"),
        constituency: row.get("constituency"),
        postulant: row.get("postulant"),
        list_position: row.get("list_position"),
        affirmative_action: row.get("affirmative_action"),
        independent: row.get("independent"),
        status: row.get("status"),
        reopened_sections: row.get("reopened_sections"),
        correcting: row.get("correcting"),
        responsible_party_id: responsible,
        persons,
        capture_opens_at: row.get("capture_opens_at"),
        capture_closes_at: row.get("capture_closes_at"),
        time_zone: row.get("time_zone"),
        bounds: Bounds {
            text_min: usize_of("text_min_chars"),
            text_max: usize_of("text_max_chars"),
            proposal_min: usize_of("proposal_min_chars"),
            proposal_max: usize_of("proposal_max_chars"),
        },
        photo_max_bytes: usize_of("photo_max_bytes"),
    })
}

/// Refuses a change the candidacy does not allow now, with the reason in Spanish.
pub fn check_editable(
    actor: &Actor,
    candidacy: &Candidacy,
    section: Option<Section>,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    check_part_editable(
        actor,
        candidacy,
        section.unwrap_or(Section::General).slug(),
        now,
    )
}

/// [`check_editable`] for a part named by its slug (`adicional`: the election's own fields).
pub fn check_part_editable(
    actor: &Actor,
    candidacy: &Candidacy,
    part: &str,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if !may_change(actor, candidacy) {
        return Err(AppError::new(
            ErrorCode::PermissionDenied,
            "Solo el partido responsable o la persona candidata capturan esta candidatura.",
        ));
    }
    if now >= candidacy.capture_closes_at && !candidacy.correcting {
        return Err(AppError::new(
            ErrorCode::FailedPrecondition,
            "El periodo de captura terminó; ya no se pueden hacer cambios.",
        ));
    }
    let open = candidacy.part_open(part);
    if !open {
        return Err(AppError::new(
            ErrorCode::FailedPrecondition,
            match candidacy.status {
                CandidacyStatus::Observed => {
                    "Esta sección no tiene observaciones; solo se corrigen las secciones observadas."
                }
                CandidacyStatus::Withdrawn => "La candidatura está cancelada o sustituida.",
                _ => {
                    "El cuestionario ya fue enviado; solo se puede modificar si recibe observaciones."
                }
            },
        ));
    }
    Ok(())
}
