//! The `conoceles-validation` binary: without a command it runs the service.

use clap::{Parser, Subcommand};
use conoceles_kit::ServiceName;
use conoceles_kit::cli::{Builtin, command_pool, say};

/// Conóceles' review service: the electoral body's checks of what the parties submit.
#[derive(Debug, Parser)]
#[command(name = "conoceles-validation", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Approves every pending review whose automatic rules all pass (the demo and the
    /// benchmarks use it in place of a person).
    ApprovePassing,
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
        None => {
            conoceles_kit::server::run_main(ServiceName::Validation, crate::Application::build)
                .await
        }
        Some(Command::ApprovePassing) => {
            let pool = command_pool(ServiceName::Validation, &crate::MIGRATOR).await?;
            let n = crate::reviews::approve_passing(&pool, chrono::Utc::now()).await?;
            say(format_args!("Approved {n} submissions"))
        }
        Some(Command::Builtin(builtin)) => {
            builtin.run(ServiceName::Validation, &crate::MIGRATOR).await
        }
    }
}
