//! The `conoceles-auth` binary: without arguments it runs the service; otherwise a command for
//! operators:
//! - `conoceles-auth create-admin <email>`: the first administrator of a new installation;
//! - `conoceles-auth reset-password <email>`: a new generated password for a locked-out person.
//!
//! Both print the generated password once; it must be changed at first login.

use std::sync::Arc;

use conoceles_kit::access::Role;
use conoceles_kit::clock::SystemClock;
use conoceles_kit::{Infrastructure, ServiceConfig, ServiceName};

use crate::domain::Email;
use crate::settings::AuthSettings;

/// The binary's entry point. Its `main` only calls this, so a release build compiles the
/// service's async code once, here, rather than again in the binary.
pub fn main() -> anyhow::Result<()> {
    conoceles_kit::server::block_on(run(std::env::args().skip(1).collect()))
}

/// Runs the service, or one of its commands (`create-admin`, `reset-password`, `healthcheck`,
/// `migrate`).
pub async fn run(args: Vec<String>) -> anyhow::Result<()> {
    match args.first().map(String::as_str) {
        None => conoceles_kit::server::run_main(ServiceName::Auth, crate::Application::build).await,
        Some("create-admin") => create_admin(&args[1..]).await,
        Some("reset-password") => reset_password(&args[1..]).await,
        Some(command @ ("healthcheck" | "migrate")) => {
            conoceles_kit::server::builtin_command(ServiceName::Auth, &crate::MIGRATOR, command)
                .await
                .expect("a built-in command")
        }
        Some(other) => anyhow::bail!(
            "unknown command {other:?}; commands: create-admin <email>, reset-password <email>, healthcheck, migrate"
        ),
    }
}

pub async fn create_admin(args: &[String]) -> anyhow::Result<()> {
    let [email] = args else {
        anyhow::bail!("usage: conoceles-auth create-admin <email>");
    };
    let email = Email::parse(email).map_err(|m| anyhow::anyhow!("{m}"))?;
    let config = ServiceConfig::from_env(ServiceName::Auth)?;
    let infra = Infrastructure::connect(&config, &crate::MIGRATOR).await?;
    let accounts = crate::accounts(&infra, AuthSettings::from_env()?, Arc::new(SystemClock));
    let (account, password) = accounts
        .create(None, &email, Role::Admin, None, None, None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut out = std::io::stdout().lock();
    use std::io::Write;
    writeln!(out, "Administrator account created: {}", account.email)?;
    writeln!(
        out,
        "Password (change it at first login): {}",
        password.expose()
    )?;
    infra.close().await;
    Ok(())
}

pub async fn reset_password(args: &[String]) -> anyhow::Result<()> {
    let [email] = args else {
        anyhow::bail!("usage: conoceles-auth reset-password <email>");
    };
    let email = Email::parse(email).map_err(|m| anyhow::anyhow!("{m}"))?;
    let config = ServiceConfig::from_env(ServiceName::Auth)?;
    let infra = Infrastructure::connect(&config, &crate::MIGRATOR).await?;
    let accounts = crate::accounts(&infra, AuthSettings::from_env()?, Arc::new(SystemClock));
    let account = crate::store::by_email(&infra.pool, &email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no account with email {email}"))?;
    let password = accounts
        .reset_password(None, account.id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut out = std::io::stdout().lock();
    use std::io::Write;
    writeln!(out, "Password reset: {}", account.email)?;
    writeln!(
        out,
        "Password (change it at first login): {}",
        password.expose()
    )?;
    infra.close().await;
    Ok(())
}
