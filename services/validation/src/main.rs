use conoceles_kit::ServiceName;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    conoceles_kit::server::run_main(
        ServiceName::Validation,
        conoceles_validation::Application::build,
    )
    .await
}
