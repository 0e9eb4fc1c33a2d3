//! A question family released with differential privacy (docs/identity.md, "Differential
//! privacy"), in the way of the US Census Bureau's SafeTab-P:
//!
//! Each person of the election (every holder and alternate of the candidacy lists) falls in one
//! *leaf*: the path of their answers through the family (an option or "declined" for the root,
//! then for each follow-up its answer or "not applicable"), or "no data" when they are not
//! counted (no questionnaire sent, no statistics consent, blocked). The persons of each group
//! of every dimension are public, and so are the answers published with consent: those are the
//! invariants, never noised.
//!
//! 1. Stage 1 (a tenth of the family's ρ): for each group of each dimension, the noisy number
//!    of persons counted. A group whose noisy count is under the election's threshold gets the
//!    coarser table: its columns are measured by the root question only.
//! 2. Stage 2 (the rest): the leaves over everybody (the margins), and for each dimension each
//!    group's leaves (or, coarse, its root options) — one person moves one count down and one up
//!    in each, so each vector has L2 sensitivity √2.
//! 3. Post-processing (no budget): the margins are fitted to the number of persons; each
//!    dimension's table to those margins and to each group's persons, never below the answers
//!    published with consent ([`super::fit`], [`super::table`]). Every question's row is then a
//!    sum of leaves, so the tables agree with each other and with every follow-up's parent.
//!
//! The noisy measurements are what a release keeps, sealed: [`publish`] regenerates the same
//! cells from them and the public facts.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::fit::project;
use super::noise::{self, Refused};
use super::table::{Measured, Problem, fit};
use crate::definition::{Definition, Question};
use crate::release::{ALL, Dimension, NOT_APPLICABLE, Person, Row, family, rows, rows_of};

/// The share of a family's ρ spent deciding which groups are detailed.
const STAGE_ONE_SHARE: f64 = 0.1;

/// How a family is released.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Parameters {
    /// ρ spent on this family.
    pub rho: f64,
    /// A group with fewer persons counted than this (noisy) gets the coarser table.
    pub detail_threshold: i64,
}

/// The draw of one family's release: what is kept sealed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurements {
    pub parameters: Parameters,
    pub stage_one_scale: f64,
    pub stage_two_scale: f64,
    /// ρ as OpenDP computed it for the two stages.
    pub rho: f64,
    /// `[dimension][group]`: noisy persons counted.
    pub counted: Vec<Vec<i64>>,
    /// Noisy persons per leaf over everybody.
    pub margin: Vec<i64>,
    /// `[dimension][group]`: the group's noisy leaves, or its root options when coarse.
    pub tables: Vec<Vec<Vec<i64>>>,
}

/// One published value of the family.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub dimension: String,
    pub question: String,
    pub option: String,
    pub group: String,
    /// `None`: released coarser for this group (the follow-ups of a small group).
    pub count: Option<u64>,
    /// Half the width of the noise's 90 % interval.
    pub half_width: f64,
    pub coarsened: bool,
}

/// The family's leaves: every path of answers, then "no data".
struct Leaves {
    rows: Vec<Row>,
    paths: Vec<Vec<usize>>,
}

impl Leaves {
    fn of(family: &[&Question]) -> Self {
        let rows = rows(family);
        let mut paths: Vec<Vec<usize>> = vec![Vec::new()];
        for q in family {
            let own: Vec<usize> = (0..rows.len())
                .filter(|&r| rows[r].question == q.id && rows[r].option != NOT_APPLICABLE)
                .collect();
            let not_applicable = (0..rows.len())
                .find(|&r| rows[r].question == q.id && rows[r].option == NOT_APPLICABLE);
            let parent = q.when.as_ref().and_then(|c| {
                let at = family.iter().position(|p| p.id == c.question)?;
                Some((at, c.option.clone()))
            });
            paths = paths
                .into_iter()
                .flat_map(|path| {
                    let asked = parent
                        .as_ref()
                        .is_none_or(|(at, option)| rows[path[*at]].option == *option);
                    let choices = match (asked, not_applicable) {
                        (false, Some(na)) => vec![na],
                        _ => own.clone(),
                    };
                    choices.into_iter().map(move |r| {
                        let mut p = path.clone();
                        p.push(r);
                        p
                    })
                })
                .collect();
        }
        Self { rows, paths }
    }

