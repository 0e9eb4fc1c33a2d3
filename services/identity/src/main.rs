use conoceles_kit::ServiceName;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    conoceles_kit::server::run_main(
        ServiceName::Identity,
        conoceles_identity::Application::build,
    )
    .await
}
