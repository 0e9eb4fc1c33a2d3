//! The `conoceles-validation` binary: without arguments it runs the service; otherwise one command.

use conoceles_kit::ServiceName;

/// The binary's entry point. Its `main` only calls this, so a release build compiles the
/// service's async code once, here, rather than again in the binary.
pub fn main() -> anyhow::Result<()> {
    conoceles_kit::server::block_on(run(std::env::args().skip(1).collect()))
}

/// Runs the service, or one of its commands (`approve-passing`, `healthcheck`, `migrate`).
pub async fn run(args: Vec<String>) -> anyhow::Result<()> {
    match args.first().map(String::as_str) {
        None => {
            conoceles_kit::server::run_main(ServiceName::Validation, crate::Application::build)
                .await
        }
        // Approves every pending review whose automatic rules all pass (the demo and the
        // benchmarks use it in place of a person).
        Some("approve-passing") => {
            let pool =
                conoceles_kit::server::command_pool(ServiceName::Validation, &crate::MIGRATOR)
                    .await?;
            let n = crate::reviews::approve_passing(&pool, chrono::Utc::now()).await?;
            use std::io::Write;
            writeln!(std::io::stdout().lock(), "Approved {n} submissions")?;
            Ok(())
        }
        Some(command @ ("healthcheck" | "migrate")) => conoceles_kit::server::builtin_command(
            ServiceName::Validation,
            &crate::MIGRATOR,
            command,
        )
        .await
        .expect("a built-in command"),
        Some(other) => anyhow::bail!(
            "unknown command {other:?}; commands: approve-passing, healthcheck, migrate"
        ),
    }
}
