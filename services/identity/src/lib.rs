//! `identity`: the sensitive identity questionnaire, isolated and encrypted (DESIGN §3, §7).
//! Only this service ever holds an answer in clear, and only in memory.

pub mod aggregates;
pub mod cli;
pub mod crypto;
pub mod dp;
/// The questionnaire as data (shared with the capture front, which renders it).
pub use conoceles_identity_questionnaire as definition;
pub mod events;
pub mod grpc;
pub mod policy;
pub mod private;
pub mod protection;
pub mod release;
pub mod store;
pub mod suppress;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use conoceles_kit::access::KeySet;
use conoceles_kit::amqp::{Consumer, ConsumerSpec};
use conoceles_kit::{Infrastructure, Running, ServiceConfig, ServiceServer};
use conoceles_proto::identity::v1::identity_service_server::IdentityServiceServer;
use sqlx::migrate::Migrator;

use crate::crypto::{Kek, Keyring};
use crate::store::Identity;

pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// The key-encryption keys from the environment: `IDENTITY_KEK` (`id:base64`, 32 bytes; new
/// data keys are wrapped with it) and `IDENTITY_KEK_PREVIOUS` (comma-separated, still able to
/// unwrap until `conoceles-identity rotate-kek` re-wraps everything).
pub fn keyring_from_env() -> anyhow::Result<Keyring> {
    keyring_from_lookup(|k| std::env::var(k).ok())
}

pub fn keyring_from_lookup(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Keyring> {
    let current = get("IDENTITY_KEK").context(
        "IDENTITY_KEK is not set: the identity service needs its key-encryption key (id:base64 of 32 bytes)",
    )?;
    conoceles_kit::config::refuse_demo_secret("IDENTITY_KEK", &current, &get)
        .map_err(|e| anyhow::anyhow!("{}: {}", e.key, e.reason))?;
    let previous = get("IDENTITY_KEK_PREVIOUS")
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(Kek::parse)
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Keyring {
        current: Kek::parse(&current)?,
        previous,
    })
}

pub struct Application;

impl Application {
    pub async fn build(config: ServiceConfig) -> anyhow::Result<Running> {
        Self::build_with(config, keyring_from_env()?).await
    }

    /// With explicit keys (tests).
    pub async fn build_with(config: ServiceConfig, keys: Keyring) -> anyhow::Result<Running> {
        let infra = Infrastructure::connect(&config, &MIGRATOR).await?;
        let identity = Identity {
            pool: infra.pool.clone(),
            keys: Arc::new(keys),
        };
        let consumer = Consumer::new(
            infra.pool.clone(),
            infra.broker.clone(),
            ConsumerSpec::new(events::CONSUMER, &events::ROUTING_KEYS),
            events::Candidacies,
        );
        consumer.declare_at_start().await;
        let keys = KeySet::from_auth(&config.auth_url)?;
        let routes = tonic::service::Routes::new(IdentityServiceServer::new(grpc::IdentityApi {
            identity: identity.clone(),
        }));
        let retention = identity.clone();
        ServiceServer::new(&config, infra)
            .access(policy::policy(), keys)
            .grpc(routes)
            .with_outbox_relay()
            .worker("candidacies", move |token| consumer.run(token))
            .worker("retention", move |token| async move {
                // Deletes blocked answers whose retention is over, once a minute.
                loop {
                    match retention.delete_expired(chrono::Utc::now()).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(deleted = n, "identity answers deleted after retention"),
                        Err(e) => tracing::error!(error = %format!("{e:#}"), "deleting expired answers failed"),
                    }
                    tokio::select! {
                        () = token.cancelled() => return,
                        () = tokio::time::sleep(Duration::from_secs(60)) => {}
                    }
                }
            })
            .bind()
            .await
    }
}
