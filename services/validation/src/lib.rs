//! `validation`: the rules of the Lineamientos, the review queue, observations and approvals.

pub mod cli;
pub mod compliance;
pub mod grpc;
pub mod reviews;
pub mod rules;
pub mod submitted;

use conoceles_kit::access::{KeySet, TokenSource};
use conoceles_kit::amqp::{Consumer, ConsumerSpec};
use conoceles_kit::{Infrastructure, Running, ServiceConfig, ServiceServer};
use conoceles_proto::validation::v1::validation_service_server::ValidationServiceServer;
use sqlx::migrate::Migrator;

pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

pub struct Application;

impl Application {
    /// Connects the infrastructure, migrates the database and binds every listener.
    pub async fn build(config: ServiceConfig) -> anyhow::Result<Running> {
        let infra = Infrastructure::connect(&config, &MIGRATOR).await?;
        let tokens = TokenSource::configured(&config)?;
        let upstream = compliance::Upstream {
            capture: conoceles_kit::grpc::channel(&config.capture_url)?,
            identity: conoceles_kit::grpc::channel(&config.identity_url)?,
            tokens,
        };
        let consumer = Consumer::new(
            infra.pool.clone(),
            infra.broker.clone(),
            ConsumerSpec::new(submitted::CONSUMER, &submitted::ROUTING_KEYS),
            submitted::Submitted {
                upstream: upstream.clone(),
            },
        );
        consumer.declare_at_start().await;
        let keys = KeySet::from_auth(&config.auth_url)?;
        let routes =
            tonic::service::Routes::new(ValidationServiceServer::new(grpc::ValidationApi {
                pool: infra.pool.clone(),
                upstream,
            }));
        ServiceServer::new(&config, infra)
            .access(grpc::policy(), keys)
            .grpc(routes)
            .with_outbox_relay()
            .worker("curricular", move |token| consumer.run(token))
            .bind()
            .await
    }
}
