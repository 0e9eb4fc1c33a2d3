//! Elections and their catalogs (offices, districts, municipalities, RP lists, postulants).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use crate::import::parse_normalize as normalize;
use crate::import::{Catalog, ImportError};

pub struct NewElection<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub state_code: &'a str,
    pub time_zone: &'a str,
    pub capture_opens_at: DateTime<Utc>,
    pub capture_closes_at: DateTime<Utc>,
    pub publication_starts_at: DateTime<Utc>,
    pub election_day: NaiveDate,
}

/// Creates the election unless it exists; true if created.
pub async fn create(conn: &mut PgConnection, e: &NewElection<'_>) -> sqlx::Result<bool> {
    let created = sqlx::query(
        "INSERT INTO elections (id, name, state_code, time_zone, capture_opens_at, capture_closes_at, \
         publication_starts_at, election_day) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
    )
    .bind(e.id)
    .bind(e.name)
    .bind(e.state_code)
    .bind(e.time_zone)
    .bind(e.capture_opens_at)
    .bind(e.capture_closes_at)
    .bind(e.publication_starts_at)
    .bind(e.election_day)
    .execute(&mut *conn)
    .await?;
    if created.rows_affected() == 1 {
        // The other services learn of the election (dates, time zone) from this event.
        conoceles_kit::amqp::enqueue_event(
            conn,
            conoceles_proto::routing_keys::ELECTION_UPDATED,
            &election_event(&Settings {
                id: e.id,
                name: e.name.to_string(),
                state_code: e.state_code.to_string(),
                time_zone: e.time_zone.to_string(),
                capture_opens_at: e.capture_opens_at,
                capture_closes_at: e.capture_closes_at,
                publication_starts_at: e.publication_starts_at,
                election_day: e.election_day,
                photo_max_bytes: 700 * 1024,
                text_min_chars: 280,
                text_max_chars: 5000,
                proposal_min_chars: 280,
                proposal_max_chars: 1600,
                retention_days: 90,
                alternate_questionnaire: false,
                deadlines: Default::default(),
                campaign_ends_on: None,
                holidays: Vec::new(),
                corrections_email: String::new(),
                identity_protection: Default::default(),
            }),
        )
        .await?;
    }
    Ok(created.rows_affected() == 1)
}

/// Sets where citizens report errors, unless the unit already set an address.
pub async fn set_corrections_email_if_unset(
    conn: &mut PgConnection,
    id: Uuid,
    email: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE elections SET corrections_email = $2 WHERE id = $1 AND corrections_email = ''",
    )
    .bind(id)
    .bind(email)
    .execute(conn)
    .await?;
    Ok(())
}

/// Announces the election's current settings again (`election.updated`): consumers upsert, so
/// a service that started after the election was created catches up.
pub async fn announce(pool: &PgPool, id: Uuid) -> anyhow::Result<()> {
    let current = settings(pool, id).await?;
    let mut tx = pool.begin().await?;
    conoceles_kit::amqp::enqueue_event(
        &mut tx,
        conoceles_proto::routing_keys::ELECTION_UPDATED,
        &election_event(&current),
    )
    .await?;
    crate::places::announce(&mut tx, id).await?;
    crate::site_identity::announce(&mut tx, id).await?;
    tx.commit().await?;
    Ok(())
}

/// `election.updated` for these settings.
fn election_event(s: &Settings) -> conoceles_proto::events::v1::ElectionUpdated {
    use conoceles_proto::common::v1 as common;
    let ts = conoceles_kit::proto_time::to_proto;
    let day = s
        .election_day
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc())
        .unwrap_or_default();
    conoceles_proto::events::v1::ElectionUpdated {
        election_id: Some(common::ElectionId::from(s.id)),
        name: s.name.clone(),
        state_code: s.state_code.clone(),
        capture_opens_at: Some(ts(s.capture_opens_at)),
        capture_closes_at: Some(ts(s.capture_closes_at)),
        publication_starts_at: Some(ts(s.publication_starts_at)),
        election_day: Some(ts(day)),
        time_zone: s.time_zone.clone(),
        occurred_at: Some(ts(Utc::now())),
        retention_days: s.retention_days.max(0) as u32,
        corrections_email: s.corrections_email.clone(),
        identity_protection: Some(s.identity_protection.to_proto()),
    }
}

pub async fn add_office(
    conn: &mut PgConnection,
    election_id: Uuid,
    code: &str,
    name: &str,
    principle: &str,
    kind: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO offices (election_id, code, name, principle, constituency_kind) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT DO NOTHING",
    )
    .bind(election_id)
    .bind(code)
    .bind(name)
    .bind(principle)
    .bind(kind)
    .execute(conn)
    .await?;
    Ok(())
}

fn csv_error(line: usize, message: impl Into<String>) -> ImportError {
    ImportError {
        line,
        column: String::new(),
        message: message.into(),
    }
}

