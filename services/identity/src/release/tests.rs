use std::collections::BTreeMap;

use super::auditor::{Published, Someone, audit, audit_between};
use super::*;

const DIMENSIONS: [(&str, &[&str]); 2] = [
    ("sex", &["mujer", "hombre", "sin_dato"]),
    ("postulant", &["PAN", "PT", "MC", "MORENA"]),
];

fn definition() -> Definition {
    Definition::default_topics()
}

/// A person in group `sex`, `postulant` with the given answers.
fn someone(sex: &str, postulant: &str, answers: &[(&str, Option<&str>)], public: bool) -> Someone {
    Someone {
        groups: BTreeMap::from([
            ("sex".to_string(), sex.to_string()),
            ("postulant".to_string(), postulant.to_string()),
        ]),
        answers: answers
            .iter()
            .map(|(q, a)| (q.to_string(), a.map(str::to_string)))
            .collect(),
        public,
    }
}

/// The public size of each group: twice the persons the dataset puts in it (every candidacy
/// has persons who did not answer or consent).
fn groups(dimension: &str, people: &[Someone]) -> Vec<(String, u64)> {
    let names = DIMENSIONS.iter().find(|(d, _)| *d == dimension).unwrap().1;
    names
        .iter()
        .map(|g| {
            let n = people.iter().filter(|s| s.groups[dimension] == *g).count() as u64;
            (g.to_string(), 2 * n + 2)
        })
        .collect()
}

struct Run {
    groups: Vec<Vec<(String, u64)>>,
    release: Release,
}

fn run(question: &str, people: &[Someone], memory: Option<&Memory>, rules: Rules) -> Run {
    let dimensions: Vec<Dimension> = DIMENSIONS
        .iter()
        .map(|(name, _)| Dimension {
            name: name.to_string(),
            groups: groups(name, people),
        })
        .collect();
    let persons: Vec<Person> = people
        .iter()
        .map(|s| Person {
            groups: DIMENSIONS
                .iter()
                .map(|(d, _)| s.groups[*d].clone())
                .collect(),
            answers: s.answers.clone(),
            public: s.public,
        })
        .collect();
    let empty = Memory::default();
    let release = release(
        &definition(),
        question,
        &dimensions,
        &persons,
        memory.unwrap_or(&empty),
        rules,
    );
    Run {
        groups: dimensions.into_iter().map(|d| d.groups).collect(),
        release,
    }
}

fn published(run: &Run) -> Vec<Published<'_>> {
    DIMENSIONS
        .iter()
        .enumerate()
        .map(|(i, (dimension, _))| Published {
            dimension,
            groups: &run.groups[i],
            release: &run.release,
        })
        .collect()
}

/// What a run published, as the memory of the next one.
fn remember(run: &Run) -> Memory {
    let mut m = Memory::default();
    for c in run.release.cells.iter().filter(|c| !c.hidden) {
        let part = match c.part() {
            Part::Population => &mut m.population,
            Part::Margins => &mut m.margins,
            Part::Cells => &mut m.cells,
        };
        part.insert(value_key(c), c.count);
    }
    m
}

fn check(question: &str, people: &[Someone], rules: Rules) -> Run {
    let r = run(question, people, None, rules);
    let narrow = audit(&definition(), question, &published(&r), people, rules.p);
    assert!(narrow.is_empty(), "{question}: {narrow:#?}");
    r
}

/// A pseudo-random dataset of `n` persons (deterministic by `seed`).
fn dataset(n: usize, mut seed: u64) -> Vec<Someone> {
    let mut next = |m: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % m
    };
    let sexes = DIMENSIONS[0].1;
    let parties = DIMENSIONS[1].1;
    (0..n)
        .map(|_| {
            let sex = sexes[next(2) as usize];
            let party = parties[next(4) as usize];
            let pick = |x: u64, options: &[&'static str]| -> Option<&'static str> {
                // One in eight declines.
                (!x.is_multiple_of(8)).then(|| options[(x as usize / 8) % options.len()])
            };
            let disability = pick(next(64), &["yes", "no", "no", "no"]);
            let migrant = pick(next(64), &["yes", "no", "no"]);
            let mut answers = vec![
                ("indigenous", pick(next(64), &["yes", "no", "no"])),
                ("disability", disability),
                ("migrant", migrant),
                (
                    "sexual_diversity",
                    pick(next(64), &["yes", "no", "no", "no"]),
                ),
            ];
            if disability == Some("yes") {
                answers.push((
                    "disability_duration",
                    pick(next(64), &["permanent", "temporary"]),
                ));
            }
            if migrant == Some("yes") {
                answers.push((
                    "migrant_years",
                    pick(next(64), &["under_1", "1_5", "6_10", "over_10"]),
                ));
                answers.push((
                    "migrant_reason",
                    pick(next(64), &["work", "study", "family", "safety", "other"]),
                ));
            }
            someone(sex, party, &answers, next(5) == 0)
        })
        .collect()
}

