//! The `conoceles-publication` binary's commands: none runs the service.

use conoceles_kit::ServiceName;

/// The binary's entry point (its `main` only calls this, so the release build compiles the
/// service's async code here, once).
pub fn main() -> anyhow::Result<()> {
    conoceles_kit::server::block_on(run(std::env::args().skip(1).collect()))
}

/// Runs the service, or one of its commands (`verify`, `rebuild`, `healthcheck`, `migrate`).
pub async fn run(args: Vec<String>) -> anyhow::Result<()> {
    match args.first().map(String::as_str) {
        None => {
            conoceles_kit::server::run_main(ServiceName::Publication, crate::Application::build)
                .await
        }
        // Recomputes the profiles' hash chain and checks the stored open-data release against
        // its SHA256SUMS and signature.
        Some("verify") => {
            let pool =
                conoceles_kit::server::command_pool(ServiceName::Publication, &crate::MIGRATOR)
                    .await?;
            let lines = crate::log::verify(&pool).await?;
            let files = crate::open_data::verify_stored(&pool).await?;
            use std::io::Write;
            writeln!(
                std::io::stdout().lock(),
                "Chain of {lines} changes intact; {files} open-data files match SHA256SUMS and its signature"
            )?;
            Ok(())
        }
        // Rebuilds the read model from capture and identity (after a loss, or to check it).
        Some("rebuild") => {
            let pool =
                conoceles_kit::server::command_pool(ServiceName::Publication, &crate::MIGRATOR)
                    .await?;
            let config = conoceles_kit::ServiceConfig::from_env(ServiceName::Publication)?;
            let profiles = crate::events::Profiles::from_config(&config)?;
            let done = crate::rebuild::rebuild(&pool, &profiles).await?;
            use std::io::Write;
            writeln!(
                std::io::stdout().lock(),
                "Rebuilt: {} profiles published, {} withdrawn",
                done.published,
                done.withdrawn
            )?;
            Ok(())
        }
        Some(command) => conoceles_kit::server::builtin_command(
            ServiceName::Publication,
            &crate::MIGRATOR,
            command,
        )
        .await
        .unwrap_or_else(|| {
            Err(anyhow::anyhow!(
                "unknown command {command:?}; commands: verify, rebuild, healthcheck, migrate"
            ))
        }),
    }
}
