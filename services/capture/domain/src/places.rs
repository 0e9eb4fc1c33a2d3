//! Where people vote: the `secciones` catalog (each sección of the voter card, its municipality
//! and its local district) and the `election.places_updated` event that gives the public site
//! the offices, constituencies and secciones it needs for «¿Dónde voto?» and «Mi boleta».

use std::collections::{HashMap, HashSet};

use conoceles_proto::events::v1 as events;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use crate::import::ImportError;

/// The largest sección number INE uses is four digits.
pub const MAX_SECTION: u32 = 9999;

/// One row of the `secciones` catalog, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionRow {
    pub number: u32,
    pub municipality: String,
    pub district: String,
}

fn error(line: usize, column: &str, message: impl Into<String>) -> ImportError {
    ImportError {
        line,
        column: column.to_string(),
        message: message.into(),
    }
}

/// Reads `seccion,municipio,distrito` rows against the known municipality and district codes:
/// every problem of the file at once (line and column), or the rows.
pub fn parse_sections(
    csv: &str,
    municipalities: &HashSet<String>,
    districts: &HashSet<String>,
) -> Result<Vec<SectionRow>, Vec<ImportError>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(csv.as_bytes());
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut seen: HashMap<u32, usize> = HashMap::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let Ok(r) = record else {
            errors.push(error(line, "", "La fila no se pudo leer."));
            continue;
        };
        let get = |n: usize| r.get(n).unwrap_or("").trim().to_string();
        let (number, municipality, district) = (get(0), get(1), get(2));
        let mut ok = true;
        let parsed = number
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_SECTION).contains(n));
        match parsed {
            None => {
                ok = false;
                errors.push(error(
                    line,
                    "seccion",
                    format!("«{number}» no es un número de sección: se espera un número de 1 a {MAX_SECTION}."),
                ));
            }
            Some(n) => {
                if let Some(first) = seen.insert(n, line) {
                    ok = false;
                    errors.push(error(
                        line,
                        "seccion",
                        format!("La sección {n} ya está en la línea {first}."),
                    ));
                }
            }
        }
        if !municipalities.contains(&municipality) {
            ok = false;
            errors.push(error(
                line,
                "municipio",
                format!("El municipio «{municipality}» no está en el catálogo de municipios."),
            ));
        }
        if !districts.contains(&district) {
            ok = false;
            errors.push(error(
                line,
                "distrito",
                format!("El distrito «{district}» no está en el catálogo de distritos."),
            ));
        }
        if let (true, Some(number)) = (ok, parsed) {
            rows.push(SectionRow {
                number,
                municipality,
                district,
            });
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

async fn codes(
    conn: &mut PgConnection,
    election: Uuid,
    kind: &str,
) -> sqlx::Result<HashSet<String>> {
    Ok(
        sqlx::query_scalar("SELECT code FROM constituencies WHERE election_id = $1 AND kind = $2")
            .bind(election)
            .bind(kind)
            .fetch_all(conn)
            .await?
            .into_iter()
            .collect(),
    )
}

/// Loads the `secciones` catalog: the file replaces the election's secciones whole (a sección
/// left out of the new file is gone), or nothing changes when any row is wrong.
pub async fn load_sections(
    conn: &mut PgConnection,
    election: Uuid,
    csv: &str,
) -> Result<usize, Vec<ImportError>> {
    let database = |e: sqlx::Error| vec![error(0, "", format!("database: {e}"))];
    let municipalities = codes(conn, election, "municipality")
        .await
        .map_err(database)?;
    let districts = codes(conn, election, "district").await.map_err(database)?;
    let rows = parse_sections(csv, &municipalities, &districts)?;
    sqlx::query("DELETE FROM sections WHERE election_id = $1")
        .bind(election)
        .execute(&mut *conn)
        .await
        .map_err(database)?;
    let numbers: Vec<i32> = rows.iter().map(|r| r.number as i32).collect();
    let municipalities: Vec<&str> = rows.iter().map(|r| r.municipality.as_str()).collect();
    let districts: Vec<&str> = rows.iter().map(|r| r.district.as_str()).collect();
    sqlx::query(
        "INSERT INTO sections (election_id, section, municipality_code, district_code) \
         SELECT $1, * FROM UNNEST($2::int[], $3::text[], $4::text[])",
    )
    .bind(election)
    .bind(&numbers)
    .bind(&municipalities)
    .bind(&districts)
    .execute(&mut *conn)
    .await
    .map_err(database)?;
    Ok(rows.len())
}

/// How many secciones the election's catalog holds.
pub async fn count_sections(conn: &mut PgConnection, election: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM sections WHERE election_id = $1")
        .bind(election)
        .fetch_one(conn)
        .await
}

/// The election's places as they stand in this transaction.
pub async fn places(
    conn: &mut PgConnection,
    election: Uuid,
) -> sqlx::Result<events::PlacesUpdated> {
    let offices = sqlx::query(
        "SELECT code, name, principle, constituency_kind, coalesce(slate_role, '') AS slate_role \
         FROM offices WHERE election_id = $1 ORDER BY code",
    )
    .bind(election)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| events::PlaceOffice {
        code: r.get("code"),
        name: r.get("name"),
        principle: r.get("principle"),
        constituency_kind: r.get("constituency_kind"),
        slate_role: r.get("slate_role"),
    })
    .collect();
    let constituencies = sqlx::query(
        "SELECT kind, code, name FROM constituencies WHERE election_id = $1 ORDER BY kind, code",
    )
    .bind(election)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| events::Constituency {
        kind: r.get("kind"),
        code: r.get("code"),
        name: r.get("name"),
    })
    .collect();
    let sections = sqlx::query(
        "SELECT section, municipality_code, district_code FROM sections WHERE election_id = $1 ORDER BY section",
    )
    .bind(election)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| events::Section {
        number: r.get::<i32, _>("section") as u32,
        municipality_code: r.get("municipality_code"),
        district_code: r.get("district_code"),
    })
    .collect();
    Ok(events::PlacesUpdated {
        election_id: Some(conoceles_proto::common::v1::ElectionId::from(election)),
        offices,
        constituencies,
        sections,
        occurred_at: Some(conoceles_kit::proto_time::to_proto(chrono::Utc::now())),
    })
}

