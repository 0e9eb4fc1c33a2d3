//! The account use cases: login, sessions, passwords, account administration. Every change is
//! audited in the same transaction.

use std::sync::Arc;

use conoceles_kit::access::Role;
use conoceles_kit::clock::SharedClock;
use conoceles_kit::error::{AppError, ErrorCode};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::{Email, Password};
use crate::hashing::Hasher;
use crate::limiter::{LimitError, LoginLimiter};
use crate::sessions::{NewSession, Session, Sessions};
use crate::settings::AuthSettings;
use crate::store::{self, Account, Audit, NewAccount};

#[derive(Clone)]
pub struct Accounts {
    pub pool: PgPool,
    pub clock: SharedClock,
    pub hasher: Hasher,
    pub sessions: Sessions,
    pub limiter: LoginLimiter,
    pub settings: Arc<AuthSettings>,
}

fn not_found() -> AppError {
    AppError::new(ErrorCode::NotFound, "No existe esa cuenta.")
}

impl Accounts {
    #[tracing::instrument(skip_all)]
    pub async fn login(
        &self,
        email: &Email,
        password: &str,
        address: &str,
    ) -> Result<(NewSession, Account), LoginError> {
        self.limiter
            .check(email.as_str(), address, self.clock.now())
            .await
            .map_err(LoginError::Limited)?;
        let account = store::by_email(&self.pool, email)
            .await
            .map_err(|e| LoginError::Internal(e.into()))?;
        let matches = self
            .hasher
            .verify(password, account.as_ref().map(|a| a.password_hash.as_str()))
            .await
            .map_err(LoginError::Internal)?;
        let now = self.clock.now();
        let Some(account) = account.filter(|_| matches) else {
            self.limiter
                .record_failure(email.as_str(), address, now)
                .await
                .map_err(LoginError::Limited)?;
            let mut conn = self
                .pool
                .acquire()
                .await
                .map_err(|e| LoginError::Internal(e.into()))?;
            store::audit(
                &mut conn,
                now,
                Audit {
                    action: "login_failed",
                    actor: None,
                    subject: None,
                    subject_email: Some(email.as_str()),
                    client_address: Some(address),
                    detail: serde_json::json!({}),
                },
            )
            .await
            .map_err(|e| LoginError::Internal(e.into()))?;
            return Err(LoginError::BadCredentials);
        };
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| LoginError::Internal(e.into()))?;
        if account.locked_at.is_some() {
            let mut entry = audit_entry("login_refused_locked", None, &account);
            entry.client_address = Some(address);
            store::audit(&mut conn, now, entry)
                .await
                .map_err(|e| LoginError::Internal(e.into()))?;
            return Err(LoginError::Locked);
        }
        self.limiter.record_success(email.as_str(), address).await;
        let session = self
            .sessions
            .create(account.id, address)
            .await
            .map_err(LoginError::Internal)?;
        let mut entry = audit_entry("login", Some(account.id), &account);
        entry.client_address = Some(address);
        store::audit(&mut conn, now, entry)
            .await
            .map_err(|e| LoginError::Internal(e.into()))?;
        Ok((session, account))
    }

    /// The session's account, if the session is live and the account not locked.
    pub async fn resolve(&self, token: &str) -> anyhow::Result<Option<(Session, Account)>> {
        let Some(session) = self.sessions.resolve(token).await? else {
            return Ok(None);
        };
        let mut conn = self.pool.acquire().await?;
        let account = store::by_id(&mut conn, session.account_id).await?;
        Ok(account
            .filter(|a| a.locked_at.is_none())
            .map(|account| (session, account)))
    }

    pub async fn logout(&self, token: &str) -> anyhow::Result<()> {
        if let Some(account_id) = self.sessions.revoke(token).await? {
            let mut conn = self.pool.acquire().await?;
            store::audit(
                &mut conn,
                self.clock.now(),
                Audit {
                    action: "logout",
                    actor: Some(account_id),
                    subject: Some(account_id),
                    subject_email: None,
                    client_address: None,
                    detail: serde_json::json!({}),
                },
            )
            .await?;
        }
        Ok(())
    }

    /// Changes the password of the session's account, revokes all its sessions and opens a
    /// fresh one for the caller.
    #[tracing::instrument(skip_all)]
    pub async fn change_password(
        &self,
        token: &str,
        current: &str,
        new: &Password,
    ) -> Result<NewSession, AppError> {
        let (_, account) = self.resolve(token).await?.ok_or_else(|| {
            AppError::new(
                ErrorCode::Unauthenticated,
                "Su sesión terminó. Inicie sesión de nuevo.",
            )
        })?;
        if !self
            .hasher
            .verify(current, Some(&account.password_hash))
            .await?
        {
            return Err(AppError::invalid(vec![conoceles_kit::FieldViolation::new(
                "current_password",
                "mismatch",
                "La contraseña actual no es correcta.",
            )]));
        }
        if current == new.expose() {
            return Err(AppError::invalid(vec![conoceles_kit::FieldViolation::new(
                "new_password",
                "unchanged",
                "La nueva contraseña debe ser distinta de la actual.",
            )]));
        }
        let hash = self.hasher.hash(new).await?;
        let now = self.clock.now();
        let mut tx = self.pool.begin().await?;
        store::set_password(&mut tx, account.id, &hash, false, now).await?;
        store::audit(
            &mut tx,
            now,
            audit_entry("password_changed", Some(account.id), &account),
        )
        .await?;
        tx.commit().await?;
        self.sessions.revoke_all(account.id).await?;
        Ok(self.sessions.create(account.id, "password-change").await?)
    }

    /// Creates an account with a generated password (returned once; changed at first login).
    #[tracing::instrument(skip(self, email), fields(role = role.as_str()))]
    pub async fn create(
        &self,
        actor: Option<Uuid>,
        email: &Email,
        role: Role,
        party_id: Option<Uuid>,
        candidacy_id: Option<Uuid>,
        person_id: Option<Uuid>,
    ) -> Result<(Account, Password), AppError> {
        let password = Password::generate();
        let hash = self.hasher.hash(&password).await?;
        let now = self.clock.now();
        let mut tx = self.pool.begin().await?;
        let account = store::insert(
            &mut tx,
            NewAccount {
                email,
                role,
                party_id,
                candidacy_id,
                person_id,
                password_hash: &hash,
                now,
            },
        )
        .await?;
        let mut entry = audit_entry("account_created", actor, &account);
        entry.detail = serde_json::json!({ "role": role.as_str() });
        store::audit(&mut tx, now, entry).await?;
        tx.commit().await?;
        Ok((account, password))
    }

    pub async fn lock(&self, actor: Option<Uuid>, id: Uuid, reason: &str) -> Result<(), AppError> {
        let now = self.clock.now();
        let mut tx = self.pool.begin().await?;
        let account = store::by_id(&mut tx, id).await?.ok_or_else(not_found)?;
        store::set_lock(&mut tx, id, Some((now, reason))).await?;
        let mut entry = audit_entry("account_locked", actor, &account);
        entry.detail = serde_json::json!({ "reason": reason });
        store::audit(&mut tx, now, entry).await?;
        tx.commit().await?;
        self.sessions.revoke_all(id).await?;
        Ok(())
    }

    pub async fn unlock(&self, actor: Option<Uuid>, id: Uuid) -> Result<(), AppError> {
        let now = self.clock.now();
        let mut tx = self.pool.begin().await?;
        let account = store::by_id(&mut tx, id).await?.ok_or_else(not_found)?;
        store::set_lock(&mut tx, id, None).await?;
        store::audit(
            &mut tx,
            now,
            audit_entry("account_unlocked", actor, &account),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn reset_password(
        &self,
        actor: Option<Uuid>,
        id: Uuid,
    ) -> Result<Password, AppError> {
        let password = Password::generate();
        let hash = self.hasher.hash(&password).await?;
        let now = self.clock.now();
        let mut tx = self.pool.begin().await?;
        let account = store::by_id(&mut tx, id).await?.ok_or_else(not_found)?;
        store::set_password(&mut tx, id, &hash, true, now).await?;
        store::audit(&mut tx, now, audit_entry("password_reset", actor, &account)).await?;
        tx.commit().await?;
        self.sessions.revoke_all(id).await?;
        Ok(password)
    }

    pub async fn change_role(
        &self,
        actor: Option<Uuid>,
        id: Uuid,
        role: Role,
        party_id: Option<Uuid>,
        candidacy_id: Option<Uuid>,
    ) -> Result<Account, AppError> {
        let now = self.clock.now();
        let mut tx = self.pool.begin().await?;
        let before = store::by_id(&mut tx, id).await?.ok_or_else(not_found)?;
        let account = store::set_role(&mut tx, id, role, party_id, candidacy_id)
            .await?
            .ok_or_else(not_found)?;
        let mut entry = audit_entry("role_changed", actor, &account);
        entry.detail = serde_json::json!({ "from": before.role.as_str(), "to": role.as_str() });
        store::audit(&mut tx, now, entry).await?;
        tx.commit().await?;
        self.sessions.revoke_all(id).await?;
        Ok(account)
    }
}

/// Why a login was refused.
pub enum LoginError {
    Limited(LimitError),
    BadCredentials,
    Locked,
    Internal(anyhow::Error),
}

/// The audit record of an action on an account.
pub(crate) fn audit_entry<'a>(
    action: &'a str,
    actor: Option<Uuid>,
    subject: &'a Account,
) -> Audit<'a> {
    Audit {
        action,
        actor,
        subject: Some(subject.id),
        subject_email: Some(&subject.email),
        client_address: None,
        detail: serde_json::json!({}),
    }
}
