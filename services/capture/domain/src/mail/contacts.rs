//! Where a party is emailed, and who declined the optional mail: the addresses the unit
//! registers for each party (its accredited representatives), the address each party account sets
//! for itself with its choice about observations, deadlines and approvals, and a candidate
//! account's choice about its candidacy's private email.

use chrono::{DateTime, Utc};
use conoceles_kit::FieldViolation;
use sqlx::PgPool;
use uuid::Uuid;

/// A registered address.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Contact {
    pub id: Uuid,
    pub party_id: Uuid,
    pub email: String,
    pub account_id: Option<Uuid>,
    pub receive_optional: bool,
}

/// An address as typed: trimmed and lowercased, `local@domain.tld`, at most 254 characters.
pub fn parse_email(field: &'static str, value: &str) -> Result<String, FieldViolation> {
    let email = value.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c == ',' || c == ';')
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if valid {
        Ok(email)
    } else {
        Err(FieldViolation::new(
            field,
            "invalid",
            "Escriba un correo electrónico válido, como nombre@ejemplo.mx.",
        ))
    }
}

/// A registered address with its party's name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Listed {
    pub id: Uuid,
    pub party: String,
    pub email: String,
    /// Set by one of the party's accounts (else registered by the unit).
    pub own: bool,
    pub receive_optional: bool,
}

/// Every registered address of the election's parties, by party name.
pub async fn all(pool: &PgPool, election: Uuid) -> sqlx::Result<Vec<Listed>> {
    sqlx::query_as(
        "SELECT m.id, p.name AS party, m.email, m.account_id IS NOT NULL AS own, m.receive_optional \
         FROM mail_contacts m JOIN postulants p ON p.id = m.party_id \
         WHERE p.election_id = $1 ORDER BY p.name, m.email",
    )
    .bind(election)
    .fetch_all(pool)
    .await
}

/// The postulants that capture for themselves (parties and independents): (id, name).
pub async fn parties(pool: &PgPool, election: Uuid) -> sqlx::Result<Vec<(Uuid, String)>> {
    sqlx::query_as(
        "SELECT id, name FROM postulants WHERE election_id = $1 AND kind IN ('party', 'independent') \
         ORDER BY kind DESC, name",
    )
    .bind(election)
    .fetch_all(pool)
    .await
}

/// The unit registers an address for a party (again: nothing changes).
pub async fn add(
    pool: &PgPool,
    party: Uuid,
    email: &str,
    by: Option<Uuid>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO mail_contacts (id, party_id, email, added_at, added_by) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (party_id, email) DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(party)
    .bind(email)
    .bind(now)
    .bind(by)
    .execute(pool)
    .await?;
    Ok(())
}

/// The unit removes an address it registered (an account's own address stays the account's).
pub async fn remove(pool: &PgPool, id: Uuid) -> sqlx::Result<bool> {
    Ok(
        sqlx::query("DELETE FROM mail_contacts WHERE id = $1 AND account_id IS NULL")
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
            == 1,
    )
}

/// A party account's own address and choice (`None`: it set none).
pub async fn of_account(pool: &PgPool, account: Uuid) -> sqlx::Result<Option<Contact>> {
    sqlx::query_as(
        "SELECT id, party_id, email, account_id, receive_optional FROM mail_contacts WHERE account_id = $1",
    )
    .bind(account)
    .fetch_optional(pool)
    .await
}

/// A party account sets its address and choice; an empty address removes it. An address the
/// unit already registered for the party becomes the account's.
pub async fn set_for_account(
    pool: &PgPool,
    account: Uuid,
    party: Uuid,
    email: Option<&str>,
    receive_optional: bool,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("DELETE FROM mail_contacts WHERE account_id = $1")
        .bind(account)
        .execute(&mut *tx)
        .await?;
    if let Some(email) = email {
        sqlx::query(
            "INSERT INTO mail_contacts (id, party_id, email, account_id, receive_optional, added_at, added_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $4) \
             ON CONFLICT (party_id, email) DO UPDATE SET account_id = EXCLUDED.account_id, \
                 receive_optional = EXCLUDED.receive_optional",
        )
        .bind(Uuid::now_v7())
        .bind(party)
        .bind(email)
        .bind(account)
        .bind(receive_optional)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

/// Whether a candidate account declined the optional mail to its candidacy's private email.
pub async fn candidate_declined(pool: &PgPool, account: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM mail_opt_outs WHERE account_id = $1)")
        .bind(account)
        .fetch_one(pool)
        .await
}

/// A candidate account's choice about its candidacy's private email.
pub async fn set_for_candidate(
    pool: &PgPool,
    account: Uuid,
    candidacy: Uuid,
    receive_optional: bool,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    if receive_optional {
        sqlx::query("DELETE FROM mail_opt_outs WHERE account_id = $1")
            .bind(account)
            .execute(pool)
            .await?;
    } else {
        sqlx::query(
            "INSERT INTO mail_opt_outs (account_id, candidacy_id, opted_out_at) VALUES ($1, $2, $3) \
             ON CONFLICT (account_id) DO NOTHING",
        )
        .bind(account)
        .bind(candidacy)
        .bind(now)
        .execute(pool)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalised_and_lists_or_typos_refused() {
        assert_eq!(
            parse_email("correo", "  Enlace@Partido.MX ").unwrap(),
            "enlace@partido.mx"
        );
        for bad in [
            "",
            "enlace",
            "enlace@partido",
            "a@b.mx, c@d.mx",
            "@partido.mx",
            "a@@b.mx",
            "a@.mx",
        ] {
            assert!(parse_email("correo", bad).is_err(), "{bad}");
        }
    }
}
