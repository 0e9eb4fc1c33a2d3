//! Login names are email addresses, compared case-insensitively.

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Trims, lowercases and checks the shape `local@domain.tld` (no spaces, at most 254
    /// characters). Deliverability is not checked here.
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let email = input.trim().to_lowercase();
        if email.is_empty() {
            return Err("Escriba su correo electrónico.");
        }
        if email.chars().count() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err("El correo electrónico no es válido.");
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Err("El correo electrónico no es válido.");
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err("El correo electrónico no es válido.");
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised() {
        assert_eq!(
            Email::parse("  Ana.Perez@IEC.org.MX ").unwrap().as_str(),
            "ana.perez@iec.org.mx"
        );
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "ana",
            "ana@",
            "@iec.mx",
            "ana@iec",
            "a b@iec.mx",
            "ana@iec..mx",
            "ana@@iec.mx",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
