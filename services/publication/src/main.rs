use conoceles_kit::ServiceName;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let command = std::env::args().nth(1);
    match command.as_deref() {
        None => {
            conoceles_kit::server::run_main(
                ServiceName::Publication,
                conoceles_publication::Application::build,
            )
            .await
        }
        Some(command) => conoceles_kit::server::builtin_command(
            ServiceName::Publication,
            &conoceles_publication::MIGRATOR,
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
