//! Small-cell suppression of a two-way table with its margins (DESIGN §7).
//!
//! A cell with count `c` in a group of `n` is suppressed when `c` or `n − c` is between 1 and
//! k−1. Then complementary suppression: every line of the table (a row with its row total, a
//! column with its column total, the row totals with the grand total, the column totals with the
//! grand total) that hides exactly one value would let it be recomputed by subtraction, so a
//! second value of that line is hidden too (the smallest one), until no line hides exactly one;
//! then the published equations are solved together, and any hidden value they still pin down
//! gets a partner hidden too, until none is determined.
//!
//! A table whose whole population (the grand total) is under the threshold, or moved by fewer
//! than k persons since it was last published, is suppressed entirely, grand total included: a
//! smaller table would describe those few persons. Every table answers, for any counts.

/// A table: `cells[row][col]`, its row totals, column totals and grand total, and what is hidden.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub cells: Vec<Vec<u64>>,
    pub hidden: Vec<Vec<bool>>,
    pub row_totals: Vec<u64>,
    pub row_hidden: Vec<bool>,
    pub col_totals: Vec<u64>,
    pub col_hidden: Vec<bool>,
    pub total: u64,
    /// The whole table is suppressed (its population is under the threshold, or moved by
    /// fewer than k persons since last published): every value hidden, the grand total too.
    pub total_hidden: bool,
}

fn small(value: u64, k: u64) -> bool {
    (1..k).contains(&value)
}

/// A value of the table: a cell, a row total, a column total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    Cell(usize, usize),
    Row(usize),
    Col(usize),
}

impl Table {
    /// Suppresses the whole table, grand total included.
    fn hide_all(&mut self) {
        self.hidden.iter_mut().flatten().for_each(|h| *h = true);
        self.row_hidden.iter_mut().for_each(|h| *h = true);
        self.col_hidden.iter_mut().for_each(|h| *h = true);
        self.total_hidden = true;
    }

    fn value(&self, at: At) -> u64 {
        match at {
            At::Cell(r, c) => self.cells[r][c],
            At::Row(r) => self.row_totals[r],
            At::Col(c) => self.col_totals[c],
        }
    }

    fn is_hidden(&self, at: At) -> bool {
        match at {
            At::Cell(r, c) => self.hidden[r][c],
            At::Row(r) => self.row_hidden[r],
            At::Col(c) => self.col_hidden[c],
        }
    }

    fn hide(&mut self, at: At) {
        match at {
            At::Cell(r, c) => self.hidden[r][c] = true,
            At::Row(r) => self.row_hidden[r] = true,
            At::Col(c) => self.col_hidden[c] = true,
        }
    }

    /// Every line whose values sum to a published total (the grand total is always published).
    fn lines(&self) -> Vec<Vec<At>> {
        let (rows, cols) = (self.row_totals.len(), self.col_totals.len());
        let mut lines = Vec::new();
        for r in 0..rows {
            let mut line: Vec<At> = (0..cols).map(|c| At::Cell(r, c)).collect();
            line.push(At::Row(r));
            lines.push(line);
        }
        for c in 0..cols {
            let mut line: Vec<At> = (0..rows).map(|r| At::Cell(r, c)).collect();
            line.push(At::Col(c));
            lines.push(line);
        }
        lines.push((0..rows).map(At::Row).collect());
        lines.push((0..cols).map(At::Col).collect());
        lines
    }
}

/// The values of the same table published before (`None`: never published), by position.
#[derive(Debug, Clone, Default)]
pub struct Released {
    pub cells: Vec<Vec<Option<u64>>>,
    pub rows: Vec<Option<u64>>,
    pub cols: Vec<Option<u64>>,
    /// The grand total.
    pub total: Option<u64>,
}

impl Released {
    fn get(&self, at: At) -> Option<u64> {
        match at {
            At::Cell(r, c) => self
                .cells
                .get(r)
                .and_then(|row| row.get(c))
                .copied()
                .flatten(),
            At::Row(r) => self.rows.get(r).copied().flatten(),
            At::Col(c) => self.cols.get(c).copied().flatten(),
        }
    }
}

