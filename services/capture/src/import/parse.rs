//! CSV → checked rows, or every error found.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use uuid::Uuid;

use super::{MAX_BYTES, MAX_ROWS};

pub const COLUMNS: [&str; 13] = [
    "id_registro",
    "cargo",
    "principio",
    "circunscripcion",
    "postulante",
    "posicion_lista",
    "propietario_nombre",
    "propietario_sexo",
    "propietario_fecha_nacimiento",
    "suplente_nombre",
    "suplente_sexo",
    "suplente_fecha_nacimiento",
    "accion_afirmativa",
];

pub const AFFIRMATIVE_ACTIONS: [&str; 7] = [
    "indigena",
    "afromexicana",
    "discapacidad",
    "diversidad_sexual",
    "migrante",
    "joven",
    "persona_mayor",
];

/// One problem in the file: line number (the header is line 1), column, and what to fix.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportError {
    pub line: usize,
    pub column: String,
    pub message: String,
}

impl std::fmt::Display for ImportError {
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

/// What the rows are checked against.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub election_day: NaiveDate,
    /// office code → (principle `mr`|`rp`, constituency kind).
    pub offices: HashMap<String, (String, String)>,
    /// (kind, code).
    pub constituencies: HashSet<(String, String)>,
    /// postulant code → id of the party responsible for capture.
    pub postulants: HashMap<String, Uuid>,
    /// Live candidacies already registered: (office, constituency, postulant, position) →
    /// their registry id.
    pub occupied: HashMap<(String, String, String, i32), String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    pub full_name: String,
    pub sex: String,
    pub birth_date: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: usize,
    pub external_id: String,
    pub office: String,
    pub constituency: String,
    pub postulant: String,
    pub list_position: i32,
    pub holder: PersonRow,
    pub alternate: Option<PersonRow>,
    pub affirmative_action: String,
}

/// Lowercase, without accents, spaces to underscores: `Diversidad sexual` → `diversidad_sexual`.
pub fn normalize(value: &str) -> String {
    value
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'á' | 'à' | 'ä' => 'a',
            'é' | 'è' | 'ë' => 'e',
            'í' | 'ì' | 'ï' => 'i',
            'ó' | 'ò' | 'ö' => 'o',
            'ú' | 'ù' | 'ü' => 'u',
            ' ' | '-' => '_',
            other => other,
        })
        .collect()
}

struct Errors(Vec<ImportError>);

impl Errors {
    fn add(&mut self, line: usize, column: &str, message: impl Into<String>) {
        self.0.push(ImportError {
            line,
            column: column.to_string(),
            message: message.into(),
        });
    }
}

fn parse_person(
    errors: &mut Errors,
    line: usize,
    prefix: &str,
    name: &str,
    sex: &str,
    birth: &str,
    election_day: NaiveDate,
) -> Option<PersonRow> {
    let name_column = format!("{prefix}_nombre");
    let sex_column = format!("{prefix}_sexo");
    let birth_column = format!("{prefix}_fecha_nacimiento");
    let full_name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut ok = true;
    if full_name.is_empty() {
        errors.add(line, &name_column, "Falta el nombre completo.");
        ok = false;
    } else if full_name.chars().count() > 200
        || full_name
            .chars()
            .any(|c| c.is_control() || c.is_ascii_digit())
    {
        errors.add(
            line,
            &name_column,
            "El nombre no es válido (sin números, hasta 200 caracteres).",
        );
        ok = false;
    }
    let sex = match normalize(sex).as_str() {
        "mujer" | "m" => "mujer",
        "hombre" | "h" => "hombre",
        "no_binario" | "nb" | "x" => "no_binario",
        _ => {
            errors.add(
                line,
                &sex_column,
                "El sexo debe ser «mujer», «hombre» o «no binario».",
            );
            ok = false;
            ""
        }
    };
    let birth_date = match NaiveDate::parse_from_str(birth.trim(), "%Y-%m-%d") {
        Ok(date) => {
            let age = election_day.years_since(date).unwrap_or(0);
            if date > election_day || age < 18 {
                errors.add(
                    line,
                    &birth_column,
                    "La persona debe tener al menos 18 años el día de la elección.",
                );
                ok = false;
            } else if age > 110 {
                errors.add(
                    line,
                    &birth_column,
                    "La fecha de nacimiento no es plausible.",
                );
                ok = false;
            }
            date
        }
        Err(_) => {
            errors.add(
                line,
                &birth_column,
                "La fecha debe tener el formato AAAA-MM-DD.",
            );
            ok = false;
            NaiveDate::default()
        }
    };
    ok.then(|| PersonRow {
        full_name,
        sex: sex.to_string(),
        birth_date,
    })
}

