//! The open-data release at the scale of one database: one replica regenerates a version while
//! the others wait for it (PostgreSQL's advisory lock), and what it stores in pieces is the
//! release a citizen downloads and verifies.

mod support;

use conoceles_kit::testing::TestDatabase;
use conoceles_publication::open_data::{self, REGENERATION_LOCK, Stored, Turn};
use ed25519_dalek::SigningKey;
use futures::TryStreamExt;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

#[tokio::test]
async fn one_replica_regenerates_a_version_and_the_others_find_it_made() {
    let (db, pool) = TestDatabase::create("open-data").await;
    let election = support::open_election(&pool).await;
    for (i, party) in ["PAN", "MORENA", "PT"].iter().enumerate() {
        let name = format!("Persona {i} Núñez");
        support::publish(&pool, election, Uuid::new_v4(), &name, party, 30 + i as i64).await;
    }
    let key = SigningKey::from_bytes(&[9u8; 32]);
    let stop = CancellationToken::new();

    // Another replica is regenerating: it holds the lock, and this one stores nothing.
    let mut other = pool.acquire().await.unwrap();
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(REGENERATION_LOCK)
        .execute(&mut *other)
        .await
        .unwrap();
    assert_eq!(
        open_data::turn(&pool, &key, &stop).await.unwrap(),
        Turn::Busy
    );
    let files: i64 = sqlx::query_scalar("SELECT count(*) FROM open_data_files")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(files, 0);

    // Once it lets go, this one makes the version, and then finds it made.
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(REGENERATION_LOCK)
        .execute(&mut *other)
        .await
        .unwrap();
    drop(other);
    let version = open_data::version(&pool).await.unwrap();
    assert_eq!(
        open_data::turn(&pool, &key, &stop).await.unwrap(),
        Turn::Regenerated(version)
    );
    assert_eq!(
        open_data::turn(&pool, &key, &stop).await.unwrap(),
        Turn::Current(version)
    );

    // What was stored in pieces is the signed release, and reads back whole.
    assert_eq!(open_data::verify_stored(&pool).await.unwrap(), 3);
    let csv = Stored::of(&pool, "candidaturas.csv")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(csv.encoding, "gzip");
    let pieces: Vec<bytes::Bytes> = csv
        .content(&pool, "candidaturas.csv")
        .try_collect()
        .await
        .unwrap();
    let text = String::from_utf8(pieces.concat()).unwrap();
    for i in 0..3 {
        assert!(text.contains(&format!("Persona {i} Núñez")), "{text}");
    }
    let pieces_stored: i64 = sqlx::query_scalar("SELECT count(*) FROM open_data_chunks")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(pieces_stored, 3, "one piece for each small data file");

    pool.close().await;
    db.drop_database().await;
}