/// Counts by row and column; suppression with threshold `k`.
pub fn suppress(cells: Vec<Vec<u64>>, k: u64) -> Table {
    suppress_since(cells, k, &Released::default())
}

/// Suppression that also guards against differencing: a value that moved by 1 to k−1 since it
/// was last published would tell, subtracted from it, what those few persons answered; it is
/// hidden like a small cell (and gets its complementary partners), until it has moved by k or
/// more. Values never published before are judged on their own.
pub fn suppress_since(cells: Vec<Vec<u64>>, k: u64, released: &Released) -> Table {
    let moved = |at: At, value: u64| {
        released
            .get(at)
            .is_some_and(|p| small(p.abs_diff(value), k))
    };
    let rows = cells.len();
    let cols = cells.first().map_or(0, Vec::len);
    let col_totals: Vec<u64> = (0..cols)
        .map(|c| cells.iter().map(|row| row[c]).sum())
        .collect();
    let row_totals: Vec<u64> = cells.iter().map(|row| row.iter().sum()).collect();
    let total: u64 = row_totals.iter().sum();
    let hidden = (0..rows)
        .map(|r| {
            (0..cols)
                .map(|c| {
                    let (v, n) = (cells[r][c], col_totals[c]);
                    small(v, k) || small(n - v, k) || moved(At::Cell(r, c), v)
                })
                .collect()
        })
        .collect();
    let whole = small(total, k) || released.total.is_some_and(|p| small(p.abs_diff(total), k));
    let mut table = Table {
        row_hidden: row_totals
            .iter()
            .enumerate()
            .map(|(r, &v)| small(v, k) || small(total - v, k) || moved(At::Row(r), v))
            .collect(),
        col_hidden: col_totals
            .iter()
            .enumerate()
            .map(|(c, &v)| small(v, k) || small(total - v, k) || moved(At::Col(c), v))
            .collect(),
        cells,
        hidden,
        row_totals,
        col_totals,
        total,
        total_hidden: false,
    };
    if whole {
        table.hide_all();
        return table;
    }
    // Complementary suppression: repeat until no line hides exactly one value.
    loop {
        let mut changed = false;
        for line in table.lines() {
            let hidden: Vec<&At> = line.iter().filter(|at| table.is_hidden(**at)).collect();
            if hidden.len() != 1 {
                continue;
            }
            let partner = line
                .iter()
                .filter(|at| !table.is_hidden(**at))
                .min_by_key(|at| (table.value(**at) == 0, table.value(**at)))
                .copied();
            match partner {
                Some(at) => {
                    table.hide(at);
                    changed = true;
                }
                // A line of one value equals the published grand total: nothing in the table
                // can hide it, so the table is suppressed whole.
                None => {
                    table.hide_all();
                    return table;
                }
            }
        }
        if changed {
            continue;
        }
        // Lines alone do not see chains of lines: solve the published equations and hide a
        // partner of every value they still pin down.
        let pinned = pinned_down(&table);
        if pinned.is_empty() {
            return table;
        }
        for at in pinned {
            let line = table
                .lines()
                .into_iter()
                .find(|line| line.contains(&at) && line.iter().any(|x| !table.is_hidden(*x)));
            if let Some(line) = line {
                let partner = line
                    .iter()
                    .filter(|x| !table.is_hidden(**x))
                    .min_by_key(|x| (table.value(**x) == 0, table.value(**x)))
                    .copied();
                if let Some(partner) = partner {
                    table.hide(partner);
                }
            }
        }
    }
}

