//! CSV files people open in spreadsheets: cells that cannot run as formulas.

/// One CSV field: quoted when needed; a leading `= + - @` is neutralised so spreadsheets do not
/// run it as a formula.
pub fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// The value a person typed in a cell [`csv_field`] neutralised, without the added quote.
pub fn csv_value(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::{csv_field, csv_value};

    #[test]
    fn csv_fields_are_quoted_and_formulas_neutralised() {
        assert_eq!(csv_field("simple"), "simple");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("dice \"hola\""), "\"dice \"\"hola\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_value("'=HYPERLINK(1)"), "=HYPERLINK(1)");
        assert_eq!(csv_value("'hola"), "'hola");
    }
}
