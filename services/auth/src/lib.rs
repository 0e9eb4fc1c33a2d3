//! `auth`: accounts, roles, sessions and service tokens. The internet-facing login goes through
//! the capture front, which calls this service; nothing else stores passwords or sessions.

pub mod accounts;
pub mod cli;
pub mod domain;
pub mod generated;
pub mod grpc;
pub mod hashing;
pub mod limiter;
pub mod policy;
pub mod sessions;
pub mod settings;
pub mod store;

use std::collections::HashMap;
use std::sync::Arc;

use conoceles_kit::access::KeySet;
use conoceles_kit::amqp::{Consumer, ConsumerSpec};
use conoceles_kit::clock::{SharedClock, SystemClock};
use conoceles_kit::{Infrastructure, Running, ServiceConfig, ServiceServer};
use conoceles_proto::auth::v1::auth_service_server::AuthServiceServer;
use sqlx::migrate::Migrator;

use crate::accounts::Accounts;
use crate::hashing::Hasher;
use crate::limiter::LoginLimiter;
use crate::sessions::Sessions;
use crate::settings::AuthSettings;

pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

pub struct Application;

impl Application {
    /// Settings from the environment, the system clock.
    pub async fn build(config: ServiceConfig) -> anyhow::Result<Running> {
        let settings = AuthSettings::from_env()?;
        Self::build_with(config, settings, Arc::new(SystemClock)).await
    }

    /// With explicit settings and clock (tests move the clock).
    pub async fn build_with(
        config: ServiceConfig,
        settings: AuthSettings,
        clock: SharedClock,
    ) -> anyhow::Result<Running> {
        let infra = Infrastructure::connect(&config, &MIGRATOR).await?;
        let accounts = accounts(&infra, settings, clock);
        let signer = &accounts.settings.signer;
        let keys = KeySet::fixed(HashMap::from([(
            signer.key_id().to_string(),
            signer.verifying_key(),
        )]));
        let consumer = Consumer::new(
            infra.pool.clone(),
            infra.broker.clone(),
            ConsumerSpec::new(generated::CONSUMER, &generated::ROUTING_KEYS),
            generated::CandidacyAccounts {
                domain: accounts.settings.generated_account_domain.clone(),
            },
        );
        consumer.declare_at_start().await;
        let routes =
            tonic::service::Routes::new(AuthServiceServer::new(grpc::AuthApi { accounts }));
        ServiceServer::new(&config, infra)
            .access(policy::policy(), keys)
            .grpc(routes)
            .with_outbox_relay()
            .worker("candidacy-accounts", move |token| consumer.run(token))
            .bind()
            .await
    }
}

/// The account use cases over the service's infrastructure.
pub fn accounts(infra: &Infrastructure, settings: AuthSettings, clock: SharedClock) -> Accounts {
    let settings = Arc::new(settings);
    Accounts {
        pool: infra.pool.clone(),
        clock: clock.clone(),
        hasher: Hasher::new(settings.hash_concurrency),
        sessions: Sessions::new(
            infra.pool.clone(),
            infra.cache.clone(),
            clock,
            settings.session_idle,
            settings.session_absolute,
        ),
        limiter: LoginLimiter::new(
            infra.cache.clone(),
            settings.failures_per_account,
            settings.failures_per_address,
            settings.login_window,
        ),
        settings,
    }
}
