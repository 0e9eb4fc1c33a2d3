//! The identity tables of one question family (a question and the follow-ups it asks), released
//! together so that no table can be subtracted from another (docs/identity.md).
//!
//! Every table partitions the same population: a column per group of the dimension (every
//! group the election's candidacies have, so a group's presence says nothing), a row per
//! option, one for "declined" and, for a follow-up, one for "not applicable" (the parent's
//! other answers). A follow-up's answered and declined rows sum to the parent option that asked
//! it, in every column and in the margins; those equations are part of the release.
//!
//! Two releases, in order: the population of each group of every dimension (shared by every
//! question; from then on assumed known to the attacker, so that what other families' tables
//! tell of it cannot weaken this one), then the family's margins and cells by every dimension
//! together (so that no table of the family can be subtracted from another).

use std::collections::BTreeMap;

use crate::definition::{Definition, Kind, Question};
use crate::suppress::{Bounds, Decision, Line, Rules, System, protect};

pub const DECLINED: &str = "declined";
pub const NOT_APPLICABLE: &str = "not_applicable";
/// The coordinate of a total.
pub const ALL: &str = "*";

/// One person counted: submitted, with statistics consent, not blocked.
#[derive(Debug, Clone, Default)]
pub struct Person {
    /// The person's group in each dimension, in the order of the release's dimensions.
    pub groups: Vec<String>,
    /// Single-choice answers by question: the option, or `None` when declined.
    pub answers: BTreeMap<String, Option<String>>,
    /// The answers are published on the candidate's profile (publication consent): the
    /// attacker may know them.
    pub public: bool,
}

/// A dimension and its groups, each with its public number of persons.
#[derive(Debug, Clone)]
pub struct Dimension {
    pub name: String,
    pub groups: Vec<(String, u64)>,
}

/// One released value: its coordinates and its count. `dimension` is `*` for the values every
/// table shares (a question's margins, the population); `option` and `group` are `*` for a
/// total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub dimension: String,
    pub question: String,
    pub option: String,
    pub group: String,
    pub count: u64,
    pub hidden: bool,
}

/// The family's release by every dimension.
#[derive(Debug, Clone)]
pub struct Release {
    pub cells: Vec<Cell>,
    /// Every value of the release is hidden, the population included.
    pub whole: bool,
}

impl Release {
    /// One value (the tests read a release through it; the service reads its snapshot).
    #[cfg(test)]
    pub fn value(
        &self,
        dimension: &str,
        question: &str,
        option: &str,
        group: &str,
    ) -> Option<&Cell> {
        self.cells.iter().find(|c| {
            (c.dimension == dimension || c.dimension == ALL)
                && c.question == question
                && c.option == option
                && c.group == group
        })
    }
}

/// The key a value is remembered under between releases.
pub fn value_key(c: &Cell) -> String {
    format!("{}|{}|{}|{}", c.dimension, c.question, c.option, c.group)
}

/// What each part of the release published last time, by [`value_key`].
#[derive(Debug, Clone, Default)]
pub struct Memory {
    pub population: BTreeMap<String, u64>,
    pub margins: BTreeMap<String, u64>,
    pub cells: BTreeMap<String, u64>,
}

/// The family a question belongs to: its root and every single-choice question below it.
pub fn family<'a>(definition: &'a Definition, question: &str) -> Vec<&'a Question> {
    let mut root = definition.question(question);
    while let Some(parent) = root
        .and_then(|q| q.when.as_ref())
        .and_then(|c| definition.question(&c.question))
    {
        root = Some(parent);
    }
    let Some(root) = root else {
        return Vec::new();
    };
    let mut members = vec![root];
    for q in &definition.questions {
        let below = q
            .when
            .as_ref()
            .is_some_and(|c| members.iter().any(|m| m.id == c.question));
        if below && q.kind == Kind::Single {
            members.push(q);
        }
    }
    members
}

pub(crate) struct Row {
    pub(crate) question: String,
    pub(crate) option: String,
    /// The parent's row that asks this question (`None` for the root).
    pub(crate) asked_by: Option<usize>,
}

pub(crate) fn rows(family: &[&Question]) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    for q in family {
        let asked_by = q.when.as_ref().and_then(|c| {
            rows.iter()
                .position(|r| r.question == c.question && r.option == c.option)
        });
        let mut options: Vec<String> = q.options.iter().map(|o| o.id.clone()).collect();
        options.push(DECLINED.into());
        if asked_by.is_some() {
            options.push(NOT_APPLICABLE.into());
        }
        for option in options {
            rows.push(Row {
                question: q.id.clone(),
                option,
                asked_by,
            });
        }
    }
    rows
}

