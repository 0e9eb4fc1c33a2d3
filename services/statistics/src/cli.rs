//! The `conoceles-statistics` binary: without a command it runs the service.

use clap::{Parser, Subcommand};
use conoceles_kit::ServiceName;
use conoceles_kit::cli::Builtin;

/// Conóceles' statistics service: aggregate tables of the candidacies, never one person's answers.
#[derive(Debug, Parser)]
#[command(name = "conoceles-statistics", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
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
            conoceles_kit::server::run_main(ServiceName::Statistics, crate::Application::build)
                .await
        }
        Some(Command::Builtin(builtin)) => {
            builtin.run(ServiceName::Statistics, &crate::MIGRATOR).await
        }
    }
}