    /// Leaves, "no data" included.
    fn len(&self) -> usize {
        self.paths.len() + 1
    }

    fn no_data(&self) -> usize {
        self.paths.len()
    }

    /// The root rows, in order: the coarse table's measured sets (then "no data").
    fn roots(&self) -> Vec<usize> {
        let mut roots: Vec<usize> = self.paths.iter().map(|p| p[0]).collect();
        roots.dedup();
        roots
    }

    /// The sets measured for a column: each leaf, or each root's leaves; "no data" alone.
    fn sets(&self, detailed: bool) -> Vec<Vec<usize>> {
        let mut sets: Vec<Vec<usize>> = if detailed {
            (0..self.paths.len()).map(|l| vec![l]).collect()
        } else {
            self.roots()
                .into_iter()
                .map(|root| {
                    (0..self.paths.len())
                        .filter(|&l| self.paths[l][0] == root)
                        .collect()
                })
                .collect()
        };
        sets.push(vec![self.no_data()]);
        sets
    }

    /// The leaves whose path goes through `row`.
    fn through(&self, row: usize) -> Vec<usize> {
        (0..self.paths.len())
            .filter(|&l| self.paths[l].contains(&row))
            .collect()
    }
}

/// The public facts of a family's release besides the group sizes: `[dimension][leaf][group]`
/// answers published with consent, and the same over everybody `[leaf]`.
#[derive(Debug, Clone)]
pub struct Public {
    pub by_group: Vec<Vec<Vec<i64>>>,
    pub overall: Vec<i64>,
}

/// The persons of each leaf, by group of every dimension (`[dimension][leaf][group]`), over
/// everybody, and the public part of both.
fn count(
    leaves: &Leaves,
    family: &[&Question],
    dimensions: &[Dimension],
    persons: &[Person],
) -> (Vec<Vec<Vec<i64>>>, Vec<i64>, Public) {
    let index: HashMap<&Vec<usize>, usize> = leaves
        .paths
        .iter()
        .enumerate()
        .map(|(l, p)| (p, l))
        .collect();
    let n = leaves.len();
    let blank = |d: &Dimension| vec![vec![0i64; d.groups.len()]; n];
    let mut counts: Vec<Vec<Vec<i64>>> = dimensions.iter().map(blank).collect();
    let mut public = Public {
        by_group: dimensions.iter().map(blank).collect(),
        overall: vec![0; n],
    };
    let mut overall = vec![0i64; n];
    for person in persons {
        let path = rows_of(family, &leaves.rows, person);
        let Some(&leaf) = index.get(&path) else {
            continue;
        };
        overall[leaf] += 1;
        public.overall[leaf] += i64::from(person.public);
        for (d, dimension) in dimensions.iter().enumerate() {
            let group = person
                .groups
                .get(d)
                .and_then(|g| dimension.groups.iter().position(|(name, _)| name == g));
            if let Some(g) = group {
                counts[d][leaf][g] += 1;
                public.by_group[d][leaf][g] += i64::from(person.public);
            }
        }
    }
    // Everybody not counted is "no data": the group's persons are public.
    for (d, dimension) in dimensions.iter().enumerate() {
        for (g, (_, persons)) in dimension.groups.iter().enumerate() {
            let counted: i64 = (0..leaves.no_data()).map(|l| counts[d][l][g]).sum();
            counts[d][leaves.no_data()][g] = (*persons as i64 - counted).max(0);
        }
    }
    let everybody: i64 = dimensions.first().map_or(0, |d| {
        (0..d.groups.len())
            .map(|g| (0..n).map(|l| counts[0][l][g]).sum::<i64>())
            .sum()
    });
    let counted: i64 = overall.iter().sum();
    overall[leaves.no_data()] = (everybody - counted).max(0);
    (counts, overall, public)
}

/// The L2 sensitivity of each stage's vector with `dimensions` dimensions, for neighbouring
/// datasets that differ in one person's answers or in whether the person is counted (the
/// groups' sizes are public and fixed): stage 1 moves the person's count in one group of each
/// dimension by one (√D); stage 2 moves one count down and one up in the margins and in each
/// dimension's table (√(2(D + 1))).
pub fn sensitivities(dimensions: usize) -> (f64, f64) {
    let d = dimensions as f64;
    (d.sqrt(), (2.0 * (d + 1.0)).sqrt())
}

