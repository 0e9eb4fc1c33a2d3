//! PostgreSQL: the service's own database (created if missing), a pool, the messaging tables
//! shared by every service (outbox, inbox) and the service's embedded migrations.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

/// Connects to the database named in `url`, creating it first if it does not exist, then runs
/// the messaging schema and `migrator`.
pub async fn connect_and_migrate(
    url: &SecretString,
    max_connections: u32,
    migrator: &'static Migrator,
) -> anyhow::Result<PgPool> {
    let options = PgConnectOptions::from_str(url.expose_secret())
        .context("DATABASE_URL is not a valid PostgreSQL URL")?;
    ensure_database(&options).await?;
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .context("cannot connect to the service database")?;
    crate::messaging_schema::apply(&pool).await?;
    migrator
        .run(&pool)
        .await
        .context("database migrations failed")?;
    Ok(pool)
}

/// Creates the database of `options` if it is missing, connecting to the `postgres` maintenance
/// database with the same credentials. Concurrent creators are tolerated.
pub async fn ensure_database(options: &PgConnectOptions) -> anyhow::Result<()> {
    let name = options
        .get_database()
        .context("DATABASE_URL names no database")?
        .to_string();
    let maintenance = options.clone().database("postgres");
    let mut conn = maintenance
        .connect()
        .await
        .context("cannot reach PostgreSQL")?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        let statement = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
        match sqlx::query(&statement).execute(&mut conn).await {
            Ok(_) => tracing::info!(database = %name, "created database"),
            // 42P04 duplicate_database: another process created it meanwhile.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
            Err(e) => {
                return Err(e).with_context(|| {
                    format!("database {name} is missing and could not be created")
                });
            }
        }
    }
    conn.close().await.ok();
    Ok(())
}

/// Drops a database (tests clean up after themselves with this).
pub async fn drop_database(url: &str) -> anyhow::Result<()> {
    let options = PgConnectOptions::from_str(url)?;
    let name = options
        .get_database()
        .context("URL names no database")?
        .to_string();
    let mut conn = options.clone().database("postgres").connect().await?;
    let statement = format!(
        "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
        name.replace('"', "\"\"")
    );
    sqlx::query(&statement).execute(&mut conn).await?;
    conn.close().await.ok();
    Ok(())
}