/// Loads `clave,nombre` rows (districts, municipalities or lists) of one kind.
pub async fn load_constituencies(
    conn: &mut PgConnection,
    election_id: Uuid,
    kind: &str,
    csv: &str,
) -> Result<usize, Vec<ImportError>> {
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, record) in reader.records().enumerate() {
        match record {
            Ok(r) if r.len() >= 2 && !r[0].trim().is_empty() && !r[1].trim().is_empty() => {
                rows.push((r[0].trim().to_string(), r[1].trim().to_string()))
            }
            _ => errors.push(csv_error(i + 2, "Se esperan dos columnas: clave y nombre.")),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    for (code, name) in &rows {
        sqlx::query(
            "INSERT INTO constituencies (election_id, kind, code, name) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (election_id, kind, code) DO UPDATE SET name = EXCLUDED.name",
        )
        .bind(election_id)
        .bind(kind)
        .bind(code)
        .bind(name)
        .execute(&mut *conn)
        .await
        .map_err(|e| vec![csv_error(0, format!("database: {e}"))])?;
    }
    Ok(rows.len())
}

/// Loads `clave,nombre,tipo,responsable,integrantes` rows of postulants.
pub async fn load_postulants(
    conn: &mut PgConnection,
    election_id: Uuid,
    csv: &str,
) -> Result<usize, Vec<ImportError>> {
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let Ok(r) = record else {
            errors.push(csv_error(line, "La fila no se pudo leer."));
            continue;
        };
        let get = |n: usize| r.get(n).unwrap_or("").trim().to_string();
        let kind = match normalize(&get(2)).as_str() {
            "partido" => "party",
            "coalicion" => "coalition",
            "candidatura_comun" => "common",
            "independiente" => "independent",
            _ => {
                errors.push(csv_error(
                    line,
                    "El tipo debe ser partido, coalición, candidatura común o independiente.",
                ));
                continue;
            }
        };
        let responsible = get(3).to_uppercase();
        if matches!(kind, "coalition" | "common") && responsible.is_empty() {
            errors.push(csv_error(
                line,
                "Una coalición o candidatura común necesita el partido responsable de la captura.",
            ));
            continue;
        }
        let members: Vec<String> = get(4)
            .split('+')
            .map(|m| m.trim().to_uppercase())
            .filter(|m| !m.is_empty())
            .collect();
        rows.push((get(0).to_uppercase(), get(1), kind, responsible, members));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    for (code, name, kind, responsible, members) in &rows {
        sqlx::query(
            "INSERT INTO postulants (id, election_id, code, name, kind, responsible_code, members) \
             VALUES ($1, $2, $3, $4, $5, NULLIF($6, ''), $7) ON CONFLICT (election_id, code) DO UPDATE \
             SET name = EXCLUDED.name, responsible_code = EXCLUDED.responsible_code, members = EXCLUDED.members",
        )
        .bind(Uuid::now_v7())
        .bind(election_id)
        .bind(code)
        .bind(name)
        .bind(kind)
        .bind(responsible)
        .bind(members)
        .execute(&mut *conn)
        .await
        .map_err(|e| vec![csv_error(0, format!("database: {e}"))])?;
    }
    Ok(rows.len())
}

/// Loads `clave,nombre,principio,circunscripcion` rows of offices (principio: mr or rp;
/// circunscripcion: distrito, municipio or lista). A known office keeps its principle and kind;
/// only its name changes.
pub async fn load_offices(
    conn: &mut PgConnection,
    election_id: Uuid,
    csv: &str,
) -> Result<usize, Vec<ImportError>> {
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let Ok(r) = record else {
            errors.push(csv_error(line, "La fila no se pudo leer."));
            continue;
        };
        let get = |n: usize| r.get(n).unwrap_or("").trim().to_string();
        let (code, name) = (normalize(&get(0)), get(1));
        let principle = normalize(&get(2));
        let kind = match normalize(&get(3)).as_str() {
            "distrito" => "district",
            "municipio" => "municipality",
            "lista" => "list",
            _ => "",
        };
        // The optional fifth column: the office's place in an ayuntamiento's slate.
        let slate_role = match normalize(&get(4)).as_str() {
            "" => None,
            "presidencia" | "presidencia_municipal" => Some("presidencia"),
            "sindicatura" => Some("sindicatura"),
            "regiduria" => Some("regiduria"),
            _ => {
                errors.push(csv_error(
                    line,
                    "La columna planilla debe ser presidencia, sindicatura, regiduría o quedar vacía.",
                ));
                continue;
            }
        };
        if code.is_empty() || name.is_empty() {
            errors.push(csv_error(line, "Escriba la clave y el nombre del cargo."));
        } else if !matches!(principle.as_str(), "mr" | "rp") {
            errors.push(csv_error(line, "El principio debe ser mr o rp."));
        } else if kind.is_empty() {
            errors.push(csv_error(
                line,
                "La circunscripción debe ser distrito, municipio o lista.",
            ));
        } else if slate_role.is_some() && kind != "municipality" {
            errors.push(csv_error(
                line,
                "Los cargos de una planilla de ayuntamiento se eligen por municipio.",
            ));
        } else if matches!(slate_role, Some("presidencia" | "sindicatura")) && principle != "mr" {
            errors.push(csv_error(
                line,
                "La presidencia y las sindicaturas son de mayoría relativa (mr).",
            ));
        } else {
            rows.push((code, name, principle, kind, slate_role));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    for (code, name, principle, kind, slate_role) in &rows {
        sqlx::query(
            "INSERT INTO offices (election_id, code, name, principle, constituency_kind, slate_role) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (election_id, code) DO UPDATE SET name = EXCLUDED.name, slate_role = EXCLUDED.slate_role",
        )
        .bind(election_id)
        .bind(code)
        .bind(name)
        .bind(principle)
        .bind(kind)
        .bind(slate_role)
        .execute(&mut *conn)
        .await
        .map_err(|e| vec![csv_error(0, format!("database: {e}"))])?;
    }
    Ok(rows.len())
}

/// Loads `municipio,sindicaturas,regidurias_mr,regidurias_rp`: how each municipality's
/// ayuntamiento is made up. The municipality must be in the catalog.
pub async fn load_compositions(
    conn: &mut PgConnection,
    election_id: Uuid,
    csv: &str,
) -> Result<usize, Vec<ImportError>> {
    let known: HashSet<String> = sqlx::query_scalar(
        "SELECT code FROM constituencies WHERE election_id = $1 AND kind = 'municipality'",
    )
    .bind(election_id)
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| vec![csv_error(0, format!("database: {e}"))])?
    .into_iter()
    .collect();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let Ok(r) = record else {
            errors.push(csv_error(line, "La fila no se pudo leer."));
            continue;
        };
        let get = |n: usize| r.get(n).unwrap_or("").trim().to_string();
        let municipality = get(0);
        let count =
            |n: usize, max: i32| get(n).parse::<i32>().ok().filter(|c| (0..=max).contains(c));
        if !known.contains(&municipality) {
            errors.push(csv_error(
                line,
                format!("El municipio «{municipality}» no está en el catálogo de municipios."),
            ));
        } else if !seen.insert(municipality.clone()) {
            errors.push(csv_error(line, "El municipio se repite en el archivo."));
        } else {
            match (count(1, 10), count(2, 60), count(3, 60)) {
                (Some(s), Some(mr), Some(rp)) => rows.push((municipality, s, mr, rp)),
                _ => errors.push(csv_error(
                    line,
                    "Sindicaturas (0 a 10) y regidurías de mayoría relativa y de representación proporcional (0 a 60) deben ser números.",
                )),
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    for (municipality, syndics, mr, rp) in &rows {
        sqlx::query(
            "INSERT INTO municipal_compositions (election_id, municipality_code, syndics, councillors_mr, councillors_rp) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (election_id, municipality_code) DO UPDATE SET \
             syndics = EXCLUDED.syndics, councillors_mr = EXCLUDED.councillors_mr, councillors_rp = EXCLUDED.councillors_rp",
        )
        .bind(election_id)
        .bind(municipality)
        .bind(syndics)
        .bind(mr)
        .bind(rp)
        .execute(&mut *conn)
        .await
        .map_err(|e| vec![csv_error(0, format!("database: {e}"))])?;
    }
    Ok(rows.len())
}

/// The catalogs the back office loads from CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogKind {
    Offices,
    Districts,
    Municipalities,
    Lists,
    Postulants,
    Compositions,
    Sections,
}

impl CatalogKind {
    pub const ALL: [CatalogKind; 7] = [
        CatalogKind::Offices,
        CatalogKind::Districts,
        CatalogKind::Municipalities,
        CatalogKind::Lists,
        CatalogKind::Postulants,
        CatalogKind::Compositions,
        CatalogKind::Sections,
    ];

    /// The form value and file name (Spanish, as people see it).
    pub fn slug(self) -> &'static str {
        match self {
            CatalogKind::Offices => "cargos",
            CatalogKind::Districts => "distritos",
            CatalogKind::Municipalities => "municipios",
            CatalogKind::Lists => "listas",
            CatalogKind::Postulants => "partidos",
            CatalogKind::Compositions => "ayuntamientos",
            CatalogKind::Sections => "secciones",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.slug() == slug)
    }

    pub fn title(self) -> &'static str {
        match self {
            CatalogKind::Offices => "Cargos",
            CatalogKind::Districts => "Distritos",
            CatalogKind::Municipalities => "Municipios",
            CatalogKind::Lists => "Listas de representación proporcional",
            CatalogKind::Postulants => {
                "Partidos, coaliciones, candidaturas comunes e independientes"
            }
            CatalogKind::Compositions => "Integración de los ayuntamientos",
            CatalogKind::Sections => "Secciones electorales",
        }
    }

    pub fn columns(self) -> &'static str {
        match self {
            CatalogKind::Offices => "clave,nombre,principio,circunscripcion,planilla",
            CatalogKind::Districts | CatalogKind::Municipalities | CatalogKind::Lists => {
                "clave,nombre"
            }
            CatalogKind::Postulants => "clave,nombre,tipo,responsable,integrantes",
            CatalogKind::Compositions => "municipio,sindicaturas,regidurias_mr,regidurias_rp",
            CatalogKind::Sections => "seccion,municipio,distrito",
        }
    }
}

