//! Accounts generated from candidacy events: the party's generic account and one per candidacy
//! person; locked on substitution or cancellation. Their credentials are issued on printable
//! sheets per party, and the back office follows delivery within 3 natural days of approval.

use chrono::{DateTime, Duration, Utc};
use conoceles_kit::access::Role;
use conoceles_kit::amqp::{HandleError, Handler, Incoming};
use conoceles_kit::clock::SharedClock;
use conoceles_kit::proto_time::from_proto as timestamp;
use conoceles_proto::events::v1 as events;
use conoceles_proto::routing_keys;
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::domain::{Email, Password, login_name};
use crate::hashing::{Hasher, NO_PASSWORD_YET};
use crate::store::{self, Audit, NewAccount};

/// Days after a candidacy's approval within which its account must be delivered.
pub const DELIVERY_DAYS: i64 = 3;

pub const CONSUMER: &str = "auth.candidacy-accounts";
pub const ROUTING_KEYS: [&str; 3] = [
    routing_keys::CANDIDACY_REGISTERED,
    routing_keys::CANDIDACY_SUBSTITUTED,
    routing_keys::CANDIDACY_CANCELLED,
];

pub struct CandidacyAccounts {
    pub domain: String,
}

fn uuid_of(value: Option<&str>) -> Option<Uuid> {
    value.and_then(|v| Uuid::parse_str(v).ok())
}

fn permanent(message: &str) -> HandleError {
    HandleError::Permanent(anyhow::anyhow!("{message}"))
}

/// The first address `base@domain`, `base-2@domain`… that no account holds yet.
async fn free_address(
    conn: &mut PgConnection,
    base: &str,
    domain: &str,
) -> Result<String, HandleError> {
    let mut n = 1;
    loop {
        let email = format!("{}@{domain}", login_name::nth(base, n));
        let taken: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM accounts WHERE email = $1)")
                .bind(&email)
                .fetch_one(&mut *conn)
                .await?;
        if !taken {
            return Ok(email);
        }
        n += 1;
    }
}

fn label(
    dimensions: &conoceles_proto::common::v1::CandidacyDimensions,
    list_position: u32,
) -> String {
    let mut label = format!("{} — {}", dimensions.office, dimensions.constituency);
    if list_position > 0 {
        label.push_str(&format!(" — posición {list_position}"));
    }
    label
}

/// A generated account to create.
struct NewGenerated<'a> {
    email: String,
    role: Role,
    party_id: Uuid,
    candidacy_id: Option<Uuid>,
    person_id: Option<Uuid>,
    label: &'a str,
    approved_at: DateTime<Utc>,
    /// When it must have been delivered (None: `DELIVERY_DAYS` after approval).
    due_at: Option<DateTime<Utc>>,
}

