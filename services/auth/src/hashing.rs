//! argon2id with the OWASP parameters (m = 19 MiB, t = 2, p = 1), run on the blocking pool with
//! bounded concurrency so a burst of logins cannot starve the async executor or the memory.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::domain::Password;

#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    /// Verified against when the account does not exist, so timing does not reveal it.
    decoy: Arc<String>,
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_now(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("randomness: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    Ok(argon2()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?
        .to_string())
}

impl Hasher {
    /// `concurrency` hashes at a time (each takes 19 MiB for tens of milliseconds).
    pub fn new(concurrency: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            decoy: Arc::new(hash_now("decoy password for absent accounts").expect("decoy hash")),
        }
    }

    pub async fn hash(&self, password: &Password) -> anyhow::Result<String> {
        let _permit = self.permits.acquire().await?;
        let password = password.expose().to_string();
        tokio::task::spawn_blocking(move || hash_now(&password)).await?
    }

    /// Whether `password` matches `stored` (a PHC string); `None` checks the decoy.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> anyhow::Result<bool> {
        let _permit = self.permits.acquire().await?;
        let password = password.to_string();
        // Accounts whose credentials were never issued carry no usable hash.
        let stored = stored.filter(|s| s.starts_with("$argon2"));
        let found = stored.is_some();
        let stored = stored
            .map(str::to_string)
            .unwrap_or_else(|| (*self.decoy).clone());
        let matches = tokio::task::spawn_blocking(move || {
            let parsed =
                PasswordHash::new(&stored).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
            Ok::<_, anyhow::Error>(
                argon2()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok(),
            )
        })
        .await??;
        Ok(found && matches)
    }
}

/// Stored for generated accounts until their credential sheet is issued: matches no password.
pub const NO_PASSWORD_YET: &str = "!not-issued";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let hasher = Hasher::new(2);
        let password = Password::parse("una contraseña larga", &[]).unwrap();
        let hash = hasher.hash(&password).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            hasher
                .verify("una contraseña larga", Some(&hash))
                .await
                .unwrap()
        );
        assert!(!hasher.verify("otra contraseña", Some(&hash)).await.unwrap());
        assert!(
            !hasher
                .verify("decoy password for absent accounts", None)
                .await
                .unwrap()
        );
    }
}
