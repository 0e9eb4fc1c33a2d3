//! `conoceles-capture bench-import [count]`: imports `count` generated candidacies into a fresh
//! benchmark election and reports how long parsing and writing took. Run by `make bench`
//! against a throw-away database.

use std::time::Instant;

use chrono::{Duration, NaiveDate, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::domain::election::{self, NewElection};
use crate::domain::import;
use crate::tools::generator;

const POSTULANTS: [&str; 6] = generator::NATIONAL_POSTULANTS;

pub async fn import(pool: &PgPool, count: usize) -> anyhow::Result<String> {
    let election_id = Uuid::now_v7();
    let now = Utc::now();
    let districts = count.div_ceil(POSTULANTS.len());
    let mut tx = pool.begin().await?;
    election::create(
        &mut tx,
        &NewElection {
            id: election_id,
            name: "Benchmark",
            state_code: "09",
            time_zone: "America/Mexico_City",
            capture_opens_at: now,
            capture_closes_at: now + Duration::days(15),
            publication_starts_at: now,
            election_day: NaiveDate::from_ymd_opt(2027, 6, 6).expect("date"),
        },
    )
    .await?;
    election::add_office(
        &mut tx,
        election_id,
        "diputacion_mr",
        "Diputación MR",
        "mr",
        "district",
    )
    .await?;
    let mut districts_csv = String::from("clave,nombre\n");
    for d in 1..=districts {
        districts_csv.push_str(&format!("{d:05},Distrito {d}\n"));
    }
    election::load_constituencies(&mut tx, election_id, "district", &districts_csv)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let parties: String = POSTULANTS
        .iter()
        .map(|p| format!("{p},{p},partido,,\n"))
        .collect();
    election::load_postulants(
        &mut tx,
        election_id,
        &format!("clave,nombre,tipo,responsable,integrantes\n{parties}"),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    tx.commit().await?;

    let slots = generator::national_slots(count, &POSTULANTS);
    let csv = generator::candidacies_csv(42, "BENCH", &slots);

    let catalog = election::catalog(pool, election_id).await?;
    let started = Instant::now();
    let rows = import::parse(csv.as_bytes(), &catalog)
        .map_err(|e| anyhow::anyhow!("{} errors, first: {}", e.len(), e[0]))?;
    let parsed = started.elapsed();
    let summary = import::apply(pool, election_id, &catalog, &rows, None).await?;
    let total = started.elapsed();
    let again_started = Instant::now();
    let catalog = election::catalog(pool, election_id).await?;
    let rows = import::parse(csv.as_bytes(), &catalog)
        .map_err(|e| anyhow::anyhow!("{} errors", e.len()))?;
    let again = import::apply(pool, election_id, &catalog, &rows, None).await?;
    let reimport = again_started.elapsed();
    Ok(format!(
        "import of {count} candidacies ({} MB CSV): parse {:.2} s, total {:.2} s ({:.0} rows/s); created {}; \
         re-import of the same file: {:.2} s, unchanged {}",
        csv.len() / 1_000_000,
        parsed.as_secs_f64(),
        total.as_secs_f64(),
        count as f64 / total.as_secs_f64(),
        summary.created,
        reimport.as_secs_f64(),
        again.unchanged,
    ))
}
