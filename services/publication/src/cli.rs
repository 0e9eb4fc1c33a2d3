//! The `conoceles-publication` binary: without a command it runs the service.

use clap::{Parser, Subcommand};
use conoceles_kit::ServiceName;
use conoceles_kit::cli::{Builtin, command_pool, say};

/// Conóceles' public site, its read model and the open data.
#[derive(Debug, Parser)]
#[command(name = "conoceles-publication", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Recomputes the profiles' hash chain and checks the stored open-data release against its
    /// SHA256SUMS and signature.
    Verify,
    /// Rebuilds the read model from capture and identity (after a loss, or to check it).
    Rebuild,
    #[command(flatten)]
    Builtin(Builtin),
}

/// The binary's entry point (its `main` only calls this, so the release build compiles the
/// service's async code here, once).
pub fn main() -> anyhow::Result<()> {
    conoceles_kit::cli::main(run)
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => {
            conoceles_kit::server::run_main(ServiceName::Publication, crate::Application::build)
                .await
        }
        Some(Command::Verify) => {
            let pool = command_pool(ServiceName::Publication, &crate::MIGRATOR).await?;
            let lines = crate::log::verify(&pool).await?;
            let files = crate::open_data::verify_stored(&pool).await?;
            say(format_args!(
                "Chain of {lines} changes intact; {files} open-data files match SHA256SUMS and its signature"
            ))
        }
        Some(Command::Rebuild) => {
            let pool = command_pool(ServiceName::Publication, &crate::MIGRATOR).await?;
            let config = conoceles_kit::ServiceConfig::from_env(ServiceName::Publication)?;
            let profiles = crate::events::Profiles::from_config(&config)?;
            let done = crate::rebuild::rebuild(&pool, &profiles).await?;
            say(format_args!(
                "Rebuilt: {} profiles published, {} withdrawn",
                done.published, done.withdrawn
            ))
        }
        Some(Command::Builtin(builtin)) => {
            builtin
                .run(ServiceName::Publication, &crate::MIGRATOR)
                .await
        }
    }
}