/// The row a person falls in, per question of the family (in the family's order).
pub(crate) fn rows_of(family: &[&Question], rows: &[Row], person: &Person) -> Vec<usize> {
    let find = |q: &str, o: &str| {
        rows.iter()
            .position(|r| r.question == q && r.option == o)
            .unwrap_or(0)
    };
    let mut out: Vec<usize> = Vec::with_capacity(family.len());
    for q in family {
        let asked = match &q.when {
            None => true,
            Some(c) => {
                let parent = family.iter().position(|p| p.id == c.question);
                parent.is_some_and(|p| rows[out[p]].option == c.option)
            }
        };
        let row = if !asked {
            find(&q.id, NOT_APPLICABLE)
        } else {
            match person.answers.get(&q.id) {
                Some(Some(option)) if q.options.iter().any(|o| &o.id == option) => {
                    find(&q.id, option)
                }
                // Declined, or not answered (a person who answered an earlier version).
                _ => find(&q.id, DECLINED),
            }
        };
        out.push(row);
    }
    out
}

/// Where each value of the release sits.
struct Layout {
    rows: usize,
    /// Per dimension: where its cells start and how many groups it has.
    blocks: Vec<(usize, usize)>,
    margins: usize,
    grand: usize,
}

impl Layout {
    fn new(rows: usize, dimensions: &[Dimension]) -> Self {
        let mut at = 0;
        let mut blocks = Vec::new();
        for d in dimensions {
            let groups = d.groups.len();
            blocks.push((at, groups));
            at += rows * groups + groups;
        }
        Self {
            rows,
            blocks,
            margins: at,
            grand: at + rows,
        }
    }
    fn cell(&self, d: usize, r: usize, g: usize) -> usize {
        let (start, groups) = self.blocks[d];
        start + r * groups + g
    }
    fn column(&self, d: usize, g: usize) -> usize {
        let (start, groups) = self.blocks[d];
        start + self.rows * groups + g
    }
    fn margin(&self, r: usize) -> usize {
        self.margins + r
    }
    fn columns(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.blocks.len())
            .flat_map(move |d| (0..self.blocks[d].1).map(move |g| self.column(d, g)))
            .chain([self.grand])
    }
}

