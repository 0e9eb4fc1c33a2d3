//! Envelope encryption of answers (DESIGN §7). Every answer is sealed with AES-256-GCM under a
//! data key of its person; the data key is stored only wrapped (AES-256-GCM) by a
//! key-encryption key (KEK) that comes from the environment and never touches the database.
//! Associated data binds each ciphertext to its person and question, and each wrapped key to
//! its person, so moving a ciphertext to another candidate makes it fail to open.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use anyhow::{Context, anyhow, bail};
use base64::Engine;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretBox};
use uuid::Uuid;

/// A key-encryption key with its id (stored beside every wrapped data key).
pub struct Kek {
    pub id: String,
    key: SecretBox<[u8; 32]>,
}

impl Kek {
    /// `id:base64(32 bytes)`.
    pub fn parse(value: &str) -> anyhow::Result<Self> {
        let (id, key) = value
            .split_once(':')
            .ok_or_else(|| anyhow!("a key-encryption key is written as id:base64"))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(key.trim())
            .context("the key-encryption key is not base64")?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| anyhow!("the key-encryption key must be 32 bytes"))?;
        if id.trim().is_empty() {
            bail!("the key-encryption key needs an id");
        }
        Ok(Self {
            id: id.trim().to_string(),
            key: SecretBox::new(Box::new(key)),
        })
    }

    /// A new random key (for tests and first set-up).
    pub fn generate(id: &str) -> Self {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Self {
            id: id.to_string(),
            key: SecretBox::new(Box::new(key)),
        }
    }

    /// `id:base64`, the form [`Kek::parse`] reads.
    pub fn to_env(&self) -> String {
        format!(
            "{}:{}",
            self.id,
            base64::engine::general_purpose::STANDARD.encode(self.key.expose_secret())
        )
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(self.key.expose_secret()))
    }
}

/// The current KEK (wraps new data keys) and older ones (still unwrap until rotation re-wraps).
pub struct Keyring {
    pub current: Kek,
    pub previous: Vec<Kek>,
}

impl Keyring {
    fn by_id(&self, id: &str) -> Option<&Kek> {
        std::iter::once(&self.current)
            .chain(self.previous.iter())
            .find(|k| k.id == id)
    }
}

/// A person's data key, in memory only while in use.
pub struct DataKey(SecretBox<[u8; 32]>);

/// A data key as stored: which KEK wrapped it, nonce and ciphertext.
pub struct WrappedKey {
    pub kek_id: String,
    pub nonce: Vec<u8>,
    pub wrapped: Vec<u8>,
}

fn nonce() -> [u8; 12] {
    let mut n = [0u8; 12];
    rand::rng().fill_bytes(&mut n);
    n
}

fn person_aad(person: Uuid) -> Vec<u8> {
    format!("conoceles.identity.dek:{person}").into_bytes()
}

fn answer_aad(person: Uuid, question: &str) -> Vec<u8> {
    format!("conoceles.identity.answer:{person}:{question}").into_bytes()
}

impl DataKey {
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Self(SecretBox::new(Box::new(key)))
    }

    pub fn wrap(&self, kek: &Kek, person: Uuid) -> anyhow::Result<WrappedKey> {
        let n = nonce();
        let wrapped = kek
            .cipher()
            .encrypt(
                Nonce::from_slice(&n),
                Payload {
                    msg: self.0.expose_secret(),
                    aad: &person_aad(person),
                },
            )
            .map_err(|_| anyhow!("wrapping a data key failed"))?;
        Ok(WrappedKey {
            kek_id: kek.id.clone(),
            nonce: n.to_vec(),
            wrapped,
        })
    }

    pub fn unwrap(keys: &Keyring, person: Uuid, stored: &WrappedKey) -> anyhow::Result<Self> {
        let kek = keys
            .by_id(&stored.kek_id)
            .ok_or_else(|| anyhow!("no key-encryption key with id {}", stored.kek_id))?;
        let plain = kek
            .cipher()
            .decrypt(
                Nonce::from_slice(&stored.nonce),
                Payload {
                    msg: &stored.wrapped,
                    aad: &person_aad(person),
                },
            )
            .map_err(|_| anyhow!("a data key did not open (wrong key or wrong person)"))?;
        let key: [u8; 32] = plain
            .try_into()
            .map_err(|_| anyhow!("a data key has the wrong length"))?;
        Ok(Self(SecretBox::new(Box::new(key))))
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(self.0.expose_secret()))
    }

    /// Returns (nonce, ciphertext) of `plain`, bound to the person and question.
    pub fn seal(
        &self,
        person: Uuid,
        question: &str,
        plain: &[u8],
    ) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
        let n = nonce();
        let sealed = self
            .cipher()
            .encrypt(
                Nonce::from_slice(&n),
                Payload {
                    msg: plain,
                    aad: &answer_aad(person, question),
                },
            )
            .map_err(|_| anyhow!("sealing an answer failed"))?;
        Ok((n.to_vec(), sealed))
    }

    pub fn open(
        &self,
        person: Uuid,
        question: &str,
        nonce: &[u8],
        sealed: &[u8],
    ) -> anyhow::Result<Vec<u8>> {
        if nonce.len() != 12 {
            bail!("an answer's nonce has the wrong length");
        }
        self.cipher()
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: &answer_aad(person, question),
                },
            )
            .map_err(|_| anyhow!("an answer did not open (wrong key, person or question)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_open_only_for_their_person_and_question() {
        let keys = Keyring {
            current: Kek::generate("k1"),
            previous: vec![],
        };
        let (ana, luis) = (Uuid::now_v7(), Uuid::now_v7());
        let dek = DataKey::generate();
        let wrapped = dek.wrap(&keys.current, ana).unwrap();
        let (n, sealed) = dek.seal(ana, "migrant", b"marker").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"marker"));
        let reopened = DataKey::unwrap(&keys, ana, &wrapped).unwrap();
        assert_eq!(
            reopened.open(ana, "migrant", &n, &sealed).unwrap(),
            b"marker"
        );
        assert!(
            reopened.open(luis, "migrant", &n, &sealed).is_err(),
            "another person"
        );
        assert!(
            reopened.open(ana, "income", &n, &sealed).is_err(),
            "another question"
        );
        assert!(
            DataKey::unwrap(&keys, luis, &wrapped).is_err(),
            "a key moved to another person"
        );
    }

    #[test]
    fn older_keys_still_unwrap_and_unknown_ones_fail() {
        let old = Kek::generate("k1");
        let person = Uuid::now_v7();
        let wrapped = DataKey::generate().wrap(&old, person).unwrap();
        let rotated = Keyring {
            current: Kek::generate("k2"),
            previous: vec![Kek::parse(&old.to_env()).unwrap()],
        };
        assert!(DataKey::unwrap(&rotated, person, &wrapped).is_ok());
        let forgotten = Keyring {
            current: Kek::generate("k2"),
            previous: vec![],
        };
        assert!(DataKey::unwrap(&forgotten, person, &wrapped).is_err());
        assert!(Kek::parse("k1:not-base64!").is_err());
        assert!(Kek::parse("k1:AAAA").is_err(), "too short");
    }
}