/// Stage 1's exact vector: the persons counted in each group of each dimension.
fn stage_one(leaves: &Leaves, counts: &[Vec<Vec<i64>>]) -> Vec<i64> {
    counts
        .iter()
        .flat_map(|table| {
            let groups = table.first().map_or(0, Vec::len);
            (0..groups).map(move |g| (0..leaves.no_data()).map(|l| table[l][g]).sum::<i64>())
        })
        .collect()
}

/// Stage 2's exact vector: the margins' leaves, then each group's sets (leaves when
/// `detailed[dimension][group]`, else root options), "no data" last in each.
fn stage_two(
    leaves: &Leaves,
    counts: &[Vec<Vec<i64>>],
    overall: &[i64],
    detailed: &[Vec<bool>],
) -> Vec<i64> {
    let mut exact: Vec<i64> = overall.to_vec();
    for (table, detailed) in counts.iter().zip(detailed) {
        for (g, &detail) in detailed.iter().enumerate() {
            for set in leaves.sets(detail) {
                exact.push(set.iter().map(|&l| table[l][g]).sum());
            }
        }
    }
    exact
}

/// Draws the family's measurements from the persons counted.
pub fn measure(
    definition: &Definition,
    question: &str,
    dimensions: &[Dimension],
    persons: &[Person],
    parameters: Parameters,
) -> Result<(Measurements, Public), Refused> {
    let family = family(definition, question);
    let leaves = Leaves::of(&family);
    let (counts, overall, public) = count(&leaves, &family, dimensions, persons);

    let (one_sensitivity, two_sensitivity) = sensitivities(dimensions.len());

    // Stage 1: persons counted per group.
    let stage_one_scale = noise::scale_for(parameters.rho * STAGE_ONE_SHARE, one_sensitivity);
    let noisy_one = noise::measure(&stage_one(&leaves, &counts), stage_one_scale)?;
    let mut counted = Vec::new();
    let mut at = 0;
    for dimension in dimensions {
        counted.push(noisy_one[at..at + dimension.groups.len()].to_vec());
        at += dimension.groups.len();
    }

    // Stage 2: the margins and every group's sets, one vector.
    let detailed: Vec<Vec<bool>> = counted
        .iter()
        .map(|groups| {
            groups
                .iter()
                .map(|&c| c >= parameters.detail_threshold)
                .collect()
        })
        .collect();
    let exact = stage_two(&leaves, &counts, &overall, &detailed);
    let stage_two_scale =
        noise::scale_for(parameters.rho * (1.0 - STAGE_ONE_SHARE), two_sensitivity);
    let noisy_two = noise::measure(&exact, stage_two_scale)?;
    let margin = noisy_two[..leaves.len()].to_vec();
    let mut at = leaves.len();
    let mut tables = Vec::new();
    for detailed in &detailed {
        let mut groups = Vec::new();
        for &detail in detailed {
            let sets = leaves.sets(detail).len();
            groups.push(noisy_two[at..at + sets].to_vec());
            at += sets;
        }
        tables.push(groups);
    }
    let rho = noise::rho(stage_one_scale, one_sensitivity)?
        + noise::rho(stage_two_scale, two_sensitivity)?;
    Ok((
        Measurements {
            parameters,
            stage_one_scale,
            stage_two_scale,
            rho,
            counted,
            margin,
            tables,
        },
        public,
    ))
}

/// The most cells one linear program fits: a dimension with more groups (the constituencies of
/// a national election) is fitted top-down in blocks of groups. The solver's time grows faster
/// than the table (docs/benchmarks.md: 4,500 cells 1.6 s, 10,200 cells 27 s).
const CELLS_PER_FIT: usize = 1_500;

