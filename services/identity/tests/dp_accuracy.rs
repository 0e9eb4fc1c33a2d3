//! The accuracy of the differentially private identity tables (`make dp-accuracy`): synthetic
//! elections at the demo's scale and at a national one, released with the default parameters
//! (ρ = 1 per release over the eight question families, threshold of detail 10), and for every
//! table (family × dimension) the mean absolute error of its published counts against the true
//! counts, computed here and printed as the table docs/benchmarks.md keeps. Never published per
//! cell: these are synthetic answers.
//!
//! The true counts are computed by this file from the persons' answers, independently of the
//! release code.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::time::Instant;

/// A line of the report on standard output (the figures are what this test is for).
macro_rules! out {
    ($($arg:tt)*) => {
        writeln!(std::io::stdout(), $($arg)*).expect("standard output")
    };
}

use conoceles_identity::definition::{Definition, Kind};
use conoceles_identity::dp::family::{self, Parameters};
use conoceles_identity::release::{Dimension, Person};

/// A small deterministic generator (the data only needs to look like an election's).
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() % 1_000_000) as f64 / 1_000_000.0 < p
    }
}

struct Election {
    dimensions: Vec<Dimension>,
    persons: Vec<Person>,
}

/// `candidacies` candidacies (a holder and an alternate each); `counted` of the persons answer
/// with statistics consent; a tenth of those publish their answers.
fn election(
    definition: &Definition,
    candidacies: usize,
    constituencies: u64,
    counted: f64,
) -> Election {
    let mut draw = Draw(0x2027_0602);
    let offices = [
        "diputacion_mr",
        "diputacion_rp",
        "ayuntamiento",
        "senaduria",
        "gubernatura",
    ];
    let parties = ["PAN", "PRI", "PRD", "PT", "PVEM", "MC", "MORENA", "IND"];
    let mut sizes: Vec<BTreeMap<String, u64>> = vec![BTreeMap::new(); 6];
    let mut persons = Vec::new();
    for _ in 0..candidacies {
        let office = offices[draw.below(offices.len() as u64) as usize];
        let principle = if office == "diputacion_rp" {
            "rp"
        } else {
            "mr"
        };
        let postulant = parties[draw.below(parties.len() as u64) as usize];
        let constituency = format!("{:04}", draw.below(constituencies));
        let sex = if draw.chance(0.5) { "mujer" } else { "hombre" };
        let age = ["18-29", "30-44", "45-59", "60+"][draw.below(4) as usize];
        for holder in [true, false] {
            let groups = [
                if holder { sex } else { "sin_dato" }.to_string(),
                office.to_string(),
                principle.to_string(),
                postulant.to_string(),
                constituency.clone(),
                if holder { age } else { "sin_dato" }.to_string(),
            ];
            for (d, g) in groups.iter().enumerate() {
                *sizes[d].entry(g.clone()).or_default() += 1;
            }
            if !draw.chance(counted) {
                continue;
            }
            persons.push(Person {
                groups: groups.to_vec(),
                answers: answers(definition, &mut draw),
                public: holder && draw.chance(0.1),
            });
        }
    }
    let names = [
        "sex",
        "office",
        "principle",
        "postulant",
        "constituency",
        "age_band",
    ];
    Election {
        dimensions: names
            .iter()
            .zip(sizes)
            .map(|(name, groups)| Dimension {
                name: name.to_string(),
                groups: groups.into_iter().collect(),
            })
            .collect(),
        persons,
    }
}

/// Answers to every single-choice question asked: "yes" to a yes/no question one time in eight,
/// other options falling off with their order, one in twenty declined.
fn answers(definition: &Definition, draw: &mut Draw) -> BTreeMap<String, Option<String>> {
    let mut out: BTreeMap<String, Option<String>> = BTreeMap::new();
    for q in definition
        .questions
        .iter()
        .filter(|q| q.kind == Kind::Single)
    {
        if let Some(c) = &q.when
            && out.get(&c.question).cloned().flatten().as_deref() != Some(c.option.as_str())
        {
            continue;
        }
        let answer = if draw.chance(0.05) || q.options.is_empty() {
            None
        } else if q.options.len() == 2 && q.options[0].id == "yes" {
            Some(if draw.chance(0.125) { "yes" } else { "no" }.to_string())
        } else {
            let weights: Vec<u64> = (0..q.options.len() as u64)
                .map(|i| 64 >> i.min(5))
                .collect();
            let mut pick = draw.below(weights.iter().sum());
            let mut chosen = 0;
            for (i, w) in weights.iter().enumerate() {
                if pick < *w {
                    chosen = i;
                    break;
                }
                pick -= w;
            }
            Some(q.options[chosen].id.clone())
        };
        out.insert(q.id.clone(), answer);
    }
    out
}