/// Releases the family of `question` by every dimension at once, from the persons counted.
pub fn release(
    definition: &Definition,
    question: &str,
    dimensions: &[Dimension],
    persons: &[Person],
    memory: &Memory,
    rules: Rules,
) -> Release {
    let family = family(definition, question);
    let rows = rows(&family);
    let nr = rows.len();
    let at = Layout::new(nr, dimensions);
    let size = at.grand + 1;

    let mut values = vec![0u64; size];
    let mut known = vec![0u64; size];
    for person in persons {
        let mine = rows_of(&family, &rows, person);
        let mut touched: Vec<usize> = mine.iter().map(|&r| at.margin(r)).collect();
        touched.push(at.grand);
        for (d, dimension) in dimensions.iter().enumerate() {
            let Some(g) = person
                .groups
                .get(d)
                .and_then(|group| dimension.groups.iter().position(|(name, _)| name == group))
            else {
                continue;
            };
            touched.extend(mine.iter().map(|&r| at.cell(d, r, g)));
            touched.push(at.column(d, g));
        }
        for i in touched {
            values[i] += 1;
            known[i] += u64::from(person.public);
        }
    }

    // Lines: each row to its margin; each question's rows to their population (the column,
    // or the parent's row that asked it), in every column and in the margins; the groups of
    // each dimension to the population.
    let mut cell_lines = Vec::new();
    let mut population_lines = Vec::new();
    let mut margin_lines = Vec::new();
    for q in &family {
        let own: Vec<usize> = (0..nr)
            .filter(|&r| rows[r].question == q.id && rows[r].option != NOT_APPLICABLE)
            .collect();
        let asked_by = own.first().and_then(|&r| rows[r].asked_by);
        let not_applicable =
            (0..nr).find(|&r| rows[r].question == q.id && rows[r].option == NOT_APPLICABLE);
        margin_lines.push(Line {
            members: own.iter().map(|&r| at.margin(r)).collect(),
            total: asked_by.map_or(at.grand, |p| at.margin(p)),
        });
        if let (Some(na), Some(p)) = (not_applicable, asked_by) {
            margin_lines.push(Line {
                members: vec![at.margin(na), at.margin(p)],
                total: at.grand,
            });
        }
        for (d, dimension) in dimensions.iter().enumerate() {
            for g in 0..dimension.groups.len() {
                cell_lines.push(Line {
                    members: own.iter().map(|&r| at.cell(d, r, g)).collect(),
                    total: asked_by.map_or(at.column(d, g), |p| at.cell(d, p, g)),
                });
                if let (Some(na), Some(p)) = (not_applicable, asked_by) {
                    cell_lines.push(Line {
                        members: vec![at.cell(d, na, g), at.cell(d, p, g)],
                        total: at.column(d, g),
                    });
                }
            }
        }
    }
    for (d, dimension) in dimensions.iter().enumerate() {
        let groups = dimension.groups.len();
        for r in 0..nr {
            cell_lines.push(Line {
                members: (0..groups).map(|g| at.cell(d, r, g)).collect(),
                total: at.margin(r),
            });
        }
        population_lines.push(Line {
            members: (0..groups).map(|g| at.column(d, g)).collect(),
            total: at.grand,
        });
    }

    // The coordinates and public bounds of every value.
    let mut coordinates: Vec<[String; 4]> = vec![Default::default(); size];
    let mut bounds = vec![Bounds::default(); size];
    let everyone: u64 = dimensions.first().map_or(persons.len() as u64, |d| {
        d.groups.iter().map(|(_, n)| n).sum()
    });
    for (d, dimension) in dimensions.iter().enumerate() {
        for (g, (group, persons)) in dimension.groups.iter().enumerate() {
            for (r, row) in rows.iter().enumerate() {
                coordinates[at.cell(d, r, g)] = [
                    dimension.name.clone(),
                    row.question.clone(),
                    row.option.clone(),
                    group.clone(),
                ];
                bounds[at.cell(d, r, g)].upper = Some(*persons);
            }
            coordinates[at.column(d, g)] = [
                dimension.name.clone(),
                ALL.into(),
                ALL.into(),
                group.clone(),
            ];
            bounds[at.column(d, g)].upper = Some(*persons);
        }
    }
    for (r, row) in rows.iter().enumerate() {
        coordinates[at.margin(r)] = [
            ALL.into(),
            row.question.clone(),
            row.option.clone(),
            ALL.into(),
        ];
        bounds[at.margin(r)].upper = Some(everyone);
    }
    coordinates[at.grand] = [ALL.into(), ALL.into(), ALL.into(), ALL.into()];
    bounds[at.grand].upper = Some(everyone);
    for ((b, k), v) in bounds.iter_mut().zip(&known).zip(&values) {
        b.lower = *k;
        // A public count that the data exceeds (a list not yet updated) is no bound.
        b.upper = b.upper.filter(|u| u >= v);
    }
    // The protection interval reaches up to the population of the value's group.
    for (d, dimension) in dimensions.iter().enumerate() {
        for g in 0..dimension.groups.len() {
            for r in 0..nr {
                bounds[at.cell(d, r, g)].reach = Some(values[at.column(d, g)]);
            }
        }
    }
    for r in 0..nr {
        bounds[at.margin(r)].reach = Some(values[at.grand]);
    }
    let key = |i: usize| coordinates[i].join("|");
    let remembered = |memory: &BTreeMap<String, u64>| -> Vec<Option<u64>> {
        (0..size).map(|i| memory.get(&key(i)).copied()).collect()
    };
    let cells_of = |system: &System, hidden: &dyn Fn(usize) -> bool| {
        (0..size)
            .map(|i| {
                let [dimension, question, option, group] = coordinates[i].clone();
                Cell {
                    dimension,
                    question,
                    option,
                    group,
                    count: system.values[i],
                    hidden: hidden(i),
                }
            })
            .collect()
    };
    let whole = |system: &System| Release {
        cells: cells_of(system, &|_| true),
        whole: true,
    };

    let mut system = System {
        values,
        lines: population_lines.clone(),
        grand: at.grand,
        fixed: vec![Some(true); size],
        released: remembered(&memory.population),
        bounds,
        known_to_attacker: vec![false; size],
    };
    // 1. The population of each group, shared by every question.
    for i in at.columns() {
        system.fixed[i] = None;
    }
    let population = protect(&system, rules);
    if population.whole {
        return whole(&system);
    }
    settle(&mut system, &population, at.columns());
    // From here on the attacker is assumed to know the population exactly: what the other
    // families' tables may tell of it cannot weaken this family's protection.
    for i in at.columns() {
        system.known_to_attacker[i] = true;
    }
    // 2. The family's margins and cells by every dimension, together: a margin is shared by
    // every table of the family, so it is decided once with all of them.
    system.lines = cell_lines.into_iter().chain(margin_lines).collect();
    system.released = (0..size)
        .map(|i| {
            let key = key(i);
            memory.margins.get(&key).or(memory.cells.get(&key)).copied()
        })
        .collect();
    system.released[at.grand] = memory.population.get(&key(at.grand)).copied();
    for r in 0..nr {
        system.fixed[at.margin(r)] = None;
    }
    for (d, dimension) in dimensions.iter().enumerate() {
        for r in 0..nr {
            for g in 0..dimension.groups.len() {
                system.fixed[at.cell(d, r, g)] = None;
            }
        }
    }
    let cells = protect(&system, rules);
    if cells.whole {
        return whole(&system);
    }
    Release {
        cells: cells_of(&system, &|i| cells.hidden[i]),
        whole: false,
    }
}

/// Fixes the decisions of an earlier release for the values it decided.
fn settle(system: &mut System, decision: &Decision, decided: impl Iterator<Item = usize>) {
    for i in decided {
        system.fixed[i] = Some(decision.hidden[i]);
    }
}

/// Which part of the release a value belongs to (its memory between releases).
pub enum Part {
    Population,
    Margins,
    Cells,
}

impl Cell {
    pub fn part(&self) -> Part {
        match (self.question.as_str(), self.group.as_str()) {
            (ALL, _) => Part::Population,
            (_, ALL) => Part::Margins,
            _ => Part::Cells,
        }
    }
}

#[cfg(test)]
mod auditor;
#[cfg(test)]
mod tests;