/// A dimension's table fitted to the margins and the groups' sizes: in one linear program, or,
/// for many groups, top-down as the Census Bureau's TopDown does: first a table with one column
/// per block of groups (fitted to the margins and the blocks' sizes, from the blocks' summed
/// measurements), then each block's groups fitted to their block's rows. Every step keeps its
/// totals exactly, so the result does too.
fn fit_dimension(leaves: &Leaves, p: &Problem) -> Option<Vec<Vec<i64>>> {
    let (rows, columns) = (p.row_totals.len(), p.column_totals.len());
    let block = (CELLS_PER_FIT / rows.max(1)).max(8);
    if columns <= block {
        return fit(p);
    }
    let blocks: Vec<std::ops::Range<usize>> = (0..columns)
        .step_by(block)
        .map(|start| start..(start + block).min(columns))
        .collect();
    let of_block = |b: &std::ops::Range<usize>, v: &[i64]| v[b.clone()].iter().sum::<i64>();
    // The blocks' measurements: each set measured in every group of the block, summed (its
    // noise's variance summed too). A detailed group also gives its root options, as the sums
    // of their leaves, so that a block mixing detailed and coarse groups is measured by root.
    let roots: Vec<Vec<usize>> = leaves.sets(false);
    let mut level: Vec<Measured> = Vec::new();
    for (at, b) in blocks.iter().enumerate() {
        let mut sums: BTreeMap<Vec<usize>, (i64, f64, usize)> = BTreeMap::new();
        for g in b.clone() {
            let own: Vec<&Measured> = p.measured.iter().filter(|m| m.column == g).collect();
            let mut add = |rows: &[usize], noisy: i64, variance: f64| {
                let e = sums.entry(rows.to_vec()).or_default();
                e.0 += noisy;
                e.1 += variance;
                e.2 += 1;
            };
            for m in &own {
                add(&m.rows, m.noisy, 1.0 / (m.weight * m.weight));
            }
            for root in &roots {
                if own.iter().any(|m| m.rows == *root) {
                    continue;
                }
                let parts: Vec<&&Measured> = own
                    .iter()
                    .filter(|m| m.rows.len() == 1 && root.contains(&m.rows[0]))
                    .collect();
                if parts.len() == root.len() {
                    let variance = parts.iter().map(|m| 1.0 / (m.weight * m.weight)).sum();
                    add(root, parts.iter().map(|m| m.noisy).sum(), variance);
                }
            }
        }
        for (set, (noisy, variance, groups)) in sums {
            if groups == b.len() {
                level.push(Measured {
                    column: at,
                    rows: set,
                    noisy,
                    weight: 1.0 / variance.sqrt(),
                });
            }
        }
    }
    let block_totals: Vec<i64> = blocks
        .iter()
        .map(|b| of_block(b, p.column_totals))
        .collect();
    let block_floor: Vec<Vec<i64>> = p
        .floor
        .iter()
        .map(|r| blocks.iter().map(|b| of_block(b, r)).collect())
        .collect();
    let top = fit(&Problem {
        row_totals: p.row_totals,
        column_totals: &block_totals,
        floor: &block_floor,
        measured: &level,
    })?;
    let mut table = vec![vec![0i64; columns]; rows];
    for (at, b) in blocks.iter().enumerate() {
        let block_rows: Vec<i64> = (0..rows).map(|r| top[r][at]).collect();
        let floor: Vec<Vec<i64>> = p.floor.iter().map(|r| r[b.clone()].to_vec()).collect();
        let measured: Vec<Measured> = p
            .measured
            .iter()
            .filter(|m| b.contains(&m.column))
            .map(|m| Measured {
                column: m.column - b.start,
                ..m.clone()
            })
            .collect();
        let part = fit(&Problem {
            row_totals: &block_rows,
            column_totals: &p.column_totals[b.clone()],
            floor: &floor,
            measured: &measured,
        })?;
        for r in 0..rows {
            table[r][b.clone()].copy_from_slice(&part[r]);
        }
    }
    Some(table)
}

