//! Rebuilding the read model from its sources, without the events: the election from
//! `capture`, every approved version from `capture` (with when it was approved and whether it
//! corrected an earlier one), each public projection and publishable identity subset as the
//! consumer fetches them; whatever is no longer approved is withdrawn.
//! `conoceles-publication rebuild` runs it.

use chrono::Utc;
use conoceles_kit::proto_time::from_proto;
use conoceles_proto::capture::v1 as capture;
use conoceles_proto::capture::v1::capture_service_client::CaptureServiceClient;
use sqlx::PgPool;
use uuid::Uuid;

use crate::events::Profiles;

/// What a rebuild did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rebuilt {
    pub published: usize,
    pub withdrawn: usize,
}

pub async fn rebuild(pool: &PgPool, profiles: &Profiles) -> anyhow::Result<Rebuilt> {
    let mut client =
        CaptureServiceClient::new(profiles.capture.clone()).max_decoding_message_size(64 << 20);
    let request = profiles
        .tokens
        .own_request("capture", capture::GetElectionRequest::default())
        .await?;
    let election = client
        .get_election(request)
        .await?
        .into_inner()
        .election
        .ok_or_else(|| anyhow::anyhow!("capture has no election"))?;
    let election_id = Uuid::parse_str(&election.id.clone().unwrap_or_default().value)?;
    let mut conn = pool.acquire().await?;
    crate::model::upsert_election(
        &mut conn,
        &crate::model::Election {
            id: election_id,
            name: election.name.clone(),
            time_zone: election.time_zone.clone(),
            publication_starts_at: from_proto(election.publication_starts_at.as_ref())
                .ok_or_else(|| anyhow::anyhow!("no publication start"))?,
            election_day: from_proto(election.election_day.as_ref())
                .map(|d| d.date_naive())
                .ok_or_else(|| anyhow::anyhow!("no election day"))?,
            corrections_email: election.corrections_email.clone(),
        },
    )
    .await?;
    drop(conn);

    let request = profiles
        .tokens
        .own_request(
            "capture",
            capture::ListApprovedRequest {
                election_id: election.id.clone(),
            },
        )
        .await?;
    let approved = client.list_approved(request).await?.into_inner().approved;
    let mut live = Vec::with_capacity(approved.len());
    for version in &approved {
        let candidacy = Uuid::parse_str(&version.candidacy_id.clone().unwrap_or_default().value)?;
        let at = from_proto(version.approved_at.as_ref()).unwrap_or_else(Utc::now);
        let mut tx = pool.begin().await?;
        profiles
            .publish(&mut tx, candidacy, &version.submission_id, at)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        sqlx::query("UPDATE profiles SET corrected_at = $2 WHERE candidacy_id = $1")
            .bind(candidacy)
            .bind(from_proto(version.corrected_at.as_ref()))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        live.push(candidacy);
    }
    let mut tx = pool.begin().await?;
    let gone: Vec<(Uuid, String)> = sqlx::query_as(
        "UPDATE profiles SET withdrawn_at = now() WHERE withdrawn_at IS NULL AND election_id = $1 \
         AND NOT (candidacy_id = ANY($2)) RETURNING candidacy_id, content_sha256",
    )
    .bind(election_id)
    .bind(&live)
    .fetch_all(&mut *tx)
    .await?;
    for (candidacy, content) in &gone {
        crate::log::append(&mut tx, *candidacy, "withdrawn", content, Utc::now()).await?;
    }
    tx.commit().await?;
    Ok(Rebuilt {
        published: live.len(),
        withdrawn: gone.len(),
    })
}
