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
    .execute(conn)
    .await?;
    Ok(created.rows_affected() == 1)
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
            "INSERT INTO constituencies (election_id, kind, code, name) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
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
             VALUES ($1, $2, $3, $4, $5, NULLIF($6, ''), $7) ON CONFLICT DO NOTHING",
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

/// What an import is checked against.
pub async fn catalog(pool: &PgPool, election_id: Uuid) -> sqlx::Result<Catalog> {
    let election_day: NaiveDate =
        sqlx::query_scalar("SELECT election_day FROM elections WHERE id = $1")
            .bind(election_id)
            .fetch_one(pool)
            .await?;
    let offices: HashMap<String, (String, String)> = sqlx::query(
        "SELECT code, principle, constituency_kind FROM offices WHERE election_id = $1",
    )
    .bind(election_id)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| {
        (
            r.get("code"),
            (r.get("principle"), r.get("constituency_kind")),
        )
    })
    .collect();
    let constituencies: HashSet<(String, String)> =
        sqlx::query("SELECT kind, code FROM constituencies WHERE election_id = $1")
            .bind(election_id)
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(|r| (r.get("kind"), r.get("code")))
            .collect();
    let rows =
        sqlx::query("SELECT id, code, responsible_code FROM postulants WHERE election_id = $1")
            .bind(election_id)
            .fetch_all(pool)
            .await?;
    let ids: HashMap<String, Uuid> = rows.iter().map(|r| (r.get("code"), r.get("id"))).collect();
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
    Ok(Catalog {
        election_day,
        offices,
        constituencies,
        postulants,
        occupied,
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
