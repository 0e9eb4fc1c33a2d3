//! The CDN is told to forget the pages of what changed — each candidacy's, its contest's, the
//! lists' — once, by one replica, and again until it acknowledges.

mod support;

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use conoceles_kit::config::CdnPurge;
use conoceles_kit::testing::TestDatabase;
use conoceles_publication::site::purge::{self, Pass};
use uuid::Uuid;

/// A CDN's purge endpoint: records the keys of each purge; answers `status`.
async fn cdn(status: Arc<Mutex<StatusCode>>) -> (CdnPurge, Arc<Mutex<Vec<(String, String)>>>) {
    let purged: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let recorded = purged.clone();
    let app = axum::Router::new().route(
        "/purge",
        axum::routing::post(move |headers: HeaderMap| async move {
            let keys = headers["surrogate-key"].to_str().unwrap().to_owned();
            let auth = headers
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            recorded.lock().unwrap().push((keys, auth));
            *status.lock().unwrap()
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/purge", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let cdn = CdnPurge {
        url,
        token: Some("token-de-la-cdn".to_string().into()),
    };
    (cdn, purged)
}

#[tokio::test]
async fn changed_profiles_are_purged_by_their_keys_once_and_again_until_acknowledged() {
    let (db, pool) = TestDatabase::create("cdn-purge").await;
    let election = support::open_election(&pool).await;
    let status = Arc::new(Mutex::new(StatusCode::OK));
    let (cdn, purged) = cdn(status.clone()).await;
    let client = reqwest::Client::new();

    // Nothing published yet: nothing to tell.
    assert_eq!(
        purge::pass(&pool, &client, &cdn).await.unwrap(),
        Pass::Current
    );

    let (ana, beto) = (Uuid::new_v4(), Uuid::new_v4());
    support::publish(&pool, election, ana, "Ana Núñez", "PAN", 41).await;
    support::publish(&pool, election, beto, "Beto Ruiz", "PT", 35).await;

    // The CDN fails: the position stays, and the same changes are sent again.
    *status.lock().unwrap() = StatusCode::SERVICE_UNAVAILABLE;
    assert!(purge::pass(&pool, &client, &cdn).await.is_err());
    *status.lock().unwrap() = StatusCode::OK;

    // Another replica holds the position: this one sends nothing.
    let mut other = pool.begin().await.unwrap();
    sqlx::query("SELECT seq FROM cdn_purge_position FOR UPDATE")
        .execute(&mut *other)
        .await
        .unwrap();
    assert_eq!(purge::pass(&pool, &client, &cdn).await.unwrap(), Pass::Busy);
    other.rollback().await.unwrap();

    let Pass::Purged { keys, .. } = purge::pass(&pool, &client, &cdn).await.unwrap() else {
        panic!("the changes are purged once the CDN answers");
    };
    for key in [
        format!("candidatura-{ana}"),
        format!("candidatura-{beto}"),
        "contienda-diputacion_mr-05".to_string(),
        "listados".to_string(),
    ] {
        assert!(keys.contains(&key), "{key} in {keys:?}");
    }
    let sent = purged.lock().unwrap().clone();
    assert_eq!(sent.len(), 2, "the failed purge and its retry: {sent:?}");
    assert_eq!(sent[0].0, sent[1].0, "the retry names the same keys");
    assert_eq!(sent[1].1, "Bearer token-de-la-cdn");

    // Told: nothing more until something changes.
    assert_eq!(
        purge::pass(&pool, &client, &cdn).await.unwrap(),
        Pass::Current
    );
    support::publish(&pool, election, ana, "Ana Núñez Pérez", "PAN", 41).await;
    let Pass::Purged { keys, .. } = purge::pass(&pool, &client, &cdn).await.unwrap() else {
        panic!("a new change is purged");
    };
    assert!(keys.contains(&format!("candidatura-{ana}")));
    assert!(!keys.contains(&format!("candidatura-{beto}")), "{keys:?}");

    pool.close().await;
    db.drop_database().await;
}