async fn create_generated(
    conn: &mut PgConnection,
    new: NewGenerated<'_>,
) -> Result<(), HandleError> {
    let NewGenerated {
        email,
        role,
        party_id,
        candidacy_id,
        person_id,
        label,
        approved_at,
        due_at,
    } = new;
    let email = Email::parse(&email).map_err(permanent)?;
    let account = store::insert(
        conn,
        NewAccount {
            email: &email,
            role,
            party_id: Some(party_id),
            candidacy_id,
            person_id,
            password_hash: NO_PASSWORD_YET,
            now: Utc::now(),
        },
    )
    .await
    .map_err(|e| HandleError::Transient(anyhow::anyhow!("{e}")))?;
    sqlx::query(
        "INSERT INTO generated_accounts (account_id, kind, party_id, candidacy_id, person_id, label, approved_at, due_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(account.id)
    .bind(if role == Role::Party { "party" } else { "candidacy" })
    .bind(party_id)
    .bind(candidacy_id)
    .bind(person_id)
    .bind(label)
    .bind(approved_at)
    .bind(due_at)
    .execute(&mut *conn)
    .await?;
    store::audit(
        conn,
        Utc::now(),
        Audit {
            action: "account_generated",
            actor: None,
            subject: Some(account.id),
            subject_email: Some(&account.email),
            client_address: None,
            detail: serde_json::json!({ "role": role.as_str() }),
        },
    )
    .await?;
    Ok(())
}

/// Locks the generated accounts of a candidacy (one person's, or all) and ends their sessions.
async fn lock_candidacy_accounts(
    conn: &mut PgConnection,
    candidacy_id: Uuid,
    person_id: Option<Uuid>,
    reason: &str,
) -> Result<u64, HandleError> {
    let now = Utc::now();
    let locked: Vec<(Uuid, String)> = sqlx::query_as(
        "UPDATE accounts SET locked_at = $3, lock_reason = $4 \
         WHERE id IN (SELECT account_id FROM generated_accounts WHERE candidacy_id = $1 \
                      AND ($2::uuid IS NULL OR person_id = $2)) \
           AND locked_at IS NULL \
         RETURNING id, email",
    )
    .bind(candidacy_id)
    .bind(person_id)
    .bind(now)
    .bind(reason)
    .fetch_all(&mut *conn)
    .await?;
    for (id, email) in &locked {
        sqlx::query(
            "UPDATE sessions SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        store::audit(
            conn,
            now,
            Audit {
                action: "account_locked",
                actor: None,
                subject: Some(*id),
                subject_email: Some(email),
                client_address: None,
                detail: serde_json::json!({ "reason": reason }),
            },
        )
        .await?;
    }
    Ok(locked.len() as u64)
}

impl CandidacyAccounts {
    async fn registered(
        &self,
        conn: &mut PgConnection,
        event: events::CandidacyRegistered,
    ) -> Result<(), HandleError> {
        let dimensions = event
            .dimensions
            .ok_or_else(|| permanent("registered without dimensions"))?;
        let candidacy_id = uuid_of(dimensions.candidacy_id.as_ref().map(|c| c.value.as_str()))
            .ok_or_else(|| permanent("registered without candidacy id"))?;
        let party_id = uuid_of(
            event
                .responsible_party_id
                .as_ref()
                .map(|p| p.value.as_str()),
        )
        .ok_or_else(|| permanent("registered without responsible party"))?;
        let holder_id = uuid_of(event.holder_id.as_ref().map(|p| p.value.as_str()));
        let approved_at = timestamp(event.approved_at.as_ref())
            .or_else(|| timestamp(event.occurred_at.as_ref()))
            .unwrap_or_else(Utc::now);
        let due_at = timestamp(event.accounts_due_at.as_ref());

        let party_exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM generated_accounts WHERE kind = 'party' AND party_id = $1)",
        )
        .bind(party_id)
        .fetch_one(&mut *conn)
        .await?;
        if !party_exists {
            let email = free_address(
                conn,
                &login_name::party(&dimensions.postulant),
                &self.domain,
            )
            .await?;
            let label = format!("Cuenta del partido {}", dimensions.postulant);
            create_generated(
                conn,
                NewGenerated {
                    email,
                    role: Role::Party,
                    party_id,
                    candidacy_id: None,
                    person_id: None,
                    label: &label,
                    approved_at,
                    due_at,
                },
            )
            .await?;
        }
        let person_exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM generated_accounts WHERE kind = 'candidacy' \
             AND candidacy_id = $1 AND person_id IS NOT DISTINCT FROM $2)",
        )
        .bind(candidacy_id)
        .bind(holder_id)
        .fetch_one(&mut *conn)
        .await?;
        if !person_exists {
            let base = login_name::candidacy(
                &dimensions.postulant,
                &dimensions.office,
                &dimensions.constituency,
                event.list_position,
            );
            let email = free_address(conn, &base, &self.domain).await?;
            create_generated(
                conn,
                NewGenerated {
                    email,
                    role: Role::Candidate,
                    party_id,
                    candidacy_id: Some(candidacy_id),
                    person_id: holder_id,
                    label: &label(&dimensions, event.list_position),
                    approved_at,
                    due_at,
                },
            )
            .await?;
        }
        Ok(())
    }

    async fn substituted(
        &self,
        conn: &mut PgConnection,
        event: events::CandidacySubstituted,
    ) -> Result<(), HandleError> {
        let candidacy_id = uuid_of(event.candidacy_id.as_ref().map(|c| c.value.as_str()))
            .ok_or_else(|| permanent("substitution without candidacy id"))?;
        let replaced = uuid_of(event.replaced_person_id.as_ref().map(|p| p.value.as_str()))
            .ok_or_else(|| permanent("substitution without replaced person"))?;
        let new_person = uuid_of(event.new_person_id.as_ref().map(|p| p.value.as_str()))
            .ok_or_else(|| permanent("substitution without new person"))?;
        // Only a person who had an account is replaced by one (holders; alternates have none).
        let previous: Option<(Uuid, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT party_id, label, approved_at FROM generated_accounts \
             WHERE kind = 'candidacy' AND candidacy_id = $1 AND person_id = $2",
        )
        .bind(candidacy_id)
        .bind(replaced)
        .fetch_optional(&mut *conn)
        .await?;
        let Some((party_id, label, _)) = previous else {
            return Ok(());
        };
        lock_candidacy_accounts(
            conn,
            candidacy_id,
            Some(replaced),
            "sustitución de la persona candidata",
        )
        .await?;
        let exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM generated_accounts WHERE candidacy_id = $1 AND person_id = $2)",
        )
        .bind(candidacy_id)
        .bind(new_person)
        .fetch_one(&mut *conn)
        .await?;
        if !exists {
            // The candidacy's first account's name, with the next free suffix.
            let first: String = sqlx::query_scalar(
                "SELECT split_part(a.email, '@', 1) FROM generated_accounts g \
                 JOIN accounts a ON a.id = g.account_id WHERE g.candidacy_id = $1 \
                 ORDER BY length(a.email), a.email LIMIT 1",
            )
            .bind(candidacy_id)
            .fetch_one(&mut *conn)
            .await?;
            let email = free_address(conn, &first, &self.domain).await?;
            // The new person's delivery deadline runs from the substitution.
            let approved_at = timestamp(event.occurred_at.as_ref()).unwrap_or_else(Utc::now);
            create_generated(
                conn,
                NewGenerated {
                    email,
                    role: Role::Candidate,
                    party_id,
                    candidacy_id: Some(candidacy_id),
                    person_id: Some(new_person),
                    label: &label,
                    approved_at,
                    due_at: timestamp(event.accounts_due_at.as_ref()),
                },
            )
            .await?;
        }
        Ok(())
    }

    async fn cancelled(
        &self,
        conn: &mut PgConnection,
        event: events::CandidacyCancelled,
    ) -> Result<(), HandleError> {
        let candidacy_id = uuid_of(event.candidacy_id.as_ref().map(|c| c.value.as_str()))
            .ok_or_else(|| permanent("cancellation without candidacy id"))?;
        lock_candidacy_accounts(conn, candidacy_id, None, "cancelación de la candidatura").await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl Handler for CandidacyAccounts {
    async fn handle(&self, tx: &mut PgConnection, message: &Incoming) -> Result<(), HandleError> {
        match message.routing_key.as_str() {
            routing_keys::CANDIDACY_REGISTERED => self.registered(tx, message.decode()?).await,
            routing_keys::CANDIDACY_SUBSTITUTED => self.substituted(tx, message.decode()?).await,
            routing_keys::CANDIDACY_CANCELLED => self.cancelled(tx, message.decode()?).await,
            _ => Ok(()),
        }
    }
}

/// One generated account with its delivery status.
#[derive(Debug, Clone)]
pub struct Generated {
    pub account: store::Account,
    pub kind: String,
    pub party_id: Uuid,
    pub candidacy_id: Option<Uuid>,
    pub label: String,
    pub approved_at: DateTime<Utc>,
    pub due_at: Option<DateTime<Utc>>,
    pub sheet_issued_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl Generated {
    /// The end of the delivery period: as capture computed it from the election's calendar,
    /// or `DELIVERY_DAYS` after approval for accounts of earlier versions.
    pub fn deadline(&self) -> DateTime<Utc> {
        self.due_at
            .unwrap_or(self.approved_at + Duration::days(DELIVERY_DAYS))
    }

    pub fn late(&self, now: DateTime<Utc>) -> bool {
        match self.delivered_at {
            Some(delivered) => delivered > self.deadline(),
            None => now > self.deadline(),
        }
    }
}

pub async fn list(pool: &PgPool, party_id: Option<Uuid>) -> sqlx::Result<Vec<Generated>> {
    // One query: the account's columns (unqualified names are the account's) beside the
    // generated-account ones.
    let account_columns = store::COLUMNS
        .split(',')
        .map(|c| format!("a.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    sqlx::query(&format!(
        "SELECT {account_columns}, g.kind, g.party_id AS g_party_id, g.candidacy_id AS g_candidacy_id, \
                g.label, g.approved_at, g.due_at, g.sheet_issued_at, g.delivered_at \
         FROM generated_accounts g JOIN accounts a ON a.id = g.account_id \
         WHERE ($1::uuid IS NULL OR g.party_id = $1) \
         ORDER BY g.party_id, g.kind DESC, g.label, a.email"
    ))
    .bind(party_id)
    .try_map(|row: sqlx::postgres::PgRow| {
        Ok(Generated {
            kind: row.try_get("kind")?,
            party_id: row.try_get("g_party_id")?,
            candidacy_id: row.try_get("g_candidacy_id")?,
            label: row.try_get("label")?,
            approved_at: row.try_get("approved_at")?,
            due_at: row.try_get("due_at")?,
            sheet_issued_at: row.try_get("sheet_issued_at")?,
            delivered_at: row.try_get("delivered_at")?,
            account: store::from_row(row)?,
        })
    })
    .fetch_all(pool)
    .await
}

/// New passwords for the party's undelivered, unlocked generated accounts.
pub async fn issue_sheet(
    pool: &PgPool,
    hasher: &Hasher,
    clock: &SharedClock,
    actor: Option<Uuid>,
    party_id: Uuid,
) -> anyhow::Result<Vec<(Generated, Password)>> {
    let pending: Vec<Generated> = list(pool, Some(party_id))
        .await?
        .into_iter()
        .filter(|g| g.delivered_at.is_none() && g.account.locked_at.is_none())
        .collect();
    let mut hashed = Vec::with_capacity(pending.len());
    for generated in pending {
        let password = Password::generate();
        let hash = hasher.hash(&password).await?;
        hashed.push((generated, password, hash));
    }
    let now = clock.now();
    let mut tx = pool.begin().await?;
    for (generated, _, hash) in &hashed {
        store::set_password(&mut tx, generated.account.id, hash, true, now).await?;
        sqlx::query("UPDATE generated_accounts SET sheet_issued_at = $2 WHERE account_id = $1")
            .bind(generated.account.id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    store::audit(
        &mut tx,
        now,
        Audit {
            action: "credential_sheet_issued",
            actor,
            subject: None,
            subject_email: None,
            client_address: None,
            detail: serde_json::json!({ "party_id": party_id, "accounts": hashed.len() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(hashed.into_iter().map(|(g, p, _)| (g, p)).collect())
}

/// Marks the party's issued, undelivered credentials as delivered now.
pub async fn mark_delivered(
    pool: &PgPool,
    clock: &SharedClock,
    actor: Option<Uuid>,
    party_id: Uuid,
) -> sqlx::Result<u64> {
    let now = clock.now();
    let mut tx = pool.begin().await?;
    let delivered: Vec<Option<Uuid>> = sqlx::query_scalar(
        "UPDATE generated_accounts SET delivered_at = $2, delivered_by = $3 \
         WHERE party_id = $1 AND delivered_at IS NULL AND sheet_issued_at IS NOT NULL \
         RETURNING candidacy_id",
    )
    .bind(party_id)
    .bind(now)
    .bind(actor)
    .fetch_all(&mut *tx)
    .await?;
    let marked = delivered.len() as u64;
    // Capture counts a candidacy's deadline from the delivery where the election's rule says so.
    let mut candidacies: Vec<Uuid> = delivered.into_iter().flatten().collect();
    candidacies.sort();
    candidacies.dedup();
    if !candidacies.is_empty() {
        conoceles_kit::amqp::enqueue_event(
            &mut tx,
            routing_keys::ACCOUNTS_DELIVERED,
            &events::AccountsDelivered {
                party_id: Some(conoceles_proto::common::v1::PartyId::from(party_id)),
                candidacy_ids: candidacies
                    .iter()
                    .map(conoceles_proto::common::v1::CandidacyId::from)
                    .collect(),
                delivered_at: Some(conoceles_kit::proto_time::to_proto(now)),
            },
        )
        .await?;
    }
    store::audit(
        &mut tx,
        now,
        Audit {
            action: "credentials_delivered",
            actor,
            subject: None,
            subject_email: None,
            client_address: None,
            detail: serde_json::json!({ "party_id": party_id, "accounts": marked }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(marked)
}
