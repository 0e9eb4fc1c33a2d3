//! The national registry's own export: one row per **person** (holder and alternate on separate
//! rows, names split into given names and surnames, dates as `DD/MM/AAAA`, offices, districts
//! and parties by name), read into our one-row-per-formula layout so that the same checks,
//! preview and apply run on it. Errors keep the registry file's own line numbers and headers.
//!
//! A formula is the seat it takes — office, constituency, postulant and list position — which
//! is also its registry id here (`diputacion_mr-01-PAN-0`): the registry gives each *person* an
//! id, and a substitution brings a new person into the same seat, so only the seat stays the
//! same from one export to the next. A seat imported before keeps the id it was imported with.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::parse::{Catalog, ImportError, Row, normalize};

/// Our field → the registry headers that carry it (compared as [`header_key`] does).
const ALIASES: &[(&str, &[&str])] = &[
    ("cargo", &["cargo", "cargo_de_eleccion", "cargo_eleccion"]),
    (
        "distrito",
        &[
            "distrito",
            "distrito_local",
            "distrito_electoral",
            "no_distrito",
            "numero_distrito",
        ],
    ),
    (
        "municipio",
        &["municipio", "ayuntamiento", "municipio_alcaldia"],
    ),
    ("lista", &["circunscripcion", "lista", "demarcacion"]),
    (
        "postulante",
        &[
            "partido_coalicion",
            "partido_o_coalicion",
            "partido_politico_coalicion",
            "partido_politico",
            "partido",
            "coalicion",
            "postulante",
            "siglas",
        ],
    ),
    (
        "posicion",
        &[
            "numero_lista",
            "no_lista",
            "posicion",
            "posicion_lista",
            "numero_formula",
            "no_formula",
            "prelacion",
        ],
    ),
    (
        "tipo",
        &[
            "tipo_candidato",
            "tipo_candidatura",
            "calidad",
            "caracter",
            "propietario_suplente",
            "tipo_integrante",
        ],
    ),
    ("nombres", &["nombre_s", "nombres", "nombre"]),
    ("primer_apellido", &["primer_apellido", "apellido_paterno"]),
    (
        "segundo_apellido",
        &["segundo_apellido", "apellido_materno"],
    ),
    (
        "nombre_completo",
        &["nombre_completo", "nombre_candidato", "nombre_candidata"],
    ),
    ("sexo", &["sexo", "genero"]),
    (
        "fecha_nacimiento",
        &["fecha_nacimiento", "fecha_de_nacimiento"],
    ),
    ("curp", &["curp"]),
    (
        "estatus",
        &[
            "estatus",
            "estatus_registro",
            "estatus_candidatura",
            "estatus_del_registro",
            "estado_registro",
            "situacion",
        ],
    ),
    (
        "fecha_aprobacion",
        &["fecha_aprobacion", "fecha_de_aprobacion"],
    ),
    (
        "accion_afirmativa",
        &[
            "accion_afirmativa",
            "tipo_accion_afirmativa",
            "grupo_accion_afirmativa",
        ],
    ),
    (
        "partido_responsable",
        &[
            "partido_responsable",
            "siglado",
            "partido_siglado",
            "partido_origen",
        ],
    ),
];

/// A header as the registry may spell it (`NOMBRE(S)`, `Partido/Coalición`, `No. Lista`) → a key
/// (`nombre_s`, `partido_coalicion`, `no_lista`).
pub fn header_key(header: &str) -> String {
    let folded = normalize(header);
    let mut key = String::with_capacity(folded.len());
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() {
            key.push(c);
        } else if !key.ends_with('_') {
            key.push('_');
        }
    }
    key.trim_matches('_').to_string()
}

/// Whether a file's header row is the registry's person-per-row layout: a column that says
/// whether the row is the holder or the alternate, names split or a CURP, and none of our own
/// formula columns.
pub fn is_registry_layout(headers: &[String]) -> bool {
    let keys: Vec<String> = headers.iter().map(|h| header_key(h)).collect();
    let has = |field: &str| find(&keys, field).is_some();
    !keys.iter().any(|k| k == "propietario_nombre")
        && has("tipo")
        && (has("primer_apellido") || has("curp"))
}

fn find(keys: &[String], field: &str) -> Option<usize> {
    let (_, aliases) = ALIASES.iter().find(|(f, _)| *f == field)?;
    aliases
        .iter()
        .find_map(|alias| keys.iter().position(|k| k == alias))
}

