//! Brute-force protection that cannot be turned against the person it protects: failed logins
//! are counted over a window per account *and* address, per account from anywhere, and per
//! address across accounts, each with a number of free failures and then **progressive delays**
//! (doubling up to a cap) instead of a lock. Someone guessing a party's password from one address
//! waits longer and longer there; the party, from its own address, is delayed at most a minute
//! however many addresses guess at once. The address is the client's as the front saw it
//! (`X-Forwarded-For` only from trusted proxies: `conoceles_kit::http::ClientAddress`).
//!
//! When Redis cannot be asked, each replica counts the failures it sees itself, with the same
//! rules ([`Local`]): logins go on (a Redis outage on election day must not lock out the unit and
//! every party), and a guesser is still slowed — per replica, so one spreading its guesses over
//! N replicas gets N times the free failures until Redis is back. `login_limiter_degraded_total`
//! counts the decisions taken that way.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use conoceles_kit::cache::Cache;

#[derive(Debug, PartialEq, Eq)]
pub enum LimitError {
    /// Too many failures; retry after this many seconds.
    Blocked { retry_after_seconds: u64 },
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

/// Failures counted in this process while Redis cannot be asked: by counter key, how many and
/// when the last was. Bounded: past [`Local::MAX_KEYS`] counters, those older than the window go
/// first, then (a flood of invented addresses) all of them.
#[derive(Default)]
struct Local {
    counts: Mutex<HashMap<String, (u32, i64)>>,
}

impl Local {
    const MAX_KEYS: usize = 100_000;

    fn read(&self, key: &str, window: i64, now: i64) -> (Option<u32>, Option<i64>) {
        let counts = self.counts.lock().expect("limiter lock");
        match counts.get(key) {
            Some(&(n, last)) if now - last < window => (Some(n), Some(last)),
            _ => (None, None),
        }
    }

    fn record(&self, key: &str, window: i64, now: i64) {
        let mut counts = self.counts.lock().expect("limiter lock");
        if counts.len() >= Self::MAX_KEYS {
            counts.retain(|_, (_, last)| now - *last < window);
            if counts.len() >= Self::MAX_KEYS {
                counts.clear();
            }
        }
        let entry = counts.entry(key.to_string()).or_insert((0, now));
        if now - entry.1 >= window {
            *entry = (0, now);
        }
        entry.0 += 1;
        entry.1 = now;
    }
}

#[derive(Clone)]
pub struct LoginLimiter {
    cache: Cache,
    local: Arc<Local>,
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
            local: Arc::default(),
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
        let window = self.window.num_seconds().max(1);
        let counts: Vec<(Option<u32>, Option<i64>)> = match pipe.query_async(&mut conn).await {
            Ok(counts) => counts,
            Err(e) => {
                tracing::warn!(error = %e, "login limiter: Redis unavailable, counting in this replica");
                metrics::counter!("login_limiter_degraded_total").increment(1);
                keys.iter()
                    .map(|(key, _)| self.local.read(key, window, now.timestamp()))
                    .collect()
            }
        };
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
        if let Err(e) = pipe.query_async::<()>(&mut conn).await {
            tracing::warn!(error = %e, "login limiter: Redis unavailable, counting in this replica");
            metrics::counter!("login_limiter_degraded_total").increment(1);
            for (key, _) in self.keys(email, address) {
                self.local.record(&key, window, now.timestamp());
            }
        }
        Ok(())
    }

    /// A successful login clears the failures of its account from its address.
    pub async fn record_success(&self, email: &str, address: &str) {
        let [(pair, _), _, _] = self.keys(email, address);
        self.local
            .counts
            .lock()
            .expect("limiter lock")
            .remove(&pair);
        let mut conn = self.cache.connection();
        let _: redis::RedisResult<()> = redis::cmd("DEL").arg(pair).query_async(&mut conn).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_count_forgets_after_the_window_and_stays_bounded() {
        let local = Local::default();
        for _ in 0..3 {
            local.record("k", 900, 1_000);
        }
        assert_eq!(local.read("k", 900, 1_100), (Some(3), Some(1_000)));
        // After the window, nothing is held against it; a new failure starts again.
        assert_eq!(local.read("k", 900, 1_900), (None, None));
        local.record("k", 900, 2_000);
        assert_eq!(local.read("k", 900, 2_000), (Some(1), Some(2_000)));
        // A flood of invented addresses never holds more than the bound.
        for i in 0..(Local::MAX_KEYS + 10) {
            local.record(&format!("a{i}"), 900, 3_000);
        }
        assert!(local.counts.lock().unwrap().len() <= Local::MAX_KEYS);
    }

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
