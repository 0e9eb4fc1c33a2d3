//! The demo election (Coahuila 2026, local deputies), loaded by `conoceles-capture seed-demo`
//! (`make run` does it). Idempotent: a second run changes nothing.

use chrono::{Duration, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use crate::election::{self, NewElection};
use crate::import::{self, ImportSummary};

/// The demo election's fixed id.
pub const DEMO_ELECTION: Uuid = Uuid::from_u128(0x0196_0000_c0a4_7000_8000_0000_0000_2026);

fn problems(errors: Vec<import::ImportError>) -> anyhow::Error {
    anyhow::anyhow!(
        "demo data rejected:\n{}",
        errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    )
}

pub async fn seed(pool: &PgPool) -> anyhow::Result<ImportSummary> {
    let now = Utc::now();
    let mut tx = pool.begin().await?;
    // The capture window is open, publication has started and election day is ahead, so every
    // part of the system has something to show.
    election::create(
        &mut tx,
        &NewElection {
            id: DEMO_ELECTION,
            name: "Proceso Electoral Local 2025-2026 de Coahuila: diputaciones locales (demostración)",
            state_code: "05",
            time_zone: "America/Monterrey",
            capture_opens_at: now - Duration::days(1),
            capture_closes_at: now + Duration::days(15),
            publication_starts_at: now - Duration::days(1),
            // Relative to today, like the windows, so the demo always makes sense.
            election_day: (now + Duration::days(30)).date_naive(),
        },
    )
    .await?;
    election::add_office(
        &mut tx,
        DEMO_ELECTION,
        "diputacion_mr",
        "Diputación local de mayoría relativa",
        "mr",
        "district",
    )
    .await?;
    election::add_office(
        &mut tx,
        DEMO_ELECTION,
        "diputacion_rp",
        "Diputación local de representación proporcional",
        "rp",
        "list",
    )
    .await?;
    election::load_constituencies(
        &mut tx,
        DEMO_ELECTION,
        "district",
        include_str!("../demo/distritos.csv"),
    )
    .await
    .map_err(problems)?;
    election::load_constituencies(
        &mut tx,
        DEMO_ELECTION,
        "municipality",
        include_str!("../demo/municipios.csv"),
    )
    .await
    .map_err(problems)?;
    election::load_constituencies(
        &mut tx,
        DEMO_ELECTION,
        "list",
        "clave,nombre\nRP,Lista de representación proporcional\n",
    )
    .await
    .map_err(problems)?;
    election::load_postulants(&mut tx, DEMO_ELECTION, include_str!("../demo/partidos.csv"))
        .await
        .map_err(problems)?;
    tx.commit().await?;

    let catalog = election::catalog(pool, DEMO_ELECTION).await?;
    let rows =
        import::parse(include_bytes!("../demo/candidaturas.csv"), &catalog).map_err(problems)?;
    import::apply(pool, DEMO_ELECTION, &catalog, &rows, None).await
}
