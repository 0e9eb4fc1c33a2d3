//! Passwords: at least 8 characters (up to 256, to bound hashing cost) and not easy to guess —
//! no composition rules, but nothing a cracker tries first (common passwords, dictionary words,
//! sequences, keyboard walks, dates), as zxcvbn estimates it: the one rule every screen states
//! (`conoceles_kit::PASSWORD_RULE`). Generated passwords avoid characters that are easy to confuse on a printed sheet.

use secrecy::{ExposeSecret, SecretString};

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("La contraseña debe tener al menos 8 caracteres.")]
    TooShort,
    #[error("La contraseña no puede tener más de 256 caracteres.")]
    TooLong,
    #[error(
        "Esa contraseña es demasiado fácil de adivinar (es común, una palabra sola o una secuencia). Use una frase de varias palabras."
    )]
    Guessable,
}

#[derive(Debug, Clone)]
pub struct Password(SecretString);

impl Password {
    /// A password a person chose; `context` holds what an attacker would try with it (the
    /// account's email, say).
    pub fn parse(input: &str, context: &[&str]) -> Result<Self, PasswordError> {
        let chars = input.chars().count();
        if chars < MIN_CHARS {
            return Err(PasswordError::TooShort);
        }
        if chars > MAX_CHARS {
            return Err(PasswordError::TooLong);
        }
        let mut known = vec!["conoceles", "contraseña", "contrasena", "iec", "ine"];
        known.extend_from_slice(context);
        if u8::from(zxcvbn::zxcvbn(input, &known).score()) < 2 {
            return Err(PasswordError::Guessable);
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
            Password::parse("corta", &[]).unwrap_err(),
            PasswordError::TooShort
        );
        assert!(Password::parse("solo letras minúsculas", &[]).is_ok());
        assert!(Password::parse("frase de la revisión 2026", &[]).is_ok());
        assert_eq!(
            Password::parse(&"x".repeat(257), &[]).unwrap_err(),
            PasswordError::TooLong
        );
    }

    #[test]
    fn generated_passwords_are_valid_and_differ() {
        let a = Password::generate();
        let b = Password::generate();
        assert_eq!(a.expose().chars().count(), 16);
        assert!(Password::parse(a.expose(), &[]).is_ok());
        assert_ne!(a.expose(), b.expose());
        assert!(
            !format!("{a:?}").contains(a.expose()),
            "Debug hides the password"
        );
    }

    #[test]
    fn common_and_guessable_passwords_are_refused() {
        for weak in [
            "12345678",
            "password",
            "qwertyuiop",
            "contraseña",
            "xxxxxxxxxxxx",
            "ana@pri.org.mx1",
        ] {
            assert_eq!(
                Password::parse(weak, &["ana@pri.org.mx"]).unwrap_err(),
                PasswordError::Guessable,
                "{weak}"
            );
        }
    }
}
