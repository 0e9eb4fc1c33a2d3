//! Irreversible actions confirmed once: the confirmation page carries a fresh token, and the
//! action runs only the first time that token arrives (a reload of the result posts it again).

use sqlx::PgPool;
use uuid::Uuid;

/// A token for a confirmation page.
pub fn fresh() -> Uuid {
    Uuid::new_v4()
}

/// Marks `token` spent; false when it already was (the action already ran).
pub async fn spend(pool: &PgPool, token: Uuid) -> sqlx::Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO spent_confirmations (token) VALUES ($1) ON CONFLICT (token) DO NOTHING",
    )
    .bind(token)
    .execute(pool)
    .await?
    .rows_affected()
        == 1)
}
