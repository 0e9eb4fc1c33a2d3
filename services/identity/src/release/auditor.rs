//! The auditor: the attacker of docs/identity.md, by linear programming (good_lp + microlp).
//!
//! It reads only what the tables publish and what the questionnaire means — every question's
//! answers sum to its population (the group, or the parent option that asked it), every row to
//! its margin, the groups to the population, the margins are the same in every table — plus the
//! public facts (persons per group, answers published with consent, and, across two cut-offs,
//! that persons were only added; and, the worst case, how many persons of each group are
//! counted). For every hidden non-zero count (or, across two cut-offs,
//! every change not published at both) it computes the feasible interval and reports it when it
//! is narrower than the protection interval `[c − p, c + p]` clipped to the value's reach.

use std::collections::BTreeMap;

use good_lp::{Expression, ProblemVariables, Solution, SolverModel, Variable, microlp, variable};

use super::{ALL, DECLINED, NOT_APPLICABLE, Release, family};
use crate::definition::Definition;

/// A person of a test dataset: a group per dimension, answers, publication consent.
#[derive(Debug, Clone)]
pub struct Someone {
    pub groups: BTreeMap<String, String>,
    pub answers: BTreeMap<String, Option<String>>,
    pub public: bool,
}

/// One release by a dimension, with its groups and their public sizes.
pub struct Published<'a> {
    pub dimension: &'a str,
    pub groups: &'a [(String, u64)],
    pub release: &'a Release,
}

#[derive(Debug, Clone, Default)]
struct Quantity {
    value: u64,
    published: bool,
    known: u64,
    upper: u64,
}

struct Model {
    quantities: BTreeMap<String, Quantity>,
    /// (members, total) by key.
    lines: Vec<(Vec<String>, String)>,
}

fn cell_key(at: &str, dimension: &str, question: &str, option: &str, group: &str) -> String {
    if group == ALL {
        // Margins are the same quantity in every table, whatever its dimension.
        if question == ALL {
            format!("{at}|total")
        } else {
            format!("{at}|{question}|{option}|*")
        }
    } else {
        format!("{at}|{dimension}|{question}|{option}|{group}")
    }
}

fn model(
    at: &str,
    definition: &Definition,
    question: &str,
    releases: &[Published],
    persons: &[Someone],
) -> Model {
    let family = family(definition, question);
    let mut quantities: BTreeMap<String, Quantity> = BTreeMap::new();
    let mut lines = Vec::new();
    let everyone: u64 = releases
        .first()
        .map_or(0, |r| r.groups.iter().map(|(_, n)| n).sum());
    for p in releases {
        for c in p
            .release
            .cells
            .iter()
            .filter(|c| c.dimension == p.dimension || c.dimension == ALL)
        {
            let key = cell_key(at, p.dimension, &c.question, &c.option, &c.group);
            let upper = p
                .groups
                .iter()
                .find(|(g, _)| *g == c.group)
                .map_or(everyone, |(_, n)| *n);
            let q = quantities.entry(key).or_insert(Quantity {
                value: c.count,
                published: false,
                known: 0,
                upper,
            });
            assert_eq!(q.value, c.count, "one quantity, two values");
            // The worst case: the attacker knows how many persons of each group consented.
            q.published |= !c.hidden || c.question == ALL;
        }
        let groups: Vec<&str> = p
            .groups
            .iter()
            .map(|(g, _)| g.as_str())
            .chain([ALL])
            .collect();
        let k = |q: &str, o: &str, g: &str| cell_key(at, p.dimension, q, o, g);
        for q in &family {
            let mut options: Vec<&str> = q.options.iter().map(|o| o.id.as_str()).collect();
            options.push(DECLINED);
            for g in &groups {
                let population = match &q.when {
                    None => k(ALL, ALL, g),
                    Some(c) => k(&c.question, &c.option, g),
                };
                lines.push((options.iter().map(|o| k(&q.id, o, g)).collect(), population));
                if let Some(c) = &q.when {
                    lines.push((
                        vec![k(&q.id, NOT_APPLICABLE, g), k(&c.question, &c.option, g)],
                        k(ALL, ALL, g),
                    ));
                }
            }
            let mut rows = options.clone();
            if q.when.is_some() {
                rows.push(NOT_APPLICABLE);
            }
            for o in rows {
                lines.push((
                    p.groups.iter().map(|(g, _)| k(&q.id, o, g)).collect(),
                    k(&q.id, o, ALL),
                ));
            }
        }
        lines.push((
            p.groups.iter().map(|(g, _)| k(ALL, ALL, g)).collect(),
            k(ALL, ALL, ALL),
        ));
        // Public knowledge: the answers published with consent.
        for person in persons.iter().filter(|s| s.public) {
            let group = &person.groups[p.dimension];
            let mut parent_rows: BTreeMap<&str, String> = BTreeMap::new();
            for q in &family {
                let asked = q
                    .when
                    .as_ref()
                    .is_none_or(|c| parent_rows.get(c.question.as_str()) == Some(&c.option));
                let option = if !asked {
                    NOT_APPLICABLE.to_string()
                } else {
                    match person.answers.get(&q.id) {
                        Some(Some(o)) => o.clone(),
                        _ => DECLINED.to_string(),
                    }
                };
                for g in [group.as_str(), ALL] {
                    if let Some(x) = quantities.get_mut(&k(&q.id, &option, g)) {
                        x.known += 1;
                    }
                }
                parent_rows.insert(q.id.as_str(), option);
            }
            for g in [group.as_str(), ALL] {
                if let Some(x) = quantities.get_mut(&k(ALL, ALL, g)) {
                    x.known += 1;
                }
            }
        }
    }
    // The margins were counted once per release.
    let dimensions = releases.len().max(1) as u64;
    for (key, q) in quantities.iter_mut() {
        if key.ends_with("|*") || key.ends_with("|total") {
            q.known /= dimensions;
        }
    }
    lines.sort();
    lines.dedup();
    Model { quantities, lines }
}