/// Loads one catalog file: every row checked, all problems reported, nothing stored unless the
/// whole file is good. Known codes are updated, new ones added.
pub async fn load_catalog(
    pool: &PgPool,
    election_id: Uuid,
    kind: CatalogKind,
    bytes: &[u8],
) -> anyhow::Result<Result<usize, Vec<ImportError>>> {
    let Ok(text) = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)) else {
        return Ok(Err(vec![csv_error(0, "El archivo debe estar en UTF-8.")]));
    };
    let mut tx = pool.begin().await?;
    let loaded = match kind {
        CatalogKind::Offices => load_offices(&mut tx, election_id, text).await,
        CatalogKind::Districts => load_constituencies(&mut tx, election_id, "district", text).await,
        CatalogKind::Municipalities => {
            load_constituencies(&mut tx, election_id, "municipality", text).await
        }
        CatalogKind::Lists => load_constituencies(&mut tx, election_id, "list", text).await,
        CatalogKind::Postulants => load_postulants(&mut tx, election_id, text).await,
        CatalogKind::Compositions => load_compositions(&mut tx, election_id, text).await,
        CatalogKind::Sections => crate::places::load_sections(&mut tx, election_id, text).await,
    };
    if loaded.is_ok() {
        // The public site's «¿Dónde voto?» follows the offices, constituencies and secciones.
        if !matches!(kind, CatalogKind::Postulants | CatalogKind::Compositions) {
            crate::places::announce(&mut tx, election_id).await?;
        }
        tx.commit().await?;
    }
    Ok(loaded)
}

