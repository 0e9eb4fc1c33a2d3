//! The in-memory list of published candidacies against the read model in PostgreSQL: it answers
//! what the table holds after every kind of change (new, corrected, withdrawn), filter by filter
//! and page by page, in the neutral order.

mod support;

use conoceles_kit::testing::TestDatabase;
use conoceles_publication::listing::{Column, Listing};
use conoceles_publication::model::{self, Filters};
use sqlx::PgPool;
use uuid::Uuid;

/// `Filters` from a query string, as the site's extractor reads it.
fn filters(query: &str) -> Filters {
    let uri: axum::http::Uri = format!("/candidaturas?{query}").parse().unwrap();
    axum::extract::Query::<Filters>::try_from_uri(&uri)
        .unwrap()
        .0
}

/// The ids the table itself gives for a name search, in the neutral order.
async fn searched_in_sql(pool: &PgPool, election: Uuid, q: &str) -> Vec<Uuid> {
    sqlx::query_scalar(
        "SELECT candidacy_id FROM profiles WHERE election_id = $1 AND withdrawn_at IS NULL \
         AND search LIKE '%' || $2 || '%' ORDER BY neutral_rank, candidacy_id",
    )
    .bind(election)
    .bind(q)
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn the_list_in_memory_follows_every_change_of_the_read_model() {
    let (db, pool) = TestDatabase::create("listing").await;
    let election = support::open_election(&pool).await;

    // 120 candidacies: three pages of the list.
    let ids: Vec<Uuid> = (0..120).map(|_| Uuid::new_v4()).collect();
    for (i, id) in ids.iter().enumerate() {
        let party = if i % 3 == 0 { "PAN" } else { "MORENA" };
        let name = format!("Persona {i} Gómez");
        support::publish(&pool, election, *id, &name, party, 25 + (i as i64 % 40)).await;
    }
    let listing = Listing::default();

    let (first, total) = listing
        .list(&pool, election, &Filters::default())
        .await
        .unwrap();
    assert_eq!(total, 120);
    assert_eq!(first.len(), model::PAGE_SIZE as usize);
    let mut seen: Vec<Uuid> = Vec::new();
    for page in 1..=3 {
        let (items, _) = listing
            .list(&pool, election, &filters(&format!("pagina={page}")))
            .await
            .unwrap();
        seen.extend(items.iter().map(|l| l.id));
    }
    let in_sql = searched_in_sql(&pool, election, "").await;
    assert_eq!(
        seen, in_sql,
        "the pages together are the table's neutral order, once each"
    );

    // Filters: party (as typed), age band, accent- and case-insensitive name search.
    let (pan, pan_total) = listing
        .list(&pool, election, &filters("postulante=pan"))
        .await
        .unwrap();
    assert_eq!(pan_total, 40);
    assert!(pan.iter().all(|l| l.postulant_code == "PAN"));
    let (young, _) = listing
        .list(&pool, election, &filters("edad=18-29"))
        .await
        .unwrap();
    assert!(!young.is_empty() && young.iter().all(|l| (18..=29).contains(&l.holder_age)));
    let (found, found_total) = listing
        .list(&pool, election, &filters("q=PERSONA+7+GOMEZ"))
        .await
        .unwrap();
    assert_eq!(found_total, 1);
    assert_eq!(found[0].id, ids[7]);
    let (none, none_total) = listing
        .list(&pool, election, &filters("q=zzz"))
        .await
        .unwrap();
    assert!(none.is_empty() && none_total == 0);

    // A correction renames someone: the new name is found, the old one no longer.
    support::publish(&pool, election, ids[7], "Ximena Núñez", "MORENA", 30).await;
    let (renamed, _) = listing
        .list(&pool, election, &filters("q=ximena+nunez"))
        .await
        .unwrap();
    assert_eq!(
        renamed.iter().map(|l| l.id).collect::<Vec<_>>(),
        vec![ids[7]]
    );
    assert!(
        renamed[0].corrected_at.is_some(),
        "a second approval is marked corrected"
    );
    let (_, old_total) = listing
        .list(&pool, election, &filters("q=persona+7+gomez"))
        .await
        .unwrap();
    assert_eq!(old_total, 0);

    // A withdrawal takes the candidacy off the list; a new one appears.
    sqlx::query("UPDATE profiles SET withdrawn_at = now() WHERE candidacy_id = $1")
        .bind(ids[0])
        .execute(&pool)
        .await
        .unwrap();
    let newcomer = Uuid::new_v4();
    support::publish(&pool, election, newcomer, "Recién Llegada", "PAN", 50).await;
    let (_, total) = listing
        .list(&pool, election, &Filters::default())
        .await
        .unwrap();
    assert_eq!(total, 120);
    for q in ["persona", "recien", "gomez", "nunez"] {
        let (items, total) = listing
            .list(&pool, election, &filters(&format!("q={q}")))
            .await
            .unwrap();
        let expected = searched_in_sql(&pool, election, q).await;
        assert_eq!(total as usize, expected.len(), "total for {q}");
        let shown: Vec<Uuid> = items.iter().map(|l| l.id).collect();
        assert_eq!(
            shown,
            expected[..expected.len().min(model::PAGE_SIZE as usize)],
            "page for {q}"
        );
    }

    // The filters' choices are what is published.
    let parties = listing
        .choices(&pool, election, Column::Postulant)
        .await
        .unwrap();
    assert_eq!(
        parties,
        vec![
            ("MORENA".into(), "MORENA".into()),
            ("PAN".into(), "PAN".into())
        ]
    );
    let other_election = listing
        .choices(&pool, Uuid::new_v4(), Column::Postulant)
        .await
        .unwrap();
    assert!(other_election.is_empty());

    // A second replica starting now reads the same list from scratch.
    let fresh = Listing::default();
    let (a, ta) = fresh
        .list(&pool, election, &filters("pagina=2"))
        .await
        .unwrap();
    let (b, tb) = listing
        .list(&pool, election, &filters("pagina=2"))
        .await
        .unwrap();
    assert_eq!(ta, tb);
    assert_eq!(
        a.iter().map(|l| l.id).collect::<Vec<_>>(),
        b.iter().map(|l| l.id).collect::<Vec<_>>()
    );

    // Another election's candidacies are not this election's list.
    let (_, other) = listing
        .list(&pool, Uuid::new_v4(), &Filters::default())
        .await
        .unwrap();
    assert_eq!(other, 0);

    pool.close().await;
    db.drop_database().await;
}

#[tokio::test]
async fn a_new_replica_loads_its_list_at_start_and_is_ready_only_then() {
    let (db, pool) = TestDatabase::create("listing-warm").await;
    let election = support::open_election(&pool).await;
    support::publish(&pool, election, Uuid::new_v4(), "Ana Núñez", "PAN", 41).await;
    let listing = std::sync::Arc::new(Listing::default());
    assert!(!listing.loaded(), "nothing loaded before the warm-up");

    let stop = tokio_util::sync::CancellationToken::new();
    listing.warm_up(&pool, &stop).await;
    assert!(listing.loaded());
    // Loaded without a request having asked: the first one is answered from memory.
    let (items, total) = listing
        .list(&pool, election, &Filters::default())
        .await
        .unwrap();
    assert_eq!((items.len(), total), (1, 1));
    pool.close().await;
    db.drop_database().await;
}