/// The hidden values the published ones determine exactly: the unknowns that are a row of
/// their own in the reduced row echelon form of the equations the lines leave on them.
fn pinned_down(t: &Table) -> Vec<At> {
    let unknowns: Vec<At> = t
        .lines()
        .into_iter()
        .flatten()
        .filter(|at| t.is_hidden(*at))
        .fold(Vec::new(), |mut seen, at| {
            if !seen.contains(&at) {
                seen.push(at);
            }
            seen
        });
    if unknowns.is_empty() {
        return Vec::new();
    }
    let mut rows: Vec<Vec<f64>> = Vec::new();
    for line in t.lines() {
        let mut eq = vec![0.0; unknowns.len()];
        // Row and column lines end with their total (sign −1); the two total lines sum to the
        // published grand total, so all their members count +1.
        let totals_line = matches!(line[0], At::Row(_) | At::Col(_));
        let last = line.len() - 1;
        for (i, at) in line.iter().enumerate() {
            if let Some(u) = unknowns.iter().position(|x| x == at) {
                eq[u] += if i == last && !totals_line { -1.0 } else { 1.0 };
            }
        }
        if eq.iter().any(|v| *v != 0.0) {
            rows.push(eq);
        }
    }
    // Reduced row echelon form.
    let mut pivot_row = 0;
    let mut pivots = Vec::new();
    for c in 0..unknowns.len() {
        let Some(p) = (pivot_row..rows.len()).find(|&r| rows[r][c].abs() > 1e-9) else {
            continue;
        };
        rows.swap(pivot_row, p);
        let scale = rows[pivot_row][c];
        for v in &mut rows[pivot_row] {
            *v /= scale;
        }
        let pivot = rows[pivot_row].clone();
        for (r, row) in rows.iter_mut().enumerate() {
            if r != pivot_row && row[c].abs() > 1e-9 {
                let f = row[c];
                for (v, pv) in row.iter_mut().zip(&pivot) {
                    *v -= f * pv;
                }
            }
        }
        pivots.push((pivot_row, c));
        pivot_row += 1;
    }
    pivots
        .into_iter()
        .filter(|(r, c)| {
            rows[*r]
                .iter()
                .enumerate()
                .all(|(i, v)| i == *c || v.abs() <= 1e-9)
        })
        .map(|(_, c)| unknowns[c])
        .collect()
}

#[cfg(test)]
pub mod audit {
    //! An auditor with the attacker's knowledge: the published values and the additivity of the
    //! table. A hidden value is exactly derivable when its unit vector lies in the row space of
    //! the linear equations the published values leave on the hidden ones.
    use super::*;

    fn rank(mut m: Vec<Vec<f64>>) -> usize {
        let cols = m.first().map_or(0, Vec::len);
        let mut rank = 0;
        for c in 0..cols {
            let Some(pivot) = (rank..m.len()).find(|&r| m[r][c].abs() > 1e-9) else {
                continue;
            };
            m.swap(rank, pivot);
            let p = m[rank][c];
            for v in &mut m[rank] {
                *v /= p;
            }
            for r in 0..m.len() {
                if r != rank && m[r][c].abs() > 1e-9 {
                    let f = m[r][c];
                    let pivot_row = m[rank].clone();
                    for (v, pv) in m[r].iter_mut().zip(pivot_row) {
                        *v -= f * pv;
                    }
                }
            }
            rank += 1;
        }
        rank
    }

