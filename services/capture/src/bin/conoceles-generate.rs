//! `conoceles-generate demo <file>`: the demo election's candidacies.
//! `conoceles-generate national <count> <seed> <file>`: an import file of `count` MR
//! candidacies spread over 32 states' districts (for benchmarks), deterministic by seed.

use std::io::Write;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let csv = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["demo", _] => conoceles_capture::generator::demo_csv(),
        ["national", count, seed, _] => {
            let count: usize = count.parse()?;
            let seed: u64 = seed.parse()?;
            let postulants = ["PAN", "PRI", "MORENA", "PT", "PVEM", "MC"];
            let slots: Vec<_> = (0..count)
                .map(|i| conoceles_capture::generator::Slot {
                    office: "diputacion_mr",
                    principle: "mr",
                    constituency: format!("{:04}", i / postulants.len() + 1),
                    postulant: postulants[i % postulants.len()],
                    list_position: 0,
                })
                .collect();
            conoceles_capture::generator::candidacies_csv(seed, "NAL", &slots)
        }
        _ => {
            anyhow::bail!("usage: conoceles-generate demo <file> | national <count> <seed> <file>")
        }
    };
    let path = args.last().expect("a file");
    std::fs::File::create(path)?.write_all(csv.as_bytes())?;
    let mut err = std::io::stderr().lock();
    writeln!(
        err,
        "wrote {} candidacies to {path}",
        csv.lines().count() - 1
    )?;
    Ok(())
}
