//! Passwords: 8 to 64 characters as the rules ask (longer ones are allowed up to 256, to bound
//! hashing cost), no composition rules. Generated passwords avoid characters that are easy to
//! confuse on a printed sheet.

use secrecy::{ExposeSecret, SecretString};

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("La contraseña debe tener al menos 8 caracteres.")]
    TooShort,
    #[error("La contraseña no puede tener más de 256 caracteres.")]
    TooLong,
}

#[derive(Debug, Clone)]
pub struct Password(SecretString);

impl Password {
    pub fn parse(input: &str) -> Result<Self, PasswordError> {
        let chars = input.chars().count();
        if chars < MIN_CHARS {
            return Err(PasswordError::TooShort);
        }
        if chars > MAX_CHARS {
            return Err(PasswordError::TooLong);
        }
        Ok(Self(SecretString::from(input.to_string())))
    }

    /// A random password for a new account: 16 characters from an unambiguous alphabet
    /// (about 82 bits).
    pub fn generate() -> Self {
        const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY346789";
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).expect("operating system randomness");
        let text: String = bytes
            .iter()
            .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
            .collect();
        Self(SecretString::from(text))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_rules_without_composition_rules() {
        assert_eq!(
            Password::parse("corta").unwrap_err(),
            PasswordError::TooShort
        );
        assert!(Password::parse("solo letras minúsculas").is_ok());
        assert!(Password::parse(&"x".repeat(64)).is_ok());
        assert!(Password::parse(&"x".repeat(200)).is_ok());
        assert_eq!(
            Password::parse(&"x".repeat(257)).unwrap_err(),
            PasswordError::TooLong
        );
    }

    #[test]
    fn generated_passwords_are_valid_and_differ() {
        let a = Password::generate();
        let b = Password::generate();
        assert_eq!(a.expose().chars().count(), 16);
        assert!(Password::parse(a.expose()).is_ok());
        assert_ne!(a.expose(), b.expose());
        assert!(
            !format!("{a:?}").contains(a.expose()),
            "Debug hides the password"
        );
    }
}
