//! Tells the CDN in front of the site which pages to forget when published profiles change
//! (`CDN_PURGE_URL`): every few seconds, the changes of `profile_log` after the position told
//! last, as the surrogate keys of [`super::edge`] — each candidacy's, its contest's, the lists'
//! and open data's. The position advances only once the CDN acknowledged the purge, so a failed
//! purge is sent again; one replica at a time sends (the position's row lock), the others skip.

use std::time::Duration;

use conoceles_kit::config::CdnPurge;
use secrecy::ExposeSecret;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::edge;

/// At most this many changes a purge (CDNs limit the keys of one request).
const CHANGES_PER_PURGE: i64 = 100;

/// What one pass did.
#[derive(Debug, PartialEq, Eq)]
pub enum Pass {
    /// Nothing changed since the last purge.
    Current,
    /// Another replica holds the position: it is purging.
    Busy,
    /// The CDN was told these keys; the position is now `through`.
    Purged { keys: Vec<String>, through: i64 },
}

/// Purges until `stop`, every `every`; failures are logged and counted, and retried.
pub async fn worker(pool: PgPool, cdn: CdnPurge, every: Duration, stop: CancellationToken) {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(error = %e, "no HTTP client for CDN purges: none will be sent");
            return;
        }
    };
    loop {
        match pass(&pool, &client, &cdn).await {
            Ok(Pass::Purged { keys, through }) => {
                metrics::counter!("cdn_purges_total", "result" => "ok").increment(1);
                tracing::info!(
                    keys = keys.len(),
                    through,
                    "CDN told to forget changed pages"
                );
                // More may be waiting: no pause.
                continue;
            }
            Ok(Pass::Current | Pass::Busy) => {}
            Err(e) => {
                metrics::counter!("cdn_purges_total", "result" => "failed").increment(1);
                tracing::warn!(error = %format!("{e:#}"), "CDN purge failed; retried");
            }
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}

/// One pass: the changes after the position, purged and the position advanced, in one
/// transaction holding the position's row.
pub async fn pass(pool: &PgPool, client: &reqwest::Client, cdn: &CdnPurge) -> anyhow::Result<Pass> {
    let mut tx = pool.begin().await?;
    let position: Option<i64> =
        sqlx::query_scalar("SELECT seq FROM cdn_purge_position FOR UPDATE SKIP LOCKED")
            .fetch_optional(&mut *tx)
            .await?;
    let Some(position) = position else {
        return Ok(Pass::Busy);
    };
    let changes: Vec<(i64, Uuid, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT l.seq, l.candidacy_id, p.office_code, p.constituency_code
           FROM profile_log l LEFT JOIN profiles p ON p.candidacy_id = l.candidacy_id
          WHERE l.seq > $1 ORDER BY l.seq LIMIT $2",
    )
    .bind(position)
    .bind(CHANGES_PER_PURGE)
    .fetch_all(&mut *tx)
    .await?;
    let Some(&(through, ..)) = changes.last() else {
        return Ok(Pass::Current);
    };
    let mut keys = vec![edge::LISTS_KEY.to_owned(), edge::DATA_KEY.to_owned()];
    for (_, candidacy, office, constituency) in &changes {
        keys.push(edge::candidacy_key(*candidacy));
        if let (Some(office), Some(constituency)) = (office, constituency) {
            keys.push(edge::contest_key(office, constituency));
        }
    }
    keys.sort();
    keys.dedup();
    let mut request = client
        .post(&cdn.url)
        .header(&edge::SURROGATE_KEY, keys.join(" "))
        .json(&serde_json::json!({ "tags": keys }));
    if let Some(token) = &cdn.token {
        request = request.bearer_auth(token.expose_secret());
    }
    let answer = request.send().await?;
    anyhow::ensure!(
        answer.status().is_success(),
        "the CDN answered {}",
        answer.status()
    );
    sqlx::query("UPDATE cdn_purge_position SET seq = $1")
        .bind(through)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Pass::Purged { keys, through })
}
