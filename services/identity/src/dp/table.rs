//! Post-processing of a noisy two-way table: the published cells are non-negative integers, at
//! least what is public (answers published with consent), adding up exactly to the row totals
//! (the family's margins, fitted first) and to the column totals (the persons of each group,
//! public in the candidacy lists), and as close as those allow to the noisy measurements
//! (least absolute deviations, each measurement weighted by the inverse of its noise scale).
//!
//! A measurement is a set of rows in one column: a single cell for a detailed column, the
//! cells of a parent option for a column released coarser. Rows are a partition of the
//! column; the row totals and a column's measured sets form two laminar families of cells, so
//! the constraint matrix is totally unimodular and, the totals and the noisy counts being
//! integers, the linear program's optimal vertex is already integral: no rounding moves a sum.
//! The result is checked anyway and refused if it is not.
//!
//! Functions of noisy values and public facts only: no privacy budget is spent here.

use good_lp::{Expression, ProblemVariables, Solution, SolverModel, Variable, microlp, variable};

/// A noisy count of some rows of one column.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    pub column: usize,
    pub rows: Vec<usize>,
    pub noisy: i64,
    /// How much a unit of deviation from this measurement costs (1 / its noise scale).
    pub weight: f64,
}

/// What the fitted table must keep.
#[derive(Debug, Clone)]
pub struct Problem<'a> {
    pub row_totals: &'a [i64],
    pub column_totals: &'a [i64],
    /// The least each cell can be, `[row][column]`.
    pub floor: &'a [Vec<i64>],
    pub measured: &'a [Measured],
}

