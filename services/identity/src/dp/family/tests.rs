use std::collections::BTreeMap;

use super::*;

const SEXES: [&str; 3] = ["mujer", "hombre", "sin_dato"];
const PARTIES: [&str; 3] = ["PAN", "MORENA", "PT"];

/// `n` persons spread over the groups, answering the migrant family in a fixed pattern; every
/// fifth with publication consent. The groups' sizes add the persons who did not answer.
fn dataset(n: usize, silent: u64) -> (Vec<Dimension>, Vec<Person>) {
    let mut persons = Vec::new();
    for i in 0..n {
        let migrant = match i % 4 {
            0 => Some("yes"),
            1 | 2 => Some("no"),
            _ => None,
        };
        let mut answers = BTreeMap::from([("migrant".to_string(), migrant.map(String::from))]);
        if migrant == Some("yes") {
            answers.insert(
                "migrant_years".into(),
                Some(["under_1", "1_5", "6_10", "over_10"][i % 3].into()),
            );
            answers.insert(
                "migrant_reason".into(),
                if i % 8 == 0 {
                    None
                } else {
                    Some("work".into())
                },
            );
        }
        persons.push(Person {
            groups: vec![SEXES[i % 2].to_string(), PARTIES[i % 3].to_string()],
            answers,
            public: i % 5 == 0,
        });
    }
    let sizes = |d: usize, names: &[&str]| -> Vec<(String, u64)> {
        names
            .iter()
            .enumerate()
            .map(|(at, g)| {
                let counted = persons.iter().filter(|p| p.groups[d] == *g).count() as u64;
                // The silent persons sit in the last group of every dimension.
                (
                    g.to_string(),
                    counted + if at == names.len() - 1 { silent } else { 0 },
                )
            })
            .collect()
    };
    let dimensions = vec![
        Dimension {
            name: "sex".into(),
            groups: sizes(0, &SEXES),
        },
        Dimension {
            name: "postulant".into(),
            groups: sizes(1, &PARTIES),
        },
    ];
    (dimensions, persons)
}

fn valid_options(definition: &Definition) {
    for q in ["migrant_years", "migrant_reason"] {
        assert!(definition.question(q).is_some(), "{q}");
    }
}

fn value<'a>(values: &'a [Value], d: &str, q: &str, o: &str, g: &str) -> &'a Value {
    values
        .iter()
        .find(|v| v.dimension == d && v.question == q && v.option == o && v.group == g)
        .unwrap_or_else(|| panic!("{d} {q} {o} {g}"))
}

#[test]
fn the_tables_agree_with_each_other_with_the_public_facts_and_with_every_parent() {
    let definition = Definition::default_topics();
    valid_options(&definition);
    let (dimensions, persons) = dataset(240, 30);
    let parameters = Parameters {
        rho: 0.5,
        detail_threshold: 10,
    };
    let (m, public) = measure(&definition, "migrant", &dimensions, &persons, parameters).unwrap();
    assert!(
        (m.rho - 0.5).abs() < 1e-9,
        "OpenDP's ρ is what was asked: {}",
        m.rho
    );
    let values = publish(&definition, "migrant", &dimensions, &public, &m).unwrap();
    let family = family(&definition, "migrant");
    let leaves = Leaves::of(&family);
    for (d, dimension) in dimensions.iter().enumerate() {
        for (r, row) in leaves.rows.iter().enumerate() {
            // Every dimension's groups add up to the same margin (where no group of the
            // dimension was released coarser for this row).
            let shown: Vec<&Value> = dimension
                .groups
                .iter()
                .map(|(g, _)| value(&values, &dimension.name, &row.question, &row.option, g))
                .collect();
            for v in &shown {
                assert_eq!(
                    v.count.is_none(),
                    v.coarsened && row.asked_by.is_some(),
                    "{v:?}"
                );
            }
            let margin = value(&values, ALL, &row.question, &row.option, ALL)
                .count
                .unwrap();
            if shown.iter().all(|v| v.count.is_some()) {
                let sum: u64 = shown.iter().map(|v| v.count.unwrap()).sum();
                assert_eq!(
                    sum, margin,
                    "{} {} {}",
                    dimension.name, row.question, row.option
                );
            }
            // Never below the answers published with consent.
            for (g, (group, _)) in dimension.groups.iter().enumerate() {
                let published: i64 = leaves
                    .through(r)
                    .iter()
                    .map(|&l| public.by_group[d][l][g])
                    .sum();
                let shown = value(&values, &dimension.name, &row.question, &row.option, group);
                if let Some(count) = shown.count {
                    assert!(count as i64 >= published);
                    assert!(shown.half_width > 0.0);
                }
            }
        }
        for (group, persons) in &dimension.groups {
            // A group's counted persons never exceed its public size.
            let counted = value(&values, &dimension.name, ALL, ALL, group)
                .count
                .unwrap();
            assert!(counted <= *persons);
            // A follow-up's answers add up to the parent option that asked it.
            let yes = value(&values, &dimension.name, "migrant", "yes", group)
                .count
                .unwrap();
            let years: Option<u64> = ["under_1", "1_5", "6_10", "over_10", "declined"]
                .iter()
                .map(|o| value(&values, &dimension.name, "migrant_years", o, group).count)
                .sum();
            if let Some(years) = years {
                assert_eq!(yes, years, "{group}");
            }
            let root: u64 = ["yes", "no", "declined"]
                .iter()
                .map(|o| {
                    value(&values, &dimension.name, "migrant", o, group)
                        .count
                        .unwrap()
                })
                .sum();
            assert_eq!(root, counted, "{group}");
        }
    }
}