/// How many entries each catalog of the election has.
pub async fn catalog_counts(
    pool: &PgPool,
    election_id: Uuid,
) -> sqlx::Result<Vec<(CatalogKind, i64)>> {
    let row = sqlx::query(
        "SELECT (SELECT count(*) FROM offices WHERE election_id = $1) AS offices, \
                (SELECT count(*) FROM constituencies WHERE election_id = $1 AND kind = 'district') AS districts, \
                (SELECT count(*) FROM constituencies WHERE election_id = $1 AND kind = 'municipality') AS municipalities, \
                (SELECT count(*) FROM constituencies WHERE election_id = $1 AND kind = 'list') AS lists, \
                (SELECT count(*) FROM postulants WHERE election_id = $1) AS postulants, \
                (SELECT count(*) FROM municipal_compositions WHERE election_id = $1) AS compositions, \
                (SELECT count(*) FROM sections WHERE election_id = $1) AS sections",
    )
    .bind(election_id)
    .fetch_one(pool)
    .await?;
    Ok(vec![
        (CatalogKind::Offices, row.get("offices")),
        (CatalogKind::Districts, row.get("districts")),
        (CatalogKind::Municipalities, row.get("municipalities")),
        (CatalogKind::Lists, row.get("lists")),
        (CatalogKind::Postulants, row.get("postulants")),
        (CatalogKind::Compositions, row.get("compositions")),
        (CatalogKind::Sections, row.get("sections")),
    ])
}

/// The states of Mexico with their INEGI codes.
pub fn states() -> Vec<(&'static str, &'static str)> {
    include_str!("../../../../catalogs/estados.csv")
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut parts = l.split(',');
            Some((parts.next()?, parts.next()?))
        })
        .collect()
}

/// The IANA time zones of Mexico, for the election's dates.
pub const TIME_ZONES: &[&str] = &[
    "America/Mexico_City",
    "America/Monterrey",
    "America/Matamoros",
    "America/Merida",
    "America/Cancun",
    "America/Chihuahua",
    "America/Ciudad_Juarez",
    "America/Ojinaga",
    "America/Mazatlan",
    "America/Bahia_Banderas",
    "America/Hermosillo",
    "America/Tijuana",
];

