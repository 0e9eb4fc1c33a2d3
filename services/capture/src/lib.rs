//! `capture`: elections, catalogs, candidacies and the curricular questionnaire; hosts the
//! capture front (parties, candidates and the unit's back office).

pub mod api;
pub mod auth_client;
pub mod bench;
pub mod candidacies;
pub mod cli;
pub mod consent_form;
pub mod curricular;
pub mod deadlines;
pub mod demo;
pub mod election;
pub mod front;
pub mod generator;
pub mod grpc;
pub mod identity_client;
pub mod import;
pub mod notices;
pub mod profile;
pub mod profile_counts;
pub mod progress;
pub mod reviews;
pub mod statistics_client;
pub mod validation_client;

use std::sync::Arc;

use conoceles_kit::access::TokenSource;
use conoceles_kit::{Infrastructure, Running, ServiceConfig, ServiceServer};
use sqlx::migrate::Migrator;

use crate::auth_client::AuthClient;
use crate::identity_client::IdentityClient;

pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

pub struct Application;

impl Application {
    /// Connects the infrastructure, migrates the database and binds every listener.
    pub async fn build(config: ServiceConfig) -> anyhow::Result<Running> {
        let infra = Infrastructure::connect(&config, &MIGRATOR).await?;
        let auth_channel = conoceles_kit::grpc::channel(&config.auth_url)?;
        let tokens = Arc::new(TokenSource::new(
            auth_channel.clone(),
            config.service.as_str(),
            config.service_secret.clone(),
        ));
        let identity_channel = conoceles_kit::grpc::channel(&config.identity_url)?;
        let (front, _policy) = front::router(front::FrontState {
            auth: AuthClient::new(auth_channel, tokens.clone()),
            identity: IdentityClient::new(identity_channel, tokens.clone()),
            validation: crate::validation_client::ValidationClient::new(
                conoceles_kit::grpc::channel(&config.validation_url)?,
                tokens.clone(),
            ),
            statistics: crate::statistics_client::StatisticsClient::new(
                conoceles_kit::grpc::channel(&config.statistics_url)?,
                tokens.clone(),
            ),
            pool: infra.pool.clone(),
            public_url: std::env::var("CAPTURE_PUBLIC_URL")
                .map(|u| u.trim_end_matches('/').to_string())
                .unwrap_or_else(|_| "http://127.0.0.1:8081".into()),
            site_preview: front::SitePreview {
                url: std::env::var("PUBLIC_SITE_URL")
                    .unwrap_or_else(|_| "http://127.0.0.1:8080".into()),
                tokens,
            },
        });
        let keys = conoceles_kit::access::KeySet::from_auth(&config.auth_url)?;
        let routes = tonic::service::Routes::new(
            conoceles_proto::capture::v1::capture_service_server::CaptureServiceServer::new(
                grpc::CaptureApi {
                    pool: infra.pool.clone(),
                },
            ),
        );
        let consumer = conoceles_kit::amqp::Consumer::new(
            infra.pool.clone(),
            infra.broker.clone(),
            conoceles_kit::amqp::ConsumerSpec::new(reviews::CONSUMER, &reviews::ROUTING_KEYS),
            reviews::Reviews,
        );
        consumer.declare_at_start().await;
        ServiceServer::new(&config, infra)
            .access(grpc::policy(), keys)
            .grpc(routes)
            .with_outbox_relay()
            .http(front)
            .worker("reviews", move |token| consumer.run(token))
            .bind()
            .await
    }
}
