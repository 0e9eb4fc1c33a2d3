//! Queries on accounts and the audit log.

use chrono::{DateTime, Utc};
use conoceles_kit::access::Role;
use conoceles_kit::error::{AppError, ErrorCode, OnConstraint};
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::domain::Email;

#[derive(Debug, Clone)]
pub struct Account {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub party_id: Option<Uuid>,
    pub candidacy_id: Option<Uuid>,
    pub person_id: Option<Uuid>,
    pub password_hash: String,
    pub must_change_password: bool,
    pub locked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

pub(crate) const COLUMNS: &str = "id, email, role, party_id, candidacy_id, person_id, password_hash, \
                       must_change_password, locked_at, created_at";

pub(crate) fn from_row(row: sqlx::postgres::PgRow) -> Result<Account, sqlx::Error> {
    let role: String = row.try_get("role")?;
    Ok(Account {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        role: Role::parse(&role)
            .ok_or_else(|| sqlx::Error::Decode(format!("role {role}").into()))?,
        party_id: row.try_get("party_id")?,
        candidacy_id: row.try_get("candidacy_id")?,
        person_id: row.try_get("person_id")?,
        password_hash: row.try_get("password_hash")?,
        must_change_password: row.try_get("must_change_password")?,
        locked_at: row.try_get("locked_at")?,
        created_at: row.try_get("created_at")?,
    })
}

pub async fn by_email(pool: &PgPool, email: &Email) -> sqlx::Result<Option<Account>> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM accounts WHERE email = $1"))
        .bind(email.as_str())
        .try_map(from_row)
        .fetch_optional(pool)
        .await
}

pub async fn by_id(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Account>> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM accounts WHERE id = $1"))
        .bind(id)
        .try_map(from_row)
        .fetch_optional(conn)
        .await
}

/// What a new account needs; the scope must fit the role.
pub struct NewAccount<'a> {
    pub email: &'a Email,
    pub role: Role,
    pub party_id: Option<Uuid>,
    pub candidacy_id: Option<Uuid>,
    pub person_id: Option<Uuid>,
    pub password_hash: &'a str,
    pub now: DateTime<Utc>,
}

pub async fn insert(conn: &mut PgConnection, new: NewAccount<'_>) -> Result<Account, AppError> {
    sqlx::query(&format!(
        "INSERT INTO accounts (id, email, role, party_id, candidacy_id, person_id, password_hash, \
         must_change_password, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, TRUE, $8) \
         RETURNING {COLUMNS}"
    ))
    .bind(Uuid::now_v7())
    .bind(new.email.as_str())
    .bind(new.role.as_str())
    .bind(new.party_id)
    .bind(new.candidacy_id)
    .bind(new.person_id)
    .bind(new.password_hash)
    .bind(new.now)
    .try_map(from_row)
    .fetch_one(conn)
    .await
    .on_constraint("accounts_email_key", || {
        AppError::new(
            ErrorCode::AlreadyExists,
            "Ya existe una cuenta con ese correo electrónico.",
        )
    })
}

pub async fn set_password(
    conn: &mut PgConnection,
    id: Uuid,
    password_hash: &str,
    must_change: bool,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE accounts SET password_hash = $2, must_change_password = $3, \
         password_changed_at = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(password_hash)
    .bind(must_change)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_lock(
    conn: &mut PgConnection,
    id: Uuid,
    locked: Option<(DateTime<Utc>, &str)>,
) -> sqlx::Result<bool> {
    let result = sqlx::query("UPDATE accounts SET locked_at = $2, lock_reason = $3 WHERE id = $1")
        .bind(id)
        .bind(locked.map(|(at, _)| at))
        .bind(locked.map(|(_, reason)| reason))
        .execute(conn)
        .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn set_role(
    conn: &mut PgConnection,
    id: Uuid,
    role: Role,
    party_id: Option<Uuid>,
    candidacy_id: Option<Uuid>,
) -> sqlx::Result<Option<Account>> {
    sqlx::query(&format!(
        "UPDATE accounts SET role = $2, party_id = $3, candidacy_id = $4 WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(id)
    .bind(role.as_str())
    .bind(party_id)
    .bind(candidacy_id)
    .try_map(from_row)
    .fetch_optional(conn)
    .await
}

/// A page of accounts ordered by email, after `after_email`.
/// `text` as a pattern matching itself anywhere (its `%`, `_` and `\\` taken literally).
fn containing(text: &str) -> String {
    let escaped = text
        .trim()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

pub async fn list(
    pool: &PgPool,
    role: Option<Role>,
    email_contains: &str,
    after_email: &str,
    limit: i64,
) -> sqlx::Result<Vec<Account>> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM accounts WHERE ($1::text IS NULL OR role = $1) AND email > $2 \
         AND email ILIKE $4 ORDER BY email LIMIT $3"
    ))
    .bind(role.map(Role::as_str))
    .bind(after_email)
    .bind(limit)
    .bind(containing(email_contains))
    .try_map(from_row)
    .fetch_all(pool)
    .await
}

pub async fn count(pool: &PgPool, role: Option<Role>, email_contains: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT count(*) FROM accounts WHERE ($1::text IS NULL OR role = $1) AND email ILIKE $2",
    )
    .bind(role.map(Role::as_str))
    .bind(containing(email_contains))
    .fetch_one(pool)
    .await
}

/// One audit entry. Never a password or a token.
pub struct Audit<'a> {
    pub action: &'a str,
    pub actor: Option<Uuid>,
    pub subject: Option<Uuid>,
    pub subject_email: Option<&'a str>,
    pub client_address: Option<&'a str>,
    pub detail: serde_json::Value,
}

pub async fn audit(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    entry: Audit<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, action, actor_account_id, subject_account_id, subject_email, \
         client_address, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(now)
    .bind(entry.action)
    .bind(entry.actor)
    .bind(entry.subject)
    .bind(entry.subject_email)
    .bind(entry.client_address)
    .bind(entry.detail)
    .execute(conn)
    .await?;
    Ok(())
}
