//! The outbox and inbox tables every service's database carries. They belong to the shared
//! messaging code, so they are created here (idempotently) rather than copied into six sets of
//! migrations.

use sqlx::PgPool;

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS kit_outbox (
    id            BIGSERIAL PRIMARY KEY,
    message_id    UUID        NOT NULL UNIQUE,
    routing_key   TEXT        NOT NULL,
    message_type  TEXT        NOT NULL,
    payload       BYTEA       NOT NULL,
    headers       JSONB       NOT NULL DEFAULT '{}'::jsonb,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    attempts      INTEGER     NOT NULL DEFAULT 0,
    last_error    TEXT
);

CREATE TABLE IF NOT EXISTS kit_inbox (
    consumer      TEXT        NOT NULL,
    message_id    TEXT        NOT NULL,
    routing_key   TEXT        NOT NULL,
    processed_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, message_id)
);
"#;

/// Serialises concurrent first starts of the same service (CREATE TABLE IF NOT EXISTS is not
/// race-free in PostgreSQL).
const LOCK_KEY: i64 = 0x636f_6e6f_6365_6c65;

pub async fn apply(pool: &PgPool) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(LOCK_KEY)
        .execute(&mut *tx)
        .await?;
    sqlx::raw_sql(SCHEMA).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}
