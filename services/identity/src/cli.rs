//! The `conoceles-identity` binary: without a command it runs the service; the commands are for
//! operators (`conoceles-identity --help` lists them).

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use conoceles_kit::ServiceName;
use conoceles_kit::cli::{Builtin, command_pool, say};
use uuid::Uuid;

/// Conóceles' identity service: the candidates' sensitive questionnaires, encrypted, and the
/// only place they are read.
#[derive(Debug, Parser)]
#[command(name = "conoceles-identity", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Recomputes the access audit's hash chain.
    VerifyAudit,
    /// Re-wraps every data key under IDENTITY_KEK (older keys in IDENTITY_KEK_PREVIOUS).
    RotateKek,
    /// Regenerates every differentially private release from its sealed draw and checks that
    /// it is what was published, and checks the privacy-loss ledger's hash chain.
    VerifyReleases,
    /// Adds a new version of an election's questionnaire definition (versions in use never
    /// change).
    AddDefinition {
        /// The election's identifier (a UUID).
        election: Uuid,
        /// The definition, a JSON file.
        file: PathBuf,
    },
    /// Prints a new key-encryption key as the IDENTITY_KEK line to store in the key manager.
    GenerateKek {
        /// The key's identifier, kept beside every data key it wraps.
        #[arg(default_value = "k1")]
        id: String,
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
        None => {
            conoceles_kit::server::run_main(ServiceName::Identity, crate::Application::build).await
        }
        Some(Command::VerifyAudit) => {
            let pool = command_pool(ServiceName::Identity, &crate::MIGRATOR).await?;
            let lines = crate::store::verify_audit(&pool).await?;
            say(format_args!("Access audit intact: {lines} lines"))
        }
        Some(Command::RotateKek) => {
            let n = store_from_env().await?.rotate().await?;
            say(format_args!("Re-wrapped {n} data keys"))
        }
        Some(Command::VerifyReleases) => {
            let (releases, families) = store_from_env().await?.verify_releases().await?;
            say(format_args!(
                "Privacy-loss ledger intact; {releases} releases ({families} tables' families) regenerate as published"
            ))
        }
        Some(Command::AddDefinition { election, file }) => {
            let json = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let version = store_from_env()
                .await?
                .add_definition(election, &json)
                .await
                .map_err(|e| anyhow::anyhow!(e.messages().join(" ")))?;
            say(format_args!("Definition version {version} added"))
        }
        Some(Command::GenerateKek { id }) => say(crate::crypto::Kek::generate(&id).to_env()),
        Some(Command::Builtin(builtin)) => {
            builtin.run(ServiceName::Identity, &crate::MIGRATOR).await
        }
    }
}

/// The store with the keys of the environment, for the commands that read or re-wrap answers.
async fn store_from_env() -> anyhow::Result<crate::store::Identity> {
    Ok(crate::store::Identity {
        pool: command_pool(ServiceName::Identity, &crate::MIGRATOR).await?,
        keys: std::sync::Arc::new(crate::keyring_from_env()?),
    })
}