#[test]
fn the_option_ids_of_the_dataset_are_the_definitions() {
    let d = definition();
    for person in dataset(40, 7) {
        for (q, a) in &person.answers {
            let question = d.question(q).unwrap();
            if let Some(a) = a {
                assert!(question.options.iter().any(|o| &o.id == a), "{q}: {a}");
            }
        }
    }
}

#[test]
fn a_follow_up_is_released_with_its_parent() {
    let d = definition();
    let ids: Vec<&str> = family(&d, "disability_duration")
        .iter()
        .map(|q| q.id.as_str())
        .collect();
    assert_eq!(ids, ["disability", "disability_duration"]);
    let ids: Vec<&str> = family(&d, "migrant")
        .iter()
        .map(|q| q.id.as_str())
        .collect();
    assert_eq!(ids, ["migrant", "migrant_years", "migrant_reason"]);
}

#[test]
fn the_issues_example_no_longer_derives_the_hidden_yes() {
    // Four persons with a disability among many without: the parent's "yes" is hidden, and the
    // follow-up's answered + declined (which sum to it) are hidden with it.
    let mut people = Vec::new();
    for i in 0..30 {
        let yes = i < 4;
        let mut answers = vec![("disability", Some(if yes { "yes" } else { "no" }))];
        if yes {
            answers.push(("disability_duration", Some("permanent")));
        }
        people.push(someone(
            if i % 2 == 0 { "mujer" } else { "hombre" },
            "PT",
            &answers,
            false,
        ));
    }
    let r = check("disability_duration", &people, Rules::with_threshold(5));
    let yes = r.release.value("sex", "disability", "yes", ALL).unwrap();
    assert!(yes.hidden, "4 of 30 is small");
    for option in ["permanent", "temporary", DECLINED] {
        let answered = r
            .release
            .value("sex", "disability_duration", option, ALL)
            .unwrap();
        assert!(answered.hidden, "{option}");
    }
}

#[test]
fn every_group_of_the_dimension_is_a_column_even_without_answers() {
    let people = dataset(30, 3);
    let r = check("migrant_years", &people, Rules::with_threshold(5));
    for party in DIMENSIONS[1].1 {
        let cell = r
            .release
            .value("postulant", "migrant_years", "under_1", party);
        assert!(cell.is_some(), "{party}");
    }
}

#[test]
fn adversarial_datasets_keep_every_interval() {
    let rules = Rules::with_threshold(5);
    let every = |people: &[Someone]| {
        for question in ["indigenous", "disability", "migrant", "sexual_diversity"] {
            check(question, people, rules);
        }
    };
    // One person in a group.
    let mut people = dataset(40, 11);
    people.push(someone(
        "sin_dato",
        "MORENA",
        &[("indigenous", Some("yes"))],
        false,
    ));
    every(&people);
    // A group equal to its office × party total: everyone of MC is a woman.
    let mut people: Vec<Someone> = dataset(40, 12)
        .into_iter()
        .filter(|s| s.groups["postulant"] != "MC")
        .collect();
    for _ in 0..6 {
        people.push(someone(
            "mujer",
            "MC",
            &[("indigenous", Some("no")), ("disability", Some("no"))],
            false,
        ));
    }
    every(&people);
    // Everyone in one category.
    let people: Vec<Someone> = (0..25)
        .map(|i| {
            someone(
                ["mujer", "hombre"][i % 2],
                "PT",
                &[
                    ("sexual_diversity", Some("yes")),
                    ("sexual_diversity_group", Some("lesbian")),
                ],
                i % 3 == 0,
            )
        })
        .collect();
    every(&people);
    check("sexual_diversity_group", &people, rules);
    // A follow-up everyone answers.
    let people: Vec<Someone> = (0..22)
        .map(|i| {
            someone(
                ["mujer", "hombre"][i % 2],
                ["PAN", "PT"][i % 2],
                &[
                    ("migrant", Some("yes")),
                    ("migrant_years", Some("over_10")),
                    ("migrant_reason", Some("work")),
                ],
                false,
            )
        })
        .collect();
    check("migrant_reason", &people, rules);
    // Nobody, and fewer than k.
    check("indigenous", &[], rules);
    let r = check("indigenous", &dataset(3, 5), rules);
    assert!(r.release.whole);
}

#[test]
fn the_demo_sized_dataset_keeps_every_interval() {
    let people = dataset(160, 2026);
    for question in ["indigenous", "disability", "migrant", "sexual_diversity"] {
        check(question, &people, Rules::with_threshold(5));
    }
}

