//! Login names of the generated accounts, readable by the people who receive them on a
//! credential sheet: `partido-pan`, `pan.diputacion-mr.c0005`, `morena.diputacion-rp.03`,
//! built from the codes the council's import already uses (postulant, office, constituency,
//! list position) instead of pieces of ids.

/// The longest local part an address may have (RFC 5321), with room left for a `-NN` suffix
/// when two accounts would otherwise share a name.
const MAX_BASE: usize = 60;

/// A code as a piece of an address: lowercase ASCII letters and digits, accents dropped, any
/// other run of characters one `-`, no `-` at either end.
pub fn slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut dash = false;
    for c in conoceles_kit::text::fold(text).chars() {
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c);
        } else {
            dash = true;
        }
    }
    out
}

fn joined(parts: &[String]) -> String {
    let mut name = parts
        .iter()
        .filter(|p| !p.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(".");
    if name.len() > MAX_BASE {
        name.truncate(MAX_BASE);
        while name.ends_with(['.', '-']) {
            name.pop();
        }
    }
    if name.is_empty() {
        name.push_str("cuenta");
    }
    name
}

/// The party's generic account: `partido-<postulant>`.
pub fn party(postulant: &str) -> String {
    joined(&[format!("partido-{}", slug(postulant))])
}

/// A candidacy's account: postulant, office, constituency and, in a list, the position.
pub fn candidacy(postulant: &str, office: &str, constituency: &str, list_position: u32) -> String {
    let position = if list_position > 0 {
        format!("{list_position:02}")
    } else {
        String::new()
    };
    joined(&[slug(postulant), slug(office), slug(constituency), position])
}

/// The `n`-th account that would carry `base` (a substitute's, a coalition partner's): the
/// first keeps the name, later ones end in `-2`, `-3`…
pub fn nth(base: &str, n: u32) -> String {
    if n <= 1 {
        base.to_string()
    } else {
        format!("{base}-{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Email;
    use proptest::prelude::*;

    #[test]
    fn names_read_as_the_import_codes() {
        assert_eq!(party("PAN"), "partido-pan");
        assert_eq!(party("PAN-PRI-PRD"), "partido-pan-pri-prd");
        assert_eq!(
            candidacy("PAN", "diputacion_mr", "C0005", 0),
            "pan.diputacion-mr.c0005"
        );
        assert_eq!(
            candidacy("Morena", "Diputación RP", "Circunscripción 1", 3),
            "morena.diputacion-rp.circunscripcion-1.03"
        );
        assert_eq!(nth("pan.diputacion-mr.c0005", 1), "pan.diputacion-mr.c0005");
        assert_eq!(
            nth("pan.diputacion-mr.c0005", 2),
            "pan.diputacion-mr.c0005-2"
        );
    }

    proptest! {
        /// Whatever the codes hold, the name (with a suffix) is a valid address's local part.
        #[test]
        fn every_name_is_a_valid_address(
            postulant in "\\PC{0,40}",
            office in "\\PC{0,40}",
            constituency in "\\PC{0,40}",
            position in 0u32..1000,
            n in 1u32..100,
        ) {
            let name = nth(&candidacy(&postulant, &office, &constituency, position), n);
            prop_assert!(Email::parse(&format!("{name}@candidaturas.example.mx")).is_ok(), "{name}");
            prop_assert!(name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-'));
            let party = nth(&party(&postulant), n);
            prop_assert!(Email::parse(&format!("{party}@candidaturas.example.mx")).is_ok(), "{party}");
        }
    }
}
