//! User sessions: an opaque 256-bit token shown once, stored as its SHA-256 in PostgreSQL and
//! cached in Redis; idle and absolute timeouts; revocation of one session or all of an account.

use chrono::{DateTime, Duration, Utc};
use conoceles_kit::cache::Cache;
use conoceles_kit::clock::SharedClock;
use conoceles_kit::proto_time::random_token;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

/// Last-seen times are written to PostgreSQL at most this often per session.
const PERSIST_EVERY_SECONDS: i64 = 60;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Cached {
    account_id: Uuid,
    csrf_token: String,
    expires_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    persisted_at: DateTime<Utc>,
}

/// A live session.
#[derive(Debug, Clone)]
pub struct Session {
    pub account_id: Uuid,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// A new session's token (shown once) and facts.
pub struct NewSession {
    pub token: String,
    pub session: Session,
}

#[derive(Clone)]
pub struct Sessions {
    pool: PgPool,
    cache: Cache,
    clock: SharedClock,
    idle: Duration,
    absolute: Duration,
}

fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

impl Sessions {
    pub fn new(
        pool: PgPool,
        cache: Cache,
        clock: SharedClock,
        idle: Duration,
        absolute: Duration,
    ) -> Self {
        Self {
            pool,
            cache,
            clock,
            idle,
            absolute,
        }
    }

    fn key(&self, token_hash: &[u8]) -> String {
        self.cache
            .key(&format!("session:{}", hex::encode(token_hash)))
    }

    pub async fn create(
        &self,
        account_id: Uuid,
        client_address: &str,
    ) -> anyhow::Result<NewSession> {
        let token = random_token();
        let token_hash = hash(&token);
        let now = self.clock.now();
        let session = Session {
            account_id,
            csrf_token: random_token(),
            expires_at: now + self.absolute,
        };
        sqlx::query(
            "INSERT INTO sessions (token_hash, account_id, csrf_token, created_at, last_seen_at, \
             expires_at, client_address) VALUES ($1, $2, $3, $4, $4, $5, $6)",
        )
        .bind(&token_hash)
        .bind(account_id)
        .bind(&session.csrf_token)
        .bind(now)
        .bind(session.expires_at)
        .bind(client_address)
        .execute(&self.pool)
        .await?;
        self.cache_put(
            &token_hash,
            &Cached {
                account_id,
                csrf_token: session.csrf_token.clone(),
                expires_at: session.expires_at,
                last_seen_at: now,
                persisted_at: now,
            },
        )
        .await;
        Ok(NewSession { token, session })
    }

    /// The live session of `token`, touching its idle timer; `None` if unknown, revoked,
    /// idle too long or past its absolute lifetime.
    pub async fn resolve(&self, token: &str) -> anyhow::Result<Option<Session>> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        let token_hash = hash(token);
        let now = self.clock.now();
        let cached = match self.cache_get(&token_hash).await {
            Some(cached) => Some(cached),
            None => self.load(&token_hash).await?,
        };
        let Some(mut cached) = cached else {
            return Ok(None);
        };
        if now >= cached.expires_at || now - cached.last_seen_at > self.idle {
            self.revoke_hash(&token_hash).await?;
            return Ok(None);
        }
        cached.last_seen_at = now;
        if (now - cached.persisted_at).num_seconds() >= PERSIST_EVERY_SECONDS {
            sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1")
                .bind(&token_hash)
                .bind(now)
                .execute(&self.pool)
                .await?;
            cached.persisted_at = now;
        }
        self.cache_put(&token_hash, &cached).await;
        Ok(Some(Session {
            account_id: cached.account_id,
            csrf_token: cached.csrf_token,
            expires_at: cached.expires_at,
        }))
    }

    async fn load(&self, token_hash: &[u8]) -> anyhow::Result<Option<Cached>> {
        let row: Option<(Uuid, String, DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(
            "SELECT account_id, csrf_token, expires_at, last_seen_at FROM sessions \
             WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(
            |(account_id, csrf_token, expires_at, last_seen_at)| Cached {
                account_id,
                csrf_token,
                expires_at,
                last_seen_at,
                persisted_at: last_seen_at,
            },
        ))
    }

    pub async fn revoke(&self, token: &str) -> anyhow::Result<Option<Uuid>> {
        let token_hash = hash(token);
        let account: Option<Uuid> = sqlx::query_scalar(
            "UPDATE sessions SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL \
             RETURNING account_id",
        )
        .bind(&token_hash)
        .bind(self.clock.now())
        .fetch_optional(&self.pool)
        .await?;
        self.cache_delete(&[token_hash]).await;
        Ok(account)
    }

    async fn revoke_hash(&self, token_hash: &[u8]) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE sessions SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash)
        .bind(self.clock.now())
        .execute(&self.pool)
        .await?;
        self.cache_delete(&[token_hash.to_vec()]).await;
        Ok(())
    }

    /// Revokes every live session of the account (password change, lock, role change).
    pub async fn revoke_all(&self, account_id: Uuid) -> anyhow::Result<u64> {
        let hashes: Vec<Vec<u8>> = sqlx::query_scalar(
            "UPDATE sessions SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL \
             RETURNING token_hash",
        )
        .bind(account_id)
        .bind(self.clock.now())
        .fetch_all(&self.pool)
        .await?;
        self.cache_delete(&hashes).await;
        Ok(hashes.len() as u64)
    }

    // The cache is an accelerator: when Redis is down, sessions are read from PostgreSQL.

    async fn cache_get(&self, token_hash: &[u8]) -> Option<Cached> {
        let mut conn = self.cache.connection();
        let raw: Option<String> = redis::cmd("GET")
            .arg(self.key(token_hash))
            .query_async(&mut conn)
            .await
            .ok()?;
        serde_json::from_str(&raw?).ok()
    }

    async fn cache_put(&self, token_hash: &[u8], cached: &Cached) {
        let mut conn = self.cache.connection();
        let ttl = self.idle.num_seconds().max(1);
        let Ok(value) = serde_json::to_string(cached) else {
            return;
        };
        let result: redis::RedisResult<()> = redis::cmd("SET")
            .arg(self.key(token_hash))
            .arg(value)
            .arg("EX")
            .arg(ttl)
            .query_async(&mut conn)
            .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "session cache write failed");
        }
    }

    async fn cache_delete(&self, hashes: &[Vec<u8>]) {
        if hashes.is_empty() {
            return;
        }
        let mut conn = self.cache.connection();
        let mut cmd = redis::cmd("DEL");
        for h in hashes {
            cmd.arg(self.key(h));
        }
        let result: redis::RedisResult<()> = cmd.query_async(&mut conn).await;
        if let Err(e) = result {
            // A stale cache entry would outlive revocation: refuse to pretend it worked.
            tracing::error!(error = %e, "session cache delete failed");
        }
    }
}