/// Parses and checks the whole file. `Ok` only when every row is valid.
pub fn parse(bytes: &[u8], catalog: &Catalog) -> Result<Vec<Row>, Vec<ImportError>> {
    let file_error = |message: &str| {
        vec![ImportError {
            line: 0,
            column: String::new(),
            message: message.to_string(),
        }]
    };
    if bytes.len() > MAX_BYTES {
        return Err(file_error("El archivo es demasiado grande (máximo 32 MB)."));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if std::str::from_utf8(bytes).is_err() {
        return Err(file_error("El archivo debe estar codificado en UTF-8."));
    }
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(normalize).collect(),
        Err(_) => return Err(file_error("No se pudo leer el encabezado del archivo CSV.")),
    };
    let missing: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|c| !headers.iter().any(|h| h == c))
        .collect();
    if !missing.is_empty() {
        return Err(vec![ImportError {
            line: 1,
            column: String::new(),
            message: format!("Faltan columnas: {}.", missing.join(", ")),
        }]);
    }
    let index: HashMap<&str, usize> = COLUMNS
        .iter()
        .map(|c| (*c, headers.iter().position(|h| h == c).expect("checked")))
        .collect();

    let mut errors = Errors(Vec::new());
    let mut rows = Vec::new();
    let mut seen_ids: HashMap<String, usize> = HashMap::new();
    let mut seen_slots: HashMap<(String, String, String, i32), usize> = HashMap::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        if i >= MAX_ROWS {
            errors.add(
                line,
                "",
                format!("El archivo tiene más de {MAX_ROWS} filas."),
            );
            break;
        }
        let record = match record {
            Ok(r) => r,
            Err(_) => {
                errors.add(
                    line,
                    "",
                    "La fila no se pudo leer (revise comillas y separadores).",
                );
                continue;
            }
        };
        let get = |column: &str| record.get(index[column]).unwrap_or("").trim().to_string();
        let external_id = get("id_registro");
        if external_id.is_empty() {
            errors.add(line, "id_registro", "Falta el identificador del registro.");
        } else if let Some(first) = seen_ids.insert(external_id.clone(), line) {
            errors.add(
                line,
                "id_registro",
                format!("El identificador se repite (ya aparece en la línea {first})."),
            );
        }
        let office = normalize(&get("cargo"));
        let principle = normalize(&get("principio"));
        let constituency = get("circunscripcion");
        let office_entry = catalog.offices.get(&office);
        match office_entry {
            None => errors.add(
                line,
                "cargo",
                format!(
                    "El cargo «{}» no está en el catálogo de la elección.",
                    get("cargo")
                ),
            ),
            Some((expected, kind)) => {
                if &principle != expected {
                    errors.add(
                        line,
                        "principio",
                        format!("El principio de este cargo es «{expected}»."),
                    );
                }
                if !catalog
                    .constituencies
                    .contains(&(kind.clone(), constituency.clone()))
                {
                    errors.add(
                        line,
                        "circunscripcion",
                        format!("«{constituency}» no está en el catálogo para este cargo."),
                    );
                }
            }
        }
        let postulant = get("postulante").to_uppercase();
        if !catalog.postulants.contains_key(&postulant) {
            errors.add(line, "postulante", format!("«{}» no está en el catálogo de partidos, coaliciones y candidaturas independientes.", get("postulante")));
        }
        let position_text = get("posicion_lista");
        let list_position = if position_text.is_empty() {
            0
        } else {
            match position_text.parse::<i32>() {
                Ok(n) if (1..=100).contains(&n) => n,
                _ => {
                    errors.add(
                        line,
                        "posicion_lista",
                        "La posición en la lista debe ser un número entre 1 y 100.",
                    );
                    0
                }
            }
        };
        // The office decides whether a list position is needed (a wrong `principio` is
        // reported once, above).
        let office_is_rp = office_entry.is_some_and(|(p, _)| p == "rp");
        if office_is_rp && list_position == 0 && position_text.is_empty() {
            errors.add(line, "posicion_lista", "Las candidaturas de representación proporcional necesitan su posición en la lista.");
        }
        let slot = (
            office.clone(),
            constituency.clone(),
            postulant.clone(),
            list_position,
        );
        if let Some(other) = catalog.occupied.get(&slot)
            && *other != external_id
        {
            errors.add(
                line,
                "circunscripcion",
                format!("Ya está registrada una candidatura de este postulante para este cargo y circunscripción (registro {other})."),
            );
        }
        if !external_id.is_empty()
            && let Some(first) = seen_slots.insert(slot, line)
        {
            errors.add(line, "circunscripcion", format!("Ya hay una candidatura de este postulante para este cargo y circunscripción (línea {first})."));
        }
        let holder = parse_person(
            &mut errors,
            line,
            "propietario",
            &get("propietario_nombre"),
            &get("propietario_sexo"),
            &get("propietario_fecha_nacimiento"),
            catalog.election_day,
        );
        let alternate = if get("suplente_nombre").is_empty() {
            None
        } else {
            parse_person(
                &mut errors,
                line,
                "suplente",
                &get("suplente_nombre"),
                &get("suplente_sexo"),
                &get("suplente_fecha_nacimiento"),
                catalog.election_day,
            )
        };
        let affirmative_action = normalize(&get("accion_afirmativa"));
        if !affirmative_action.is_empty()
            && !AFFIRMATIVE_ACTIONS.contains(&affirmative_action.as_str())
        {
            errors.add(
                line,
                "accion_afirmativa",
                format!(
                    "Acción afirmativa desconocida; use una de: {}.",
                    AFFIRMATIVE_ACTIONS.join(", ")
                ),
            );
        }
        if let Some(holder) = holder {
            rows.push(Row {
                line,
                external_id,
                office,
                constituency,
                postulant,
                list_position,
                holder,
                alternate,
                affirmative_action,
            });
        }
    }
    if rows.is_empty() && errors.0.is_empty() {
        errors.add(2, "", "El archivo no tiene filas.");
    }
    if errors.0.is_empty() {
        Ok(rows)
    } else {
        Err(errors.0)
    }
}
