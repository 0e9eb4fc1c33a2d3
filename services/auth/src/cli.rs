//! The `conoceles-auth` binary: without a command it runs the service; the commands are for
//! operators (`conoceles-auth --help` lists them). `create-admin` and `reset-password` print the
//! generated password once; it must be changed at first login.

use std::sync::Arc;

use clap::{Parser, Subcommand};
use conoceles_kit::access::Role;
use conoceles_kit::cli::{Builtin, say};
use conoceles_kit::clock::SystemClock;
use conoceles_kit::{Infrastructure, ServiceConfig, ServiceName};

use crate::domain::Email;
use crate::settings::AuthSettings;

/// Conóceles' accounts, sessions and login service.
#[derive(Debug, Parser)]
#[command(name = "conoceles-auth", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Creates the first administrator of a new installation and prints their password.
    CreateAdmin {
        /// The administrator's email address (their login).
        #[arg(value_parser = Email::parse)]
        email: Email,
    },
    /// Gives a locked-out person a new generated password and prints it.
    ResetPassword {
        /// The email address of the account.
        #[arg(value_parser = Email::parse)]
        email: Email,
    },
    #[command(flatten)]
    Builtin(Builtin),
}

/// The binary's entry point. Its `main` only calls this, so a release build compiles the
/// service's async code once, here, rather than again in the binary.
pub fn main() -> anyhow::Result<()> {
    conoceles_kit::cli::main(run)
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => conoceles_kit::server::run_main(ServiceName::Auth, crate::Application::build).await,
        Some(Command::CreateAdmin { email }) => create_admin(&email).await,
        Some(Command::ResetPassword { email }) => reset_password(&email).await,
        Some(Command::Builtin(builtin)) => builtin.run(ServiceName::Auth, &crate::MIGRATOR).await,
    }
}

async fn create_admin(email: &Email) -> anyhow::Result<()> {
    let config = ServiceConfig::from_env(ServiceName::Auth)?;
    let infra = Infrastructure::connect(&config, &crate::MIGRATOR).await?;
    let accounts = crate::accounts(&infra, AuthSettings::from_env()?, Arc::new(SystemClock));
    let (account, password) = accounts
        .create(None, email, Role::Admin, None, None, None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    say(format_args!(
        "Administrator account created: {}",
        account.email
    ))?;
    say(format_args!(
        "Password (change it at first login): {}",
        password.expose()
    ))?;
    infra.close().await;
    Ok(())
}

async fn reset_password(email: &Email) -> anyhow::Result<()> {
    let config = ServiceConfig::from_env(ServiceName::Auth)?;
    let infra = Infrastructure::connect(&config, &crate::MIGRATOR).await?;
    let accounts = crate::accounts(&infra, AuthSettings::from_env()?, Arc::new(SystemClock));
    let account = crate::store::by_email(&infra.pool, email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no account with email {email}"))?;
    let password = accounts
        .reset_password(None, account.id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    say(format_args!("Password reset: {}", account.email))?;
    say(format_args!(
        "Password (change it at first login): {}",
        password.expose()
    ))?;
    infra.close().await;
    Ok(())
}