/// The interval of `objective` (a signed sum of quantities) over the models' feasible set.
fn bounds_of(
    models: &[&Model],
    links: &[(String, String)],
    objective: &[(String, f64)],
) -> Option<(f64, f64)> {
    let solve = |maximise: bool| -> Option<f64> {
        let mut vars = ProblemVariables::new();
        let mut slot: BTreeMap<&str, Variable> = BTreeMap::new();
        for m in models {
            for (key, q) in &m.quantities {
                if !q.published {
                    slot.insert(
                        key,
                        vars.add(variable().min(q.known as f64).max(q.upper as f64)),
                    );
                }
            }
        }
        let term = |key: &str| -> Expression {
            match slot.get(key) {
                Some(v) => (*v).into(),
                None => {
                    let value = models
                        .iter()
                        .find_map(|m| m.quantities.get(key))
                        .map_or(0.0, |q| q.value as f64);
                    Expression::from(value)
                }
            }
        };
        let mut target = Expression::from(0.0);
        for (key, sign) in objective {
            target += *sign * term(key);
        }
        let mut problem = if maximise {
            vars.maximise(target)
        } else {
            vars.minimise(target)
        }
        .using(microlp);
        for m in models {
            for (members, total) in &m.lines {
                let mut sum = Expression::from(0.0);
                for key in members {
                    sum += term(key);
                }
                problem = problem.with(sum.eq(term(total)));
            }
        }
        for (earlier, later) in links {
            problem = problem.with(term(later).geq(term(earlier)));
        }
        let solution = problem.solve().ok()?;
        let mut value = 0.0;
        for (key, sign) in objective {
            value += sign
                * match slot.get(key.as_str()) {
                    Some(v) => solution.value(*v),
                    None => models
                        .iter()
                        .find_map(|m| m.quantities.get(key))
                        .map_or(0.0, |q| q.value as f64),
                };
        }
        Some(value)
    };
    Some((solve(false)?, solve(true)?))
}

/// How far the protection interval reaches upwards: the population of the quantity's group
/// (a cell's column, a margin's grand total).
fn reach(key: &str, model: &Model) -> u64 {
    let parts: Vec<&str> = key.split('|').collect();
    let population = match parts.as_slice() {
        [at, dimension, _, _, group] => format!("{at}|{dimension}|*|*|{group}"),
        [at, _, _, _] => format!("{at}|total"),
        _ => return model.quantities[key].upper,
    };
    model
        .quantities
        .get(&population)
        .map_or(model.quantities[key].upper, |q| q.value)
}

