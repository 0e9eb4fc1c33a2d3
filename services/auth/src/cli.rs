//! Commands for operators:
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
