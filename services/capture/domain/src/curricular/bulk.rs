//! Bulk capture for parties with many candidacies: a CSV template of the account's candidacies
//! (one row per person, one column per field, prefilled with the drafts), filled in a
//! spreadsheet and uploaded back. Every row is checked with the same rules; all problems are
//! reported at once with line and column; rows without problems are saved as drafts; sections
//! left empty in a row, and rows with problems, are not touched.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use conoceles_kit::access::Actor;
use conoceles_kit::error::AppError;
use serde::Serialize;
use sqlx::PgPool;
use uuid::Uuid;

use super::sections::{self, Bounds, Fields, Section};
use super::{Candidacy, PersonRole, check_editable, dashboard, load, sections_of};
use conoceles_kit::csv::{csv_field, csv_value};

/// Largest file accepted.
pub const MAX_BYTES: usize = 8 * 1024 * 1024;
/// Rows accepted in one file.
pub const MAX_ROWS: usize = 20_000;

const FIXED: [&str; 5] = [
    "candidatura",
    "persona",
    "cargo",
    "circunscripcion",
    "nombre",
];

/// The field columns, in questionnaire order (the field names do not depend on the bounds).
pub fn field_columns() -> Vec<(Section, &'static str)> {
    Section::ALL
        .iter()
        .flat_map(|s| {
            s.fields(&Bounds::default())
                .into_iter()
                .map(move |f| (*s, f.name))
        })
        .collect()
}

/// A field's column as people read it: «Escolaridad: Grado máximo de estudios».
pub fn column_name(section: Section, field: &str) -> String {
    let label = section
        .fields(&Bounds::default())
        .into_iter()
        .find(|f| f.name == field)
        .map_or(field, |f| f.label);
    format!("{}: {label}", section.title())
}

/// The column's name in templates downloaded before the columns were named in Spanish
/// (`education.level`), still read.
fn legacy_column_name(section: Section, field: &str) -> String {
    format!("{}.{field}", section.slug())
}

/// `titular` or `suplente` (the earlier templates' `holder` and `alternate` are read too).
fn person_of(value: &str) -> Option<PersonRole> {
    match value.trim().to_lowercase().as_str() {
        "titular" | "propietaria" | "propietario" | "holder" => Some(PersonRole::Holder),
        "suplente" | "alternate" => Some(PersonRole::Alternate),
        _ => None,
    }
}

fn person_cell(role: PersonRole) -> &'static str {
    match role {
        PersonRole::Holder => "titular",
        PersonRole::Alternate => "suplente",
    }
}

/// The template: the account's candidacies with what is saved so far; with `municipality`,
/// only the positions of that municipality's slates and RP lists (a slate captured as a unit).
pub async fn template(
    pool: &PgPool,
    actor: &Actor,
    municipality: Option<&str>,
) -> Result<String, AppError> {
    let columns = field_columns();
    let mut out = FIXED.join(",");
    for (section, field) in &columns {
        out.push(',');
        out.push_str(&csv_field(&column_name(*section, field)));
    }
    out.push_str("\r\n");
    let rows = dashboard(pool, actor).await?.into_iter().filter(|r| {
        municipality.is_none_or(|m| r.slate_role.is_some() && r.constituency_code == m)
    });
    for row in rows {
        let candidacy = load(pool, row.id, actor).await?;
        for person in &candidacy.persons {
            let saved = sections_of(pool, person.id).await?;
            let mut cells = vec![
                candidacy.id.to_string(),
                person_cell(person.role).to_string(),
                row.seat(),
                candidacy.constituency.clone(),
                person.full_name.clone(),
            ];
            for (section, field) in &columns {
                cells.push(
                    saved
                        .get(section)
                        .and_then(|s| s.fields.get(*field))
                        .cloned()
                        .unwrap_or_default(),
                );
            }
            let line: Vec<String> = cells.iter().map(|c| csv_field(c)).collect();
            out.push_str(&line.join(","));
            out.push_str("\r\n");
        }
    }
    Ok(out)
}

