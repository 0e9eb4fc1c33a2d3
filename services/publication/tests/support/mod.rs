//! What the publication's database tests share: a migrated database with an election open to
//! the public, and candidacies published into it as the consumer publishes them.

use chrono::Utc;
use conoceles_publication::model::{self, Election, NewProfile};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

/// Migrates the database and adds an election published from now; its id.
pub async fn open_election(pool: &PgPool) -> Uuid {
    conoceles_publication::MIGRATOR.run(pool).await.unwrap();
    let election = Uuid::new_v4();
    let mut conn = pool.acquire().await.unwrap();
    model::upsert_election(
        &mut conn,
        &Election {
            id: election,
            name: "Proceso Electoral de prueba".into(),
            time_zone: "America/Mexico_City".into(),
            publication_starts_at: Utc::now(),
            election_day: Utc::now().date_naive(),
            corrections_email: String::new(),
        },
    )
    .await
    .unwrap();
    election
}

/// Publishes `candidacy` (a deputy of district 05) with its holder's name, party and age.
pub async fn publish(
    pool: &PgPool,
    election: Uuid,
    candidacy: Uuid,
    name: &str,
    party: &str,
    age: i64,
) {
    let profile = json!({
        "office_code": "diputacion_mr", "office": "Diputación de mayoría relativa", "principle": "mr",
        "constituency_code": "05", "constituency": "Distrito 05", "postulant_code": party,
        "postulant": party, "list_position": 0, "affirmative_action": "",
        "persons": [{"role": "holder", "full_name": name, "sex": "mujer", "age": age}]
    });
    let mut conn = pool.acquire().await.unwrap();
    model::upsert(
        &mut conn,
        &NewProfile {
            candidacy,
            election,
            submission: Uuid::new_v4(),
            content_sha256: &Uuid::new_v4().to_string(),
            profile: &profile,
            identity: &json!([]),
            alternate_identity: &json!([]),
            at: Utc::now(),
        },
    )
    .await
    .unwrap();
}
