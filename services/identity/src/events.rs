//! The consumer `identity.candidacies`: keeps, from capture's events, the minimal public
//! dimensions of each candidacy (never names) for aggregates and scope, and blocks a person's
//! answers at once when the candidacy is substituted or cancelled.

use chrono::Utc;
use conoceles_kit::amqp::{HandleError, Handler, Incoming};
use conoceles_kit::proto_time::from_proto;
use conoceles_proto::common::v1 as common;
use conoceles_proto::events::v1 as events;
use conoceles_proto::routing_keys;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::protection::Protection;
use crate::store::block;

pub const CONSUMER: &str = "identity.candidacies";
pub const ROUTING_KEYS: [&str; 4] = [
    routing_keys::ELECTION_UPDATED,
    routing_keys::CANDIDACY_REGISTERED,
    routing_keys::CANDIDACY_SUBSTITUTED,
    routing_keys::CANDIDACY_CANCELLED,
];

pub struct Candidacies;

fn uuid_of(value: Option<&str>) -> Option<Uuid> {
    value.and_then(|v| Uuid::parse_str(v).ok())
}

fn permanent(message: &str) -> HandleError {
    HandleError::Permanent(anyhow::anyhow!("{message}"))
}

fn sex(value: i32) -> &'static str {
    match common::Sex::try_from(value).unwrap_or(common::Sex::Unspecified) {
        common::Sex::Woman => "mujer",
        common::Sex::Man => "hombre",
        common::Sex::NonBinary => "no_binario",
        common::Sex::Unspecified => "sin_dato",
    }
}

async fn upsert_candidacy(
    conn: &mut PgConnection,
    d: &common::CandidacyDimensions,
    responsible: Option<Uuid>,
) -> Result<Uuid, HandleError> {
    let id = uuid_of(d.candidacy_id.as_ref().map(|c| c.value.as_str()))
        .ok_or_else(|| permanent("dimensions without candidacy id"))?;
    let election = uuid_of(d.election_id.as_ref().map(|e| e.value.as_str()))
        .ok_or_else(|| permanent("dimensions without election id"))?;
    let principle = if d.principle == common::Principle::Rp as i32 {
        "rp"
    } else {
        "mr"
    };
    sqlx::query(
        "INSERT INTO candidacies (id, election_id, office, principle, constituency, postulant, holder_sex, holder_age, \
         affirmative_action, responsible_party_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (id) DO UPDATE SET office = EXCLUDED.office, principle = EXCLUDED.principle, \
         constituency = EXCLUDED.constituency, postulant = EXCLUDED.postulant, holder_sex = EXCLUDED.holder_sex, \
         holder_age = EXCLUDED.holder_age, affirmative_action = EXCLUDED.affirmative_action, \
         responsible_party_id = COALESCE(EXCLUDED.responsible_party_id, candidacies.responsible_party_id)",
    )
    .bind(id)
    .bind(election)
    .bind(&d.office)
    .bind(principle)
    .bind(&d.constituency)
    .bind(&d.postulant)
    .bind(sex(d.holder_sex))
    .bind(d.holder_age as i32)
    .bind(&d.affirmative_action)
    .bind(responsible)
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

async fn add_person(
    conn: &mut PgConnection,
    id: Uuid,
    candidacy: Uuid,
    role: &str,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO persons (id, candidacy_id, role) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
        .bind(id)
        .bind(candidacy)
        .bind(role)
        .execute(conn)
        .await?;
    Ok(())
}

#[async_trait::async_trait]
impl Handler for Candidacies {
    async fn handle(&self, tx: &mut PgConnection, message: &Incoming) -> Result<(), HandleError> {
        match message.routing_key.as_str() {
            routing_keys::ELECTION_UPDATED => {
                let e: events::ElectionUpdated = message.decode()?;
                let id = uuid_of(e.election_id.as_ref().map(|x| x.value.as_str()))
                    .ok_or_else(|| permanent("election.updated without id"))?;
                sqlx::query(
                    "INSERT INTO elections (id, retention_days) VALUES ($1, $2) \
                     ON CONFLICT (id) DO UPDATE SET retention_days = EXCLUDED.retention_days",
                )
                .bind(id)
                .bind(if e.retention_days == 0 {
                    90
                } else {
                    e.retention_days as i32
                })
                .execute(&mut *tx)
                .await?;
                let protection = Protection::from_proto(e.identity_protection.as_ref());
                if !protection.store(&mut *tx, id).await? {
                    tracing::info!(
                        election = %id,
                        "the identity tables' protection is fixed by a release already; the new setting is not applied"
                    );
                }
            }
            routing_keys::CANDIDACY_REGISTERED => {
                let e: events::CandidacyRegistered = message.decode()?;
                let d = e
                    .dimensions
                    .ok_or_else(|| permanent("registered without dimensions"))?;
                let responsible =
                    uuid_of(e.responsible_party_id.as_ref().map(|p| p.value.as_str()));
                let id = upsert_candidacy(tx, &d, responsible).await?;
                if let Some(holder) = uuid_of(e.holder_id.as_ref().map(|p| p.value.as_str())) {
                    add_person(tx, holder, id, "holder").await?;
                }
                if let Some(alternate) = uuid_of(e.alternate_id.as_ref().map(|p| p.value.as_str()))
                {
                    add_person(tx, alternate, id, "alternate").await?;
                }
            }
            routing_keys::CANDIDACY_SUBSTITUTED => {
                let e: events::CandidacySubstituted = message.decode()?;
                let d = e
                    .dimensions
                    .ok_or_else(|| permanent("substituted without dimensions"))?;
                let id = upsert_candidacy(tx, &d, None).await?;
                let role = if e.person_role == common::PersonRole::Alternate as i32 {
                    "alternate"
                } else {
                    "holder"
                };
                if let Some(replaced) =
                    uuid_of(e.replaced_person_id.as_ref().map(|p| p.value.as_str()))
                {
                    block(tx, &[replaced], Utc::now()).await?;
                }
                if let Some(new) = uuid_of(e.new_person_id.as_ref().map(|p| p.value.as_str())) {
                    add_person(tx, new, id, role).await?;
                }
            }
            routing_keys::CANDIDACY_CANCELLED => {
                let e: events::CandidacyCancelled = message.decode()?;
                let id = uuid_of(e.candidacy_id.as_ref().map(|c| c.value.as_str()))
                    .ok_or_else(|| permanent("cancelled without candidacy id"))?;
                let persons: Vec<Uuid> =
                    sqlx::query_scalar("SELECT id FROM persons WHERE candidacy_id = $1")
                        .bind(id)
                        .fetch_all(&mut *tx)
                        .await?;
                let at = from_proto(e.occurred_at.as_ref()).unwrap_or_else(Utc::now);
                block(tx, &persons, at).await?;
            }
            _ => {}
        }
        Ok(())
    }
}