/// One problem of the file: line (the header is line 1), column, and what to fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BulkError {
    pub line: usize,
    pub column: String,
    pub message: String,
}

impl std::fmt::Display for BulkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.column.is_empty() {
            write!(f, "Línea {}: {}", self.line, self.message)
        } else {
            write!(
                f,
                "Línea {}, columna «{}»: {}",
                self.line, self.column, self.message
            )
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct BulkOutcome {
    /// Rows whose sections were saved.
    pub saved_rows: usize,
    /// Sections saved, over all rows.
    pub saved_sections: usize,
    pub errors: Vec<BulkError>,
}

fn file_error(message: &str) -> BulkOutcome {
    BulkOutcome {
        errors: vec![BulkError {
            line: 0,
            column: String::new(),
            message: message.into(),
        }],
        ..BulkOutcome::default()
    }
}

/// A row as read from the file, before the database is asked anything: which person, the
/// sections it fills, and what is already wrong with it (an unreadable identifier or role).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkRow {
    pub line: usize,
    pub candidacy_id: Option<Uuid>,
    pub role: Option<PersonRole>,
    pub sections: BTreeMap<Section, Fields>,
    pub errors: Vec<BulkError>,
}

/// The file as read: its rows, and the problems of the file itself (unknown columns, rows with
/// the wrong number of cells, too many rows).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkFile {
    pub rows: Vec<BulkRow>,
    pub errors: Vec<BulkError>,
}

/// Reads a filled template without touching the database. `Err` is a problem that stops the
/// whole file (size, encoding, header); everything else is listed in the answer.
pub fn read(bytes: &[u8]) -> Result<BulkFile, BulkOutcome> {
    if bytes.len() > MAX_BYTES {
        return Err(file_error(
            "El archivo pesa más de 8 MB; divídalo en varios.",
        ));
    }
    let Ok(text) = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)) else {
        return Err(file_error(
            "El archivo debe estar en UTF-8 (guárdelo como «CSV UTF-8»).",
        ));
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let Ok(headers) = reader.headers().cloned() else {
        return Err(file_error("No se pudo leer el encabezado del archivo."));
    };
    let position = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(id_at), Some(role_at)) = (position("candidatura"), position("persona")) else {
        return Err(file_error(
            "Faltan las columnas «candidatura» y «persona»: use la plantilla.",
        ));
    };
    let known: Vec<(Section, &'static str, usize)> = field_columns()
        .into_iter()
        .filter_map(|(s, f)| {
            position(&column_name(s, f))
                .or_else(|| position(&legacy_column_name(s, f)))
                .map(|at| (s, f, at))
        })
        .collect();
    let mut file = BulkFile::default();
    for unknown in headers
        .iter()
        .enumerate()
        .filter(|(at, h)| !FIXED.contains(&h.trim()) && !known.iter().any(|k| k.2 == *at))
        .map(|(_, h)| h)
    {
        file.errors.push(BulkError {
            line: 1,
            column: unknown.to_string(),
            message: "Columna desconocida: use la plantilla.".into(),
        });
    }
    // The line where each person first appears: a second row for the same person is refused
    // rather than silently overwriting the first (and a file of copies costs no saves).
    let mut first_line: HashMap<(Uuid, PersonRole), usize> = HashMap::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        if index >= MAX_ROWS {
            file.errors.push(BulkError {
                line,
                column: String::new(),
                message: format!("El archivo tiene más de {MAX_ROWS} filas; divídalo en varios."),
            });
            break;
        }
        let Ok(record) = record else {
            file.errors.push(BulkError {
                line,
                column: String::new(),
                message: "La fila no tiene el número de columnas del encabezado.".into(),
            });
            continue;
        };
        let error = |column: &str, message: &str| BulkError {
            line,
            column: column.to_string(),
            message: message.to_string(),
        };
        let mut errors = Vec::new();
        let role = person_of(record.get(role_at).unwrap_or_default());
        if role.is_none() {
            errors.push(error("persona", "Debe ser «titular» o «suplente»."));
        }
        let candidacy_id = Uuid::parse_str(record.get(id_at).unwrap_or_default().trim()).ok();
        if candidacy_id.is_none() {
            errors.push(error(
                "candidatura",
                "No es un identificador de candidatura válido.",
            ));
        }
        if let (Some(id), Some(role)) = (candidacy_id, role) {
            if let Some(first) = first_line.get(&(id, role)) {
                errors.push(error(
                    "persona",
                    &format!(
                        "Esta persona ya tiene la fila {first}; deje una sola fila por persona."
                    ),
                ));
            } else {
                first_line.insert((id, role), line);
            }
        }
        let mut sections: BTreeMap<Section, Fields> = BTreeMap::new();
        for (section, field, at) in &known {
            let value = csv_value(record.get(*at).unwrap_or_default());
            if !value.trim().is_empty() {
                sections
                    .entry(*section)
                    .or_default()
                    .insert(field.to_string(), value.to_string());
            }
        }
        file.rows.push(BulkRow {
            line,
            candidacy_id,
            role,
            sections,
            errors,
        });
    }
    Ok(file)
}

