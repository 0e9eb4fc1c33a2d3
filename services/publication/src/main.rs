use conoceles_kit::ServiceName;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => {
            conoceles_kit::server::run_main(
                ServiceName::Publication,
                conoceles_publication::Application::build,
            )
            .await
        }
        // Recomputes the profiles' hash chain and checks the stored open-data release against
        // its SHA256SUMS and signature.
        Some("verify") => {
            let config = conoceles_kit::ServiceConfig::from_env(ServiceName::Publication)?;
            let pool = conoceles_kit::db::connect_and_migrate(
                &config.database_url,
                2,
                &conoceles_publication::MIGRATOR,
            )
            .await?;
            let lines = conoceles_publication::log::verify(&pool).await?;
            let files = conoceles_publication::open_data::verify_stored(&pool).await?;
            use std::io::Write;
            writeln!(
                std::io::stdout().lock(),
                "Chain of {lines} changes intact; {files} open-data files match SHA256SUMS and its signature"
            )?;
            Ok(())
        }
        // Rebuilds the read model from capture and identity (after a loss, or to check it).
        Some("rebuild") => {
            let config = conoceles_kit::ServiceConfig::from_env(ServiceName::Publication)?;
            let pool = conoceles_kit::db::connect_and_migrate(
                &config.database_url,
                4,
                &conoceles_publication::MIGRATOR,
            )
            .await?;
            let profiles = conoceles_publication::events::Profiles::from_config(&config)?;
            let done = conoceles_publication::rebuild::rebuild(&pool, &profiles).await?;
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
            &conoceles_publication::MIGRATOR,
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
