//! The `conoceles-identity` binary: without arguments it runs the service; otherwise one command.

use conoceles_kit::ServiceName;

/// The binary's entry point. Its `main` only calls this, so a release build compiles the
/// service's async code once, here, rather than again in the binary.
pub fn main() -> anyhow::Result<()> {
    conoceles_kit::server::block_on(run(std::env::args().skip(1).collect()))
}

/// Runs the service, or one of its commands (`rotate-kek`, `verify-audit`, `add-definition`, `generate-kek`, `healthcheck`, `migrate`).
pub async fn run(args: Vec<String>) -> anyhow::Result<()> {
    match args.first().map(String::as_str) {
        None => {
            conoceles_kit::server::run_main(ServiceName::Identity, crate::Application::build).await
        }
        // Recomputes the access audit's hash chain.
        Some("verify-audit") => {
            let pool = conoceles_kit::server::command_pool(ServiceName::Identity, &crate::MIGRATOR)
                .await?;
            let lines = crate::store::verify_audit(&pool).await?;
            use std::io::Write;
            writeln!(
                std::io::stdout().lock(),
                "Access audit intact: {lines} lines"
            )?;
            Ok(())
        }
        // Re-wraps every data key under IDENTITY_KEK (older keys in IDENTITY_KEK_PREVIOUS).
        Some("rotate-kek") => {
            let identity = store_from_env().await?;
            let n = identity.rotate().await?;
            use std::io::Write;
            writeln!(std::io::stdout().lock(), "Re-wrapped {n} data keys")?;
            Ok(())
        }
        // A new version of an election's questionnaire definition (versions in use never change).
        Some("add-definition") => {
            let (Some(election), Some(file)) = (args.get(1), args.get(2)) else {
                anyhow::bail!(
                    "usage: conoceles-identity add-definition <election-id> <definition.json>"
                );
            };
            let identity = store_from_env().await?;
            let json = std::fs::read_to_string(file)?;
            let version = identity
                .add_definition(election.parse()?, &json)
                .await
                .map_err(|e| anyhow::anyhow!(e.messages().join(" ")))?;
            use std::io::Write;
            writeln!(
                std::io::stdout().lock(),
                "Definition version {version} added"
            )?;
            Ok(())
        }
        Some("generate-kek") => {
            let id = args.get(1).map(String::as_str).unwrap_or("k1");
            use std::io::Write;
            writeln!(
                std::io::stdout().lock(),
                "{}",
                crate::crypto::Kek::generate(id).to_env()
            )?;
            Ok(())
        }
        Some(command @ ("healthcheck" | "migrate")) => {
            conoceles_kit::server::builtin_command(ServiceName::Identity, &crate::MIGRATOR, command)
                .await
                .expect("a built-in command")
        }
        Some(other) => {
            anyhow::bail!(
                "unknown command {other:?}; commands: rotate-kek, verify-audit, add-definition <election> <file>, generate-kek [id], healthcheck, migrate"
            )
        }
    }
}

/// The store with the keys of the environment, for the commands that read or re-wrap answers.
async fn store_from_env() -> anyhow::Result<crate::store::Identity> {
    Ok(crate::store::Identity {
        pool: conoceles_kit::server::command_pool(ServiceName::Identity, &crate::MIGRATOR).await?,
        keys: std::sync::Arc::new(crate::keyring_from_env()?),
    })
}
