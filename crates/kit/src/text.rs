//! Text as people type it, compared the way they expect.

/// Lower case without accents (and `ñ` as `n`): for accent- and case-insensitive search, and for
/// codes built from names.
pub fn fold(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .map(|c| match c {
            'á' | 'à' | 'ä' | 'â' => 'a',
            'é' | 'è' | 'ë' | 'ê' => 'e',
            'í' | 'ì' | 'ï' | 'î' => 'i',
            'ó' | 'ò' | 'ö' | 'ô' => 'o',
            'ú' | 'ù' | 'ü' | 'û' => 'u',
            'ñ' => 'n',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn accents_and_case_fold_away() {
        assert_eq!(super::fold("Diputación Núñez"), "diputacion nunez");
    }
}