/// The true counts of every value a family publishes, from the persons themselves:
/// `(dimension, question, option, group)`, with `*` for the margins and the persons counted.
fn truths(
    definition: &Definition,
    root: &str,
    names: &[String],
    persons: &[Person],
) -> HashMap<(String, String, String, String), u64> {
    let questions: Vec<_> = definition
        .questions
        .iter()
        .filter(|q| q.kind == Kind::Single)
        .filter(|q| q.id == root || q.when.as_ref().is_some_and(|c| c.question == root))
        .collect();
    let mut out = HashMap::new();
    for p in persons {
        let mut rows = vec![("*".to_string(), "*".to_string())];
        for q in &questions {
            let asked = q.when.as_ref().is_none_or(|c| {
                p.answers.get(&c.question).cloned().flatten().as_deref() == Some(c.option.as_str())
            });
            let option = match (asked, p.answers.get(&q.id).cloned().flatten()) {
                (false, _) => "not_applicable".to_string(),
                (true, None) => "declined".to_string(),
                (true, Some(o)) => o,
            };
            rows.push((q.id.clone(), option));
        }
        for (question, option) in rows {
            let mut add = |dimension: &str, group: &str| {
                *out.entry((
                    dimension.to_string(),
                    question.clone(),
                    option.clone(),
                    group.to_string(),
                ))
                .or_default() += 1;
            };
            add("*", "*");
            for (d, name) in names.iter().enumerate() {
                add(name, &p.groups[d]);
            }
        }
    }
    out
}

fn measure(label: &str, candidacies: usize, constituencies: u64) {
    let definition = Definition::default_topics();
    let election = election(&definition, candidacies, constituencies, 0.6);
    let roots: Vec<String> = definition
        .questions
        .iter()
        .filter(|q| q.kind == Kind::Single && q.when.is_none())
        .map(|q| q.id.clone())
        .collect();
    let parameters = Parameters {
        rho: 1.0 / roots.len() as f64,
        detail_threshold: 10,
    };
    out!(
        "\n{label}: {candidacies} candidacies, {} persons, {} counted; ρ = 1 per release ({:.3} per family), threshold 10\n",
        candidacies * 2,
        election.persons.len(),
        parameters.rho
    );
    out!(
        "| Family | Dimension | Groups | Cells | Coarsened | MAE | Largest error | Mean 90 % half-width | Fit time |"
    );
    out!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for root in &roots {
        let started = Instant::now();
        let (m, public) = family::measure(
            &definition,
            root,
            &election.dimensions,
            &election.persons,
            parameters,
        )
        .expect("measured");
        let values =
            family::publish(&definition, root, &election.dimensions, &public, &m).expect("fitted");
        let took = started.elapsed();
        let names: Vec<String> = election.dimensions.iter().map(|d| d.name.clone()).collect();
        let truth = truths(&definition, root, &names, &election.persons);
        let mut per: BTreeMap<String, (u64, u64, u64, u64, f64)> = BTreeMap::new();
        for v in &values {
            let e = per.entry(v.dimension.clone()).or_default();
            let Some(count) = v.count else {
                e.3 += 1;
                continue;
            };
            let key = (
                v.dimension.clone(),
                v.question.clone(),
                v.option.clone(),
                v.group.clone(),
            );
            let t = truth.get(&key).copied().unwrap_or(0);
            e.0 += 1;
            e.1 += count.abs_diff(t);
            e.2 = e.2.max(count.abs_diff(t));
            e.4 += v.half_width;
        }
        for (dimension, (cells, error, largest, coarsened, half)) in per {
            let groups = election
                .dimensions
                .iter()
                .find(|d| d.name == dimension)
                .map_or(1, |d| d.groups.len());
            out!(
                "| {root} | {} | {groups} | {cells} | {coarsened} | {:.2} | {largest} | {:.1} | {:.2} s |",
                if dimension == "*" {
                    "(margins)"
                } else {
                    &dimension
                },
                error as f64 / cells.max(1) as f64,
                half / cells.max(1) as f64,
                took.as_secs_f64()
            );
        }
    }
}

#[test]
#[ignore = "long: run by `make dp-accuracy` (release build)"]
fn accuracy_at_the_demos_scale() {
    measure("Demo scale", 150, 8);
}

#[test]
#[ignore = "long: run by `make dp-accuracy` (release build)"]
fn accuracy_at_national_scale() {
    measure("National scale", 100_000, 2_000);
}