    /// The hidden values an attacker can compute exactly.
    pub fn derivable(t: &Table) -> Vec<String> {
        let (rows, cols) = (t.row_totals.len(), t.col_totals.len());
        let mut unknowns: Vec<At> = Vec::new();
        for r in 0..rows {
            for c in 0..cols {
                if t.hidden[r][c] {
                    unknowns.push(At::Cell(r, c));
                }
            }
            if t.row_hidden[r] {
                unknowns.push(At::Row(r));
            }
        }
        for c in 0..cols {
            if t.col_hidden[c] {
                unknowns.push(At::Col(c));
            }
        }
        let index = |at: At| unknowns.iter().position(|u| *u == at);
        // A table suppressed whole hides its grand total too: one more unknown, last.
        let width = unknowns.len() + usize::from(t.total_hidden);
        // Each line: Σ cells − total = 0, over its hidden members.
        let mut equations = Vec::new();
        for line in t.lines() {
            let mut eq = vec![0.0; width];
            let last = line.len() - 1;
            let total_is_grand = matches!(line[0], At::Row(_) | At::Col(_));
            for (i, at) in line.iter().enumerate() {
                let sign = if i == last && !total_is_grand {
                    -1.0
                } else {
                    1.0
                };
                if let Some(u) = index(*at) {
                    eq[u] += sign;
                }
            }
            if total_is_grand && t.total_hidden {
                eq[width - 1] -= 1.0;
            }
            if eq.iter().any(|v| *v != 0.0) {
                equations.push(eq);
            }
        }
        let base = rank(equations.clone());
        let mut names: Vec<String> = unknowns.iter().map(|at| format!("{at:?}")).collect();
        if t.total_hidden {
            names.push("Total".into());
        }
        names
            .into_iter()
            .enumerate()
            .filter(|(u, _)| {
                let mut with = equations.clone();
                let mut e = vec![0.0; width];
                e[*u] = 1.0;
                with.push(e);
                rank(with) == base
            })
            .map(|(_, name)| name)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::audit::derivable;
    use super::*;

    #[test]
    fn small_cells_and_their_complements_are_hidden() {
        // Columns: two groups; rows: yes / no.
        let t = suppress(vec![vec![2, 10], vec![20, 10]], 5);
        assert!(t.hidden[0][0], "2 is small");
        assert!(t.hidden[1][0], "its complement in the group is hidden too");
        assert!(derivable(&t).is_empty(), "{:?}", derivable(&t));
    }

    #[test]
    fn a_lone_hidden_cell_gets_a_partner_in_every_line() {
        let t = suppress(
            vec![vec![3, 12, 9, 20], vec![15, 14, 30, 8], vec![11, 1, 7, 25]],
            5,
        );
        for line in t.lines() {
            let hidden = line.iter().filter(|at| t.is_hidden(**at)).count();
            assert_ne!(hidden, 1, "{line:?}");
        }
        assert!(derivable(&t).is_empty(), "{:?}", derivable(&t));
    }

    #[test]
    fn nothing_hidden_is_derivable_over_many_tables() {
        // Deterministic pseudo-random tables with many small cells.
        let mut seed = 42u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % 14
        };
        for _ in 0..300 {
            let rows = 2 + (next() % 4) as usize;
            let cols = 2 + (next() % 5) as usize;
            let cells: Vec<Vec<u64>> = (0..rows)
                .map(|_| (0..cols).map(|_| next()).collect())
                .collect();
            let t = suppress(cells.clone(), 5);
            let leaks = derivable(&t);
            assert!(leaks.is_empty(), "{cells:?} leaks {leaks:?}");
        }
    }

    /// What `t` published, as the next request's memory of it.
    fn released(t: &Table) -> Released {
        let shown = |v: u64, hidden: bool| (!hidden).then_some(v);
        Released {
            cells: (0..t.cells.len())
                .map(|r| {
                    (0..t.cells[r].len())
                        .map(|c| shown(t.cells[r][c], t.hidden[r][c]))
                        .collect()
                })
                .collect(),
            rows: (0..t.row_totals.len())
                .map(|r| shown(t.row_totals[r], t.row_hidden[r]))
                .collect(),
            cols: (0..t.col_totals.len())
                .map(|c| shown(t.col_totals[c], t.col_hidden[c]))
                .collect(),
            total: shown(t.total, t.total_hidden),
        }
    }

    /// Every value published in both tables, with its two values.
    fn published_in_both(a: &Table, b: &Table) -> Vec<(At, u64, u64)> {
        let mut both = Vec::new();
        for line in a.lines() {
            for at in line {
                if !a.is_hidden(at) && !b.is_hidden(at) {
                    both.push((at, a.value(at), b.value(at)));
                }
            }
        }
        both
    }

