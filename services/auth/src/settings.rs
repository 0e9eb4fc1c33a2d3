//! `auth`'s own settings, from the environment (on top of kit's `ServiceConfig`).
//!
//! | variable | default |
//! |---|---|
//! | `SESSION_IDLE_MINUTES` | 30 |
//! | `SESSION_ABSOLUTE_HOURS` | 12 |
//! | `LOGIN_FAILURES_PER_ACCOUNT` | 5 per `LOGIN_WINDOW_MINUTES` from one address before delays (30 s, doubling up to the window); four times as many from every address together before delays of at most a minute |
//! | `LOGIN_FAILURES_PER_ADDRESS` | 50 per `LOGIN_WINDOW_MINUTES` across accounts before delays (5 s, doubling up to 5 minutes) |
//! | `LOGIN_WINDOW_MINUTES` | 15 |
//! | `AUTH_SIGNING_KEY` | unset: a key is generated at start (tokens die with the process) |
//! | `SERVICE_SECRETS` | unset: no service can obtain tokens. `name=secret,name=secret` |
//! | `SERVICE_TOKEN_SECONDS` | 300 |
//! | `GENERATED_ACCOUNT_DOMAIN` | `cuentas.conoceles.local` (login names of generated accounts) |
//! | `HASH_CONCURRENCY` | number of CPUs |

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Duration;
use conoceles_kit::access::TokenSigner;
use conoceles_kit::config::ConfigError;
use secrecy::{ExposeSecret, SecretString};

#[derive(Clone)]
pub struct AuthSettings {
    pub session_idle: Duration,
    pub session_absolute: Duration,
    pub failures_per_account: u32,
    pub failures_per_address: u32,
    pub login_window: Duration,
    pub signer: TokenSigner,
    pub service_secrets: HashMap<String, SecretString>,
    pub service_token_lifetime: Duration,
    pub generated_account_domain: String,
    pub hash_concurrency: usize,
}

impl AuthSettings {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |k: &str| lookup(k).filter(|v| !v.trim().is_empty());
        let number = |key: &'static str, default: i64| -> Result<i64, ConfigError> {
            match get(key) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(ConfigError {
                        key,
                        reason: format!("expected a positive whole number, got {v:?}"),
                    }),
            }
        };
        let signer = match get("AUTH_SIGNING_KEY") {
            None => TokenSigner::generate(),
            Some(encoded) => {
                conoceles_kit::config::refuse_demo_secret("AUTH_SIGNING_KEY", &encoded, &lookup)?;
                let seed: [u8; 32] = STANDARD
                    .decode(encoded.trim())
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or(ConfigError {
                        key: "AUTH_SIGNING_KEY",
                        reason: "expected the base64 of a 32-byte Ed25519 seed".into(),
                    })?;
                TokenSigner::from_seed(seed)
            }
        };
        let mut service_secrets = HashMap::new();
        if let Some(list) = get("SERVICE_SECRETS") {
            for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                let (name, secret) = entry.split_once('=').ok_or(ConfigError {
                    key: "SERVICE_SECRETS",
                    reason: "expected name=secret pairs separated by commas".into(),
                })?;
                conoceles_kit::config::refuse_demo_secret("SERVICE_SECRETS", secret, &lookup)?;
                if secret.len() < 16 {
                    return Err(ConfigError {
                        key: "SERVICE_SECRETS",
                        reason: format!("the secret of {name} is shorter than 16 characters"),
                    });
                }
                service_secrets.insert(
                    name.trim().to_string(),
                    SecretString::from(secret.to_string()),
                );
            }
        }
        Ok(Self {
            session_idle: Duration::minutes(number("SESSION_IDLE_MINUTES", 30)?),
            session_absolute: Duration::hours(number("SESSION_ABSOLUTE_HOURS", 12)?),
            failures_per_account: number("LOGIN_FAILURES_PER_ACCOUNT", 5)? as u32,
            failures_per_address: number("LOGIN_FAILURES_PER_ADDRESS", 50)? as u32,
            login_window: Duration::minutes(number("LOGIN_WINDOW_MINUTES", 15)?),
            signer,
            service_secrets,
            service_token_lifetime: Duration::seconds(
                number("SERVICE_TOKEN_SECONDS", 300)?
                    .min(conoceles_kit::access::token::MAX_LIFETIME_SECONDS),
            ),
            generated_account_domain: get("GENERATED_ACCOUNT_DOMAIN")
                .unwrap_or_else(|| "cuentas.conoceles.local".into()),
            hash_concurrency: number(
                "HASH_CONCURRENCY",
                std::thread::available_parallelism().map_or(2, |n| n.get()) as i64,
            )? as usize,
        })
    }

    /// Whether `secret` is the configured secret of `service` (constant-time comparison).
    pub fn service_secret_matches(&self, service: &str, secret: &str) -> bool {
        use subtle::ConstantTimeEq;
        self.service_secrets.get(service).is_some_and(|expected| {
            let expected = expected.expose_secret().as_bytes();
            expected.len() == secret.len() && bool::from(expected.ct_eq(secret.as_bytes()))
        })
    }
}
