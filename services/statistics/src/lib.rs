//! `statistics`: the statisticians' service — capture progress as of any cut-off, compliance,
//! and the identity-group tables `identity` computes and suppresses — over an HTTP API with
//! results cached in Redis and report snapshots kept with their hash.

pub mod api;
pub mod cache;
pub mod cli;
pub mod grpc;
pub mod labels;
pub mod privacy;
pub mod report;
pub mod service;
pub mod sources;
pub mod tables;

use std::sync::Arc;

use conoceles_kit::access::TokenSource;
use conoceles_kit::amqp::{Consumer, ConsumerSpec};
use conoceles_kit::http::session::BearerAuthenticator;
use conoceles_kit::{Infrastructure, Running, ServiceConfig, ServiceServer};
use conoceles_proto::auth::v1::auth_service_client::AuthServiceClient;
use sqlx::migrate::Migrator;

pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

pub struct Application;

impl Application {
    /// Connects the infrastructure, migrates the database and binds every listener.
    pub async fn build(config: ServiceConfig) -> anyhow::Result<Running> {
        let infra = Infrastructure::connect(&config, &MIGRATOR).await?;
        let auth = conoceles_kit::grpc::channel(&config.auth_url)?;
        let tokens = TokenSource::configured(&config)?;
        let results = cache::Results {
            cache: infra.cache.clone(),
        };
        let consumer = Consumer::new(
            infra.pool.clone(),
            infra.broker.clone(),
            ConsumerSpec::new(cache::CONSUMER, &cache::ROUTING_KEYS),
            cache::Changes {
                results: results.clone(),
            },
        );
        consumer.declare_at_start().await;
        let state = service::Statistics {
            profiles: Default::default(),
            sources: sources::Sources {
                capture: conoceles_kit::grpc::channel(&config.capture_url)?,
                identity: conoceles_kit::grpc::channel(&config.identity_url)?,
                validation: conoceles_kit::grpc::channel(&config.validation_url)?,
                tokens: tokens.clone(),
            },
            results,
            pool: infra.pool.clone(),
        };
        let routes = tonic::service::Routes::new(
            conoceles_proto::statistics::v1::statistics_service_server::StatisticsServiceServer::new(
                grpc::StatisticsApi {
                    state: state.clone(),
                },
            ),
        );
        let keys = conoceles_kit::access::KeySet::from_auth(&config.auth_url)?;
        let authenticator = Arc::new(BearerAuthenticator {
            auth: AuthServiceClient::new(auth),
            tokens,
        });
        ServiceServer::new(&config, infra)
            .access(grpc::policy(), keys)
            .grpc_sessions(authenticator.clone())
            .grpc(routes)
            .http(api::router(state, authenticator))
            .worker("changes", move |token| consumer.run(token))
            .bind()
            .await
    }
}