/// Why a release could not be fitted: the measurements do not belong to these facts.
#[derive(Debug, thiserror::Error)]
pub enum Unfit {
    #[error("the measurements do not match the family's shape")]
    Shape,
    #[error("the public facts cannot all hold (answers published with consent exceed a group)")]
    Infeasible,
    #[error(transparent)]
    Refused(#[from] Refused),
}

/// The family's published values, from its measurements and the public facts: the same input
/// always gives the same values.
pub fn publish(
    definition: &Definition,
    question: &str,
    dimensions: &[Dimension],
    public: &Public,
    m: &Measurements,
) -> Result<Vec<Value>, Unfit> {
    let family = family(definition, question);
    let leaves = Leaves::of(&family);
    let n = leaves.len();
    let shaped = m.margin.len() == n
        && public.overall.len() == n
        && m.tables.len() == dimensions.len()
        && m.counted.len() == dimensions.len()
        && public.by_group.len() == dimensions.len();
    if !shaped {
        return Err(Unfit::Shape);
    }
    let everybody: i64 = dimensions
        .first()
        .map_or(0, |d| d.groups.iter().map(|(_, p)| *p as i64).sum());
    let everybody = everybody.max(public.overall.iter().sum());
    let margin_noisy: Vec<f64> = m.margin.iter().map(|&v| v as f64).collect();
    let margin = project(&margin_noisy, &public.overall, everybody).ok_or(Unfit::Infeasible)?;

    let w1 = 1.0 / m.stage_one_scale;
    let w2 = 1.0 / m.stage_two_scale;
    let one = noise::half_width_90(m.stage_one_scale)?;
    let of_sum = |k: usize| noise::half_width_90(m.stage_two_scale * (k.max(1) as f64).sqrt());

    let mut values = Vec::new();
    // The margins.
    for (r, row) in leaves.rows.iter().enumerate() {
        let through = leaves.through(r);
        let count: i64 = through.iter().map(|&l| margin[l]).sum();
        values.push(Value {
            dimension: ALL.into(),
            question: row.question.clone(),
            option: row.option.clone(),
            group: ALL.into(),
            count: Some(count.max(0) as u64),
            half_width: of_sum(through.len())?,
            coarsened: false,
        });
    }
    let counted_overall: i64 = (0..leaves.no_data()).map(|l| margin[l]).sum();
    values.push(Value {
        dimension: ALL.into(),
        question: ALL.into(),
        option: ALL.into(),
        group: ALL.into(),
        count: Some(counted_overall.max(0) as u64),
        half_width: of_sum(leaves.no_data())?,
        coarsened: false,
    });

    for (dm, dimension) in dimensions.iter().enumerate() {
        let groups = dimension.groups.len();
        if m.tables[dm].len() != groups || m.counted[dm].len() != groups {
            return Err(Unfit::Shape);
        }
        let detailed: Vec<bool> = m.counted[dm]
            .iter()
            .map(|&c| c >= m.parameters.detail_threshold)
            .collect();
        let mut measured = Vec::new();
        for (g, &detail) in detailed.iter().enumerate() {
            let sets = leaves.sets(detail);
            if sets.len() != m.tables[dm][g].len() {
                return Err(Unfit::Shape);
            }
            for (set, noisy) in sets.into_iter().zip(&m.tables[dm][g]) {
                measured.push(Measured {
                    column: g,
                    rows: set,
                    noisy: *noisy,
                    weight: w2,
                });
            }
            measured.push(Measured {
                column: g,
                rows: (0..leaves.no_data()).collect(),
                noisy: m.counted[dm][g],
                weight: w1,
            });
        }
        let column_totals: Vec<i64> = (0..groups)
            .map(|g| {
                let persons = dimension.groups[g].1 as i64;
                persons.max((0..n).map(|l| public.by_group[dm][l][g]).sum())
            })
            .collect();
        // The groups' persons must add up to everybody, as the margins do.
        if column_totals.iter().sum::<i64>() != everybody {
            return Err(Unfit::Infeasible);
        }
        let table = fit_dimension(
            &leaves,
            &Problem {
                row_totals: &margin,
                column_totals: &column_totals,
                floor: &public.by_group[dm],
                measured: &measured,
            },
        )
        .ok_or(Unfit::Infeasible)?;
        for (g, (group, _)) in dimension.groups.iter().enumerate() {
            for (r, row) in leaves.rows.iter().enumerate() {
                let through = leaves.through(r);
                let root = row.asked_by.is_none();
                let shown = detailed[g] || root;
                let count: i64 = through.iter().map(|&l| table[l][g]).sum();
                values.push(Value {
                    dimension: dimension.name.clone(),
                    question: row.question.clone(),
                    option: row.option.clone(),
                    group: group.clone(),
                    count: shown.then_some(count.max(0) as u64),
                    half_width: if !shown {
                        0.0
                    } else if detailed[g] {
                        of_sum(through.len())?
                    } else {
                        of_sum(1)?
                    },
                    coarsened: !detailed[g],
                });
            }
            let counted: i64 = (0..leaves.no_data()).map(|l| table[l][g]).sum();
            values.push(Value {
                dimension: dimension.name.clone(),
                question: ALL.into(),
                option: ALL.into(),
                group: group.clone(),
                count: Some(counted.max(0) as u64),
                half_width: one,
                coarsened: !detailed[g],
            });
        }
    }
    Ok(values)
}

#[cfg(test)]
mod tests;
