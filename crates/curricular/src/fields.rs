//! The field types of the curricular questionnaire, parsed at the edge (DESIGN §6). Each parser
//! returns the normalised value or a Spanish message for the person filling the form.

/// Characters of a text, not counting spaces, tabs or line breaks (how the Lineamientos count).
pub fn chars_without_spaces(text: &str) -> usize {
    text.chars().filter(|c| !c.is_whitespace()).count()
}

/// A long free text whose length, counted without spaces, lies within `min..=max`.
pub fn long_text(text: &str, min: usize, max: usize) -> Result<String, String> {
    let text = text.trim().replace("\r\n", "\n");
    let n = chars_without_spaces(&text);
    if n < min {
        return Err(format!(
            "Debe tener al menos {min} caracteres sin contar espacios (tiene {n})."
        ));
    }
    if n > max {
        return Err(format!(
            "Debe tener como máximo {max} caracteres sin contar espacios (tiene {n})."
        ));
    }
    Ok(text)
}

/// A short line of text (a name, an address), at most `max` characters and without line breaks.
pub fn short_text(text: &str, max: usize) -> Result<String, String> {
    let text = text.trim();
    if text.chars().count() > max {
        return Err(format!("Debe tener como máximo {max} caracteres."));
    }
    if text.chars().any(char::is_control) {
        return Err("No debe tener saltos de línea ni caracteres de control.".into());
    }
    Ok(text.to_string())
}

/// An email address: one `@`, a local part, a domain with a dot, no spaces.
pub fn email(text: &str) -> Result<String, String> {
    let text = text.trim().to_lowercase();
    let invalid = || "No es un correo electrónico válido (ejemplo: nombre@dominio.mx).".to_string();
    if text.len() > 254 || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid());
    }
    let (local, domain) = text.split_once('@').ok_or_else(invalid)?;
    let labels_ok = domain.split('.').all(|l| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    });
    if local.is_empty() || local.len() > 64 || !domain.contains('.') || !labels_ok {
        return Err(invalid());
    }
    Ok(text)
}

/// A Mexican phone: 10 digits; spaces, dashes, dots, parentheses and a leading +52 are accepted
/// and removed.
pub fn phone(text: &str) -> Result<String, String> {
    let mut digits: String = text
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    if let Some(rest) = digits.strip_prefix("+52") {
        digits = rest.to_string();
    }
    if digits.len() != 10 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err("Debe tener 10 dígitos (ejemplo: 844 123 4567).".into());
    }
    Ok(digits)
}

/// The social networks the questionnaire asks for, each with the domains its links may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    Facebook,
    X,
    YouTube,
    Instagram,
    TikTok,
    /// A personal website or another network: any https address.
    Any,
}

impl Network {
    fn domains(self) -> &'static [&'static str] {
        match self {
            Network::Facebook => &["facebook.com", "fb.com"],
            Network::X => &["x.com", "twitter.com"],
            Network::YouTube => &["youtube.com", "youtu.be"],
            Network::Instagram => &["instagram.com"],
            Network::TikTok => &["tiktok.com"],
            Network::Any => &[],
        }
    }

    fn name(self) -> &'static str {
        match self {
            Network::Facebook => "Facebook",
            Network::X => "X (Twitter)",
            Network::YouTube => "YouTube",
            Network::Instagram => "Instagram",
            Network::TikTok => "TikTok",
            Network::Any => "",
        }
    }
}

/// An `https://` address; for a named network, on one of its domains (or a subdomain of one).
pub fn https_url(text: &str, network: Network) -> Result<String, String> {
    let text = text.trim();
    let invalid = || {
        "Debe ser una dirección que empiece con https:// (ejemplo: https://www.ejemplo.mx)."
            .to_string()
    };
    if text.len() > 300 || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid());
    }
    let rest = text
        .get(..8)
        .filter(|p| p.eq_ignore_ascii_case("https://"))
        .map(|_| &text[8..])
        .ok_or_else(invalid)?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = rest[..end].to_lowercase();
    let host_ok = !host.is_empty()
        && !host.contains('@')
        && host.contains('.')
        && host
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if !host_ok {
        return Err(invalid());
    }
    let domains = network.domains();
    if !domains.is_empty()
        && !domains
            .iter()
            .any(|d| host == *d || host.ends_with(&format!(".{d}")))
    {
        return Err(format!(
            "Debe ser una dirección de {} ({}).",
            network.name(),
            domains.join(" o ")
        ));
    }
    Ok(format!("https://{host}{}", &rest[end..]))
}

/// One of a closed list of options, given by its code.
pub fn option(text: &str, options: &[(&str, &str)]) -> Result<String, String> {
    let text = text.trim();
    options
        .iter()
        .find(|(code, _)| *code == text)
        .map(|(code, _)| code.to_string())
        .ok_or_else(|| "Elija una de las opciones.".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_counted_without_spaces() {
        assert_eq!(chars_without_spaces("a b\n c\td"), 4);
        assert_eq!(chars_without_spaces("Educación básica"), 15);
        assert!(long_text("abc de", 5, 10).is_ok());
        let short = long_text("ab c", 5, 10).unwrap_err();
        assert!(
            short.contains("al menos 5") && short.contains("tiene 3"),
            "{short}"
        );
        let long = long_text(&"x".repeat(11), 5, 10).unwrap_err();
        assert!(long.contains("máximo 10"), "{long}");
        // Spaces never push a text over the limit.
        assert!(long_text(&format!("{} {}", "x".repeat(5), " ".repeat(50)), 5, 5).is_ok());
    }

    #[test]
    fn emails_need_a_local_part_and_a_domain() {
        assert_eq!(email(" Ana@Ejemplo.MX ").unwrap(), "ana@ejemplo.mx");
        for bad in [
            "ana",
            "ana@",
            "@ejemplo.mx",
            "ana@ejemplo",
            "a na@ejemplo.mx",
            "ana@-x.mx",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones_have_ten_digits() {
        assert_eq!(phone("(844) 123-4567").unwrap(), "8441234567");
        assert_eq!(phone("+52 844 123 4567").unwrap(), "8441234567");
        for bad in ["123", "84412345678", "844-123-456a", ""] {
            assert!(phone(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn network_links_must_be_https_on_their_own_domains() {
        assert_eq!(
            https_url("https://www.facebook.com/ana", Network::Facebook).unwrap(),
            "https://www.facebook.com/ana"
        );
        assert!(https_url("https://x.com/ana", Network::X).is_ok());
        assert!(https_url("https://twitter.com/ana", Network::X).is_ok());
        assert!(https_url("https://youtu.be/abc", Network::YouTube).is_ok());
        let wrong = https_url("https://facebook.com.evil.mx/ana", Network::Facebook).unwrap_err();
        assert!(wrong.contains("Facebook"), "{wrong}");
        assert!(https_url("https://evilfacebook.com/x", Network::Facebook).is_err());
        assert!(https_url("http://facebook.com/ana", Network::Facebook).is_err());
        assert!(https_url("https://user@facebook.com", Network::Facebook).is_err());
        assert!(https_url("javascript:alert(1)", Network::Any).is_err());
        assert!(https_url("https://ana.mx/propuestas", Network::Any).is_ok());
        assert!(https_url("https://localhost", Network::Any).is_err());
    }

    #[test]
    fn options_accept_only_their_codes() {
        let levels = [("primaria", "Primaria"), ("maestria", "Maestría")];
        assert_eq!(option("maestria", &levels).unwrap(), "maestria");
        assert!(option("Maestría", &levels).is_err());
    }
}
