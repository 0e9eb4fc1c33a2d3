//! `publication`: the public read model and the citizens' site.

pub mod events;
pub mod model;
pub mod site;

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
        let tokens = Arc::new(TokenSource::new(
            conoceles_kit::grpc::channel(&config.auth_url)?,
            config.service.as_str(),
            config.service_secret.clone(),
        ));
        let consumer = Consumer::new(
            infra.pool.clone(),
            infra.broker.clone(),
            ConsumerSpec::new(events::CONSUMER, &events::ROUTING_KEYS),
            events::Profiles {
                capture: conoceles_kit::grpc::channel(&config.capture_url)?,
                identity: conoceles_kit::grpc::channel(&config.identity_url)?,
                tokens,
            },
        );
        consumer.declare_at_start().await;
        let site = site::router(site::SiteState {
            pool: infra.pool.clone(),
        });
        ServiceServer::new(&config, infra)
            .http(site)
            .worker("profiles", move |token| consumer.run(token))
            .bind()
            .await
    }
}