/// What an import is checked against.
pub async fn catalog(pool: &PgPool, election_id: Uuid) -> sqlx::Result<Catalog> {
    let election_day: NaiveDate =
        sqlx::query_scalar("SELECT election_day FROM elections WHERE id = $1")
            .bind(election_id)
            .fetch_one(pool)
            .await?;
    let office_rows = sqlx::query(
        "SELECT code, name, principle, constituency_kind, slate_role FROM offices WHERE election_id = $1",
    )
    .bind(election_id)
    .fetch_all(pool)
    .await?;
    let offices: HashMap<String, (String, String)> = office_rows
        .iter()
        .map(|r| {
            (
                r.get("code"),
                (r.get("principle"), r.get("constituency_kind")),
            )
        })
        .collect();
    let slate_roles = office_rows
        .iter()
        .filter_map(|r| Some((r.get("code"), r.get::<Option<String>, _>("slate_role")?)))
        .collect();
    let compositions = sqlx::query(
        "SELECT municipality_code, syndics, councillors_mr, councillors_rp FROM municipal_compositions WHERE election_id = $1",
    )
    .bind(election_id)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| {
        (
            r.get("municipality_code"),
            crate::import::Composition {
                syndics: r.get("syndics"),
                councillors_mr: r.get("councillors_mr"),
                councillors_rp: r.get("councillors_rp"),
            },
        )
    })
    .collect();
    let office_names = office_rows
        .iter()
        .map(|r| (crate::import::header_key(r.get("name")), r.get("code")))
        .collect();
    let constituency_rows =
        sqlx::query("SELECT kind, code, name FROM constituencies WHERE election_id = $1")
            .bind(election_id)
            .fetch_all(pool)
            .await?;
    let constituencies: HashSet<(String, String)> = constituency_rows
        .iter()
        .map(|r| (r.get("kind"), r.get("code")))
        .collect();
    let constituency_names = constituency_rows
        .iter()
        .map(|r| {
            (
                (r.get("kind"), crate::import::header_key(r.get("name"))),
                r.get("code"),
            )
        })
        .collect();
    let rows = sqlx::query(
        "SELECT id, code, name, responsible_code, members FROM postulants WHERE election_id = $1",
    )
    .bind(election_id)
    .fetch_all(pool)
    .await?;
    let ids: HashMap<String, Uuid> = rows.iter().map(|r| (r.get("code"), r.get("id"))).collect();
    let members = rows
        .iter()
        .map(|r| (r.get("code"), r.get::<Vec<String>, _>("members")))
        .collect();
    let postulant_names = rows
        .iter()
        .map(|r| (crate::import::header_key(r.get("name")), r.get("code")))
        .collect();
    // Coalitions and common candidacies are captured by their responsible party.
    let postulants = rows
        .iter()
        .map(|r| {
            let code: String = r.get("code");
            let responsible: Option<String> = r.get("responsible_code");
            let id = responsible
                .and_then(|c| ids.get(&c).copied())
                .unwrap_or_else(|| r.get("id"));
            (code, id)
        })
        .collect();
    let occupied = sqlx::query(
        "SELECT office_code, constituency_code, postulant_code, list_position, external_id \
         FROM candidacies WHERE election_id = $1 AND status <> 'withdrawn'",
    )
    .bind(election_id)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| {
        (
            (
                r.get("office_code"),
                r.get("constituency_code"),
                r.get("postulant_code"),
                r.get("list_position"),
            ),
            r.get("external_id"),
        )
    })
    .collect();
    let persons = sqlx::query(
        "SELECT p.full_name, p.birth_date, c.external_id FROM persons p JOIN candidacies c ON c.id = p.candidacy_id \
         WHERE c.election_id = $1 AND c.status <> 'withdrawn' AND p.active",
    )
    .bind(election_id)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| {
        (
            crate::import::person_identity(r.get("full_name"), r.get("birth_date")),
            r.get("external_id"),
        )
    })
    .collect();
    let replaced = sqlx::query(
        "SELECT c.external_id, p.full_name, p.birth_date, (p.replaced_at AT TIME ZONE e.time_zone)::date AS day \
         FROM persons p JOIN candidacies c ON c.id = p.candidacy_id JOIN elections e ON e.id = c.election_id \
         WHERE c.election_id = $1 AND NOT p.active AND p.replaced_by IS NOT NULL",
    )
    .bind(election_id)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| {
        (
            (
                r.get("external_id"),
                crate::import::person_identity(r.get("full_name"), r.get("birth_date")),
            ),
            r.get("day"),
        )
    })
    .collect();
    let time_zone: String = sqlx::query_scalar("SELECT time_zone FROM elections WHERE id = $1")
        .bind(election_id)
        .fetch_one(pool)
        .await?;
    Ok(Catalog {
        election_day,
        time_zone,
        offices,
        constituencies,
        postulants,
        party_ids: ids,
        members,
        occupied,
        persons,
        replaced,
        office_names,
        constituency_names,
        postulant_names,
        slate_roles,
        compositions,
    })
}

/// The election the back office works on (the most recently created one).
pub struct Current {
    pub id: Uuid,
    pub name: String,
}

