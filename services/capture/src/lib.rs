//! `capture`: elections, catalogs, candidacies and the curricular questionnaire; hosts the
//! capture front (parties, candidates and the unit's back office).
//!
//! The domain — and every SQL statement — is its own crate (`domain`); this one holds the
//! adapters: `http` (the pages by audience and the JSON API), `grpc` (the service other services
//! call), `consumers` (events it applies), `clients` (one per peer it calls) and `tools` (demo
//! data, the generator and the import benchmark).

pub use conoceles_capture_domain as domain;

pub mod cli;
pub mod clients;
pub mod consumers;
pub mod grpc;
pub mod http;
pub mod mail;
pub mod tools;

use conoceles_kit::access::TokenSource;
use conoceles_kit::{Infrastructure, Running, ServiceConfig, ServiceServer};

use crate::clients::{AuthClient, IdentityClient, StatisticsClient, ValidationClient};

pub struct Application;

impl Application {
    /// Connects the infrastructure, migrates the database and binds every listener.
    pub async fn build(config: ServiceConfig) -> anyhow::Result<Running> {
        let infra = Infrastructure::connect(&config, &domain::MIGRATOR).await?;
        let auth_channel = conoceles_kit::grpc::channel(&config.auth_url)?;
        let tokens = TokenSource::configured(&config)?;
        let identity_channel = conoceles_kit::grpc::channel(&config.identity_url)?;
        let (front, _policy) = crate::http::router(crate::http::FrontState {
            auth: AuthClient::new(auth_channel, tokens.clone()),
            identity: IdentityClient::new(identity_channel, tokens.clone()),
            validation: ValidationClient::new(
                conoceles_kit::grpc::channel(&config.validation_url)?,
                tokens.clone(),
            ),
            statistics: StatisticsClient::new(
                conoceles_kit::grpc::channel(&config.statistics_url)?,
                tokens.clone(),
            ),
            pool: infra.pool.clone(),
            public_url: config.capture_public_url.clone(),
            site_preview: crate::http::SitePreview {
                url: config.public_site_url.clone(),
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
            conoceles_kit::amqp::ConsumerSpec::new(
                consumers::reviews::CONSUMER,
                &consumers::reviews::ROUTING_KEYS,
            ),
            consumers::reviews::Reviews {
                link: config.capture_public_url.clone(),
            },
        );
        consumer.declare_at_start().await;
        let retention = infra.pool.clone();
        let mailer = mail::Mailer::from_config(&config)?;
        let mail_pool = infra.pool.clone();
        let mail_link = config.capture_public_url.clone();
        ServiceServer::new(&config, infra)
            .access(grpc::policy(), keys)
            .grpc(routes)
            .with_outbox_relay()
            .http(front)
            .worker("reviews", move |token| consumer.run(token))
            .worker("mail", move |token| {
                mail::run(mail_pool, mailer, mail_link, token)
            })
            .worker("consent-form-retention", move |token| async move {
                // Deletes the signed forms of persons who left their candidacy, once the
                // election's retention is over (as identity does with their answers).
                loop {
                    match domain::consent_form::delete_expired(&retention, chrono::Utc::now()).await
                    {
                        Ok(0) => {}
                        Ok(n) => {
                            tracing::info!(deleted = n, "consent forms deleted after retention")
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "deleting expired consent forms failed")
                        }
                    }
                    tokio::select! {
                        () = token.cancelled() => return,
                        () = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
                    }
                }
            })
            .bind()
            .await
    }
}
