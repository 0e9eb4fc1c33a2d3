//! The `conoceles-statistics` binary: without arguments it runs the service; otherwise one command.

use conoceles_kit::ServiceName;

/// The binary's entry point. Its `main` only calls this, so a release build compiles the
/// service's async code once, here, rather than again in the binary.
pub fn main() -> anyhow::Result<()> {
    conoceles_kit::server::block_on(run(std::env::args().skip(1).collect()))
}

/// Runs the service, or one of its commands (`healthcheck`, `migrate`).
pub async fn run(args: Vec<String>) -> anyhow::Result<()> {
    match args.first().map(String::as_str) {
        None => {
            conoceles_kit::server::run_main(ServiceName::Statistics, crate::Application::build)
                .await
        }
        Some(command) => conoceles_kit::server::builtin_command(
            ServiceName::Statistics,
            &crate::MIGRATOR,
            command,
        )
        .await
        .unwrap_or_else(|| {
            Err(anyhow::anyhow!(
                "unknown command {command:?}; commands: healthcheck, migrate"
            ))
        }),
    }
}