#[test]
fn the_same_draw_always_publishes_the_same_values() {
    let definition = Definition::default_topics();
    let (dimensions, persons) = dataset(120, 10);
    let parameters = Parameters {
        rho: 0.2,
        detail_threshold: 10,
    };
    let (m, public) = measure(&definition, "migrant", &dimensions, &persons, parameters).unwrap();
    let sealed = serde_json::to_vec(&m).unwrap();
    let again: Measurements = serde_json::from_slice(&sealed).unwrap();
    assert_eq!(
        publish(&definition, "migrant", &dimensions, &public, &m).unwrap(),
        publish(&definition, "migrant", &dimensions, &public, &again).unwrap()
    );
}

#[test]
fn a_small_group_gets_the_coarser_table_decided_on_its_noisy_count() {
    let definition = Definition::default_topics();
    // 240 persons in the first two sexes, and a third group of 30 persons nobody counted.
    let (dimensions, persons) = dataset(240, 30);
    // Little noise: the decision follows the true counts.
    let parameters = Parameters {
        rho: 1e4,
        detail_threshold: 10,
    };
    let (m, public) = measure(&definition, "migrant", &dimensions, &persons, parameters).unwrap();
    let values = publish(&definition, "migrant", &dimensions, &public, &m).unwrap();
    let small = value(&values, "sex", "migrant_years", "under_1", "sin_dato");
    assert_eq!((small.count, small.coarsened), (None, true));
    let root = value(&values, "sex", "migrant", "yes", "sin_dato");
    assert_eq!(root.count, Some(0));
    let large = value(&values, "sex", "migrant_years", "under_1", "mujer");
    assert!(large.count.is_some() && !large.coarsened);
}

#[test]
fn with_almost_no_noise_the_tables_are_the_truth() {
    let definition = Definition::default_topics();
    let (dimensions, persons) = dataset(200, 5);
    let parameters = Parameters {
        rho: 1e6,
        detail_threshold: 1,
    };
    let (m, public) = measure(&definition, "migrant", &dimensions, &persons, parameters).unwrap();
    let values = publish(&definition, "migrant", &dimensions, &public, &m).unwrap();
    let truth = |d: usize, option: Option<&str>, group: &str| {
        persons
            .iter()
            .filter(|p| p.groups[d] == group && p.answers["migrant"].as_deref() == option)
            .count() as u64
    };
    assert_eq!(
        value(&values, "sex", "migrant", "yes", "mujer").count,
        Some(truth(0, Some("yes"), "mujer"))
    );
    assert_eq!(
        value(&values, "postulant", "migrant", "declined", "PT").count,
        Some(truth(1, None, "PT"))
    );
    assert_eq!(value(&values, ALL, ALL, ALL, ALL).count, Some(200));
}

/// The exact vectors of both stages for a dataset, with the groups' detail fixed.
fn vectors(
    definition: &Definition,
    dimensions: &[Dimension],
    persons: &[Person],
    detailed: &[Vec<bool>],
) -> (Vec<i64>, Vec<i64>, Vec<Vec<Vec<i64>>>) {
    let family = family(definition, "migrant");
    let leaves = Leaves::of(&family);
    let (counts, overall, public) = count(&leaves, &family, dimensions, persons);
    (
        stage_one(&leaves, &counts),
        stage_two(&leaves, &counts, &overall, detailed),
        public.by_group,
    )
}

