//! `publication`: the public read model and the citizens' site.

pub mod cli;
pub mod events;
pub mod grpc;
pub mod listing;
pub mod log;
pub mod model;
pub mod notices;
pub mod open_data;
pub mod places;
pub mod rebuild;
pub mod registry;
pub mod site;
pub mod site_identity;

use std::sync::Arc;

use conoceles_kit::access::TokenSource;
use conoceles_kit::amqp::{Consumer, ConsumerSpec};
use conoceles_kit::{Infrastructure, Running, ServiceConfig, ServiceServer};
use sqlx::migrate::Migrator;

pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

pub struct Application;

impl Application {
    /// Connects the infrastructure, migrates the database and binds every listener.
    pub async fn build(config: ServiceConfig) -> anyhow::Result<Running> {
        let infra = Infrastructure::connect(&config, &MIGRATOR).await?;
        let tokens = TokenSource::configured(&config)?;
        let profiles = || -> anyhow::Result<events::Profiles> {
            Ok(events::Profiles {
                capture: conoceles_kit::grpc::channel(&config.capture_url)?,
                identity: conoceles_kit::grpc::channel(&config.identity_url)?,
                tokens: tokens.clone(),
            })
        };
        let consumer = Consumer::new(
            infra.pool.clone(),
            infra.broker.clone(),
            ConsumerSpec::new(events::CONSUMER, &events::ROUTING_KEYS),
            profiles()?,
        );
        let routes = tonic::service::Routes::new(
            conoceles_proto::publication::v1::publication_service_server::PublicationServiceServer::new(
                grpc::PublicationApi {
                    pool: infra.pool.clone(),
                    profiles: profiles()?,
                },
            ),
        );
        consumer.declare_at_start().await;
        let key =
            open_data::signing_key(&infra.pool, config.publication_signing_key.as_ref()).await?;
        let cache = Arc::new(site::cache::PageCache::with_budget_mib(
            config
                .page_cache_mib
                .unwrap_or(site::cache::DEFAULT_BUDGET_MIB),
        ));
        let listing: Arc<listing::Listing> = Arc::default();
        let site = site::router(
            site::SiteState {
                public_url: config.public_site_url.trim_end_matches('/').to_string(),
                pool: infra.pool.clone(),
                listing: listing.clone(),
                brand: Arc::default(),
                statistics: Some(Arc::new(site::statistics::Sources {
                    statistics: conoceles_kit::grpc::channel(&config.statistics_url)?,
                    identity: conoceles_kit::grpc::channel(&config.identity_url)?,
                    tokens: tokens.clone(),
                })),
                preview: Arc::new(site::preview::Preview {
                    keys: conoceles_kit::access::KeySet::from_auth(&config.auth_url)?,
                    key: Arc::new(key.clone()),
                    used: infra.cache.clone(),
                    capture_url: config.capture_public_url.clone(),
                }),
            },
            cache.clone(),
            config.max_in_flight,
        );
        let purged = config
            .cdn_purge
            .clone()
            .map(|cdn| (infra.pool.clone(), cdn));
        let watched = infra.pool.clone();
        let listed = infra.pool.clone();
        let loaded = listing.clone();
        let config_apart = config.clone();
        let keys = conoceles_kit::access::KeySet::from_auth(&config.auth_url)?;
        ServiceServer::new(&config, infra)
            // Pages, the API and open data are read from the database: the site stays in
            // traffic with the broker down (approvals wait there) or Redis down (only the
            // back office's preview needs it).
            .serves_without(&["broker", "cache"])
            // Ready once the list of profiles is in memory: a new replica would otherwise take
            // its first requests while loading it.
            .readiness(
                "listing",
                std::sync::Arc::new(move || {
                    let loaded = loaded.loaded();
                    Box::pin(async move {
                        anyhow::ensure!(loaded, "the list of profiles is loading");
                        Ok(())
                    })
                }),
            )
            .access(grpc::policy(), keys)
            .grpc(routes)
            .http(site)
            .worker("profiles", move |token| consumer.run(token))
            .worker("open-data", move |token| {
                open_data::worker_apart(config_apart, key, std::time::Duration::from_secs(1), token)
            })
            .worker("page-cache", move |token| {
                cache.watch(watched, std::time::Duration::from_millis(500), token)
            })
            .worker("listing", move |token| {
                listing::report_memory(listing, listed, std::time::Duration::from_secs(5), token)
            })
            .worker("cdn-purge", move |token| async move {
                if let Some((pool, cdn)) = purged {
                    site::purge::worker(pool, cdn, std::time::Duration::from_secs(2), token).await;
                }
            })
            .bind()
            .await
    }
}