/// Checks every row, then saves the rows without problems.
#[tracing::instrument(skip_all, fields(account_id = %actor.account_id, bytes = bytes.len()))]
pub async fn apply(
    pool: &PgPool,
    actor: &Actor,
    bytes: &[u8],
    now: DateTime<Utc>,
) -> Result<BulkOutcome, AppError> {
    let file = match read(bytes) {
        Ok(file) => file,
        Err(outcome) => return Ok(outcome),
    };
    let mut outcome = BulkOutcome {
        errors: file.errors,
        ..BulkOutcome::default()
    };

    // Check every row against its candidacy before saving any; a candidacy the account does
    // not hold is refused without asking the database row by row.
    let visible: std::collections::HashSet<Uuid> = dashboard(pool, actor)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    let mut loaded: HashMap<Uuid, Result<Candidacy, String>> = HashMap::new();
    let mut ready: Vec<BulkRow> = Vec::new();
    for mut row in file.rows {
        let line = row.line;
        let error = |column: &str, message: String| BulkError {
            line,
            column: column.to_string(),
            message,
        };
        let candidacy = match row.candidacy_id {
            None => None,
            Some(id) => {
                let entry = match loaded.get(&id) {
                    Some(entry) => entry.clone(),
                    None if !visible.contains(&id) => Err(super::NO_SUCH_CANDIDACY.to_string()),
                    None => {
                        let entry = match load(pool, id, actor).await {
                            Ok(c) => Ok(c),
                            Err(AppError::Known { message, .. }) => Err(message),
                            Err(e) => return Err(e),
                        };
                        loaded.insert(id, entry.clone());
                        entry
                    }
                };
                match entry {
                    Ok(c) => Some(c),
                    Err(message) => {
                        row.errors.push(error("candidatura", message));
                        None
                    }
                }
            }
        };
        if let (Some(candidacy), Some(role)) = (&candidacy, row.role) {
            if let Err(e) = candidacy.person(role) {
                row.errors.push(error("persona", e.messages().join(" ")));
            }
            // What the file repeats as it was saved (the template's prefilled cells) is not a
            // change: not checked, not saved, so the unchanged template uploads without errors
            // and a questionnaire under review or with observations keeps its other sections.
            if let Ok(person) = candidacy.person(role) {
                let saved = sections_of(pool, person.id).await?;
                row.sections.retain(|section, input| {
                    let before: Fields = saved
                        .get(section)
                        .map(|s| {
                            s.fields
                                .iter()
                                .filter(|(_, v)| !v.trim().is_empty())
                                .map(|(k, v)| (k.clone(), v.trim().to_string()))
                                .collect()
                        })
                        .unwrap_or_default();
                    let now: Fields = input
                        .iter()
                        .map(|(k, v)| (k.clone(), v.trim().to_string()))
                        .collect();
                    before != now
                });
            }
            for (section, input) in &row.sections {
                if let Err(e) = check_editable(actor, candidacy, Some(*section), now) {
                    row.errors
                        .push(error(section.title(), e.messages().join(" ")));
                    continue;
                }
                let (_, violations) = sections::validate(*section, &candidacy.bounds, input);
                for v in violations {
                    row.errors
                        .push(error(&column_name(*section, &v.field), v.message));
                }
            }
        }
        if !row.errors.is_empty() {
            outcome.errors.append(&mut row.errors);
        } else if candidacy.is_some() && !row.sections.is_empty() {
            ready.push(row);
        }
    }
    // File-level and row problems in the order of the file's lines.
    outcome.errors.sort_by_key(|e| e.line);

    // Save the rows without problems, each section as its own draft.
    for row in ready {
        let (Some(Some(Ok(candidacy))), Some(role)) =
            (row.candidacy_id.map(|id| loaded.get(&id)), row.role)
        else {
            continue;
        };
        // Re-read: an earlier row of the same candidacy may have changed its status.
        let candidacy = load(pool, candidacy.id, actor).await?;
        let mut saved = 0;
        for (section, input) in &row.sections {
            match super::save_section(pool, actor, &candidacy, role, *section, input, now).await {
                Ok(_) => saved += 1,
                Err(AppError::Known { message, .. }) => outcome.errors.push(BulkError {
                    line: row.line,
                    column: section.title().to_string(),
                    message,
                }),
                Err(e) => return Err(e),
            }
        }
        outcome.saved_sections += saved;
        outcome.saved_rows += usize::from(saved > 0);
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> String {
        let mut columns: Vec<String> = FIXED.iter().map(|c| c.to_string()).collect();
        columns.extend(
            field_columns()
                .iter()
                .map(|(s, f)| csv_field(&column_name(*s, f))),
        );
        columns.join(",")
    }

    fn row(id: &str, role: &str, cells: &[(&str, &str)]) -> String {
        let columns = field_columns();
        let mut line = vec![
            id.to_string(),
            role.into(),
            "x".into(),
            "01".into(),
            "N".into(),
        ];
        line.extend(columns.iter().map(|(s, f)| {
            let (name, legacy) = (column_name(*s, f), legacy_column_name(*s, f));
            cells
                .iter()
                .find(|(c, _)| *c == name || *c == legacy)
                .map(|(_, v)| csv_field(v))
                .unwrap_or_default()
        }));
        line.join(",")
    }

    #[test]
    fn a_filled_template_is_read_into_rows_with_their_sections() {
        let id = Uuid::from_u128(7);
        let file = format!(
            "\u{feff}{}\r\n{}\r\n{}\r\n",
            header(),
            row(
                &id.to_string(),
                "holder",
                &[("education.level", "licenciatura")]
            ),
            row("no-es-id", "tio", &[])
        );
        let read = read(file.as_bytes()).expect("the file is readable");
        assert!(read.errors.is_empty(), "{:?}", read.errors);
        assert_eq!(read.rows.len(), 2);
        let first = &read.rows[0];
        assert_eq!(
            (first.line, first.candidacy_id, first.role),
            (2, Some(id), Some(PersonRole::Holder))
        );
        assert_eq!(
            first.sections[&Section::Education]
                .get("level")
                .map(String::as_str),
            Some("licenciatura")
        );
        assert_eq!(first.sections.len(), 1, "empty sections are left out");
        let columns: Vec<_> = read.rows[1]
            .errors
            .iter()
            .map(|e| e.column.as_str())
            .collect();
        assert_eq!(columns, ["persona", "candidatura"]);
    }

    #[test]
    fn a_second_row_for_the_same_person_is_refused_with_the_first_line() {
        let id = Uuid::from_u128(9);
        let fill = [("education.level", "licenciatura")];
        let file = format!(
            "{}\r\n{}\r\n{}\r\n{}\r\n",
            header(),
            row(&id.to_string(), "holder", &fill),
            row(&id.to_string(), "alternate", &fill),
            row(&id.to_string(), "holder", &fill),
        );
        let read = read(file.as_bytes()).expect("the file is readable");
        assert!(read.rows[0].errors.is_empty() && read.rows[1].errors.is_empty());
        let repeated = &read.rows[2].errors;
        assert_eq!(repeated.len(), 1, "{repeated:?}");
        assert_eq!(
            (
                repeated[0].line,
                repeated[0].column.as_str(),
                repeated[0].message.as_str()
            ),
            (
                4,
                "persona",
                "Esta persona ya tiene la fila 2; deje una sola fila por persona."
            )
        );
    }

    #[test]
    fn problems_of_the_file_are_listed_with_their_line() {
        let file = format!(
            "{},extra\r\n{},\r\nsolo,dos\r\n",
            header(),
            row(&Uuid::nil().to_string(), "alternate", &[])
        );
        let read = read(file.as_bytes()).expect("the header is readable");
        let found: Vec<_> = read
            .errors
            .iter()
            .map(|e| (e.line, e.column.as_str()))
            .collect();
        assert_eq!(found, [(1, "extra"), (3, "")]);
        assert_eq!(read.rows.len(), 1);
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(200))]

            /// Whatever a spreadsheet (or an attacker) sends is read or refused, never a panic.
            #[test]
            fn any_bytes_are_read_or_refused(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
                let _ = read(&bytes);
            }

            /// Every record of a filled template is one row on its own line, and each cell's
            /// text (quotes, commas and line breaks included) reaches its field unchanged.
            #[test]
            fn every_record_is_one_row_with_its_cells(
                records in proptest::collection::vec(
                    proptest::collection::vec("[a-zA-Z0-9áéíóúñ ,;\"\n]{0,12}", 3),
                    1..12,
                ),
            ) {
                let columns = field_columns();
                let picked: Vec<(Section, &str)> =
                    [0, columns.len() / 2, columns.len() - 1].iter().map(|i| columns[*i]).collect();
                let mut writer = ::csv::Writer::from_writer(Vec::new());
                let mut head: Vec<String> = FIXED.iter().map(|c| c.to_string()).collect();
                head.extend(picked.iter().map(|(s, f)| column_name(*s, f)));
                writer.write_record(&head).unwrap();
                for (i, cells) in records.iter().enumerate() {
                    let mut line = vec![
                        Uuid::from_u128(i as u128 + 1).to_string(),
                        "holder".to_string(),
                        String::new(),
                        String::new(),
                        String::new(),
                    ];
                    line.extend(cells.iter().cloned());
                    writer.write_record(&line).unwrap();
                }
                let file = read(&writer.into_inner().unwrap()).expect("a template is readable");
                prop_assert!(file.errors.is_empty(), "{:?}", file.errors);
                prop_assert_eq!(file.rows.len(), records.len());
                let mut last_line = 1;
                for (row, cells) in file.rows.iter().zip(&records) {
                    prop_assert!(row.line > last_line);
                    last_line = row.line;
                    for ((section, field), cell) in picked.iter().zip(cells) {
                        let read = row.sections.get(section).and_then(|f| f.get(*field));
                        if cell.trim().is_empty() {
                            prop_assert!(read.is_none());
                        } else {
                            prop_assert_eq!(read, Some(cell));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_file_that_cannot_be_read_is_refused_whole() {
        let message = |bytes: &[u8]| read(bytes).unwrap_err().errors[0].message.clone();
        assert!(message(b"\xff\xfe,persona").contains("UTF-8"));
        assert!(message(b"nombre,cargo\r\n").contains("«candidatura» y «persona»"));
        assert!(message(&vec![b'a'; MAX_BYTES + 1]).contains("8 MB"));
    }
}