/// The fitted table `[row][column]`; `None` when the totals and floors cannot all hold (the
/// totals disagree, or a floor exceeds its total) or the solver failed.
pub fn fit(problem: &Problem) -> Option<Vec<Vec<i64>>> {
    let (rows, columns) = (problem.row_totals.len(), problem.column_totals.len());
    if problem.floor.len() != rows || problem.floor.iter().any(|r| r.len() != columns) {
        return None;
    }
    if problem.row_totals.iter().sum::<i64>() != problem.column_totals.iter().sum::<i64>() {
        return None;
    }
    let bad_measurement = |m: &Measured| {
        m.column >= columns || m.rows.iter().any(|&r| r >= rows) || !m.weight.is_finite()
    };
    if problem.measured.iter().any(bad_measurement) {
        return None;
    }
    if rows == 0 || columns == 0 {
        return Some(vec![vec![0; columns]; rows]);
    }
    let mut vars = ProblemVariables::new();
    let x: Vec<Vec<Variable>> = problem
        .floor
        .iter()
        .map(|r| {
            r.iter()
                .map(|&f| vars.add(variable().min(f as f64)))
                .collect()
        })
        .collect();
    let deviations: Vec<(Variable, Variable)> = problem
        .measured
        .iter()
        .map(|_| (vars.add(variable().min(0.0)), vars.add(variable().min(0.0))))
        .collect();
    let mut objective = Expression::from(0.0);
    for (m, (over, under)) in problem.measured.iter().zip(&deviations) {
        objective += m.weight.max(1e-9) * (*over + *under);
    }
    let mut model = vars.minimise(objective).using(microlp);
    for (r, total) in problem.row_totals.iter().enumerate() {
        let sum: Expression = x[r].iter().copied().sum();
        model = model.with(sum.eq(*total as f64));
    }
    for (c, total) in problem.column_totals.iter().enumerate() {
        let sum: Expression = (0..rows).map(|r| x[r][c]).sum();
        model = model.with(sum.eq(*total as f64));
    }
    for (m, (over, under)) in problem.measured.iter().zip(&deviations) {
        let sum: Expression = m.rows.iter().map(|&r| x[r][m.column]).sum();
        model = model.with((sum - *over + *under).eq(m.noisy as f64));
    }
    let solution = model.solve().ok()?;
    let table: Vec<Vec<i64>> = x
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| solution.value(*v).round() as i64)
                .collect()
        })
        .collect();
    let keeps = (0..rows).all(|r| table[r].iter().sum::<i64>() == problem.row_totals[r])
        && (0..columns)
            .all(|c| (0..rows).map(|r| table[r][c]).sum::<i64>() == problem.column_totals[c])
        && (0..rows).all(|r| (0..columns).all(|c| table[r][c] >= problem.floor[r][c]));
    keeps.then_some(table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cells(rows: usize, columns: usize, noisy: &[i64]) -> Vec<Measured> {
        (0..rows * columns)
            .map(|i| Measured {
                column: i % columns,
                rows: vec![i / columns],
                noisy: noisy[i],
                weight: 1.0,
            })
            .collect()
    }

    #[test]
    fn an_exact_table_comes_back_unchanged() {
        let truth = [[5i64, 0, 7], [3, 9, 1]];
        let noisy: Vec<i64> = truth.iter().flatten().copied().collect();
        let fitted = fit(&Problem {
            row_totals: &[12, 13],
            column_totals: &[8, 9, 8],
            floor: &[vec![0; 3], vec![0; 3]],
            measured: &cells(2, 3, &noisy),
        })
        .unwrap();
        assert_eq!(fitted, vec![vec![5, 0, 7], vec![3, 9, 1]]);
    }

    #[test]
    fn noise_below_zero_and_below_what_is_public_is_pulled_back() {
        // The noisy table says −3 and 1; the first row has 2 answers published with consent.
        let fitted = fit(&Problem {
            row_totals: &[4, 10],
            column_totals: &[6, 8],
            floor: &[vec![2, 0], vec![0, 0]],
            measured: &cells(2, 2, &[-3, 1, 7, 8]),
        })
        .unwrap();
        assert!(fitted[0][0] >= 2 && fitted.iter().flatten().all(|&v| v >= 0));
        assert_eq!(fitted[0][0] + fitted[0][1], 4);
        assert_eq!(fitted[0][0] + fitted[1][0], 6);
    }

    #[test]
    fn a_coarse_column_is_fitted_to_its_parents_sum() {
        // Rows 0 and 1 are two answers under one parent option; column 1 measured only their
        // sum (2), and the row totals tell how it splits.
        let one = |column, rows: &[usize], noisy| Measured {
            column,
            rows: rows.to_vec(),
            noisy,
            weight: 1.0,
        };
        let measured = vec![
            one(0, &[0], 4),
            one(0, &[1], 6),
            one(0, &[2], 10),
            one(1, &[0, 1], 2),
            one(1, &[2], 3),
        ];
        let fitted = fit(&Problem {
            row_totals: &[5, 7, 13],
            column_totals: &[20, 5],
            floor: &[vec![0; 2], vec![0; 2], vec![0; 2]],
            measured: &measured,
        })
        .unwrap();
        assert_eq!(fitted, vec![vec![4, 1], vec![6, 1], vec![10, 3]]);
    }

    #[test]
    fn totals_that_disagree_or_floors_above_them_are_refused() {
        let floor = [vec![0; 2], vec![0; 2]];
        let measured = cells(2, 2, &[1, 1, 1, 1]);
        let problem = Problem {
            row_totals: &[2, 2],
            column_totals: &[2, 3],
            floor: &floor,
            measured: &measured,
        };
        assert!(fit(&problem).is_none());
        let floor = [vec![3, 0], vec![0, 0]];
        let problem = Problem {
            row_totals: &[2, 2],
            column_totals: &[2, 2],
            floor: &floor,
            measured: &measured,
        };
        assert!(fit(&problem).is_none());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Any true table, any noise: the fit is integral, keeps every total and floor, and
        /// (with no noise) is the truth.
        #[test]
        fn every_fit_keeps_the_totals_and_the_floors(
            rows in 1usize..6,
            columns in 1usize..7,
            truth in proptest::collection::vec(0i64..30, 36),
            public in proptest::collection::vec(0i64..30, 36),
            noise in proptest::collection::vec(-25i64..25, 36),
        ) {
            let at = |r: usize, c: usize| r * columns + c;
            let t = |r, c| truth[at(r, c)];
            let row_totals: Vec<i64> = (0..rows).map(|r| (0..columns).map(|c| t(r, c)).sum()).collect();
            let column_totals: Vec<i64> = (0..columns).map(|c| (0..rows).map(|r| t(r, c)).sum()).collect();
            let floor: Vec<Vec<i64>> = (0..rows)
                .map(|r| (0..columns).map(|c| public[at(r, c)].min(t(r, c))).collect())
                .collect();
            let noisy: Vec<i64> = (0..rows * columns).map(|i| truth[i] + noise[i]).collect();
            let fitted = fit(&Problem {
                row_totals: &row_totals,
                column_totals: &column_totals,
                floor: &floor,
                measured: &cells(rows, columns, &noisy),
            });
            let fitted = fitted.expect("a feasible table is always fitted");
            for r in 0..rows {
                prop_assert_eq!(fitted[r].iter().sum::<i64>(), row_totals[r]);
                for c in 0..columns {
                    prop_assert!(fitted[r][c] >= floor[r][c]);
                }
            }
            let exact: Vec<i64> = (0..rows * columns).map(|i| truth[i]).collect();
            let same = fit(&Problem {
                row_totals: &row_totals,
                column_totals: &column_totals,
                floor: &floor,
                measured: &cells(rows, columns, &exact),
            }).unwrap();
            let truth_table: Vec<Vec<i64>> =
                (0..rows).map(|r| (0..columns).map(|c| t(r, c)).collect()).collect();
            prop_assert_eq!(same, truth_table);
        }
    }
}