/// The file in our layout, and how to tell its errors in the registry's terms.
pub struct Translated {
    pub csv: Vec<u8>,
    /// Our data line (2, 3, …) → (holder's registry line, alternate's registry line).
    lines: Vec<(usize, Option<usize>)>,
    /// Our column → the registry header it came from.
    columns: HashMap<&'static str, String>,
}

impl Translated {
    /// No formula could be read.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// A formula read, with the line of its holder's row in the registry file.
    pub fn locate_row(&self, mut row: Row) -> Row {
        if let Some((holder, _)) = row.line.checked_sub(2).and_then(|i| self.lines.get(i)) {
            row.line = *holder;
        }
        row
    }

    /// An error found in our layout, told with the registry file's line and header.
    pub fn locate(&self, mut error: ImportError) -> ImportError {
        if let Some((holder, alternate)) = error.line.checked_sub(2).and_then(|i| self.lines.get(i))
        {
            error.line = if error.column.starts_with("suplente_") {
                alternate.unwrap_or(*holder)
            } else {
                *holder
            };
        }
        let field = match error.column.as_str() {
            c if c.ends_with("_nombre") => "nombre",
            c if c.ends_with("_sexo") => "sexo",
            c if c.ends_with("_fecha_nacimiento") => "fecha_nacimiento",
            "posicion_lista" => "posicion",
            "id_registro" | "circunscripcion" | "principio" => "sitio",
            other => other,
        };
        if let Some(header) = self.columns.get(field) {
            error.column = header.clone();
        }
        error
    }
}

/// One person's row, read.
struct Person {
    line: usize,
    name: String,
    sex: String,
    birth: String,
}

#[derive(Default)]
struct Formula {
    office: String,
    constituency: String,
    postulant: String,
    position: String,
    holder: Option<Person>,
    alternate: Option<Person>,
    cancelled: bool,
    approved_on: String,
    affirmative_action: String,
    responsible: String,
}

fn error(line: usize, column: &str, message: impl Into<String>) -> ImportError {
    ImportError {
        line,
        column: column.to_string(),
        message: message.into(),
    }
}

/// `DD/MM/AAAA` (or `D/M/AAAA`, or already `AAAA-MM-DD`) → `AAAA-MM-DD`; anything else is left
/// as it was for the checks to report.
fn iso_date(value: &str) -> String {
    let value = value.trim();
    let date_part = value.split_whitespace().next().unwrap_or("");
    for format in ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"] {
        if let Ok(date) = NaiveDate::parse_from_str(date_part, format) {
            return date.format("%Y-%m-%d").to_string();
        }
    }
    value.to_string()
}