#[test]
fn two_consecutive_cut_offs_keep_every_change_protected() {
    let rules = Rules::with_threshold(5);
    let d = definition();
    let before = dataset(60, 21);
    for added in [1usize, 2, 3, 7] {
        let mut after = before.clone();
        after.extend(dataset(added, 100 + added as u64));
        for question in ["indigenous", "migrant"] {
            let first = run(question, &before, None, rules);
            let second = run(question, &after, Some(&remember(&first)), rules);
            let narrow = audit_between(
                &d,
                question,
                (&published(&first), &before),
                (&published(&second), &after),
                rules.p,
                rules.k,
            );
            assert!(narrow.is_empty(), "{added} added, {question}: {narrow:#?}");
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]
    /// Any dataset: every table answers and no hidden count is narrowed below ±p.
    #[test]
    fn any_dataset_answers_and_keeps_every_interval(
        n in 0usize..45,
        seed in 0u64..1_000_000,
        k in 3u64..6,
        question in proptest::sample::select(vec!["indigenous", "disability", "migrant", "sexual_diversity"]),
    ) {
        let people = dataset(n, seed);
        let rules = Rules::with_threshold(k);
        let r = run(question, &people, None, rules);
        let narrow = audit(&definition(), question, &published(&r), &people, rules.p);
        proptest::prop_assert!(narrow.is_empty(), "{:#?}", narrow);
    }
}

/// A dataset shaped like the demo's election: six dimensions, sixteen districts, ten
/// postulants, persons spread unevenly (some groups of one or two).
#[test]
fn a_dataset_of_the_demos_shape_keeps_every_interval_across_six_dimensions() {
    let shape: [(&str, usize); 6] = [
        ("sex", 3),
        ("office", 2),
        ("principle", 2),
        ("postulant", 10),
        ("constituency", 16),
        ("age_band", 5),
    ];
    let mut seed = 9u64;
    let mut next = |m: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % m
    };
    let mut people = dataset(150, 77);
    for person in &mut people {
        person.groups = shape
            .iter()
            .map(|(d, groups)| {
                // Skewed: the first groups are the largest.
                let g = next(*groups as u64).min(next(*groups as u64));
                (d.to_string(), format!("g{g}"))
            })
            .collect();
    }
    let dimensions: Vec<Dimension> = shape
        .iter()
        .map(|(d, groups)| Dimension {
            name: d.to_string(),
            groups: (0..*groups)
                .map(|g| {
                    let name = format!("g{g}");
                    let n = people.iter().filter(|s| s.groups[*d] == name).count() as u64;
                    (name, 2 * n + 2)
                })
                .collect(),
        })
        .collect();
    let persons: Vec<Person> = people
        .iter()
        .map(|s| Person {
            groups: shape.iter().map(|(d, _)| s.groups[*d].clone()).collect(),
            answers: s.answers.clone(),
            public: s.public,
        })
        .collect();
    let rules = Rules::with_threshold(5);
    for question in ["indigenous", "disability", "migrant"] {
        let release = release(
            &definition(),
            question,
            &dimensions,
            &persons,
            &Memory::default(),
            rules,
        );
        assert!(
            !release.whole,
            "{question}: 150 persons are published in part"
        );
        let published: Vec<Published> = dimensions
            .iter()
            .map(|d| Published {
                dimension: &d.name,
                groups: &d.groups,
                release: &release,
            })
            .collect();
        let narrow = audit(&definition(), question, &published, &people, rules.p);
        assert!(narrow.is_empty(), "{question}: {narrow:#?}");
    }
}

/// The worked example of docs/identity.md: 23 persons, disability by sex.
fn worked_example() -> Vec<Someone> {
    let mut people = Vec::new();
    let mut add = |n: usize, sex: &str, party: &str, answers: &[(&str, Option<&str>)]| {
        for _ in 0..n {
            people.push(someone(sex, party, answers, false));
        }
    };
    let yes = |d: &'static str| {
        [
            ("disability", Some("yes")),
            ("disability_duration", Some(d)),
        ]
    };
    add(2, "mujer", "PAN", &yes("permanent"));
    add(1, "mujer", "PT", &yes("temporary"));
    add(9, "mujer", "PT", &[("disability", Some("no"))]);
    add(1, "hombre", "PAN", &yes("permanent"));
    add(8, "hombre", "PAN", &[("disability", Some("no"))]);
    add(2, "hombre", "MC", &[("disability", None)]);
    people
}

#[test]
fn worked_example_publishes_what_the_docs_say() {
    let people = worked_example();
    let r = run("disability", &people, None, Rules::with_threshold(5));
    let shown = |q: &str, o: &str, g: &str| {
        let c = r.release.value("sex", q, o, g).unwrap();
        (!c.hidden).then_some(c.count)
    };
    for o in ["yes", "no", DECLINED] {
        for g in ["mujer", "hombre"] {
            assert_eq!(shown("disability", o, g), None, "{o} {g}");
        }
    }
    assert_eq!(shown("disability", "yes", ALL), None);
    assert_eq!(shown("disability", "no", ALL), Some(17));
    assert_eq!(shown("disability", DECLINED, ALL), None);
    assert_eq!(shown(ALL, ALL, "mujer"), Some(12));
    assert_eq!(shown(ALL, ALL, "hombre"), Some(11));
    assert_eq!(shown(ALL, ALL, ALL), Some(23));
    for o in ["permanent", "temporary", DECLINED, NOT_APPLICABLE] {
        for g in ["mujer", "hombre", ALL] {
            assert_eq!(shown("disability_duration", o, g), None, "{o} {g}");
        }
    }
    let narrow = audit(&definition(), "disability", &published(&r), &people, 2);
    assert!(narrow.is_empty(), "{narrow:#?}");
}
