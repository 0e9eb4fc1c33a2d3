use conoceles_kit::ServiceName;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => {
            conoceles_kit::server::run_main(
                ServiceName::Validation,
                conoceles_validation::Application::build,
            )
            .await
        }
        // Approves every pending review whose automatic rules all pass (the demo and the
        // benchmarks use it in place of a person).
        Some("approve-passing") => {
            let config = conoceles_kit::ServiceConfig::from_env(ServiceName::Validation)?;
            let pool = conoceles_kit::db::connect_and_migrate(
                &config.database_url,
                2,
                &conoceles_validation::MIGRATOR,
            )
            .await?;
            let n =
                conoceles_validation::reviews::approve_passing(&pool, chrono::Utc::now()).await?;
            use std::io::Write;
            writeln!(std::io::stdout().lock(), "Approved {n} submissions")?;
            Ok(())
        }
        Some(command @ ("healthcheck" | "migrate")) => conoceles_kit::server::builtin_command(
            ServiceName::Validation,
            &conoceles_validation::MIGRATOR,
            command,
        )
        .await
        .expect("a built-in command"),
        Some(other) => anyhow::bail!(
            "unknown command {other:?}; commands: approve-passing, healthcheck, migrate"
        ),
    }
}
