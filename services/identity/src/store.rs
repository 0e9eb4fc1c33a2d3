//! The identity use cases: definitions, the one submission, completion status, the publishable
//! subset, the one correction, blocking and deletion after retention, key rotation. Every read
//! or change of answers is audited; answers exist in clear only in memory, inside this process.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use conoceles_kit::access::{Caller, Role};
use conoceles_kit::amqp::enqueue_event;
use conoceles_kit::error::{AppError, ErrorCode};
use conoceles_kit::proto_time::to_proto;
use conoceles_proto::common::v1 as common;
use conoceles_proto::events::v1 as events;
use conoceles_proto::routing_keys;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::crypto::{DataKey, Keyring, WrappedKey};
use crate::definition::{Definition, StoredAnswer};

pub type Answers = BTreeMap<String, StoredAnswer>;

/// Consents given, each with its time, and who gave them; processing is required to submit.
#[derive(Debug, Clone, Copy, Default)]
pub struct Consents {
    pub processing_at: Option<DateTime<Utc>>,
    pub publication_at: Option<DateTime<Utc>>,
    pub statistics_at: Option<DateTime<Utc>>,
    pub given_by: ConsentEvidence,
}

/// Who gave the consents and on what evidence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ConsentEvidence {
    /// Not said (a caller that does not send it is refused).
    #[default]
    Missing,
    /// The person, in their own account.
    Person,
    /// Another account (the party's) declaring it holds the person's signed consent.
    Declaration,
}

impl ConsentEvidence {
    pub fn parse(value: &str) -> Self {
        match value {
            "person" => Self::Person,
            "declaration" => Self::Declaration,
            _ => Self::Missing,
        }
    }

    fn code(self) -> &'static str {
        match self {
            Self::Person => "person",
            Self::Declaration => "declaration",
            Self::Missing => "unrecorded",
        }
    }
}

/// A person's questionnaire as submitted.
pub struct Submission {
    pub candidacy: Uuid,
    pub person: Uuid,
    pub version: i32,
    pub consents: Consents,
    pub answers: Answers,
}

/// The admin's one correction of a person's answers.
pub struct Correction {
    pub candidacy: Uuid,
    pub person: Uuid,
    pub reference: String,
    pub reason: String,
    pub answers: Answers,
}

#[derive(Clone)]
pub struct Identity {
    pub pool: PgPool,
    pub keys: Arc<Keyring>,
}

fn known(code: ErrorCode, message: &str) -> AppError {
    AppError::new(code, message)
}

/// Records who touched whose answers and why (never the answers).
pub async fn audit(
    conn: &mut PgConnection,
    caller: &Caller,
    person: Option<Uuid>,
    candidacy: Option<Uuid>,
    purpose: &str,
    detail: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO access_audit (at, service, actor, person_id, candidacy_id, purpose, detail) \
         VALUES (now(), $1, $2, $3, $4, $5, $6)",
    )
    .bind(caller.service.as_deref().unwrap_or("unknown"))
    .bind(caller.actor.as_ref().map(|a| a.account_id))
    .bind(person)
    .bind(candidacy)
    .bind(purpose)
    .bind(detail)
    .execute(conn)
    .await?;
    Ok(())
}

/// SHA-256 over a random salt and the canonical answers.
fn receipt(salt: &[u8], answers: &Answers) -> String {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    hasher.update(serde_json::to_vec(answers).expect("answers serialise"));
    hex::encode(hasher.finalize())
}

