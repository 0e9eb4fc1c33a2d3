//! The `conoceles-capture` binary: without a command it runs the service; the commands load the
//! demo and the benchmarks' data (`conoceles-capture --help` lists them).

use clap::{Parser, Subcommand};
use conoceles_kit::cli::{Builtin, say};
use conoceles_kit::{Infrastructure, ServiceConfig, ServiceName};

use crate::tools::demo::Process;

/// Conóceles' capture service: the parties' candidacies and curricular questionnaires.
#[derive(Debug, Parser)]
#[command(name = "conoceles-capture", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Loads a demo election, its candidacies and their answers (again: updates what changed).
    SeedDemo {
        /// Which process: coahuila (deputies) or sonora (deputies and ayuntamientos).
        #[arg(long, default_value = "coahuila", value_parser = demo_process)]
        process: &'static Process,
        /// POSTULANT:COUNT — that postulant gets COUNT candidacies (load and fault runs);
        /// repeatable.
        #[arg(long, value_name = "POSTULANT:COUNT", value_parser = grow)]
        grow: Vec<(String, usize)>,
        /// Only the election and its candidacies (for journeys that capture in the browser).
        #[arg(long)]
        without_answers: bool,
        /// Questionnaires answered but left as drafts ready to submit.
        #[arg(long, conflicts_with = "without_answers")]
        without_submitting: bool,
    },
    /// Imports COUNT generated candidacies into this database and reports the time it took.
    BenchImport {
        #[arg(default_value_t = 100_000)]
        count: usize,
    },
    #[command(flatten)]
    Builtin(Builtin),
}

fn demo_process(name: &str) -> Result<&'static Process, String> {
    crate::tools::demo::process(name)
        .ok_or_else(|| format!("unknown demo process {name:?}: coahuila or sonora"))
}

fn grow(value: &str) -> Result<(String, usize), String> {
    value
        .split_once(':')
        .and_then(|(p, n)| Some((p.to_owned(), n.parse::<usize>().ok()?)))
        .filter(|(p, _)| !p.is_empty())
        .ok_or_else(|| format!("expected POSTULANT:COUNT, such as PVEM:1000; got {value:?}"))
}

/// The binary's entry point. Its `main` only calls this, so a release build compiles the
/// service's async code once, here, rather than again in the binary.
pub fn main() -> anyhow::Result<()> {
    conoceles_kit::cli::main(run)
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => {
            conoceles_kit::server::run_main(ServiceName::Capture, crate::Application::build).await
        }
        Some(Command::SeedDemo {
            process,
            grow,
            without_answers,
            without_submitting,
        }) => {
            let infra = connect().await?;
            let summary = crate::tools::demo::seed_process(&infra.pool, process).await?;
            for (postulant, count) in grow {
                crate::tools::demo::grow(&infra.pool, &postulant, count).await?;
            }
            let submitted = if without_answers {
                0
            } else {
                let submit = !without_submitting;
                let filled =
                    crate::tools::demo::capture_answers(&infra.pool, process.id, submit).await?;
                if submit { filled } else { 0 }
            };
            infra.close().await;
            say(format_args!(
                "Demo election loaded: {} candidacies created, {} updated, {} unchanged; {} questionnaires submitted",
                summary.created, summary.updated, summary.unchanged, submitted
            ))
        }
        Some(Command::BenchImport { count }) => {
            let infra = connect().await?;
            let report = crate::tools::bench::import(&infra.pool, count).await?;
            infra.close().await;
            say(report)
        }
        Some(Command::Builtin(builtin)) => {
            builtin
                .run(ServiceName::Capture, &crate::domain::MIGRATOR)
                .await
        }
    }
}

/// The service's database (migrated) and broker, for the commands that load data.
async fn connect() -> anyhow::Result<Infrastructure> {
    let config = ServiceConfig::from_env(ServiceName::Capture)?;
    Infrastructure::connect(&config, &crate::domain::MIGRATOR).await
}
