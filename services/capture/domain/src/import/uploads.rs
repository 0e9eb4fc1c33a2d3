//! Files the unit uploaded and checked, kept until it applies them: one per uploader and election
//! (a new upload replaces the previous), forgotten once applied.

use sqlx::PgPool;
use uuid::Uuid;

/// Keeps a checked file and returns its id, replacing what `uploaded_by` had kept for the election.
pub async fn keep(
    pool: &PgPool,
    election: Uuid,
    uploaded_by: Option<Uuid>,
    content: &[u8],
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    let mut tx = pool.begin().await?;
    sqlx::query(
        "DELETE FROM import_uploads WHERE election_id = $1 AND uploaded_by IS NOT DISTINCT FROM $2",
    )
    .bind(election)
    .bind(uploaded_by)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO import_uploads (id, election_id, content, uploaded_by, uploaded_at) \
         VALUES ($1, $2, $3, $4, now())",
    )
    .bind(id)
    .bind(election)
    .bind(content)
    .bind(uploaded_by)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The kept file `id`: its election and content, if it is still kept.
pub async fn kept(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<(Uuid, Vec<u8>)>> {
    sqlx::query_as("SELECT election_id, content FROM import_uploads WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// Forgets the kept file `id` (once applied).
pub async fn forget(pool: &PgPool, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM import_uploads WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
}