fn l2(a: &[i64], b: &[i64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| ((x - y) * (x - y)) as f64)
        .sum::<f64>()
        .sqrt()
}

const YEARS: [Option<&str>; 5] = [
    Some("under_1"),
    Some("1_5"),
    Some("6_10"),
    Some("over_10"),
    None,
];

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
    /// The guarantee rests on the sensitivities the noise is calibrated to: whatever one
    /// person without publication consent answers — or whether they are counted at all — the
    /// public facts (the groups' sizes, the answers published with consent) stay the same, and
    /// each stage's exact vector moves by at most its declared L2 sensitivity.
    #[test]
    fn one_persons_answers_move_each_stage_by_at_most_its_sensitivity(
        n in 1usize..60,
        who in 0usize..60,
        migrant in 0usize..3,
        years in 0usize..5,
        counted in proptest::bool::ANY,
        detail in proptest::collection::vec(proptest::bool::ANY, 6),
    ) {
        let definition = Definition::default_topics();
        let (dimensions, mut persons) = dataset(n, 7);
        let who = who % n;
        persons[who].public = false;
        let detailed: Vec<Vec<bool>> = vec![detail[..3].to_vec(), detail[3..].to_vec()];
        let before = vectors(&definition, &dimensions, &persons, &detailed);

        let mut other = persons.clone();
        if counted {
            let answer = [Some("yes"), Some("no"), None][migrant];
            let mut answers = BTreeMap::from([("migrant".to_string(), answer.map(String::from))]);
            if answer == Some("yes") {
                answers.insert("migrant_years".into(), YEARS[years].map(String::from));
            }
            other[who].answers = answers;
        } else {
            other.remove(who);
        }
        let after = vectors(&definition, &dimensions, &other, &detailed);
        let (one, two) = sensitivities(dimensions.len());
        proptest::prop_assert_eq!(&before.2, &after.2, "the public facts moved");
        proptest::prop_assert!(l2(&before.0, &after.0) <= one + 1e-9);
        proptest::prop_assert!(l2(&before.1, &after.1) <= two + 1e-9);
    }
}

#[test]
fn a_dimension_with_many_groups_is_fitted_in_blocks_and_still_adds_up() {
    let definition = Definition::default_topics();
    let (mut dimensions, mut persons) = dataset(600, 0);
    // A third dimension of 200 constituencies (more groups than one fit takes).
    for (i, p) in persons.iter_mut().enumerate() {
        p.groups.push(format!("{:03}", i % 200));
    }
    dimensions.push(Dimension {
        name: "constituency".into(),
        groups: (0..200).map(|c| (format!("{c:03}"), 3)).collect(),
    });
    for (rho, exact) in [(0.5, false), (1e6, true)] {
        let parameters = Parameters {
            rho,
            detail_threshold: 2,
        };
        let (m, public) =
            measure(&definition, "migrant", &dimensions, &persons, parameters).unwrap();
        let values = publish(&definition, "migrant", &dimensions, &public, &m).unwrap();
        let family = family(&definition, "migrant");
        let leaves = Leaves::of(&family);
        for row in leaves.rows.iter().filter(|r| r.asked_by.is_none()) {
            let margin = value(&values, ALL, &row.question, &row.option, ALL)
                .count
                .unwrap();
            let sum: u64 = (0..200)
                .map(|c| {
                    let g = format!("{c:03}");
                    value(&values, "constituency", &row.question, &row.option, &g)
                        .count
                        .unwrap()
                })
                .sum();
            assert_eq!(sum, margin, "{} {}", row.question, row.option);
            if exact {
                let truth = persons
                    .iter()
                    .filter(|p| match row.option.as_str() {
                        "declined" => p.answers["migrant"].is_none(),
                        o => p.answers["migrant"].as_deref() == Some(o),
                    })
                    .count() as u64;
                assert_eq!(margin, truth, "{}", row.option);
                assert_eq!(
                    value(&values, "constituency", "migrant", &row.option, "007")
                        .count
                        .unwrap(),
                    persons
                        .iter()
                        .filter(|p| p.groups[2] == "007")
                        .filter(|p| match row.option.as_str() {
                            "declined" => p.answers["migrant"].is_none(),
                            o => p.answers["migrant"].as_deref() == Some(o),
                        })
                        .count() as u64
                );
            }
        }
        for c in 0..200 {
            let g = format!("{c:03}");
            assert!(value(&values, "constituency", ALL, ALL, &g).count.unwrap() <= 3);
        }
    }
}