    #[test]
    fn two_tables_one_person_apart_show_no_exact_difference() {
        let before = vec![vec![40, 22, 31], vec![18, 27, 35], vec![25, 30, 12]];
        let first = suppress(before.clone(), 5);
        assert!(first.hidden.iter().flatten().all(|h| !h), "all large");
        // Each single person leaving, in turn: nothing published in both tables differs,
        // and nothing hidden can be recomputed from the second table.
        for r in 0..3 {
            for c in 0..3 {
                let mut after = before.clone();
                after[r][c] -= 1;
                let second = suppress_since(after, 5, &released(&first));
                assert!(second.hidden[r][c], "the person's cell ({r},{c}) is hidden");
                for (at, a, b) in published_in_both(&first, &second) {
                    assert_eq!(a, b, "{at:?} moved by {} and was published", a.abs_diff(b));
                }
                assert!(derivable(&second).is_empty(), "{:?}", derivable(&second));
                // Without the memory of the first table, the difference would show.
                let naive = suppress(second.cells.clone(), 5);
                assert!(!naive.hidden[r][c]);
            }
        }
    }

    #[test]
    fn a_value_that_moved_by_k_or_more_is_published_again() {
        let first = suppress(vec![vec![40, 22], vec![18, 27]], 5);
        let second = suppress_since(vec![vec![45, 22], vec![18, 27]], 5, &released(&first));
        assert!(!second.hidden[0][0] && second.cells[0][0] == 45);
    }

    #[test]
    fn a_population_under_the_threshold_is_suppressed_whole() {
        // All the answers in one group, three persons: nothing of it is published.
        let t = suppress(vec![vec![0, 2, 0], vec![0, 1, 0]], 5);
        assert!(t.total_hidden);
        assert!(t.hidden.iter().flatten().all(|h| *h));
        assert!(t.row_hidden.iter().chain(&t.col_hidden).all(|h| *h));
    }

    #[test]
    fn one_group_or_one_option_tables_answer_without_leaking() {
        // One column: its total is the grand total (the line the old code could not partner).
        for cells in [
            vec![vec![3], vec![9]],
            vec![vec![0], vec![12]],
            vec![vec![12, 0, 0], vec![1, 0, 0]],
            vec![vec![7, 8, 1]],
        ] {
            let t = suppress(cells.clone(), 5);
            assert!(
                derivable(&t).is_empty(),
                "{cells:?} leaks {:?}",
                derivable(&t)
            );
        }
    }

    #[test]
    fn a_population_that_moved_by_fewer_than_k_is_suppressed_whole() {
        let first = suppress(vec![vec![40, 22], vec![18, 27]], 5);
        let second = suppress_since(vec![vec![40, 22], vec![18, 29]], 5, &released(&first));
        assert!(
            second.total_hidden,
            "two persons more: the difference would tell their answers"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Any counts, any shape (one row, one column, all zeros, everyone in one cell): the
        /// table answers and nothing it hides can be recomputed from what it shows.
        #[test]
        fn every_table_answers_and_hides_what_it_hides(
            rows in 1usize..5,
            cols in 1usize..6,
            values in proptest::collection::vec(0u64..14, 30),
            k in 2u64..6,
        ) {
            let cells: Vec<Vec<u64>> = (0..rows)
                .map(|r| (0..cols).map(|c| values[r * cols + c]).collect())
                .collect();
            let t = suppress(cells.clone(), k);
            let leaks = derivable(&t);
            proptest::prop_assert!(leaks.is_empty(), "{:?} leaks {:?}", cells, leaks);
            // A published value is never a small count or the complement of one in its group.
            for r in 0..rows {
                for c in 0..cols {
                    if !t.hidden[r][c] {
                        proptest::prop_assert!(!small(t.cells[r][c], k), "{:?}", cells);
                    }
                }
            }
        }
    }

    #[test]
    fn large_counts_are_all_published() {
        let t = suppress(vec![vec![50, 60], vec![70, 80]], 5);
        assert!(t.hidden.iter().flatten().all(|h| !h));
        assert!(!t.row_hidden.iter().any(|h| *h) && !t.col_hidden.iter().any(|h| *h));
    }
}
