use conoceles_kit::ServiceName;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    conoceles_kit::server::run_main(ServiceName::Auth, conoceles_auth::Application::build).await
}
