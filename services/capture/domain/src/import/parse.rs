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

/// Columns a file may add: the council's approval date, the registry's status (`cancelada`
/// cancels a candidacy imported before) and, for a coalition's or common candidacy, the member
/// party the agreement makes responsible for it.
pub const OPTIONAL_COLUMNS: [&str; 3] = ["fecha_aprobacion", "estatus", "partido_responsable"];

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
    /// The election's IANA time zone.
    pub time_zone: String,
    /// postulant code → id of the party responsible for capture.
    pub postulants: HashMap<String, Uuid>,
    /// postulant code → its own id.
    pub party_ids: HashMap<String, Uuid>,
    /// coalition or common candidacy code → its member parties' codes.
    pub members: HashMap<String, Vec<String>>,
    /// Live candidacies already registered: (office, constituency, postulant, position) →
    /// their registry id.
    pub occupied: HashMap<(String, String, String, i32), String>,
    /// The active persons of live candidacies (`person_identity`) → their candidacy's registry id.
    pub persons: HashMap<String, String>,
    /// (registry id, `person_identity`) of the people substituted out of each candidacy, with
    /// the day it happened: a file that brings one back is out of date.
    pub replaced: HashMap<(String, String), NaiveDate>,
    /// Names as the registry's export writes them (folded by `registry::header_key`) → codes:
    /// offices, (kind, constituency) and postulants.
    pub office_names: HashMap<String, String>,
    pub constituency_names: HashMap<(String, String), String>,
    pub postulant_names: HashMap<String, String>,
    /// Offices that are a position of an ayuntamiento's slate → `presidencia`, `sindicatura`
    /// or `regiduria`.
    pub slate_roles: HashMap<String, String>,
    /// Municipality → its ayuntamiento's composition.
    pub compositions: HashMap<String, Composition>,
}

/// How many sindicaturas and regidurías (of each principle) a municipality's ayuntamiento has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Composition {
    pub syndics: i32,
    pub councillors_mr: i32,
    pub councillors_rp: i32,
}

