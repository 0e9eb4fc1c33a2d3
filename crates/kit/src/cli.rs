//! What every service binary shares on its command line: the parser's conventions (`--help`,
//! `--version`, a clear message and exit code 2 for a wrong argument) and the built-in commands,
//! `healthcheck` and `migrate`. Each service declares its own commands with `clap` and flattens
//! [`Builtin`] into them; without a command the binary runs the service.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use sqlx::PgPool;
use sqlx::migrate::Migrator;

use crate::{ServiceConfig, ServiceName};

/// The commands every service binary answers besides running.
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum Builtin {
    /// Exits 0 when the service on this machine answers /healthz on its ops port (container
    /// images have no shell or curl).
    Healthcheck,
    /// Applies the service's database migrations and exits (a deployment's init step).
    Migrate,
}

impl Builtin {
    pub async fn run(
        self,
        service: ServiceName,
        migrator: &'static Migrator,
    ) -> anyhow::Result<()> {
        match self {
            Builtin::Healthcheck => healthcheck(service).await,
            Builtin::Migrate => {
                let config = ServiceConfig::from_env(service)?;
                let pool =
                    crate::db::connect_and_migrate(&config.database_url, 1, migrator).await?;
                pool.close().await;
                Ok(())
            }
        }
    }
}

/// Parses the process's arguments into `C` and runs `run` on the kit's runtime. A wrong or
/// missing argument prints clap's message and usage on stderr and exits 2, before any
/// connection is made; `--help` and `--version` print and exit 0.
pub fn main<C, F, Fut>(run: F) -> anyhow::Result<()>
where
    C: clap::Parser,
    F: FnOnce(C) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let command = C::parse();
    crate::server::block_on(run(command))
}

/// The database of an operator command (`verify`, `rebuild`, `rotate-kek`...): configuration
/// from the environment, a pool of a few connections, migrations applied.
pub async fn command_pool(
    service: ServiceName,
    migrator: &'static Migrator,
) -> anyhow::Result<PgPool> {
    let config = ServiceConfig::from_env(service)?;
    crate::db::connect_and_migrate(&config.database_url, 4, migrator).await
}

/// Writes an operator command's result on stdout (the service's logs go to stderr).
pub fn say(line: impl std::fmt::Display) -> anyhow::Result<()> {
    use std::io::Write;
    writeln!(std::io::stdout().lock(), "{line}")?;
    Ok(())
}

async fn healthcheck(service: ServiceName) -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let config = ServiceConfig::from_env(service)?;
    let address = SocketAddr::from(([127, 0, 0, 1], config.ports.ops));
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect(address).await?;
        stream
            .write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .await?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await?;
        anyhow::Ok(head)
    };
    let head = tokio::time::timeout(Duration::from_secs(3), probe)
        .await
        .context("healthcheck timed out")??;
    anyhow::ensure!(
        head.ends_with(b" 200"),
        "ops port answered {:?}",
        String::from_utf8_lossy(&head)
    );
    Ok(())
}
