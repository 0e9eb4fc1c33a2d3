//! Service tokens: compact JWS signed with Ed25519 (`alg` EdDSA), minted by `auth`, verified by
//! every service. Verification is strict: only EdDSA, a known key id, the expected issuer and
//! audience, not expired, not issued in the future, bounded lifetime and size.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::role::Actor;

pub const ISSUER: &str = "conoceles-auth";
/// The audience of the one-time ticket that opens the public site's preview for an admin: not
/// a service, so no gRPC server takes it as a service token.
pub const PREVIEW_AUDIENCE: &str = "publication-preview";
/// No token lives longer than this, whatever its claims say.
pub const MAX_LIFETIME_SECONDS: i64 = 15 * 60;
const LEEWAY_SECONDS: i64 = 30;
const MAX_TOKEN_BYTES: usize = 8 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// The calling service, e.g. `capture`.
    pub sub: String,
    /// The service the token is for, e.g. `identity`.
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    /// The person the service acts for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<Actor>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    typ: String,
    kid: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("malformed token")]
    Malformed,
    #[error("algorithm not allowed")]
    Algorithm,
    #[error("unknown signing key")]
    UnknownKey(String),
    #[error("bad signature")]
    Signature,
    #[error("wrong issuer")]
    Issuer,
    #[error("wrong audience")]
    Audience,
    #[error("expired")]
    Expired,
    #[error("issued in the future or lives too long")]
    Lifetime,
}

/// A signing key with its id (the `kid` of the tokens it signs).
#[derive(Clone)]
pub struct TokenSigner {
    key_id: String,
    key: Arc<SigningKey>,
}

impl TokenSigner {
    /// The key of a 32-byte Ed25519 seed; its id is derived from the public key.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let key = SigningKey::from_bytes(&seed);
        Self {
            key_id: hex::encode(key_id_of(&key.verifying_key())),
            key: Arc::new(key),
        }
    }

    /// A fresh random key (development, tests).
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).expect("operating system randomness");
        Self::from_seed(seed)
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    pub fn sign(&self, claims: &Claims) -> String {
        let header = Header {
            alg: "EdDSA".into(),
            typ: "JWT".into(),
            kid: self.key_id.clone(),
        };
        let header = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).expect("header json"));
        let claims = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims json"));
        let signing_input = format!("{header}.{claims}");
        let signature = self.key.sign(signing_input.as_bytes());
        format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        )
    }
}

/// First 8 bytes of SHA-256 of a public key: a stable key id.
fn key_id_of(key: &VerifyingKey) -> [u8; 8] {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(key.as_bytes());
    let mut out = [0u8; 8];
    out.copy_from_slice(&digest[..8]);
    out
}

/// Verifies tokens against a set of public keys (key id → key).
pub fn verify(
    token: &str,
    keys: &HashMap<String, VerifyingKey>,
    audience: &str,
    now: i64,
) -> Result<Claims, TokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(header_b64), Some(claims_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let header: Header = URL_SAFE_NO_PAD
        .decode(header_b64)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(TokenError::Malformed)?;
    if header.alg != "EdDSA" || header.typ != "JWT" {
        return Err(TokenError::Algorithm);
    }
    let key = keys
        .get(&header.kid)
        .ok_or_else(|| TokenError::UnknownKey(header.kid.clone()))?;
    let signature_bytes: [u8; 64] = URL_SAFE_NO_PAD
        .decode(signature_b64)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(TokenError::Malformed)?;
    let signature = Signature::from_bytes(&signature_bytes);
    let signing_input = &token[..header_b64.len() + 1 + claims_b64.len()];
    key.verify_strict(signing_input.as_bytes(), &signature)
        .map_err(|_| TokenError::Signature)?;
    let claims: Claims = URL_SAFE_NO_PAD
        .decode(claims_b64)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(TokenError::Malformed)?;
    if claims.iss != ISSUER {
        return Err(TokenError::Issuer);
    }
    if claims.aud != audience {
        return Err(TokenError::Audience);
    }
    if claims.exp + LEEWAY_SECONDS < now {
        return Err(TokenError::Expired);
    }
    if claims.iat > now + LEEWAY_SECONDS || claims.exp - claims.iat > MAX_LIFETIME_SECONDS {
        return Err(TokenError::Lifetime);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Role;

    fn claims(now: i64) -> Claims {
        Claims {
            iss: ISSUER.into(),
            sub: "capture".into(),
            aud: "identity".into(),
            iat: now,
            exp: now + 300,
            jti: "j1".into(),
            act: Some(Actor {
                account_id: uuid::Uuid::nil(),
                role: Role::Party,
                party_id: Some(uuid::Uuid::nil()),
                candidacy_id: None,
            }),
        }
    }

    fn keys(signer: &TokenSigner) -> HashMap<String, VerifyingKey> {
        HashMap::from([(signer.key_id().to_string(), signer.verifying_key())])
    }

    #[test]
    fn a_signed_token_verifies_with_its_claims() {
        let signer = TokenSigner::generate();
        let token = signer.sign(&claims(1_000));
        assert_eq!(
            verify(&token, &keys(&signer), "identity", 1_010),
            Ok(claims(1_000))
        );
    }

    #[test]
    fn wrong_audience_expired_tampered_and_unknown_keys_are_rejected() {
        let signer = TokenSigner::generate();
        let token = signer.sign(&claims(1_000));
        let keys = keys(&signer);
        assert_eq!(
            verify(&token, &keys, "statistics", 1_010),
            Err(TokenError::Audience)
        );
        assert_eq!(
            verify(&token, &keys, "identity", 2_000),
            Err(TokenError::Expired)
        );

        // Change the role in the claims, keep the signature.
        let mut parts: Vec<String> = token.split('.').map(String::from).collect();
        let mut forged = claims(1_000);
        forged.act.as_mut().unwrap().role = Role::Admin;
        parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        assert_eq!(
            verify(&parts.join("."), &keys, "identity", 1_010),
            Err(TokenError::Signature)
        );

        let stranger = TokenSigner::generate();
        assert!(matches!(
            verify(&stranger.sign(&claims(1_000)), &keys, "identity", 1_010),
            Err(TokenError::UnknownKey(_))
        ));
    }

    #[test]
    fn only_eddsa_is_accepted() {
        let signer = TokenSigner::generate();
        let token = signer.sign(&claims(1_000));
        let mut parts: Vec<&str> = token.split('.').collect();
        let none_header = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"alg":"none","typ":"JWT","kid":"{}"}}"#,
            signer.key_id()
        ));
        parts[0] = &none_header;
        assert_eq!(
            verify(&parts.join("."), &keys(&signer), "identity", 1_010),
            Err(TokenError::Algorithm)
        );
    }

    #[test]
    fn lifetimes_beyond_the_maximum_are_rejected() {
        let signer = TokenSigner::generate();
        let mut long = claims(1_000);
        long.exp = 1_000 + MAX_LIFETIME_SECONDS + 1;
        assert_eq!(
            verify(&signer.sign(&long), &keys(&signer), "identity", 1_010),
            Err(TokenError::Lifetime)
        );
    }
}
