//! Brute-force protection: failed logins counted per account and per client address in Redis
//! over a window. Fails closed: when Redis cannot be asked, nobody logs in.

use chrono::Duration;
use conoceles_kit::cache::Cache;

#[derive(Debug, PartialEq, Eq)]
pub enum LimitError {
    /// Too many failures; retry after this many seconds.
    Blocked { retry_after_seconds: u64 },
    /// The limiter cannot be consulted.
    Unavailable,
}

#[derive(Clone)]
pub struct LoginLimiter {
    cache: Cache,
    per_account: u32,
    per_address: u32,
    window: Duration,
}

impl LoginLimiter {
    pub fn new(cache: Cache, per_account: u32, per_address: u32, window: Duration) -> Self {
        Self {
            cache,
            per_account,
            per_address,
            window,
        }
    }

    fn keys(&self, email: &str, address: &str) -> (String, String) {
        (
            self.cache.key(&format!("login-failures:account:{email}")),
            self.cache.key(&format!("login-failures:address:{address}")),
        )
    }

    /// Whether a login attempt may proceed.
    pub async fn check(&self, email: &str, address: &str) -> Result<(), LimitError> {
        let (account_key, address_key) = self.keys(email, address);
        let mut conn = self.cache.connection();
        let (account_count, account_ttl, address_count, address_ttl): (
            Option<u32>,
            i64,
            Option<u32>,
            i64,
        ) = redis::pipe()
            .get(&account_key)
            .ttl(&account_key)
            .get(&address_key)
            .ttl(&address_key)
            .query_async(&mut conn)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "login limiter unavailable; refusing logins");
                LimitError::Unavailable
            })?;
        let blocked = |count: Option<u32>, limit: u32, ttl: i64| {
            (count.unwrap_or(0) >= limit).then_some(ttl.max(1) as u64)
        };
        let retry = blocked(account_count, self.per_account, account_ttl)
            .into_iter()
            .chain(blocked(address_count, self.per_address, address_ttl))
            .max();
        match retry {
            Some(seconds) => Err(LimitError::Blocked {
                retry_after_seconds: seconds,
            }),
            None => Ok(()),
        }
    }

    pub async fn record_failure(&self, email: &str, address: &str) -> Result<(), LimitError> {
        let (account_key, address_key) = self.keys(email, address);
        let window = self.window.num_seconds().max(1);
        let mut conn = self.cache.connection();
        redis::pipe()
            .incr(&account_key, 1)
            .expire(&account_key, window)
            .arg("NX")
            .incr(&address_key, 1)
            .expire(&address_key, window)
            .arg("NX")
            .query_async::<()>(&mut conn)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "cannot record a failed login");
                LimitError::Unavailable
            })
    }

    /// A successful login clears the account's failures (not the address's).
    pub async fn record_success(&self, email: &str, address: &str) {
        let (account_key, _) = self.keys(email, address);
        let mut conn = self.cache.connection();
        let _: redis::RedisResult<()> = redis::cmd("DEL")
            .arg(account_key)
            .query_async(&mut conn)
            .await;
    }
}