pub async fn current(pool: &PgPool) -> sqlx::Result<Option<Current>> {
    Ok(
        sqlx::query("SELECT id, name FROM elections ORDER BY created_at DESC LIMIT 1")
            .fetch_optional(pool)
            .await?
            .map(|r| Current {
                id: r.get("id"),
                name: r.get("name"),
            }),
    )
}

/// (code, name) of the offices and of the postulants, for filters.
pub async fn choices(
    pool: &PgPool,
    election_id: Uuid,
) -> sqlx::Result<(Vec<(String, String)>, Vec<(String, String)>)> {
    let offices =
        sqlx::query_as("SELECT code, name FROM offices WHERE election_id = $1 ORDER BY code")
            .bind(election_id)
            .fetch_all(pool)
            .await?;
    let postulants =
        sqlx::query_as("SELECT code, name FROM postulants WHERE election_id = $1 ORDER BY code")
            .bind(election_id)
            .fetch_all(pool)
            .await?;
    Ok((offices, postulants))
}

/// (code, name) of the constituencies (a code shared by two kinds: the first kind's name).
pub async fn constituency_names(
    pool: &PgPool,
    election_id: Uuid,
) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query_as(
        "SELECT DISTINCT ON (code) code, name FROM constituencies WHERE election_id = $1 ORDER BY code, kind",
    )
    .bind(election_id)
    .fetch_all(pool)
    .await
}

/// Every setting of an election the back office edits.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Settings {
    pub id: Uuid,
    pub name: String,
    pub state_code: String,
    pub time_zone: String,
    pub capture_opens_at: DateTime<Utc>,
    pub capture_closes_at: DateTime<Utc>,
    pub publication_starts_at: DateTime<Utc>,
    pub election_day: NaiveDate,
    pub photo_max_bytes: i32,
    pub text_min_chars: i32,
    pub text_max_chars: i32,
    pub proposal_min_chars: i32,
    pub proposal_max_chars: i32,
    pub retention_days: i32,
    pub alternate_questionnaire: bool,
    /// How each candidacy gets its capture deadline.
    #[serde(default)]
    pub deadlines: crate::deadlines::DeadlineRule,
    /// The last day of the campaigns, from which the unit gives notice to the General Council of
    /// the candidacies without complete information.
    #[serde(default)]
    pub campaign_ends_on: Option<NaiveDate>,
    /// The electoral body's non-working days (besides weekends), for deadlines counted in
    /// business days.
    #[serde(default)]
    pub holidays: Vec<NaiveDate>,
    /// Where citizens report an error in the published information (empty: not set).
    #[serde(default)]
    pub corrections_email: String,
    /// How the identity questionnaire's statistics are protected.
    #[serde(default)]
    pub identity_protection: crate::identity_protection::IdentityProtection,
}