/// Who a person is, for telling a substitution from a correction and one person in two seats:
/// the name folded (case, accents, spaces) and the birth date.
pub fn person_identity(full_name: &str, birth_date: NaiveDate) -> String {
    let name = normalize(&full_name.split_whitespace().collect::<Vec<_>>().join(" "));
    format!("{name}|{birth_date}")
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
    /// The council's approval (registration) date, when the file carries it.
    pub approved_on: Option<NaiveDate>,
    /// The registry cancelled the candidacy.
    pub cancelled: bool,
    /// The coalition agreement's member party responsible for this candidacy (code).
    pub responsible: Option<String>,
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

/// A first pass over the file: the registry ids it names, and those it marks cancelled (a
/// person may move to a seat, and a new candidacy take a seat, that the same file frees).
fn first_pass(bytes: &[u8]) -> (HashSet<String>, HashSet<String>) {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let Ok(headers) = reader.headers().cloned() else {
        return Default::default();
    };
    let at = |name: &str| headers.iter().position(|c| normalize(c) == name);
    let (Some(id), status) = (at("id_registro"), at("estatus")) else {
        return Default::default();
    };
    let (mut named, mut cancelled) = (HashSet::new(), HashSet::new());
    for record in reader.records().flatten() {
        let external = record.get(id).unwrap_or("").trim().to_string();
        let status = status.and_then(|s| record.get(s)).map(normalize);
        if matches!(status.as_deref(), Some("cancelada" | "cancelado")) {
            cancelled.insert(external.clone());
        }
        named.insert(external);
    }
    (named, cancelled)
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
    if let Ok(raw) = reader.headers()
        && super::registry::is_registry_layout(&raw.iter().map(str::to_string).collect::<Vec<_>>())
    {
        // The national registry's export: read into our layout, checked the same way, its
        // errors told in the registry file's lines and headers.
        let (translated, mut errors) = super::registry::translate(bytes, catalog)?;
        if translated.is_empty() && !errors.is_empty() {
            return Err(errors);
        }
        let rows = parse(&translated.csv, catalog)
            .map(|rows| rows.into_iter().map(|r| translated.locate_row(r)).collect())
            .unwrap_or_else(|found| {
                errors.extend(found.into_iter().map(|e| translated.locate(e)));
                Vec::new()
            });
        if errors.is_empty() {
            return Ok(rows);
        }
        errors.sort_by_key(|e| e.line);
        return Err(errors);
    }
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
        .chain(OPTIONAL_COLUMNS.iter())
        .filter_map(|c| Some((*c, headers.iter().position(|h| h == c)?)))
        .collect();

    let mut errors = Errors(Vec::new());
    let mut rows = Vec::new();
    let mut seen_ids: HashMap<String, usize> = HashMap::new();
    let mut seen_slots: HashMap<(String, String, String, i32), usize> = HashMap::new();
    let mut seen_persons: HashMap<String, (usize, String)> = HashMap::new();
    let (in_file, cancelled_in_file) = first_pass(bytes);
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
        let get = |column: &str| {
            index
                .get(column)
                .and_then(|i| record.get(*i))
                .unwrap_or("")
                .trim()
                .to_string()
        };
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
        // A position of an ayuntamiento's slate: its number within the municipality's
        // composition (the presidencia is one, numbered 0).
        let slate_role = catalog.slate_roles.get(&office).map(String::as_str);
        let list_position = match slate_role {
            Some(role) if office_entry.is_some() => check_slate_position(
                &mut errors,
                line,
                catalog,
                (role, &principle, &constituency),
                (list_position, &position_text),
            ),
            _ => list_position,
        };
        let slot = (
            office.clone(),
            constituency.clone(),
            postulant.clone(),
            list_position,
        );
        // A row the registry cancelled takes no seat; one it frees can be taken.
        if let Some(other) = catalog.occupied.get(&slot)
            && *other != external_id
            && !cancelled_in_file.contains(other)
            && !cancelled_in_file.contains(&external_id)
        {
            errors.add(
                line,
                "circunscripcion",
                format!("Ya está registrada una candidatura de este postulante para este cargo y circunscripción (registro {other})."),
            );
        }
        if !external_id.is_empty()
            && !cancelled_in_file.contains(&external_id)
            && let Some(first) = seen_slots.insert(slot, line)
        {
            if slate_role.is_some() {
                errors.add(
                    line,
                    "posicion_lista",
                    format!("Esta posición de la planilla ya aparece en la línea {first}."),
                );
            } else {
                errors.add(line, "circunscripcion", format!("Ya hay una candidatura de este postulante para este cargo y circunscripción (línea {first})."));
            }
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
        let approved_on = match get("fecha_aprobacion").as_str() {
            "" => None,
            text => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                Ok(date) if date <= catalog.election_day => Some(date),
                Ok(_) => {
                    errors.add(
                        line,
                        "fecha_aprobacion",
                        "La fecha de aprobación no puede ser posterior a la jornada electoral.",
                    );
                    None
                }
                Err(_) => {
                    errors.add(
                        line,
                        "fecha_aprobacion",
                        "La fecha debe tener el formato AAAA-MM-DD.",
                    );
                    None
                }
            },
        };
        let cancelled = match normalize(&get("estatus")).as_str() {
            "" | "aprobada" | "aprobado" | "registrada" | "registrado" | "vigente" => false,
            "cancelada" | "cancelado" => true,
            _ => {
                errors.add(
                    line,
                    "estatus",
                    "El estatus debe ser «aprobada» o «cancelada».",
                );
                false
            }
        };
        let responsible = match get("partido_responsable").to_uppercase() {
            code if code.is_empty() => None,
            code => {
                let members = catalog.members.get(&postulant).cloned().unwrap_or_default();
                if members.is_empty() {
                    if code != postulant {
                        errors.add(line, "partido_responsable", "Solo las coaliciones y candidaturas comunes tienen un partido responsable distinto del postulante.");
                    }
                } else if !members.iter().any(|m| m.eq_ignore_ascii_case(&code)) {
                    errors.add(
                        line,
                        "partido_responsable",
                        format!(
                            "«{code}» no integra «{postulant}»; el convenio asigna la candidatura a uno de: {}.",
                            members.join(", ")
                        ),
                    );
                }
                Some(code)
            }
        };
        // A person substituted out of this candidacy coming back: the registry's file predates
        // the substitution.
        for (person, column) in [
            (holder.as_ref(), "propietario_nombre"),
            (alternate.as_ref(), "suplente_nombre"),
        ] {
            let Some(person) = person else { continue };
            let key = (
                external_id.clone(),
                person_identity(&person.full_name, person.birth_date),
            );
            if let Some(day) = catalog.replaced.get(&key) {
                errors.add(
                    line,
                    column,
                    format!(
                        "{} fue sustituida en esta candidatura el {}; el archivo parece anterior a la sustitución. Actualícelo con la persona que la sustituyó.",
                        person.full_name,
                        day.format("%d/%m/%Y")
                    ),
                );
            }
        }
        // One person, one seat (a cancelled row frees its persons).
        if !cancelled {
            for person in [holder.as_ref(), alternate.as_ref()].into_iter().flatten() {
                let key = person_identity(&person.full_name, person.birth_date);
                if let Some((first, _)) = seen_persons.get(&key) {
                    errors.add(
                        line,
                        "",
                        format!(
                            "{} ya aparece en otra candidatura de este archivo (línea {first}); una persona no puede ocupar dos lugares.",
                            person.full_name
                        ),
                    );
                } else {
                    seen_persons.insert(key.clone(), (line, external_id.clone()));
                }
                if let Some(other) = catalog.persons.get(&key)
                    && *other != external_id
                    && !in_file.contains(other)
                {
                    errors.add(
                        line,
                        "",
                        format!(
                            "{} ya está registrada en otra candidatura (registro {other}); una persona no puede ocupar dos lugares.",
                            person.full_name
                        ),
                    );
                }
            }
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
                approved_on,
                cancelled,
                responsible,
            });
        }
    }
    slates_have_their_presidencia(&mut errors, catalog, &rows);
    errors.0.sort_by_key(|e| e.line);
    if rows.is_empty() && errors.0.is_empty() {
        errors.add(2, "", "El archivo no tiene filas.");
    }
    if errors.0.is_empty() {
        Ok(rows)
    } else {
        Err(errors.0)
    }
}

