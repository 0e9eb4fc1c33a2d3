//! Cell suppression with protection intervals (DESIGN §7, docs/identity.md "Attacker model").
//!
//! A release is a set of counts tied by additive lines (the members of a line sum to its
//! total: a row to its margin, a column to its group's population, a follow-up's answers to
//! the parent option that asked it). The attacker knows every published count, every line, the
//! public bounds (how many persons a group has) and lower bounds (answers published with
//! consent; the counts released before, when everything grew). For every hidden non-zero
//! count `c` the release guarantees that the feasible interval the attacker can compute by
//! linear programming contains `[c − p, c + p]`, clipped to what the value's own bounds allow.
//!
//! How: primary suppression (a count, or its complement in any line it belongs to, between 1
//! and k−1; or a count that moved by 1 to k−1 since it was last released), complementary
//! suppression (no line hides exactly one value), then the protection check: the interval of
//! every hidden non-zero count is computed ([`interval`]) and, while one is too narrow, one
//! more value of a line through it is hidden. When nothing more can be hidden, or the
//! population is under the threshold or moved by fewer than k, everything is hidden.
//!
//! Values decided by an earlier release (a margin shared by several tables) are `fixed`: they
//! keep their decision and take part in the equations only.

mod interval;

pub use interval::{Bounds, interval};

/// Members that sum to a total, as indices into the release's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub members: Vec<usize>,
    pub total: usize,
}

/// The counts of one release and what ties them.
#[derive(Debug, Clone, Default)]
pub struct System {
    pub values: Vec<u64>,
    pub lines: Vec<Line>,
    /// The index of the population (the grand total).
    pub grand: usize,
    /// Decisions taken by an earlier release: `Some(hidden)`.
    pub fixed: Vec<Option<bool>>,
    /// What the same values were when last released (`None`: never released, or hidden).
    pub released: Vec<Option<u64>>,
    /// What the attacker knows besides the counts: public upper bounds (persons in a group)
    /// and lower bounds (answers published with consent).
    pub bounds: Vec<Bounds>,
    /// Values the attacker is assumed to know exactly, hidden or not (the worst case for a
    /// value that other releases may tell).
    pub known_to_attacker: Vec<bool>,
}

/// The rules: threshold `k` and protection half-width `p`.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub k: u64,
    pub p: u64,
}

impl Rules {
    /// The rules of an election whose threshold is `k`: protection ±2 (±1 under k = 3).
    pub fn with_threshold(k: u64) -> Self {
        let k = k.max(2);
        Self {
            k,
            p: if k >= 3 { 2 } else { 1 },
        }
    }

    fn small(&self, value: u64) -> bool {
        (1..self.k).contains(&value)
    }
}

/// Which values to hide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub hidden: Vec<bool>,
    /// Everything is hidden, the population included.
    pub whole: bool,
}

impl System {
    fn lines_of(&self, i: usize) -> impl Iterator<Item = &Line> {
        self.lines
            .iter()
            .filter(move |l| l.total == i || l.members.contains(&i))
    }

    /// The lower bound the attacker may assume for value `i`.
    fn assumed_lower(&self, i: usize) -> u64 {
        self.bounds[i].lower.max(self.grown_from(i).unwrap_or(0))
    }

    /// The count released before, when the value has not fallen since (an attacker who knows
    /// that persons were only added uses it as a lower bound).
    fn grown_from(&self, i: usize) -> Option<u64> {
        self.released[i].filter(|&r| r <= self.values[i])
    }

    /// How far the protection interval of value `i` reaches upwards: its group's population,
    /// or else the published totals of its lines and its public bound.
    fn upper_reach(&self, hidden: &[bool], i: usize) -> u64 {
        if let Some(reach) = self.bounds[i].reach {
            return reach;
        }
        let mut reach = self.bounds[i].upper.unwrap_or(u64::MAX);
        for line in self.lines.iter().filter(|l| l.members.contains(&i)) {
            if !hidden[line.total] {
                reach = reach.min(self.values[line.total]);
            }
        }
        reach
    }
}

fn everything(system: &System) -> Decision {
    Decision {
        hidden: system.fixed.iter().map(|f| f.unwrap_or(true)).collect(),
        whole: true,
    }
}