/// Sends the election's places to the other services in this transaction (outbox).
pub async fn announce(conn: &mut PgConnection, election: Uuid) -> sqlx::Result<()> {
    let event = places(conn, election).await?;
    conoceles_kit::amqp::enqueue_event(conn, conoceles_proto::routing_keys::PLACES_UPDATED, &event)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn known(codes: &[&str]) -> HashSet<String> {
        codes.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn every_problem_of_the_file_is_reported_at_once_with_its_line_and_column() {
        let csv =
            "seccion,municipio,distrito\n1,035,08\n0,035,08\n1,035,09\n2,999,08\n3,035,77\nabc,,\n";
        let errors = parse_sections(csv, &known(&["035"]), &known(&["08", "09"])).unwrap_err();
        let seen: Vec<(usize, &str)> = errors.iter().map(|e| (e.line, e.column.as_str())).collect();
        assert_eq!(
            seen,
            vec![
                (3, "seccion"),
                (4, "seccion"),
                (5, "municipio"),
                (6, "distrito"),
                (7, "seccion"),
                (7, "municipio"),
                (7, "distrito"),
            ]
        );
        assert!(
            errors[1].message.contains("línea 2"),
            "{}",
            errors[1].message
        );
    }

    #[test]
    fn a_good_file_gives_its_rows() {
        let csv = "seccion,municipio,distrito\n 412 ,035,09\n1,030,13\n";
        let rows = parse_sections(csv, &known(&["035", "030"]), &known(&["09", "13"])).unwrap();
        assert_eq!(rows[0].number, 412);
        assert_eq!(rows[1].district, "13");
    }

    proptest! {
        #[test]
        fn any_text_gives_rows_or_errors_never_a_panic(text in "\\PC{0,200}") {
            let _ = parse_sections(&text, &known(&["1"]), &known(&["1"]));
        }

        #[test]
        fn a_number_in_range_with_known_codes_is_accepted(n in 1u32..=MAX_SECTION) {
            let csv = format!("seccion,municipio,distrito\n{n},001,01\n");
            let rows = parse_sections(&csv, &known(&["001"]), &known(&["01"])).unwrap();
            prop_assert_eq!(rows[0].number, n);
        }
    }
}