/// The number of a slate position, checked against the municipality's composition: the
/// presidencia is one (0; a `1` is accepted), sindicaturas and regidurías are numbered from 1 to
/// the count of their kind.
fn check_slate_position(
    errors: &mut Errors,
    line: usize,
    catalog: &Catalog,
    (role, principle, municipality): (&str, &str, &str),
    (position, text): (i32, &str),
) -> i32 {
    if role == "presidencia" {
        if position > 1 {
            errors.add(
                line,
                "posicion_lista",
                "La presidencia municipal es una sola: deje la posición vacía.",
            );
        }
        return 0;
    }
    let Some(composition) = catalog.compositions.get(municipality) else {
        if catalog
            .constituencies
            .contains(&("municipality".to_string(), municipality.to_string()))
        {
            errors.add(
                line,
                "circunscripcion",
                format!("La integración del ayuntamiento de «{municipality}» no está en el catálogo «ayuntamientos»: cárguela antes de importar su planilla."),
            );
        }
        return position;
    };
    let (count, what) = match (role, principle) {
        ("sindicatura", _) => (composition.syndics, "sindicatura(s)"),
        (_, "rp") => (
            composition.councillors_rp,
            "regiduría(s) de representación proporcional",
        ),
        _ => (
            composition.councillors_mr,
            "regiduría(s) de mayoría relativa",
        ),
    };
    if text.is_empty() {
        // An RP position missing is reported once, with the other RP lists.
        if principle == "rp" {
            return position;
        }
        errors.add(
            line,
            "posicion_lista",
            if count == 1 {
                format!("Indique el número de la posición: 1 (el ayuntamiento tiene 1 {what}).")
            } else {
                format!("Indique el número de la posición, de 1 a {count} (el ayuntamiento tiene {count} {what}).")
            },
        );
    } else if position > count {
        errors.add(
            line,
            "posicion_lista",
            format!("El ayuntamiento de este municipio tiene {count} {what}: la posición {position} no existe."),
        );
    }
    position
}

/// Every slate (a postulant's sindicaturas and regidurías of mayoría relativa in a
/// municipality) needs its presidencia, in the file or already registered.
fn slates_have_their_presidencia(errors: &mut Errors, catalog: &Catalog, rows: &[Row]) {
    let role = |office: &str| catalog.slate_roles.get(office).map(String::as_str);
    let cancelled: HashSet<&str> = rows
        .iter()
        .filter(|r| r.cancelled)
        .map(|r| r.external_id.as_str())
        .collect();
    let mut heads: HashSet<(&str, &str)> = rows
        .iter()
        .filter(|r| !r.cancelled && role(&r.office) == Some("presidencia"))
        .map(|r| (r.postulant.as_str(), r.constituency.as_str()))
        .collect();
    for ((office, municipality, postulant, _), id) in &catalog.occupied {
        if role(office) == Some("presidencia") && !cancelled.contains(id.as_str()) {
            heads.insert((postulant.as_str(), municipality.as_str()));
        }
    }
    let mut reported = HashSet::new();
    for row in rows.iter().filter(|r| !r.cancelled) {
        let member = matches!(role(&row.office), Some("sindicatura"))
            || (role(&row.office) == Some("regiduria")
                && catalog
                    .offices
                    .get(&row.office)
                    .is_some_and(|(p, _)| p == "mr"));
        let slate = (row.postulant.as_str(), row.constituency.as_str());
        if member && !heads.contains(&slate) && reported.insert(slate) {
            errors.add(
                row.line,
                "cargo",
                format!(
                    "La planilla de {} en el municipio {} no tiene presidencia municipal: inclúyala en el archivo.",
                    row.postulant, row.constituency
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Any file is parsed or refused with its problems, never a panic.
        #[test]
        fn any_bytes_are_parsed_or_refused(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = parse(&bytes, &Catalog::default());
        }

        /// A header the importer knows followed by arbitrary cells: problems by line, no panic.
        #[test]
        fn arbitrary_rows_get_problems_not_panics(
            rows in proptest::collection::vec("[a-zA-Z0-9,;\"\n -]{0,60}", 0..10),
        ) {
            let mut file = COLUMNS.join(",");
            file.push('\n');
            for row in rows {
                file.push_str(&row);
                file.push('\n');
            }
            let parsed = parse(file.as_bytes(), &Catalog::default());
            // Nothing is valid against an empty catalog: every non-empty row is a problem.
            if let Err(problems) = parsed {
                prop_assert!(problems.iter().all(|p| !p.message.is_empty()));
            }
        }
    }
}
