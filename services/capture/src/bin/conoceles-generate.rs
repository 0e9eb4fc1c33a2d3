//! `conoceles-generate demo <file>`: the demo election's candidacies.
//! `conoceles-generate sonora <file>`: the Sonora-like demo's (deputies and ayuntamientos).
//! `conoceles-generate national <count> <seed> <file>`: an import file of `count` MR
//! candidacies over synthetic districts (`00001`…, six parties each), deterministic by seed:
//! the size of a national process, for benchmarks.
//! `conoceles-generate curricula <template.csv> <seed> <file>`: a bulk-capture template (as
//! downloaded from the capture front) filled with valid curricular answers.
//! `conoceles-generate photo <seed> <file.jpg>`: a small valid portrait JPEG.
//! (Identity answers are generated with the identity questionnaire.)

use std::io::Write;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let csv = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["demo", _] => conoceles_capture::tools::generator::demo_csv(),
        ["sonora", _] => conoceles_capture::tools::generator::sonora_csv(),
        ["curricula", template, seed, _] => {
            let template = std::fs::read_to_string(template)?;
            conoceles_capture::tools::generator::curricula::fill_template(&template, seed.parse()?)?
        }
        ["photo", seed, path] => {
            let bytes =
                conoceles_capture::tools::generator::curricula::photo_jpeg(seed.parse()?, 480, 600);
            std::fs::write(path, bytes)?;
            return Ok(());
        }
        ["national", count, seed, _] => {
            let count: usize = count.parse()?;
            let seed: u64 = seed.parse()?;
            let slots = conoceles_capture::tools::generator::national_slots(
                count,
                &conoceles_capture::tools::generator::NATIONAL_POSTULANTS,
            );
            conoceles_capture::tools::generator::candidacies_csv(seed, "NAL", &slots)
        }
        _ => {
            anyhow::bail!(
                "usage: conoceles-generate demo <file> | sonora <file> | national <count> <seed> <file> | \
                 curricula <template.csv> <seed> <file> | photo <seed> <file.jpg>"
            )
        }
    };
    let path = args.last().expect("a file");
    std::fs::File::create(path)?.write_all(csv.as_bytes())?;
    let mut err = std::io::stderr().lock();
    writeln!(err, "wrote {} rows to {path}", csv.lines().count() - 1)?;
    Ok(())
}
