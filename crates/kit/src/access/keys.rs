//! The public keys that verify service tokens: fixed (in `auth` itself, in tests) or fetched
//! from `auth` and refreshed when a token names a key id not seen yet (key rotation).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::VerifyingKey;
use futures::future::BoxFuture;
use tokio::sync::{Mutex, RwLock};

use super::token::{self, Claims, TokenError};

type Fetcher = Arc<
    dyn Fn() -> BoxFuture<'static, anyhow::Result<HashMap<String, VerifyingKey>>> + Send + Sync,
>;

const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(5);

pub struct KeySet {
    keys: RwLock<HashMap<String, VerifyingKey>>,
    fetch: Option<Fetcher>,
    last_fetch: Mutex<Option<Instant>>,
}

impl KeySet {
    pub fn fixed(keys: HashMap<String, VerifyingKey>) -> Arc<Self> {
        Arc::new(Self {
            keys: RwLock::new(keys),
            fetch: None,
            last_fetch: Mutex::new(None),
        })
    }

    /// Keys fetched from `auth`'s `GetVerificationKeys` (lazily, and again on an unknown key id).
    pub fn from_auth(auth_url: &str) -> anyhow::Result<Arc<Self>> {
        let channel = crate::grpc::channel(auth_url)?;
        let fetch: Fetcher = Arc::new(move || {
            let channel = channel.clone();
            Box::pin(async move {
                use conoceles_proto::auth::v1::GetVerificationKeysRequest;
                use conoceles_proto::auth::v1::auth_service_client::AuthServiceClient;
                let response = AuthServiceClient::new(channel)
                    .get_verification_keys(GetVerificationKeysRequest {})
                    .await?
                    .into_inner();
                let mut keys = HashMap::new();
                for key in response.keys {
                    let bytes: [u8; 32] =
                        key.ed25519_public_key.as_slice().try_into().map_err(|_| {
                            anyhow::anyhow!("public key of {} is not 32 bytes", key.key_id)
                        })?;
                    keys.insert(key.key_id, VerifyingKey::from_bytes(&bytes)?);
                }
                Ok(keys)
            })
        });
        Ok(Arc::new(Self {
            keys: RwLock::new(HashMap::new()),
            fetch: Some(fetch),
            last_fetch: Mutex::new(None),
        }))
    }

    /// Verifies `token` for `audience` at the current time.
    pub async fn verify(&self, token: &str, audience: &str) -> Result<Claims, TokenError> {
        let now = chrono::Utc::now().timestamp();
        let first = {
            let keys = self.keys.read().await;
            token::verify(token, &keys, audience, now)
        };
        match first {
            Err(TokenError::UnknownKey(_)) if self.refresh().await => {
                let keys = self.keys.read().await;
                token::verify(token, &keys, audience, now)
            }
            other => other,
        }
    }

    /// Fetches the keys again, at most once per few seconds; true if the set was replaced.
    async fn refresh(&self) -> bool {
        let Some(fetch) = &self.fetch else {
            return false;
        };
        let mut last = self.last_fetch.lock().await;
        if last.is_some_and(|at| at.elapsed() < MIN_REFRESH_INTERVAL) {
            return false;
        }
        *last = Some(Instant::now());
        match fetch().await {
            Ok(keys) => {
                *self.keys.write().await = keys;
                true
            }
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "cannot fetch token verification keys");
                false
            }
        }
    }
}
