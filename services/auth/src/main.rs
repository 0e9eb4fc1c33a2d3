use conoceles_kit::ServiceName;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => {
            conoceles_kit::server::run_main(ServiceName::Auth, conoceles_auth::Application::build)
                .await
        }
        Some("create-admin") => conoceles_auth::cli::create_admin(&args[1..]).await,
        Some("reset-password") => conoceles_auth::cli::reset_password(&args[1..]).await,
        Some(command @ ("healthcheck" | "migrate")) => conoceles_kit::server::builtin_command(
            ServiceName::Auth,
            &conoceles_auth::MIGRATOR,
            command,
        )
        .await
        .expect("a built-in command"),
        Some(other) => anyhow::bail!(
            "unknown command {other:?}; commands: create-admin <email>, reset-password <email>, healthcheck, migrate"
        ),
    }
}
