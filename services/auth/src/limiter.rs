//! Brute-force protection that cannot be turned against the person it protects: failed logins
//! are counted over a window per account *and* address, per account from anywhere, and per
//! address across accounts, each with a number of free failures and then **progressive delays**
//! (doubling up to a cap) instead of a lock. Someone guessing a party's password from one address
//! waits longer and longer there; the party, from its own address, is delayed at most a minute
//! however many addresses guess at once. The address is the client's as the front saw it
//! (`X-Forwarded-For` only from trusted proxies: `conoceles_kit::http::ClientAddress`).
//!
//! Fails closed: when Redis cannot be asked, nobody logs in.

use chrono::{DateTime, Duration, Utc};
use conoceles_kit::cache::Cache;

#[derive(Debug, PartialEq, Eq)]
pub enum LimitError {
    /// Too many failures; retry after this many seconds.
    Blocked { retry_after_seconds: u64 },
    /// The limiter cannot be consulted.
    Unavailable,
}

/// One counter's rule: failures allowed before delays start, the first delay, the cap.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub free: u32,
    pub first_delay_seconds: u64,
    pub cap_seconds: u64,
}

impl Rule {
    /// The wait after `failures` failures: none while free, then doubling from the first delay
    /// up to the cap.
    pub fn delay(&self, failures: u32) -> u64 {
        if failures < self.free {
            return 0;
        }
        let doublings = (failures - self.free).min(32);
        self.first_delay_seconds
            .saturating_mul(1u64 << doublings)
            .min(self.cap_seconds)
    }
}

#[derive(Clone)]
pub struct LoginLimiter {
    cache: Cache,
    /// One account from one address (the guesser).
    pair: Rule,
    /// One account from every address (a distributed guesser; its cap is what a victim waits).
    account: Rule,
    /// One address across accounts (a sprayer).
    address: Rule,
    window: Duration,
}

impl LoginLimiter {
    /// `per_account` free failures per account and address, `per_address` per address; the
    /// account as a whole gets four times `per_account`, then at most a minute's delay.
    pub fn new(cache: Cache, per_account: u32, per_address: u32, window: Duration) -> Self {
        let window_seconds = window.num_seconds().max(1) as u64;
        Self {
            cache,
            pair: Rule {
                free: per_account,
                first_delay_seconds: 30,
                cap_seconds: window_seconds,
            },
            account: Rule {
                free: per_account.saturating_mul(4),
                first_delay_seconds: 5,
                cap_seconds: 60,
            },
            address: Rule {
                free: per_address,
                first_delay_seconds: 5,
                cap_seconds: 300,
            },
            window,
        }
    }

    fn keys(&self, email: &str, address: &str) -> [(String, Rule); 3] {
        [
            (
                self.cache
                    .key(&format!("login-failures:pair:{email}:{address}")),
                self.pair,
            ),
            (
                self.cache.key(&format!("login-failures:account:{email}")),
                self.account,
            ),
            (
                self.cache.key(&format!("login-failures:address:{address}")),
                self.address,
            ),
        ]
    }

    /// Whether a login attempt may proceed now.
    pub async fn check(
        &self,
        email: &str,
        address: &str,
        now: DateTime<Utc>,
    ) -> Result<(), LimitError> {
        let keys = self.keys(email, address);
        let mut conn = self.cache.connection();
        let mut pipe = redis::pipe();
        for (key, _) in &keys {
            pipe.cmd("HMGET").arg(key).arg("n").arg("last");
        }
        let counts: Vec<(Option<u32>, Option<i64>)> =
            pipe.query_async(&mut conn).await.map_err(|e| {
                tracing::error!(error = %e, "login limiter unavailable; refusing logins");
                LimitError::Unavailable
            })?;
        let retry = keys
            .iter()
            .zip(counts)
            .filter_map(|((_, rule), (failures, last))| {
                let delay = rule.delay(failures.unwrap_or(0)) as i64;
                let waited = now.timestamp() - last.unwrap_or(i64::MIN / 2);
                (delay > waited).then_some((delay - waited) as u64)
            })
            .max();
        match retry {
            Some(seconds) => Err(LimitError::Blocked {
                retry_after_seconds: seconds.max(1),
            }),
            None => Ok(()),
        }
    }

    pub async fn record_failure(
        &self,
        email: &str,
        address: &str,
        now: DateTime<Utc>,
    ) -> Result<(), LimitError> {
        let window = self.window.num_seconds().max(1);
        let mut conn = self.cache.connection();
        let mut pipe = redis::pipe();
        for (key, _) in self.keys(email, address) {
            pipe.hincr(&key, "n", 1)
                .ignore()
                .hset(&key, "last", now.timestamp())
                .ignore()
                .expire(&key, window)
                .arg("NX")
                .ignore();
        }
        pipe.query_async::<()>(&mut conn).await.map_err(|e| {
            tracing::error!(error = %e, "cannot record a failed login");
            LimitError::Unavailable
        })
    }

    /// A successful login clears the failures of its account from its address.
    pub async fn record_success(&self, email: &str, address: &str) {
        let [(pair, _), _, _] = self.keys(email, address);
        let mut conn = self.cache.connection();
        let _: redis::RedisResult<()> = redis::cmd("DEL").arg(pair).query_async(&mut conn).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_from_the_free_failures_up_to_the_cap() {
        let rule = Rule {
            free: 5,
            first_delay_seconds: 30,
            cap_seconds: 900,
        };
        let delays: Vec<u64> = (0..12).map(|n| rule.delay(n)).collect();
        assert_eq!(delays, [0, 0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900]);
        assert_eq!(rule.delay(u32::MAX), 900);
    }
}