async fn seal_all(
    conn: &mut PgConnection,
    dek: &DataKey,
    person: Uuid,
    answers: &Answers,
) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM answers WHERE person_id = $1")
        .bind(person)
        .execute(&mut *conn)
        .await?;
    for (question, answer) in answers {
        let plain = serde_json::to_vec(answer)?;
        let (nonce, sealed) = dek.seal(person, question, &plain)?;
        sqlx::query(
            "INSERT INTO answers (person_id, question_id, nonce, sealed) VALUES ($1, $2, $3, $4)",
        )
        .bind(person)
        .bind(question)
        .bind(nonce)
        .bind(sealed)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The candidacy a person belongs to, checked against the caller's scope.
struct PersonRow {
    candidacy_id: Uuid,
    election_id: Uuid,
    blocked: bool,
}

async fn person_in_scope(
    conn: &mut PgConnection,
    caller: &Caller,
    candidacy: Uuid,
    person: Uuid,
) -> Result<PersonRow, AppError> {
    let row = sqlx::query(
        "SELECT p.candidacy_id, c.election_id, c.responsible_party_id, p.blocked_at IS NOT NULL AS blocked \
         FROM persons p JOIN candidacies c ON c.id = p.candidacy_id WHERE p.id = $1 AND p.candidacy_id = $2 FOR UPDATE OF p",
    )
    .bind(person)
    .bind(candidacy)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| {
        known(
            ErrorCode::FailedPrecondition,
            "La candidatura todavía no está registrada para el cuestionario de identidad. Intente en unos minutos.",
        )
    })?;
    let responsible: Option<Uuid> = row.get("responsible_party_id");
    let allowed = match caller.actor.as_ref() {
        Some(a) if a.role == Role::Party => a.party_id.is_some() && a.party_id == responsible,
        Some(a) if a.role == Role::Candidate => a.candidacy_id == Some(candidacy),
        Some(a) if a.role == Role::Admin => true,
        _ => false,
    };
    if !allowed {
        return Err(known(ErrorCode::NotFound, "No existe esa candidatura."));
    }
    Ok(PersonRow {
        candidacy_id: row.get("candidacy_id"),
        election_id: row.get("election_id"),
        blocked: row.get("blocked"),
    })
}

/// The person, checked against the caller's scope, still open for answers: not blocked (a
/// cancelled or substituted candidacy) and the questionnaire not sent yet (`sent`: what to say
/// when it was).
async fn open_person(
    conn: &mut PgConnection,
    caller: &Caller,
    (candidacy, person): (Uuid, Uuid),
    sent: &str,
) -> Result<PersonRow, AppError> {
    let row = person_in_scope(&mut *conn, caller, candidacy, person).await?;
    if row.blocked {
        return Err(known(
            ErrorCode::FailedPrecondition,
            "La candidatura está cancelada o sustituida.",
        ));
    }
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM questionnaires WHERE person_id = $1)")
            .bind(person)
            .fetch_one(&mut *conn)
            .await?;
    if exists {
        return Err(known(ErrorCode::AlreadyExists, sent));
    }
    Ok(row)
}

impl Identity {
    /// The election's definition in use (the latest version); the default topics become
    /// version 1 the first time it is asked for.
    pub async fn definition(&self, election: Uuid) -> Result<(i32, Definition), AppError> {
        let latest = sqlx::query(
            "SELECT version, body FROM definitions WHERE election_id = $1 ORDER BY version DESC LIMIT 1",
        )
        .bind(election)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(row) = latest {
            let body: serde_json::Value = row.get("body");
            let definition: Definition =
                serde_json::from_value(body).map_err(anyhow::Error::from)?;
            return Ok((row.get("version"), definition));
        }
        let definition = Definition::default_topics();
        sqlx::query(
            "INSERT INTO definitions (election_id, version, body, created_at) VALUES ($1, 1, $2, now()) ON CONFLICT DO NOTHING",
        )
        .bind(election)
        .bind(serde_json::to_value(&definition).map_err(anyhow::Error::from)?)
        .execute(&self.pool)
        .await?;
        Ok((1, definition))
    }

    /// A new version of the election's definition (a version in use never changes).
    pub async fn add_definition(&self, election: Uuid, json: &str) -> Result<i32, AppError> {
        let definition = Definition::parse(json).map_err(|m| {
            AppError::invalid(vec![conoceles_kit::FieldViolation::new(
                "definition",
                "invalid",
                m,
            )])
        })?;
        let version: i32 = sqlx::query_scalar(
            "INSERT INTO definitions (election_id, version, body, created_at) \
             SELECT $1, COALESCE(max(version), 0) + 1, $2, now() FROM definitions WHERE election_id = $1 RETURNING version",
        )
        .bind(election)
        .bind(serde_json::to_value(&definition).map_err(anyhow::Error::from)?)
        .fetch_one(&self.pool)
        .await?;
        Ok(version)
    }