/// Decides what to hide so that every hidden non-zero count keeps its protection interval.
pub fn protect(system: &System, rules: Rules) -> Decision {
    let n = system.values.len();
    let small = |v: u64| rules.small(v);
    let grand = system.values[system.grand];
    let population_moved = system.released[system.grand].is_some_and(|r| small(r.abs_diff(grand)));
    if system.fixed[system.grand] == Some(true) || small(grand) || population_moved {
        return everything(system);
    }
    // Primary suppression.
    let mut hidden: Vec<bool> = (0..n)
        .map(|i| {
            if let Some(decided) = system.fixed[i] {
                return decided;
            }
            let v = system.values[i];
            let moved = system.released[i].is_some_and(|r| small(r.abs_diff(v)));
            let complement_small = system
                .lines
                .iter()
                .filter(|l| l.members.contains(&i))
                .any(|l| small(system.values[l.total].saturating_sub(v)));
            small(v) || moved || complement_small
        })
        .collect();
    // The population is published, or the release is hidden whole: never a partner.
    let free =
        |hidden: &[bool], i: usize| system.fixed[i].is_none() && !hidden[i] && i != system.grand;
    // A value found wide, with how far up its interval had to reach then: hiding more only
    // widens an interval, but hiding a line's total also raises how far it must reach.
    let mut wide: Vec<Option<u64>> = vec![None; n];
    // The interval each value has from the public facts alone.
    let mut public: std::collections::BTreeMap<usize, Option<(u64, u64)>> = Default::default();
    loop {
        // Complementary suppression: no line hides exactly one value.
        let mut changed = true;
        while changed {
            changed = false;
            for line in &system.lines {
                let all: Vec<usize> = line.members.iter().copied().chain([line.total]).collect();
                // A value the attacker knows counts as shown.
                let unknown = |i: usize| hidden[i] && !system.known_to_attacker[i];
                if all.iter().filter(|&&i| unknown(i)).count() != 1 {
                    continue;
                }
                let partner = all
                    .iter()
                    .copied()
                    .filter(|&i| free(&hidden, i))
                    .min_by_key(|&i| (system.values[i] == 0, system.values[i]));
                match partner {
                    Some(i) => {
                        hidden[i] = true;
                        changed = true;
                    }
                    None => return everything(system),
                }
            }
        }
        // Protection intervals, clipped to what the public facts alone allow.
        let mut narrow = None;
        for i in 0..n {
            let c = system.values[i];
            if !hidden[i] || c == 0 || system.known_to_attacker[i] {
                continue;
            }
            let reach = system.upper_reach(&hidden, i);
            if wide[i].is_some_and(|then| then >= reach) {
                continue;
            }
            let Some((lo, hi)) = interval(system, &hidden, i) else {
                narrow = Some(i);
                break;
            };
            // Wide without clipping: no need to ask what the public facts alone allow.
            let lower = system.assumed_lower(i);
            if lo <= c.saturating_sub(rules.p).max(lower) && hi >= (c + rules.p).min(reach) {
                wide[i] = Some(reach);
                continue;
            }
            let Some((floor, ceiling)) = *public
                .entry(i)
                .or_insert_with(|| interval(system, &vec![true; n], i))
            else {
                narrow = Some(i);
                break;
            };
            let need_lo = c.saturating_sub(rules.p).max(floor);
            let need_hi = (c + rules.p).min(ceiling).min(reach);
            if lo <= need_lo && hi >= need_hi {
                wide[i] = Some(reach);
            } else {
                narrow = Some(i);
                break;
            }
        }
        let Some(target) = narrow else {
            return Decision {
                hidden,
                whole: false,
            };
        };
        // Widen it: hide a value of a line through it (the smallest that can absorb p, else the
        // largest); when every such line is hidden already, look one line further.
        let mut frontier = vec![target];
        let mut seen = vec![false; n];
        seen[target] = true;
        let mut pick = None;
        while pick.is_none() && !frontier.is_empty() {
            let mut candidates = Vec::new();
            let mut next = Vec::new();
            for &v in &frontier {
                for line in system.lines_of(v) {
                    for i in line.members.iter().copied().chain([line.total]) {
                        if free(&hidden, i) {
                            candidates.push(i);
                        } else if hidden[i] && !seen[i] && !system.known_to_attacker[i] {
                            seen[i] = true;
                            next.push(i);
                        }
                    }
                }
            }
            pick = candidates
                .iter()
                .copied()
                .filter(|&i| system.values[i] >= rules.p)
                .min_by_key(|&i| system.values[i])
                .or_else(|| candidates.iter().copied().max_by_key(|&i| system.values[i]));
            frontier = next;
        }
        match pick {
            Some(i) => hidden[i] = true,
            None => return everything(system),
        }
    }
}

#[cfg(test)]
mod tests;