/// The birth date and sex a CURP encodes: `AAAA000101HCLXXX0A` → 2000-01-01 (the 17th character,
/// a letter, marks births from 2000), `H`/`M`/`X`.
pub fn from_curp(curp: &str) -> Option<(NaiveDate, &'static str)> {
    let curp = curp.trim().to_uppercase();
    if curp.len() != 18 || !curp.is_ascii() {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| curp.get(range)?.parse::<u32>().ok();
    let (yy, mm, dd) = (digits(4..6)?, digits(6..8)?, digits(8..10)?);
    let century = if curp.as_bytes()[16].is_ascii_digit() {
        1900
    } else {
        2000
    };
    let date = NaiveDate::from_ymd_opt(century + yy as i32, mm, dd)?;
    let sex = match curp.as_bytes()[10] {
        b'H' => "hombre",
        b'M' => "mujer",
        b'X' => "no_binario",
        _ => return None,
    };
    Some((date, sex))
}

/// The registry's wording of an affirmative action → ours.
fn affirmative_action(value: &str) -> String {
    let key = header_key(value);
    let known = [
        ("indigena", "indigena"),
        ("afro", "afromexicana"),
        ("discapacidad", "discapacidad"),
        ("diversidad", "diversidad_sexual"),
        ("lgb", "diversidad_sexual"),
        ("migrante", "migrante"),
        ("joven", "joven"),
        ("juventud", "joven"),
        ("mayor", "persona_mayor"),
    ];
    if matches!(
        key.as_str(),
        "" | "ninguna" | "no_aplica" | "na" | "sin_accion_afirmativa"
    ) {
        return String::new();
    }
    known
        .iter()
        .find(|(needle, _)| key.contains(needle))
        .map(|(_, ours)| ours.to_string())
        .unwrap_or(key)
}

/// A value the registry names by code or by name (`PAN`, `Partido Acción Nacional`) → our code,
/// or the value itself for the checks to report.
fn resolve(value: &str, codes: impl Fn(&str) -> bool, names: &HashMap<String, String>) -> String {
    let value = value.trim();
    if codes(value) {
        return value.to_string();
    }
    if codes(&value.to_uppercase()) {
        return value.to_uppercase();
    }
    names
        .get(&header_key(value))
        .cloned()
        .unwrap_or_else(|| value.to_string())
}

/// A district or municipality as the registry writes it (`1`, `01`, `001 - Abasolo`, `Abasolo`)
/// → our code.
fn resolve_constituency(catalog: &Catalog, kind: &str, value: &str) -> String {
    let value = value.trim();
    let known = |code: &str| {
        catalog
            .constituencies
            .contains(&(kind.to_string(), code.to_string()))
    };
    let mut candidates = vec![value.to_string()];
    if let Some((code, _)) = value.split_once(" - ").or_else(|| value.split_once('-')) {
        candidates.push(code.trim().to_string());
    }
    for candidate in candidates.clone() {
        if let Ok(n) = candidate.parse::<u32>() {
            candidates.extend([n.to_string(), format!("{n:02}"), format!("{n:03}")]);
        }
    }
    if let Some(code) = candidates.iter().find(|c| known(c)) {
        return code.clone();
    }
    let name = value.split_once(" - ").map_or(value, |(_, name)| name);
    catalog
        .constituency_names
        .get(&(kind.to_string(), header_key(name)))
        .cloned()
        .unwrap_or_else(|| value.to_string())
}

/// Reads the registry's export into our layout, with the problems only this layout can have
/// (a person neither holder nor alternate, a formula without its holder…); a header that lacks
/// what we need is the only `Err`. Rows the registry marks substituted (the person who left; the
/// one who came has a row of their own) or not yet approved are skipped.
pub fn translate(
    bytes: &[u8],
    catalog: &Catalog,
) -> Result<(Translated, Vec<ImportError>), Vec<ImportError>> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|_| {
            vec![error(
                0,
                "",
                "No se pudo leer el encabezado del archivo CSV.",
            )]
        })?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let keys: Vec<String> = headers.iter().map(|h| header_key(h)).collect();
    let column = |field: &str| find(&keys, field);
    let mut missing = Vec::new();
    for (field, what) in [
        ("cargo", "cargo"),
        ("postulante", "partido o coalición"),
        ("tipo", "propietario o suplente"),
    ] {
        if column(field).is_none() {
            missing.push(what);
        }
    }
    if column("nombre_completo").is_none()
        && (column("nombres").is_none() || column("primer_apellido").is_none())
    {
        missing.push("nombre(s) y primer apellido");
    }
    if column("fecha_nacimiento").is_none() && column("curp").is_none() {
        missing.push("fecha de nacimiento o CURP");
    }
    if column("sexo").is_none() && column("curp").is_none() {
        missing.push("sexo o CURP");
    }
    if !missing.is_empty() {
        return Err(vec![error(
            1,
            "",
            format!(
                "El archivo parece una exportación del registro nacional, pero le faltan columnas: {}.",
                missing.join(", ")
            ),
        )]);
    }
    let header_of = |field: &str| column(field).map(|i| headers[i].clone());
    let mut columns: HashMap<&'static str, String> = HashMap::new();
    for field in [
        "cargo",
        "postulante",
        "posicion",
        "tipo",
        "sexo",
        "fecha_nacimiento",
        "estatus",
        "fecha_aprobacion",
        "accion_afirmativa",
        "partido_responsable",
    ] {
        if let Some(header) = header_of(field) {
            columns.insert(field, header);
        }
    }
    if let Some(header) = header_of("nombre_completo").or_else(|| header_of("nombres")) {
        columns.insert("nombre", header);
    }
    if !columns.contains_key("fecha_nacimiento")
        && let Some(header) = header_of("curp")
    {
        columns.insert("fecha_nacimiento", header.clone());
        columns.insert("sexo", header);
    }
    if let Some(header) = header_of("distrito")
        .or_else(|| header_of("municipio"))
        .or_else(|| header_of("lista"))
    {
        columns.insert("sitio", header);
    }

    let mut errors = Vec::new();
    let mut formulas: Vec<Formula> = Vec::new();
    let mut by_seat: HashMap<(String, String, String, String), usize> = HashMap::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        if i >= super::MAX_ROWS * 2 {
            errors.push(error(line, "", "El archivo tiene demasiadas filas."));
            break;
        }
        let Ok(record) = record else {
            errors.push(error(
                line,
                "",
                "La fila no se pudo leer (revise comillas y separadores).",
            ));
            continue;
        };
        let get = |field: &str| {
            column(field)
                .and_then(|i| record.get(i))
                .unwrap_or("")
                .trim()
                .to_string()
        };
        let status = header_key(&get("estatus"));
        let cancelled = match status.as_str() {
            "" | "aprobada" | "aprobado" | "registrada" | "registrado" | "vigente" | "activo"
            | "activa" => false,
            "cancelada" | "cancelado" => true,
            s if s.starts_with("sustitu")
                || s.starts_with("por_")
                || s.starts_with("en_")
                || s.starts_with("rechaz")
                || s.starts_with("negad")
                || s.starts_with("improcedente") =>
            {
                continue;
            }
            _ => {
                errors.push(error(
                    line,
                    columns.get("estatus").map_or("", String::as_str),
                    format!("Estatus «{}» desconocido: se leen «Aprobado», «Cancelado» y «Sustituido» (este último se omite).", get("estatus")),
                ));
                continue;
            }
        };
        let office = resolve(
            &get("cargo"),
            |c| catalog.offices.contains_key(c),
            &catalog.office_names,
        );
        let office = if catalog.offices.contains_key(&office.to_lowercase()) {
            office.to_lowercase()
        } else {
            office
        };
        let kind = catalog
            .offices
            .get(&office)
            .map(|(_, kind)| kind.as_str())
            .unwrap_or("district");
        let raw_constituency = match kind {
            "municipality" => get("municipio"),
            "list" => get("lista"),
            _ => get("distrito"),
        };
        let constituency = if raw_constituency.is_empty() && kind == "list" {
            // A state-wide list: the election's only list, when it has one.
            let lists: Vec<&String> = catalog
                .constituencies
                .iter()
                .filter(|(k, _)| k == "list")
                .map(|(_, c)| c)
                .collect();
            match lists.as_slice() {
                [only] => (*only).clone(),
                _ => String::new(),
            }
        } else {
            resolve_constituency(catalog, kind, &raw_constituency)
        };
        let postulant = resolve(
            &get("postulante"),
            |c| catalog.postulants.contains_key(c),
            &catalog.postulant_names,
        );
        let position = match get("posicion").as_str() {
            p if catalog
                .offices
                .get(&office)
                .is_some_and(|(principle, _)| principle == "rp") =>
            {
                p.to_string()
            }
            _ => String::new(),
        };
        let name = match get("nombre_completo") {
            full if !full.is_empty() => full,
            _ => [
                get("nombres"),
                get("primer_apellido"),
                get("segundo_apellido"),
            ]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
        };
        let curp = from_curp(&get("curp"));
        let birth = match get("fecha_nacimiento") {
            b if !b.is_empty() => iso_date(&b),
            _ => curp.map(|(date, _)| date.to_string()).unwrap_or_default(),
        };
        let sex = match get("sexo") {
            s if !s.is_empty() => s,
            _ => curp.map(|(_, sex)| sex.to_string()).unwrap_or_default(),
        };
        let person = Person {
            line,
            name,
            sex,
            birth,
        };
        let holder = match header_key(&get("tipo")).as_str() {
            "propietario" | "propietaria" | "titular" | "p" => true,
            "suplente" | "s" => false,
            _ => {
                errors.push(error(
                    line,
                    &header_of("tipo").unwrap_or_default(),
                    "Indique si la persona es «Propietario» o «Suplente».",
                ));
                continue;
            }
        };
        let seat = (
            office.clone(),
            constituency.clone(),
            postulant.clone(),
            position.clone(),
        );
        let index = *by_seat.entry(seat).or_insert_with(|| {
            formulas.push(Formula {
                office: office.clone(),
                constituency: constituency.clone(),
                postulant: postulant.clone(),
                position: position.clone(),
                ..Default::default()
            });
            formulas.len() - 1
        });
        let formula = &mut formulas[index];
        let slot = if holder {
            &mut formula.holder
        } else {
            &mut formula.alternate
        };
        if let Some(first) = slot {
            errors.push(error(
                line,
                &header_of("tipo").unwrap_or_default(),
                format!(
                    "Esta fórmula ya tiene {} en la línea {}.",
                    if holder { "propietario(a)" } else { "suplente" },
                    first.line
                ),
            ));
            continue;
        }
        *slot = Some(person);
        if holder {
            formula.cancelled = cancelled;
            formula.approved_on = iso_date(&get("fecha_aprobacion"));
            formula.affirmative_action = affirmative_action(&get("accion_afirmativa"));
            formula.responsible = get("partido_responsable");
        } else if formula.approved_on.is_empty() {
            formula.approved_on = iso_date(&get("fecha_aprobacion"));
        }
    }

    let mut writer = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = super::parse::COLUMNS
        .iter()
        .chain(super::parse::OPTIONAL_COLUMNS.iter())
        .copied()
        .collect();
    let write_error = |_| vec![error(0, "", "No se pudo leer el archivo.")];
    writer.write_record(&header).map_err(write_error)?;
    let mut lines = Vec::new();
    for formula in &formulas {
        let Some(holder) = &formula.holder else {
            let alternate = formula.alternate.as_ref().map_or(0, |a| a.line);
            errors.push(error(
                alternate,
                columns.get("tipo").map_or("", String::as_str),
                "La fórmula de esta persona suplente no tiene propietario(a) aprobado en el archivo.",
            ));
            continue;
        };
        let principle = catalog
            .offices
            .get(&formula.office)
            .map(|(p, _)| p.as_str())
            .unwrap_or("");
        let position = if formula.position.is_empty() {
            "0".to_string()
        } else {
            formula.position.clone()
        };
        // A seat imported before (from our layout or this one) keeps its registry id.
        let seat = (
            formula.office.clone(),
            formula.constituency.clone(),
            formula.postulant.clone(),
            position.parse::<i32>().unwrap_or(0),
        );
        let id = catalog.occupied.get(&seat).cloned().unwrap_or_else(|| {
            format!(
                "{}-{}-{}-{}",
                formula.office, formula.constituency, formula.postulant, position
            )
        });
        let (alt_name, alt_sex, alt_birth) = formula.alternate.as_ref().map_or(("", "", ""), |a| {
            (a.name.as_str(), a.sex.as_str(), a.birth.as_str())
        });
        let record = [
            id.as_str(),
            formula.office.as_str(),
            principle,
            formula.constituency.as_str(),
            formula.postulant.as_str(),
            formula.position.as_str(),
            holder.name.as_str(),
            holder.sex.as_str(),
            holder.birth.as_str(),
            alt_name,
            alt_sex,
            alt_birth,
            formula.affirmative_action.as_str(),
            formula.approved_on.as_str(),
            if formula.cancelled {
                "cancelada"
            } else {
                "aprobada"
            },
            formula.responsible.as_str(),
        ];
        writer.write_record(record).map_err(write_error)?;
        lines.push((holder.line, formula.alternate.as_ref().map(|a| a.line)));
    }
    let csv = writer
        .into_inner()
        .map_err(|_| vec![error(0, "", "No se pudo leer el archivo.")])?;
    Ok((
        Translated {
            csv,
            lines,
            columns,
        },
        errors,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_headers_fold_to_keys() {
        assert_eq!(header_key("NOMBRE(S)"), "nombre_s");
        assert_eq!(header_key(" Partido/Coalición "), "partido_coalicion");
        assert_eq!(header_key("No. Lista"), "no_lista");
        assert_eq!(header_key("Fecha de Aprobación"), "fecha_de_aprobacion");
    }

    #[test]
    fn a_curp_gives_birth_date_and_sex() {
        assert_eq!(
            from_curp("GODE561231MCLNMR09"),
            Some((NaiveDate::from_ymd_opt(1956, 12, 31).unwrap(), "mujer"))
        );
        assert_eq!(
            from_curp("pere010203hclrrna1"),
            Some((NaiveDate::from_ymd_opt(2001, 2, 3).unwrap(), "hombre"))
        );
        assert_eq!(from_curp("GODE561331MCLNMR09"), None, "13th month");
        assert_eq!(from_curp("corto"), None);
    }

    #[test]
    fn registry_dates_and_affirmative_actions_read_as_ours() {
        assert_eq!(iso_date("05/03/1980"), "1980-03-05");
        assert_eq!(iso_date("5/3/1980 00:00:00"), "1980-03-05");
        assert_eq!(iso_date("1980-03-05"), "1980-03-05");
        assert_eq!(iso_date("marzo"), "marzo");
        assert_eq!(
            affirmative_action("Persona con discapacidad"),
            "discapacidad"
        );
        assert_eq!(affirmative_action("LGBTTTIQ+"), "diversidad_sexual");
        assert_eq!(affirmative_action("Persona Indígena"), "indigena");
        assert_eq!(affirmative_action("No aplica"), "");
    }

    #[test]
    fn the_layout_is_told_by_its_columns() {
        let ours: Vec<String> = super::super::parse::COLUMNS
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert!(!is_registry_layout(&ours));
        let registry: Vec<String> = [
            "CARGO",
            "DISTRITO",
            "PARTIDO/COALICIÓN",
            "TIPO CANDIDATO",
            "NOMBRE(S)",
            "PRIMER APELLIDO",
            "CURP",
        ]
        .iter()
        .map(|c| c.to_string())
        .collect();
        assert!(is_registry_layout(&registry));
    }
}
