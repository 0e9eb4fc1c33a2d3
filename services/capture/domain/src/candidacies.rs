//! Substitution and cancellation of candidacies, with their history and events, and the admin's
//! list with filters and counts.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use conoceles_kit::CandidacyStatus;
use conoceles_kit::amqp::enqueue_event;
use conoceles_kit::error::{AppError, ErrorCode};
use conoceles_kit::proto_time::to_proto as timestamp;
use conoceles_proto::common::v1 as common;
use conoceles_proto::events::v1 as events;
use conoceles_proto::routing_keys;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::import::PersonRow;
use crate::import::{apply_history as history, sex_proto};

fn withdrawn() -> AppError {
    AppError::new(
        ErrorCode::FailedPrecondition,
        "La candidatura está cancelada o sustituida.",
    )
}

fn not_found() -> AppError {
    AppError::new(ErrorCode::NotFound, "No existe esa candidatura.")
}

/// The candidacy's public dimensions, for events (never names).
pub async fn dimensions(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<(common::CandidacyDimensions, CandidacyStatus), AppError> {
    let row = sqlx::query(
        "SELECT c.election_id, c.office_code, o.principle, c.constituency_code, c.postulant_code, \
                c.affirmative_action, c.status, e.election_day, h.sex, h.birth_date \
         FROM candidacies c JOIN offices o ON o.election_id = c.election_id AND o.code = c.office_code \
         JOIN elections e ON e.id = c.election_id \
         LEFT JOIN persons h ON h.candidacy_id = c.id AND h.role = 'holder' AND h.active \
         WHERE c.id = $1 FOR UPDATE OF c",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(not_found)?;
    let election_day: NaiveDate = row.get("election_day");
    let birth: Option<NaiveDate> = row.get("birth_date");
    let sex: Option<String> = row.get("sex");
    let principle: String = row.get("principle");
    Ok((
        common::CandidacyDimensions {
            candidacy_id: Some(common::CandidacyId::from(id)),
            election_id: Some(common::ElectionId::from(row.get::<Uuid, _>("election_id"))),
            office: row.get("office_code"),
            principle: if principle == "rp" {
                common::Principle::Rp
            } else {
                common::Principle::Mr
            } as i32,
            constituency: row.get("constituency_code"),
            postulant: row.get("postulant_code"),
            holder_sex: sex_proto(sex.as_deref().unwrap_or_default()) as i32,
            holder_age: birth.and_then(|b| election_day.years_since(b)).unwrap_or(0),
            affirmative_action: row.get("affirmative_action"),
        },
        row.get("status"),
    ))
}

fn require_reason(reason: &str, message: &str) -> Result<(), AppError> {
    if reason.trim().is_empty() {
        return Err(AppError::invalid(vec![conoceles_kit::FieldViolation::new(
            "motivo", "required", message,
        )]));
    }
    Ok(())
}

/// Locks a candidacy that is still live and returns its dimensions.
async fn live_dimensions(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<common::CandidacyDimensions, AppError> {
    let (dims, status) = dimensions(conn, id).await?;
    if status == CandidacyStatus::Withdrawn {
        return Err(withdrawn());
    }
    Ok(dims)
}

/// Replaces the active person of `role` (`holder` or `alternate`), keeping the old one in the
/// history; emits `candidacy.substituted`.
#[tracing::instrument(skip_all, fields(candidacy_id = %candidacy_id, role = %role))]
pub async fn substitute(
    pool: &PgPool,
    candidacy_id: Uuid,
    role: &str,
    new_person: &PersonRow,
    reason: &str,
    actor: Option<Uuid>,
) -> Result<Uuid, AppError> {
    let mut tx = pool.begin().await?;
    let new_id = substitute_in(
        &mut tx,
        candidacy_id,
        role,
        new_person,
        reason,
        actor,
        conoceles_kit::clock::now(),
    )
    .await?;
    tx.commit().await?;
    Ok(new_id)
}

/// [`substitute`] inside the caller's transaction (the import's).
pub async fn substitute_in(
    tx: &mut PgConnection,
    candidacy_id: Uuid,
    role: &str,
    new_person: &PersonRow,
    reason: &str,
    actor: Option<Uuid>,
    now: chrono::DateTime<Utc>,
) -> Result<Uuid, AppError> {
    if !matches!(role, "holder" | "alternate") {
        return Err(AppError::new(
            ErrorCode::InvalidArgument,
            "Elija propietario o suplente.",
        ));
    }
    require_reason(reason, "Indique el motivo de la sustitución.")?;
    let (dims, stage) = dimensions(&mut *tx, candidacy_id).await?;
    if stage == CandidacyStatus::Withdrawn {
        return Err(withdrawn());
    }
    let replaced: Uuid = sqlx::query_scalar(
        "UPDATE persons SET active = FALSE, replaced_at = $3 WHERE candidacy_id = $1 AND role = $2 AND active RETURNING id",
    )
    .bind(candidacy_id)
    .bind(role)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::new(ErrorCode::FailedPrecondition, "No hay una persona activa en ese lugar."))?;
    let new_id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO persons (id, candidacy_id, role, full_name, sex, birth_date) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(new_id)
    .bind(candidacy_id)
    .bind(role)
    .bind(&new_person.full_name)
    .bind(&new_person.sex)
    .bind(new_person.birth_date)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE persons SET replaced_by = $2 WHERE id = $1")
        .bind(replaced)
        .bind(new_id)
        .execute(&mut *tx)
        .await?;
    // Whatever stage it was in, the new person captures a fresh questionnaire: what was sent
    // with the replaced person is never approved or published (the other person's saved
    // sections stay as they were). An alternate who answers no questionnaire changes none.
    let restarted = role == "holder"
        || sqlx::query_scalar::<_, bool>(
            "SELECT e.alternate_questionnaire FROM elections e JOIN candidacies c ON c.election_id = e.id WHERE c.id = $1",
        )
        .bind(candidacy_id)
        .fetch_one(&mut *tx)
        .await?;
    let deadline = if restarted {
        restart(&mut *tx, candidacy_id, now).await?
    } else {
        sqlx::query("UPDATE candidacies SET updated_at = $2 WHERE id = $1")
            .bind(candidacy_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        None
    };
    history(
        &mut *tx,
        candidacy_id,
        now,
        "substituted",
        actor,
        serde_json::json!({
            "role": role, "replaced": replaced, "new": new_id, "reason": reason,
            "stage": stage, "restarted": restarted, "deadline": deadline,
        }),
    )
    .await?;
    // The new person's account is delivered within the same days as after an approval.
    let accounts_due = crate::deadlines::calendar(&mut *tx, candidacy_id)
        .await?
        .days_after(now, crate::deadlines::ACCOUNT_DELIVERY_DAYS);
    // A new holder changes the sex and age dimensions.
    let dims = if role == "holder" {
        dimensions(&mut *tx, candidacy_id).await?.0
    } else {
        dims
    };
    enqueue_event(
        &mut *tx,
        routing_keys::CANDIDACY_SUBSTITUTED,
        &events::CandidacySubstituted {
            candidacy_id: Some(common::CandidacyId::from(candidacy_id)),
            replaced_person_id: Some(common::PersonId::from(replaced)),
            new_person_id: Some(common::PersonId::from(new_id)),
            person_role: if role == "holder" {
                common::PersonRole::Holder
            } else {
                common::PersonRole::Alternate
            } as i32,
            reason: reason.to_string(),
            dimensions: Some(dims),
            occurred_at: Some(timestamp(now)),
            questionnaire_restarted: restarted,
            accounts_due_at: Some(timestamp(accounts_due)),
        },
    )
    .await?;
    Ok(new_id)
}

/// The candidacy's questionnaire starts again for a new person: back to capture from any
/// stage, every earlier submission superseded, and the new person's own deadline. Returns the
/// candidacy's own deadline (None: the election's window).
async fn restart(
    tx: &mut PgConnection,
    candidacy_id: Uuid,
    now: chrono::DateTime<Utc>,
) -> Result<Option<chrono::DateTime<Utc>>, AppError> {
    sqlx::query(
        "UPDATE candidacies SET status = CASE WHEN status IN ('submitted', 'observed', 'approved', 'published') \
             THEN 'draft' ELSE status END, reopened_sections = '{}', updated_at = $2 WHERE id = $1",
    )
    .bind(candidacy_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE submissions SET superseded_at = $2 WHERE candidacy_id = $1 AND superseded_at IS NULL",
    )
    .bind(candidacy_id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    crate::deadlines::assign_for_new_person(tx, candidacy_id, now).await
}

/// Withdraws a candidacy; emits `candidacy.cancelled`.
#[tracing::instrument(skip_all, fields(candidacy_id = %candidacy_id))]
pub async fn cancel(
    pool: &PgPool,
    candidacy_id: Uuid,
    reason: &str,
    actor: Option<Uuid>,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    cancel_in(
        &mut tx,
        candidacy_id,
        reason,
        actor,
        conoceles_kit::clock::now(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// [`cancel`] inside the caller's transaction (the import's).
pub async fn cancel_in(
    tx: &mut PgConnection,
    candidacy_id: Uuid,
    reason: &str,
    actor: Option<Uuid>,
    now: chrono::DateTime<Utc>,
) -> Result<(), AppError> {
    require_reason(reason, "Indique el motivo de la cancelación.")?;
    live_dimensions(&mut *tx, candidacy_id).await?;
    sqlx::query("UPDATE candidacies SET status = 'withdrawn', withdrawn_at = $2, updated_at = $2 WHERE id = $1")
        .bind(candidacy_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    history(
        &mut *tx,
        candidacy_id,
        now,
        "cancelled",
        actor,
        serde_json::json!({ "reason": reason }),
    )
    .await?;
    enqueue_event(
        &mut *tx,
        routing_keys::CANDIDACY_CANCELLED,
        &events::CandidacyCancelled {
            candidacy_id: Some(common::CandidacyId::from(candidacy_id)),
            reason: reason.to_string(),
            occurred_at: Some(timestamp(now)),
        },
    )
    .await?;
    Ok(())
}

/// Reopens a published (approved) candidacy once, at its party's request, so that the party
/// corrects it and submits again (even after the capture window); the corrected version goes
/// through review again and publication stamps "corrected on" when it is approved. Emits
/// `candidacy.corrected` with the request's reference.
pub async fn reopen_for_correction(
    pool: &PgPool,
    candidacy_id: Uuid,
    request: &CorrectionRequest,
    actor: Uuid,
) -> Result<NaiveDate, AppError> {
    let (reference, reason) = (request.reference.trim(), request.reason.trim());
    let requested_by = request.requested_by.trim();
    if reference.is_empty() || reason.is_empty() || requested_by.is_empty() {
        return Err(AppError::invalid(vec![conoceles_kit::FieldViolation::new(
            "referencia",
            "required",
            "Indique la referencia de la solicitud, quién la hace y el cambio que pide.",
        )]));
    }
    let now = conoceles_kit::clock::now();
    let mut tx = pool.begin().await?;
    let row = sqlx::query(
        "SELECT c.status, c.correction_reopened_at, s.id AS submission, s.round, e.holidays, e.time_zone \
         FROM candidacies c JOIN elections e ON e.id = c.election_id \
         LEFT JOIN LATERAL (SELECT id, round FROM submissions WHERE candidacy_id = c.id ORDER BY round DESC LIMIT 1) s ON TRUE \
         WHERE c.id = $1 FOR UPDATE OF c",
    )
    .bind(candidacy_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(not_found)?;
    if row
        .get::<Option<chrono::DateTime<Utc>>, _>("correction_reopened_at")
        .is_some()
    {
        return Err(AppError::new(
            ErrorCode::FailedPrecondition,
            "Esta candidatura ya se reabrió una vez para corrección; no se permite otra.",
        ));
    }
    let (Some(submission), Some(round)) = (
        row.get::<Option<Uuid>, _>("submission"),
        row.get::<Option<i32>, _>("round"),
    ) else {
        return Err(AppError::new(
            ErrorCode::FailedPrecondition,
            "Solo se reabre para corrección una candidatura aprobada y publicada.",
        ));
    };
    if !row.get::<CandidacyStatus, _>("status").is_approved() {
        return Err(AppError::new(
            ErrorCode::FailedPrecondition,
            "Solo se reabre para corrección una candidatura aprobada y publicada.",
        ));
    }
    let today = crate::election::local_date(now, row.get::<String, _>("time_zone").as_str());
    if request.requested_on > today {
        return Err(AppError::field(
            "fecha_solicitud",
            "in_the_future",
            "La fecha de la solicitud no puede ser posterior a hoy.",
        ));
    }
    let holidays: Vec<NaiveDate> = row.get("holidays");
    let due = crate::calendar::next_business_day(request.requested_on, &holidays);
    sqlx::query(
        "UPDATE candidacies SET status = 'observed', reopened_sections = '{}', updated_at = $2, \
         correction_reference = $3, correction_reason = $4, correction_reopened_at = $2, correction_reopened_by = $5, \
         correction_requested_on = $6, correction_requested_by = $7, correction_due_on = $8 \
         WHERE id = $1",
    )
    .bind(candidacy_id)
    .bind(now)
    .bind(reference)
    .bind(reason)
    .bind(actor)
    .bind(request.requested_on)
    .bind(requested_by)
    .bind(due)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO observations (candidacy_id, submission_id, round, section, message, observed_at) \
         VALUES ($1, $2, $3, 'correccion', $4, $5)",
    )
    .bind(candidacy_id)
    .bind(submission)
    .bind(round)
    .bind(format!(
        "Reabierta para corrección a solicitud del partido (referencia {reference}): {reason} Corrija lo necesario y envíe de nuevo; la versión publicada sigue visible hasta que se apruebe la corrección."
    ))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    history(
        &mut tx,
        candidacy_id,
        now,
        "reopened_for_correction",
        Some(actor),
        serde_json::json!({
            "reference": reference, "reason": reason, "requested_on": request.requested_on,
            "requested_by": requested_by, "due_on": due,
        }),
    )
    .await?;
    enqueue_event(
        &mut tx,
        routing_keys::CANDIDACY_CORRECTED,
        &events::CandidacyCorrected {
            candidacy_id: Some(common::CandidacyId::from(candidacy_id)),
            submission_id: submission.to_string(),
            request_reference: reference.to_string(),
            occurred_at: Some(timestamp(now)),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(due)
}

/// A party's request that the unit correct a published candidacy's curricular questionnaire.
pub struct CorrectionRequest {
    /// The request's reference (an official letter's number, a ticket).
    pub reference: String,
    /// The change requested.
    pub reason: String,
    /// The day the request was received.
    pub requested_on: NaiveDate,
    /// Who asked (the party's representative, by name and office).
    pub requested_by: String,
}

/// A correction the unit has registered, as the back office lists it.
#[derive(Debug, sqlx::FromRow)]
pub struct RegisteredCorrection {
    pub candidacy: Uuid,
    pub external_id: String,
    pub holder: Option<String>,
    pub postulant: String,
    pub office: String,
    pub reference: Option<String>,
    pub reason: Option<String>,
    pub requested_on: Option<NaiveDate>,
    pub requested_by: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub status: String,
}

/// The election's registered corrections, the latest first.
pub async fn corrections(pool: &PgPool, election: Uuid) -> sqlx::Result<Vec<RegisteredCorrection>> {
    sqlx::query_as(
        "SELECT c.id AS candidacy, c.external_id, h.full_name AS holder, s.name AS postulant, o.name AS office, \
                c.correction_reference AS reference, c.correction_reason AS reason, \
                c.correction_requested_on AS requested_on, c.correction_requested_by AS requested_by, \
                c.correction_due_on AS due_on, c.status \
         FROM candidacies c \
         JOIN offices o ON o.election_id = c.election_id AND o.code = c.office_code \
         JOIN postulants s ON s.election_id = c.election_id AND s.code = c.postulant_code \
         LEFT JOIN persons h ON h.candidacy_id = c.id AND h.role = 'holder' AND h.active \
         WHERE c.election_id = $1 AND c.correction_reopened_at IS NOT NULL \
         ORDER BY c.correction_reopened_at DESC",
    )
    .bind(election)
    .fetch_all(pool)
    .await
}

/// Whether the candidacy already had its one reopening for a correction.
pub async fn was_reopened(pool: &PgPool, candidacy_id: Uuid) -> bool {
    sqlx::query_scalar::<_, bool>(
        "SELECT correction_reopened_at IS NOT NULL FROM candidacies WHERE id = $1",
    )
    .bind(candidacy_id)
    .fetch_optional(pool)
    .await
    .ok()
    .flatten()
    .unwrap_or(true)
}

/// One line of the admin's list.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Listed {
    pub id: Uuid,
    pub external_id: String,
    pub office: String,
    pub constituency: String,
    pub postulant: String,
    pub list_position: i32,
    pub holder: String,
    pub alternate: String,
    pub status: CandidacyStatus,
    /// The candidacy's capture deadline in force.
    pub capture_deadline: chrono::DateTime<Utc>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct Filters {
    pub office: String,
    pub constituency: String,
    pub postulant: String,
    pub status: String,
}

impl Filters {
    /// The filters as SQL over `candidacies c`, in the list's order: the election is `$1`, the
    /// filters `$2`…`$5` as [`Filters::values`] gives them.
    pub const SQL: &'static str = "WHERE c.election_id = $1 \
           AND ($2::text IS NULL OR c.office_code = $2) \
           AND ($3::text IS NULL OR c.constituency_code = $3) \
           AND ($4::text IS NULL OR c.postulant_code = $4) \
           AND ($5::text IS NULL OR c.status = $5) \
         ORDER BY c.office_code, c.constituency_code, c.list_position, c.postulant_code";

    /// Office, constituency, postulant (upper case) and status; `None` where left empty.
    pub fn values(&self) -> [Option<String>; 4] {
        let empty_none = |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_string());
        [
            empty_none(&self.office),
            empty_none(&self.constituency),
            empty_none(&self.postulant).map(|p| p.to_uppercase()),
            empty_none(&self.status),
        ]
    }
}

pub async fn list(
    pool: &PgPool,
    election_id: Uuid,
    filters: &Filters,
) -> sqlx::Result<Vec<Listed>> {
    let [office, constituency, postulant, status] = filters.values();
    sqlx::query(&format!(
        "SELECT c.id, c.external_id, c.office_code, c.constituency_code, c.postulant_code, c.list_position, \
                c.status, h.full_name AS holder, coalesce(a.full_name, '') AS alternate, \
                COALESCE(c.capture_deadline, e.capture_closes_at) AS capture_deadline \
         FROM candidacies c JOIN elections e ON e.id = c.election_id \
         LEFT JOIN persons h ON h.candidacy_id = c.id AND h.role = 'holder' AND h.active \
         LEFT JOIN persons a ON a.candidacy_id = c.id AND a.role = 'alternate' AND a.active \
         {}",
        Filters::SQL
    ))
    .bind(election_id)
    .bind(office)
    .bind(constituency)
    .bind(postulant)
    .bind(status)
    .fetch_all(pool)
    .await
    .map(|rows| {
        rows.into_iter()
            .map(|r| Listed {
                id: r.get("id"),
                external_id: r.get("external_id"),
                office: r.get("office_code"),
                constituency: r.get("constituency_code"),
                postulant: r.get("postulant_code"),
                list_position: r.get("list_position"),
                holder: r.get::<Option<String>, _>("holder").unwrap_or_default(),
                alternate: r.get("alternate"),
                status: r.get("status"),
                capture_deadline: r.get("capture_deadline"),
            })
            .collect()
    })
}

/// The holders' names of `ids` (for the review queue).
pub async fn holder_names(pool: &PgPool, ids: &[Uuid]) -> Result<HashMap<Uuid, String>, AppError> {
    Ok(sqlx::query(
        "SELECT candidacy_id, full_name FROM persons WHERE candidacy_id = ANY($1) AND role = 'holder' AND active",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| (r.get("candidacy_id"), r.get("full_name")))
    .collect())
}

/// How people name the owners of generated accounts: each postulant (by its id) by its name,
/// each candidacy by its holder, office and constituency («Ana Pérez — Diputación local de
/// mayoría relativa, Distrito 03 (Saltillo)»), never by codes.
pub async fn account_owner_names(
    pool: &PgPool,
    postulants: &[Uuid],
    candidacies: &[Uuid],
) -> Result<(HashMap<Uuid, String>, HashMap<Uuid, String>), AppError> {
    let parties = sqlx::query("SELECT id, name FROM postulants WHERE id = ANY($1)")
        .bind(postulants)
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|r| (r.get("id"), r.get("name")))
        .collect();
    let holders = holder_names(pool, candidacies).await?;
    let candidacies = seat_names(pool, candidacies)
        .await?
        .into_iter()
        .map(|(id, seat)| {
            let holder = holders.get(&id).map_or("", String::as_str);
            (id, format!("{holder} — {}", seat.seat()))
        })
        .collect();
    Ok((parties, candidacies))
}

/// The sex of each person (`mujer`, `hombre`, `no_binario`), for labels that agree with it.
pub async fn sexes_of(pool: &PgPool, persons: &[Uuid]) -> sqlx::Result<HashMap<Uuid, String>> {
    Ok(
        sqlx::query_as::<_, (Uuid, String)>("SELECT id, sex FROM persons WHERE id = ANY($1)")
            .bind(persons)
            .fetch_all(pool)
            .await?
            .into_iter()
            .collect(),
    )
}

/// A postulant's name by its id.
pub async fn postulant_name(pool: &PgPool, id: &str) -> sqlx::Result<Option<String>> {
    let Ok(id) = Uuid::parse_str(id) else {
        return Ok(None);
    };
    sqlx::query_scalar("SELECT name FROM postulants WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// A person who answers questionnaires in a live candidacy, with what parity counts by.
pub struct AnsweringPerson {
    pub id: Uuid,
    pub candidacy: Uuid,
    pub postulant: String,
    pub office: String,
}

/// The persons of the election's live candidacies who answer questionnaires (holders, and
/// alternates when the election asks them too).
pub async fn answering_persons(
    pool: &PgPool,
    election: Uuid,
) -> Result<Vec<AnsweringPerson>, AppError> {
    Ok(sqlx::query(
        "SELECT p.id, c.id AS candidacy, pos.name AS postulant, o.name AS office FROM persons p \
         JOIN candidacies c ON c.id = p.candidacy_id JOIN elections e ON e.id = c.election_id \
         JOIN offices o ON o.election_id = c.election_id AND o.code = c.office_code \
         JOIN postulants pos ON pos.election_id = c.election_id AND pos.code = c.postulant_code \
         WHERE c.election_id = $1 AND c.status <> 'withdrawn' AND p.active \
           AND (p.role = 'holder' OR e.alternate_questionnaire)",
    )
    .bind(election)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| AnsweringPerson {
        id: r.get("id"),
        candidacy: r.get("candidacy"),
        postulant: r.get("postulant"),
        office: r.get("office"),
    })
    .collect())
}

/// A submission as it was sent: its canonical content and fingerprint.
pub struct SentSubmission {
    pub content: serde_json::Value,
    pub sha256: String,
}

/// The submission `id` as sent (`None` when there is no such submission).
pub async fn sent_submission(pool: &PgPool, id: Uuid) -> Result<Option<SentSubmission>, AppError> {
    let row = sqlx::query("SELECT canonical, content_sha256 FROM submissions WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|r| SentSubmission {
        content: serde_json::from_str(r.get::<&str, _>("canonical")).unwrap_or_default(),
        sha256: r.get("content_sha256"),
    }))
}

/// The registry ids of the election's candidacies.
pub async fn external_ids(pool: &PgPool, election: Uuid) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("SELECT external_id FROM candidacies WHERE election_id = $1")
        .bind(election)
        .fetch_all(pool)
        .await
}

/// How many candidacies `postulant` has in the election, and how many of them have a registry id
/// starting with `prefix`.
pub async fn count_of_postulant(
    pool: &PgPool,
    election: Uuid,
    postulant: &str,
    prefix: &str,
) -> sqlx::Result<(i64, i64)> {
    sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE starts_with(external_id, $3)) \
         FROM candidacies WHERE election_id = $1 AND postulant_code = $2",
    )
    .bind(election)
    .bind(postulant)
    .bind(prefix)
    .fetch_one(pool)
    .await
}

/// The substitutions registered up to `at`, by postulant and office (codes): (postulant, office,
/// persons replaced).
pub async fn substitution_counts(
    pool: &PgPool,
    election: Uuid,
    at: DateTime<Utc>,
) -> sqlx::Result<Vec<(String, String, i64)>> {
    sqlx::query_as(
        "SELECT c.postulant_code, c.office_code, count(*) FROM persons p \
         JOIN candidacies c ON c.id = p.candidacy_id \
         WHERE c.election_id = $1 AND p.replaced_at IS NOT NULL AND p.replaced_at <= $2 \
         GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .bind(election)
    .bind(at)
    .fetch_all(pool)
    .await
}

/// The parties that can hold accounts (parties and independent candidacies, not coalitions),
/// by name: (id, name).
pub async fn account_parties(pool: &PgPool, election: Uuid) -> sqlx::Result<Vec<(Uuid, String)>> {
    sqlx::query_as(
        "SELECT id, name FROM postulants WHERE election_id = $1 AND kind IN ('party', 'independent') \
         ORDER BY name",
    )
    .bind(election)
    .fetch_all(pool)
    .await
}

/// A candidacy named by its registry key (`id_registro`), with the party that captures it (the
/// agreement's, for a coalition's or common candidacy): (candidacy, party).
pub async fn by_registry_key(
    pool: &PgPool,
    election: Uuid,
    key: &str,
) -> sqlx::Result<Option<(Uuid, Uuid)>> {
    sqlx::query_as(
        "SELECT c.id, coalesce(r.id, pr.id, p.id) FROM candidacies c \
         JOIN postulants p ON p.election_id = c.election_id AND p.code = c.postulant_code \
         LEFT JOIN postulants r ON r.election_id = c.election_id AND r.code = c.responsible_code \
         LEFT JOIN postulants pr ON pr.election_id = c.election_id AND pr.code = p.responsible_code \
         WHERE c.election_id = $1 AND c.external_id = $2",
    )
    .bind(election)
    .bind(key.trim())
    .fetch_optional(pool)
    .await
}

/// A candidacy's seat as people name it: the postulant's, office's and constituency's names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeatNames {
    pub postulant: String,
    pub office: String,
    pub constituency: String,
    /// The place in an RP list (0 outside lists).
    pub list_position: i32,
}

impl SeatNames {
    /// «Diputación local de mayoría relativa, Distrito 03 (Saltillo)», «…, lugar 2» in a list.
    pub fn seat(&self) -> String {
        if self.list_position > 0 {
            format!(
                "{}, {}, lugar {}",
                self.office, self.constituency, self.list_position
            )
        } else {
            format!("{}, {}", self.office, self.constituency)
        }
    }
}

/// The seats of the candidacies named (codes only where a catalog lacks the name).
pub async fn seat_names(pool: &PgPool, ids: &[Uuid]) -> sqlx::Result<HashMap<Uuid, SeatNames>> {
    Ok(sqlx::query(
        "SELECT c.id, coalesce(s.name, c.postulant_code) AS postulant, \
                coalesce(o.name, c.office_code) AS office, \
                coalesce(k.name, c.constituency_code) AS constituency, c.list_position \
         FROM candidacies c \
         LEFT JOIN postulants s ON s.election_id = c.election_id AND s.code = c.postulant_code \
         LEFT JOIN offices o ON o.election_id = c.election_id AND o.code = c.office_code \
         LEFT JOIN LATERAL (SELECT name FROM constituencies k WHERE k.election_id = c.election_id \
                            AND k.code = c.constituency_code ORDER BY k.kind LIMIT 1) k ON true \
         WHERE c.id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| {
        (
            r.get("id"),
            SeatNames {
                postulant: r.get("postulant"),
                office: r.get("office"),
                constituency: r.get("constituency"),
                list_position: r.get("list_position"),
            },
        )
    })
    .collect())
}