/// The same model with nothing published but the public facts (and the population).
fn public_only(m: &Model) -> Model {
    Model {
        quantities: m
            .quantities
            .iter()
            .map(|(k, q)| {
                let population = k.ends_with("|total") || k.contains("|*|*|");
                (
                    k.clone(),
                    Quantity {
                        published: population,
                        ..q.clone()
                    },
                )
            })
            .collect(),
        lines: m.lines.clone(),
    }
}

/// Every hidden non-zero count narrower than its protection interval, at one cut-off.
pub fn audit(
    definition: &Definition,
    question: &str,
    releases: &[Published],
    persons: &[Someone],
    p: u64,
) -> Vec<String> {
    let m = model("1", definition, question, releases, persons);
    let public = public_only(&m);
    let mut narrow = Vec::new();
    for (key, q) in &m.quantities {
        if q.published || q.value == 0 {
            continue;
        }
        let Some((lo, hi)) = bounds_of(&[&m], &[], &[(key.clone(), 1.0)]) else {
            narrow.push(format!("{key}: the solver failed"));
            continue;
        };
        let (lo, hi) = ((lo - 1e-6).ceil() as u64, (hi + 1e-6).floor() as u64);
        let (floor, ceiling) = bounds_of(&[&public], &[], &[(key.clone(), 1.0)])
            .map(|(a, b)| ((a - 1e-6).ceil() as u64, (b + 1e-6).floor() as u64))
            .unwrap_or((q.known, reach(key, &m)));
        let need_lo = q.value.saturating_sub(p).max(floor);
        let need_hi = (q.value + p).min(ceiling);
        if lo > need_lo || hi < need_hi {
            narrow.push(format!(
                "{key} = {}: feasible [{lo}, {hi}], protection needs [{need_lo}, {need_hi}]",
                q.value
            ));
        }
    }
    narrow
}

/// Across two consecutive cut-offs where persons were only added: every change of a count
/// not published at both whose feasible interval is narrower than `[Δ − p, Δ + p]` clipped to
/// `[0, Δ of its published totals]`; and every published change of 1 to k−1.
pub fn audit_between(
    definition: &Definition,
    question: &str,
    before: (&[Published], &[Someone]),
    after: (&[Published], &[Someone]),
    p: u64,
    k: u64,
) -> Vec<String> {
    let first = model("1", definition, question, before.0, before.1);
    let second = model("2", definition, question, after.0, after.1);
    let later = |key: &str| format!("2{}", &key[1..]);
    let links: Vec<(String, String)> = first
        .quantities
        .keys()
        .filter(|k| second.quantities.contains_key(&later(k)))
        .map(|k| (k.clone(), later(k)))
        .collect();
    let mut narrow = Vec::new();
    for (key, q1) in &first.quantities {
        let Some(q2) = second.quantities.get(&later(key)) else {
            continue;
        };
        let delta = q2.value.saturating_sub(q1.value);
        let population = key.ends_with("|total") || key.contains("|*|*|");
        if population {
            continue;
        }
        if q1.published && q2.published {
            if (1..k).contains(&delta) {
                narrow.push(format!("{key}: published at both, moved by {delta}"));
            }
            continue;
        }
        if delta == 0 {
            continue;
        }
        let objective = [(later(key), 1.0), (key.clone(), -1.0)];
        let Some((lo, hi)) = bounds_of(&[&first, &second], &links, &objective) else {
            narrow.push(format!("{key}: the solver failed"));
            continue;
        };
        let (lo, hi) = ((lo - 1e-6).ceil() as i64, (hi + 1e-6).floor() as i64);
        let reach = reach(&later(key), &second) as i64 - reach(key, &first) as i64;
        let need_lo = (delta as i64 - p as i64).max(0);
        let need_hi = (delta as i64 + p as i64).min(reach.max(delta as i64));
        if lo > need_lo || hi < need_hi {
            narrow.push(format!(
                "Δ{key} = {delta}: feasible [{lo}, {hi}], protection needs [{need_lo}, {need_hi}]"
            ));
        }
    }
    narrow
}
