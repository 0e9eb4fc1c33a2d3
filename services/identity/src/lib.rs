//! `identity`: the sensitive identity questionnaire, isolated and encrypted.

pub mod crypto;
pub mod definition;
pub mod suppress;

use conoceles_kit::{Infrastructure, Running, ServiceConfig, ServiceServer};
use sqlx::migrate::Migrator;

pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

pub struct Application;

impl Application {
    /// Connects the infrastructure, migrates the database and binds every listener.
    pub async fn build(config: ServiceConfig) -> anyhow::Result<Running> {
        let infra = Infrastructure::connect(&config, &MIGRATOR).await?;
        ServiceServer::new(&config, infra)
            .with_outbox_relay()
            .bind()
            .await
    }
}