pub async fn settings(pool: &PgPool, id: Uuid) -> sqlx::Result<Settings> {
    let r = sqlx::query("SELECT * FROM elections WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await?;
    Ok(Settings {
        id,
        name: r.get("name"),
        state_code: r.get("state_code"),
        time_zone: r.get("time_zone"),
        capture_opens_at: r.get("capture_opens_at"),
        capture_closes_at: r.get("capture_closes_at"),
        publication_starts_at: r.get("publication_starts_at"),
        election_day: r.get("election_day"),
        photo_max_bytes: r.get("photo_max_bytes"),
        text_min_chars: r.get("text_min_chars"),
        text_max_chars: r.get("text_max_chars"),
        proposal_min_chars: r.get("proposal_min_chars"),
        proposal_max_chars: r.get("proposal_max_chars"),
        retention_days: r.get("retention_days"),
        alternate_questionnaire: r.get("alternate_questionnaire"),
        deadlines: crate::deadlines::rule_of(&r),
        campaign_ends_on: r.get("campaign_ends_on"),
        holidays: r.get("holidays"),
        corrections_email: r.get("corrections_email"),
        identity_protection: crate::identity_protection::IdentityProtection::from_row(&r),
    })
}

/// The rules a whole set of settings must follow, each broken one as a field problem.
pub fn check(s: &Settings) -> Vec<conoceles_kit::FieldViolation> {
    use conoceles_kit::FieldViolation;
    let mut out = Vec::new();
    let mut rule = |ok: bool, field: &str, message: &str| {
        if !ok {
            out.push(FieldViolation::new(field, "invalid", message));
        }
    };
    rule(
        !s.name.trim().is_empty(),
        "name",
        "Escriba el nombre del proceso.",
    );
    rule(
        s.corrections_email.is_empty()
            || crate::mail::contacts::parse_email("corrections_email", &s.corrections_email)
                .is_ok(),
        "corrections_email",
        "Correo para reportar errores: escriba un correo electrónico válido, como transparencia@ejemplo.mx, o déjelo vacío.",
    );
    rule(
        (50 * 1024..=5000 * 1024).contains(&s.photo_max_bytes),
        "photo_max_bytes",
        "Tamaño de la fotografía: entre 50 y 5000 KB.",
    );
    for (value, field) in [
        (s.text_min_chars, "text_min_chars"),
        (s.text_max_chars, "text_max_chars"),
        (s.proposal_min_chars, "proposal_min_chars"),
        (s.proposal_max_chars, "proposal_max_chars"),
    ] {
        rule(
            (0..=20_000).contains(&value),
            field,
            "Los límites de caracteres van de 0 a 20000.",
        );
    }
    rule(
        (0..=3650).contains(&s.retention_days),
        "retention_days",
        "Días de retención: entre 0 y 3650.",
    );
    rule(
        s.capture_opens_at < s.capture_closes_at,
        "capture_closes_at",
        "La captura debe cerrar después de abrir.",
    );
    rule(
        s.text_min_chars <= s.text_max_chars && s.proposal_min_chars <= s.proposal_max_chars,
        "text_max_chars",
        "Cada mínimo de caracteres debe ser menor o igual que su máximo.",
    );
    rule(
        (1..=90).contains(&s.deadlines.days),
        "deadline_days",
        "Días de captura por candidatura: entre 1 y 90.",
    );
    rule(
        s.deadlines
            .outer_bound
            .is_none_or(|bound| s.capture_closes_at <= bound),
        "capture_outer_bound",
        "El límite máximo de captura no puede ser anterior al cierre de la captura.",
    );
    rule(
        s.publication_starts_at.date_naive() <= s.election_day,
        "publication_starts_at",
        "La publicación debe empezar antes de la jornada electoral.",
    );
    rule(
        s.campaign_ends_on.is_none_or(|end| end < s.election_day),
        "campaign_ends_on",
        "Las campañas terminan antes de la jornada electoral.",
    );
    out.extend(s.identity_protection.check());
    out
}

/// Saves `after`; when a date or the retention changed, emits `election.updated` in the same
/// transaction. Returns whether the dates changed.
pub async fn update(pool: &PgPool, before: &Settings, after: &Settings) -> anyhow::Result<bool> {
    let dates_changed = (
        before.capture_opens_at,
        before.capture_closes_at,
        before.publication_starts_at,
        before.election_day,
    ) != (
        after.capture_opens_at,
        after.capture_closes_at,
        after.publication_starts_at,
        after.election_day,
    );
    let announce = dates_changed
        || before.retention_days != after.retention_days
        || before.corrections_email != after.corrections_email
        || before.identity_protection != after.identity_protection;
    let mut tx = pool.begin().await?;
    sqlx::query(
        "UPDATE elections SET name = $2, capture_opens_at = $3, capture_closes_at = $4, publication_starts_at = $5, \
         election_day = $6, photo_max_bytes = $7, text_min_chars = $8, text_max_chars = $9, proposal_min_chars = $10, \
         proposal_max_chars = $11, retention_days = $12, alternate_questionnaire = $13, deadline_rule = $14, \
         deadline_days = $15, capture_outer_bound = $16, campaign_ends_on = $17, holidays = $18, corrections_email = $19, \
         updated_at = now() WHERE id = $1",
    )
    .bind(after.id)
    .bind(&after.name)
    .bind(after.capture_opens_at)
    .bind(after.capture_closes_at)
    .bind(after.publication_starts_at)
    .bind(after.election_day)
    .bind(after.photo_max_bytes)
    .bind(after.text_min_chars)
    .bind(after.text_max_chars)
    .bind(after.proposal_min_chars)
    .bind(after.proposal_max_chars)
    .bind(after.retention_days)
    .bind(after.alternate_questionnaire)
    .bind(after.deadlines.kind.code())
    .bind(after.deadlines.days)
    .bind(after.deadlines.outer_bound)
    .bind(after.campaign_ends_on)
    .bind(&after.holidays)
    .bind(&after.corrections_email)
    .execute(&mut *tx)
    .await?;
    store_protection(&mut tx, after.id, after.identity_protection).await?;
    if announce {
        conoceles_kit::amqp::enqueue_event(
            &mut tx,
            conoceles_proto::routing_keys::ELECTION_UPDATED,
            &election_event(after),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(dates_changed)
}

/// Keeps the method chosen and its parameters (the other method's stay as they were).
async fn store_protection(
    conn: &mut PgConnection,
    id: Uuid,
    protection: crate::identity_protection::IdentityProtection,
) -> sqlx::Result<()> {
    use crate::identity_protection::IdentityProtection as P;
    match protection {
        P::Suppression { threshold } => {
            sqlx::query(
                "UPDATE elections SET identity_protection = 'suppression', suppression_threshold = $2 WHERE id = $1",
            )
            .bind(id)
            .bind(threshold)
            .execute(conn)
            .await?;
        }
        P::DifferentialPrivacy {
            rho_budget,
            rho_per_release,
            delta,
            detail_threshold,
        } => {
            sqlx::query(
                "UPDATE elections SET identity_protection = 'differential_privacy', dp_rho_budget = $2, \
                 dp_rho_per_release = $3, dp_delta = $4, dp_detail_threshold = $5 WHERE id = $1",
            )
            .bind(id)
            .bind(rho_budget)
            .bind(rho_per_release)
            .bind(delta)
            .bind(detail_threshold)
            .execute(conn)
            .await?;
        }
    }
    Ok(())
}

/// `2026-04-01T09:00` in the election's zone, for `<input type="datetime-local">`.
/// A moment in the election's time zone, for people: `30/04/2026 23:59 (CST)`.
pub fn local(at: DateTime<Utc>, time_zone: &str) -> String {
    let tz: chrono_tz::Tz = time_zone.parse().unwrap_or(chrono_tz::America::Mexico_City);
    at.with_timezone(&tz)
        .format("%d/%m/%Y %H:%M (%Z)")
        .to_string()
}

/// A calendar day for people: `30/04/2026`.
pub fn day(date: NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

/// The calendar day of `at` in the election's time zone.
pub fn local_date(at: DateTime<Utc>, time_zone: &str) -> NaiveDate {
    let tz: chrono_tz::Tz = time_zone.parse().unwrap_or(chrono_tz::America::Mexico_City);
    at.with_timezone(&tz).date_naive()
}

/// A deadline for people, in the election's zone: one that falls at 00:00 (the end of a natural
/// day, as the Lineamientos count them) reads as 23:59 of that day — «hasta el 17/12/2026 23:59».
pub fn local_deadline(at: DateTime<Utc>, time_zone: &str) -> String {
    use chrono::Timelike;
    let tz: chrono_tz::Tz = time_zone.parse().unwrap_or(chrono_tz::America::Mexico_City);
    let shown = at.with_timezone(&tz);
    let shown = if shown.hour() == 0 && shown.minute() == 0 {
        shown - chrono::Duration::minutes(1)
    } else {
        shown
    };
    shown.format("%d/%m/%Y %H:%M (%Z)").to_string()
}

pub fn to_local_input(at: DateTime<Utc>, time_zone: &str) -> String {
    let tz: chrono_tz::Tz = time_zone.parse().unwrap_or(chrono_tz::America::Mexico_City);
    at.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string()
}

/// The instant a local date and time of the election's zone names (the earlier one when a
/// clock change makes it ambiguous).
pub fn from_local_input(value: &str, time_zone: &str) -> Option<DateTime<Utc>> {
    use chrono::TimeZone;
    let tz: chrono_tz::Tz = time_zone.parse().ok()?;
    let naive = chrono::NaiveDateTime::parse_from_str(value.trim(), "%Y-%m-%dT%H:%M").ok()?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// Candidacies' deadlines count `days` from the delivery of their accounts (instead of the
/// election's fixed close).
pub async fn count_deadlines_from_delivery(
    conn: &mut PgConnection,
    id: Uuid,
    days: i32,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE elections SET deadline_rule = 'from_delivery', deadline_days = $2 WHERE id = $1",
    )
    .bind(id)
    .bind(days)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Makes the election the one the back office and the public site show: the latest created and
/// the latest publication start (a database may hold several processes).
pub async fn make_current(pool: &PgPool, id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE elections SET created_at = now(), publication_starts_at = now() - interval '1 day' WHERE id = $1",
    )
    .bind(id)
    .execute(pool)
    .await
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_round_trip_in_the_state_time_zone() {
        let at = from_local_input("2026-04-01T09:00", "America/Monterrey").unwrap();
        assert_eq!(
            at.to_rfc3339(),
            "2026-04-01T15:00:00+00:00",
            "Coahuila is UTC−6"
        );
        assert_eq!(to_local_input(at, "America/Monterrey"), "2026-04-01T09:00");
        // Tijuana keeps daylight saving time (UTC−7 in April).
        let tijuana = from_local_input("2026-04-01T09:00", "America/Tijuana").unwrap();
        assert_eq!(tijuana.to_rfc3339(), "2026-04-01T16:00:00+00:00");
        assert!(from_local_input("01/04/2026 9:00", "America/Monterrey").is_none());
    }

    #[test]
    fn a_deadline_at_midnight_reads_as_the_last_minute_of_the_day_before() {
        let midnight = from_local_input("2026-12-18T00:00", "America/Monterrey").unwrap();
        assert_eq!(
            local_deadline(midnight, "America/Monterrey"),
            "17/12/2026 23:59 (CST)"
        );
        let afternoon = from_local_input("2026-12-17T14:28", "America/Monterrey").unwrap();
        assert_eq!(
            local_deadline(afternoon, "America/Monterrey"),
            "17/12/2026 14:28 (CST)"
        );
    }
}