    /// The one submission of a person's questionnaire.
    #[tracing::instrument(skip_all, fields(candidacy_id = %submission.candidacy, person_id = %submission.person))]
    pub async fn submit(
        &self,
        caller: &Caller,
        submission: Submission,
        now: DateTime<Utc>,
    ) -> Result<(String, DateTime<Utc>), AppError> {
        let Submission {
            candidacy,
            person,
            version,
            consents,
            answers,
        } = submission;
        let Some(_) = consents.processing_at else {
            return Err(AppError::invalid(vec![conoceles_kit::FieldViolation::new(
                "consents.processing",
                "required",
                "Sin el consentimiento para el tratamiento de sus datos no se puede guardar el cuestionario.",
            )]));
        };
        if consents.given_by == ConsentEvidence::Missing {
            return Err(AppError::invalid(vec![conoceles_kit::FieldViolation::new(
                "consents.given_by",
                "required",
                "Falta indicar quién otorga los consentimientos y con qué respaldo.",
            )]));
        }
        let mut tx = self.pool.begin().await?;
        let row = open_person(
            &mut tx,
            caller,
            (candidacy, person),
            "El cuestionario de identidad ya fue enviado; solo hay una oportunidad.",
        )
        .await?;
        let (current, definition) = self.definition(row.election_id).await?;
        if version != current {
            return Err(known(
                ErrorCode::FailedPrecondition,
                "El cuestionario cambió de versión mientras lo respondía. Vuelva a abrirlo.",
            ));
        }
        let answers = definition.validate(answers).map_err(AppError::invalid)?;
        let dek = DataKey::generate();
        let wrapped = dek.wrap(&self.keys.current, person)?;
        sqlx::query(
            "INSERT INTO data_keys (person_id, kek_id, nonce, wrapped) VALUES ($1, $2, $3, $4)",
        )
        .bind(person)
        .bind(&wrapped.kek_id)
        .bind(&wrapped.nonce)
        .bind(&wrapped.wrapped)
        .execute(&mut *tx)
        .await?;
        seal_all(&mut tx, &dek, person, &answers).await?;
        // The draft served its purpose: nothing of it stays.
        sqlx::query("DELETE FROM drafts WHERE person_id = $1")
            .bind(person)
            .execute(&mut *tx)
            .await?;
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        let sha = receipt(&salt, &answers);
        sqlx::query(
            "INSERT INTO questionnaires (person_id, definition_version, processing_consent_at, publication_consent_at, \
             statistics_consent_at, submitted_at, receipt_salt, receipt_sha256, consent_given_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(person)
        .bind(version)
        .bind(consents.processing_at)
        .bind(consents.publication_at)
        .bind(consents.statistics_at)
        .bind(now)
        .bind(salt.to_vec())
        .bind(&sha)
        .bind(consents.given_by.code())
        .execute(&mut *tx)
        .await?;
        audit(
            &mut tx,
            caller,
            Some(person),
            Some(row.candidacy_id),
            "submission",
            "",
        )
        .await?;
        enqueue_event(
            &mut tx,
            routing_keys::IDENTITY_SUBMITTED,
            &events::IdentitySubmitted {
                candidacy_id: Some(common::CandidacyId::from(candidacy)),
                person_id: Some(common::PersonId::from(person)),
                definition_version: version as u32,
                occurred_at: Some(to_proto(now)),
            },
        )
        .await?;
        tx.commit().await?;
        Ok((sha, now))
    }

    /// Submitted or not, per person of the candidacies; never answers.
    pub async fn status(&self, candidacies: &[Uuid]) -> Result<Vec<(Uuid, Uuid, bool)>, AppError> {
        let rows = sqlx::query(
            "SELECT p.candidacy_id, p.id, q.person_id IS NOT NULL AND p.blocked_at IS NULL AS submitted \
             FROM persons p LEFT JOIN questionnaires q ON q.person_id = p.id WHERE p.candidacy_id = ANY($1)",
        )
        .bind(candidacies)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| (r.get("candidacy_id"), r.get("id"), r.get("submitted")))
            .collect())
    }

    async fn open_answers(&self, conn: &mut PgConnection, person: Uuid) -> anyhow::Result<Answers> {
        let key = sqlx::query("SELECT kek_id, nonce, wrapped FROM data_keys WHERE person_id = $1")
            .bind(person)
            .fetch_optional(&mut *conn)
            .await?;
        let Some(key) = key else {
            return Ok(Answers::new());
        };
        let dek = DataKey::unwrap(
            &self.keys,
            person,
            &WrappedKey {
                kek_id: key.get("kek_id"),
                nonce: key.get("nonce"),
                wrapped: key.get("wrapped"),
            },
        )?;
        let rows =
            sqlx::query("SELECT question_id, nonce, sealed FROM answers WHERE person_id = $1")
                .bind(person)
                .fetch_all(&mut *conn)
                .await?;
        let mut answers = Answers::new();
        for r in rows {
            let question: String = r.get("question_id");
            let plain = dek.open(person, &question, r.get("nonce"), r.get("sealed"))?;
            answers.insert(question, serde_json::from_slice(&plain)?);
        }
        Ok(answers)
    }

    /// The holder's answers with publication consent, plus the affirmative action; nothing for
    /// a blocked person or without consent. Audited.
    /// The answers of the candidacy's `person` (absent: its holder) that may be published:
    /// none unless that person consented to publication and is not blocked (substituted or
    /// cancelled).
    pub async fn publishable(
        &self,
        caller: &Caller,
        candidacy: Uuid,
        person: Option<Uuid>,
    ) -> Result<(String, Answers), AppError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "SELECT c.affirmative_action, p.id AS person, q.publication_consent_at IS NOT NULL AND p.blocked_at IS NULL \
                    AND q.deleted_at IS NULL AS publishable \
             FROM candidacies c LEFT JOIN persons p ON p.candidacy_id = c.id AND p.blocked_at IS NULL \
                  AND (($2::uuid IS NULL AND p.role = 'holder') OR p.id = $2) \
             LEFT JOIN questionnaires q ON q.person_id = p.id WHERE c.id = $1",
        )
        .bind(candidacy)
        .bind(person)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| known(ErrorCode::NotFound, "No existe esa candidatura."))?;
        let affirmative: String = row.get("affirmative_action");
        let person: Option<Uuid> = row.get("person");
        let publishable: Option<bool> = row.get("publishable");
        let answers = match (person, publishable) {
            (Some(person), Some(true)) => {
                let answers = self.open_answers(&mut tx, person).await?;
                audit(
                    &mut tx,
                    caller,
                    Some(person),
                    Some(candidacy),
                    "publication",
                    "",
                )
                .await?;
                answers
            }
            _ => Answers::new(),
        };
        tx.commit().await?;
        Ok((affirmative, answers))
    }

    /// The one correction the admin may apply to a person's answers, with the request's
    /// reference and reason.
    /// Holders who had sent the questionnaire at `at` and were not blocked then, by postulant
    /// and office codes. Counts only.
    pub async fn completion_counts(
        &self,
        election: Uuid,
        at: DateTime<Utc>,
    ) -> Result<Vec<(String, String, u64)>, AppError> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT c.postulant, c.office, count(*) FROM questionnaires q \
             JOIN persons p ON p.id = q.person_id JOIN candidacies c ON c.id = p.candidacy_id \
             WHERE c.election_id = $1 AND p.role = 'holder' AND q.submitted_at <= $2 \
               AND (p.blocked_at IS NULL OR p.blocked_at > $2) \
             GROUP BY c.postulant, c.office",
        )
        .bind(election)
        .bind(at)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(p, o, n)| (p, o, n.max(0) as u64))
            .collect())
    }

    #[tracing::instrument(skip_all, fields(candidacy_id = %correction.candidacy, person_id = %correction.person))]
    pub async fn correct(
        &self,
        caller: &Caller,
        correction: Correction,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, AppError> {
        let Correction {
            candidacy,
            person,
            reference,
            reason,
            answers,
        } = correction;
        let (reference, reason) = (reference.as_str(), reason.as_str());
        if reference.trim().is_empty() || reason.trim().is_empty() {
            return Err(AppError::invalid(vec![conoceles_kit::FieldViolation::new(
                "request_reference",
                "required",
                "Indique la referencia de la solicitud y el motivo de la corrección.",
            )]));
        }
        let mut tx = self.pool.begin().await?;
        let row = person_in_scope(&mut tx, caller, candidacy, person).await?;
        let q = sqlx::query("SELECT definition_version, corrected_at FROM questionnaires WHERE person_id = $1 FOR UPDATE")
            .bind(person)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| known(ErrorCode::FailedPrecondition, "Esa persona no ha enviado su cuestionario de identidad."))?;
        if q.get::<Option<DateTime<Utc>>, _>("corrected_at").is_some() {
            return Err(known(
                ErrorCode::FailedPrecondition,
                "Ya se aplicó la única corrección permitida a esta persona.",
            ));
        }
        let (_, definition) = self.definition(row.election_id).await?;
        let answers = definition.validate(answers).map_err(AppError::invalid)?;
        let key = sqlx::query("SELECT kek_id, nonce, wrapped FROM data_keys WHERE person_id = $1")
            .bind(person)
            .fetch_one(&mut *tx)
            .await?;
        let dek = DataKey::unwrap(
            &self.keys,
            person,
            &WrappedKey {
                kek_id: key.get("kek_id"),
                nonce: key.get("nonce"),
                wrapped: key.get("wrapped"),
            },
        )?;
        seal_all(&mut tx, &dek, person, &answers).await?;
        sqlx::query(
            "UPDATE questionnaires SET corrected_at = $2, correction_reference = $3, correction_reason = $4 WHERE person_id = $1",
        )
        .bind(person)
        .bind(now)
        .bind(reference.trim())
        .bind(reason.trim())
        .execute(&mut *tx)
        .await?;
        audit(
            &mut tx,
            caller,
            Some(person),
            Some(candidacy),
            "correction",
            reference.trim(),
        )
        .await?;
        enqueue_event(
            &mut tx,
            routing_keys::IDENTITY_CORRECTED,
            &events::IdentityCorrected {
                candidacy_id: Some(common::CandidacyId::from(candidacy)),
                person_id: Some(common::PersonId::from(person)),
                request_reference: reference.trim().to_string(),
                occurred_at: Some(to_proto(now)),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(now)
    }

    /// Deletes the answers of persons blocked longer than their election's retention. Returns
    /// how many questionnaires were deleted.
    pub async fn delete_expired(&self, now: DateTime<Utc>) -> anyhow::Result<u64> {
        let mut tx = self.pool.begin().await?;
        let persons: Vec<(Uuid, Uuid)> = sqlx::query_as(
            "SELECT p.id, p.candidacy_id FROM persons p JOIN questionnaires q ON q.person_id = p.id \
             WHERE p.delete_after <= $1 AND q.deleted_at IS NULL FOR UPDATE OF q SKIP LOCKED",
        )
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        let system = Caller {
            service: Some("identity".into()),
            actor: None,
        };
        for (person, candidacy) in &persons {
            sqlx::query("DELETE FROM answers WHERE person_id = $1")
                .bind(person)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM data_keys WHERE person_id = $1")
                .bind(person)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE questionnaires SET deleted_at = $2 WHERE person_id = $1")
                .bind(person)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            audit(
                &mut tx,
                &system,
                Some(*person),
                Some(*candidacy),
                "deletion",
                "retention period over",
            )
            .await?;
        }
        tx.commit().await?;
        Ok(persons.len() as u64)
    }

    /// Re-wraps every data key not under the current key-encryption key — the answers', the
    /// drafts' and the differentially private releases' sealed draws. Returns how many.
    pub async fn rotate(&self) -> anyhow::Result<u64> {
        let mut tx = self.pool.begin().await?;
        let mut rotated = 0;
        // (table, the column the key is bound to, its key columns).
        for (table, owner, nonce, wrapped) in [
            ("data_keys", "person_id", "nonce", "wrapped"),
            ("drafts", "person_id", "key_nonce", "wrapped_key"),
            (
                "private_measurements",
                "release_id",
                "key_nonce",
                "wrapped_key",
            ),
        ] {
            let rows = sqlx::query(&format!(
                "SELECT ctid::text AS at, {owner} AS owner, kek_id, {nonce} AS nonce, {wrapped} AS wrapped \
                 FROM {table} WHERE kek_id <> $1 FOR UPDATE"
            ))
            .bind(&self.keys.current.id)
            .fetch_all(&mut *tx)
            .await?;
            for r in &rows {
                let owner: Uuid = r.get("owner");
                let dek = DataKey::unwrap(
                    &self.keys,
                    owner,
                    &WrappedKey {
                        kek_id: r.get("kek_id"),
                        nonce: r.get("nonce"),
                        wrapped: r.get("wrapped"),
                    },
                )?;
                let again = dek.wrap(&self.keys.current, owner)?;
                sqlx::query(&format!(
                    "UPDATE {table} SET kek_id = $2, {nonce} = $3, {wrapped} = $4 WHERE ctid = $1::tid"
                ))
                .bind(r.get::<String, _>("at"))
                .bind(&again.kek_id)
                .bind(&again.nonce)
                .bind(&again.wrapped)
                .execute(&mut *tx)
                .await?;
            }
            rotated += rows.len() as u64;
        }
        tx.commit().await?;
        Ok(rotated)
    }
}

/// Blocks the given persons now; their answers go after the election's retention, their
/// drafts at once.
pub async fn block(
    conn: &mut PgConnection,
    persons: &[Uuid],
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM drafts WHERE person_id = ANY($1)")
        .bind(persons)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "UPDATE persons p SET blocked_at = COALESCE(p.blocked_at, $2), \
         delete_after = COALESCE(p.delete_after, $2 + make_interval(days => COALESCE(e.retention_days, 90))) \
         FROM candidacies c LEFT JOIN elections e ON e.id = c.election_id \
         WHERE c.id = p.candidacy_id AND p.id = ANY($1)",
    )
    .bind(persons)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Recomputes the access audit's hash chain: the number of lines, or the first broken one.
pub async fn verify_audit(pool: &PgPool) -> anyhow::Result<u64> {
    let (lines, broken): (i64, Option<i64>) =
        sqlx::query_as("SELECT lines, broken FROM verify_access_audit()")
            .fetch_one(pool)
            .await?;
    match broken {
        None => Ok(lines.max(0) as u64),
        Some(line) => anyhow::bail!("the access audit is broken at line {line}"),
    }
}

/// Largest draft kept.
pub const MAX_DRAFT_BYTES: usize = 64 * 1024;
/// The "question" a draft is sealed under (binds the ciphertext to its use).
const DRAFT_AAD: &str = "__draft";

impl Identity {
    /// Keeps the person's draft, sealed; refused once the questionnaire was sent or the person
    /// blocked.
    pub async fn save_draft(
        &self,
        caller: &Caller,
        candidacy: Uuid,
        person: Uuid,
        draft: &str,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, AppError> {
        if draft.len() > MAX_DRAFT_BYTES {
            return Err(AppError::invalid(vec![conoceles_kit::FieldViolation::new(
                "draft_json",
                "too_long",
                "El borrador es demasiado grande.",
            )]));
        }
        let mut tx = self.pool.begin().await?;
        open_person(
            &mut tx,
            caller,
            (candidacy, person),
            "El cuestionario de identidad ya fue enviado; ya no guarda borradores.",
        )
        .await?;
        let dek = DataKey::generate();
        let wrapped = dek.wrap(&self.keys.current, person)?;
        let (nonce, sealed) = dek.seal(person, DRAFT_AAD, draft.as_bytes())?;
        sqlx::query(
            "INSERT INTO drafts (person_id, kek_id, key_nonce, wrapped_key, nonce, sealed, saved_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (person_id) DO UPDATE SET \
             kek_id = EXCLUDED.kek_id, key_nonce = EXCLUDED.key_nonce, wrapped_key = EXCLUDED.wrapped_key, \
             nonce = EXCLUDED.nonce, sealed = EXCLUDED.sealed, saved_at = EXCLUDED.saved_at",
        )
        .bind(person)
        .bind(&wrapped.kek_id)
        .bind(&wrapped.nonce)
        .bind(&wrapped.wrapped)
        .bind(nonce)
        .bind(sealed)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(now)
    }

    /// The person's draft, opened, with when it was saved.
    pub async fn draft(
        &self,
        caller: &Caller,
        candidacy: Uuid,
        person: Uuid,
    ) -> Result<Option<(String, DateTime<Utc>)>, AppError> {
        let mut tx = self.pool.begin().await?;
        let row = person_in_scope(&mut tx, caller, candidacy, person).await?;
        if row.blocked {
            return Ok(None);
        }
        let Some(stored) = sqlx::query(
            "SELECT kek_id, key_nonce, wrapped_key, nonce, sealed, saved_at FROM drafts WHERE person_id = $1",
        )
        .bind(person)
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        tx.commit().await?;
        let dek = DataKey::unwrap(
            &self.keys,
            person,
            &WrappedKey {
                kek_id: stored.get("kek_id"),
                nonce: stored.get("key_nonce"),
                wrapped: stored.get("wrapped_key"),
            },
        )?;
        let plain = dek.open(
            person,
            DRAFT_AAD,
            &stored.get::<Vec<u8>, _>("nonce"),
            &stored.get::<Vec<u8>, _>("sealed"),
        )?;
        Ok(Some((
            String::from_utf8(plain).map_err(anyhow::Error::from)?,
            stored.get("saved_at"),
        )))
    }
}
