//! The `conoceles-capture` binary: without arguments it runs the service; otherwise one command.

use conoceles_kit::{Infrastructure, ServiceConfig, ServiceName};

/// The binary's entry point. Its `main` only calls this, so a release build compiles the
/// service's async code once, here, rather than again in the binary.
pub fn main() -> anyhow::Result<()> {
    conoceles_kit::server::block_on(run(std::env::args().skip(1).collect()))
}

/// Runs the service, or one of its commands (`seed-demo`, `bench-import`, `healthcheck`, `migrate`).
pub async fn run(args: Vec<String>) -> anyhow::Result<()> {
    match args.first().map(String::as_str) {
        None => {
            conoceles_kit::server::run_main(ServiceName::Capture, crate::Application::build).await
        }
        Some("seed-demo") => {
            let config = ServiceConfig::from_env(ServiceName::Capture)?;
            let infra = Infrastructure::connect(&config, &crate::domain::MIGRATOR).await?;
            // `--process=sonora`: the Sonora-like process (deputies and ayuntamientos).
            let name = args
                .iter()
                .find_map(|a| a.strip_prefix("--process="))
                .unwrap_or("coahuila");
            let demo = crate::tools::demo::process(name).ok_or_else(|| {
                anyhow::anyhow!("unknown demo process {name:?}: coahuila or sonora")
            })?;
            let summary = crate::tools::demo::seed_process(&infra.pool, demo).await?;
            // `--grow=PVEM:1000`: that party gets 1,000 candidacies (load and fault runs).
            for grow in args.iter().filter_map(|a| a.strip_prefix("--grow=")) {
                let (postulant, count) = grow
                    .split_once(':')
                    .and_then(|(p, n)| Some((p, n.parse::<usize>().ok()?)))
                    .ok_or_else(|| anyhow::anyhow!("--grow wants POSTULANT:COUNT, got {grow:?}"))?;
                crate::tools::demo::grow(&infra.pool, postulant, count).await?;
            }
            // `--without-answers`: the election and its candidacies only (for journeys that
            // capture in the browser themselves). `--without-submitting`: answered, left as
            // drafts ready to submit (make bench's pipeline run submits them).
            let without = |flag: &str| args.iter().any(|a| a == flag);
            let submitted = if without("--without-answers") {
                0
            } else {
                let submit = !without("--without-submitting");
                let filled =
                    crate::tools::demo::capture_answers(&infra.pool, demo.id, submit).await?;
                if submit { filled } else { 0 }
            };
            use std::io::Write;
            writeln!(
                std::io::stdout().lock(),
                "Demo election loaded: {} candidacies created, {} updated, {} unchanged; {} questionnaires submitted",
                summary.created,
                summary.updated,
                summary.unchanged,
                submitted
            )?;
            infra.close().await;
            Ok(())
        }
        Some("bench-import") => {
            let count: usize = args
                .get(1)
                .map(|c| c.parse())
                .transpose()?
                .unwrap_or(100_000);
            let config = ServiceConfig::from_env(ServiceName::Capture)?;
            let infra = Infrastructure::connect(&config, &crate::domain::MIGRATOR).await?;
            let report = crate::tools::bench::import(&infra.pool, count).await?;
            use std::io::Write;
            writeln!(std::io::stdout().lock(), "{report}")?;
            infra.close().await;
            Ok(())
        }
        Some(command @ ("healthcheck" | "migrate")) => conoceles_kit::server::builtin_command(
            ServiceName::Capture,
            &crate::domain::MIGRATOR,
            command,
        )
        .await
        .expect("a built-in command"),
        Some(other) => {
            anyhow::bail!(
                "unknown command {other:?}; commands: seed-demo, bench-import [count], healthcheck, migrate"
            )
        }
    }
}
