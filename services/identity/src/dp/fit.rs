//! Post-processing of noisy counts: the published cells are non-negative integers, never below
//! what is already public (the answers published with consent), and summing exactly to a total
//! that is public (how many persons a group has). Among the vectors that satisfy those, the one
//! closest to the noisy counts (least squares).
//!
//! These are functions of the noisy values and of public facts only: they never see an answer,
//! so they spend no privacy budget.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// The integer vector closest to `noisy` (least squares) whose entries are at least `floor`
/// and add up to `total`; `None` when no vector can (`floor` adds up to more than `total`, or
/// the lengths differ).
///
/// First the real-valued projection onto `{x ≥ floor, Σx = total}` (every entry is
/// `max(floor, noisy − τ)` for the one `τ` that makes the sum right), then the integers: each
/// entry rounded down, and the units still missing given one at a time where a unit costs
/// least. For a separable convex cost under one sum, this greedy completion from the rounded-down
/// projection is an integer optimum; ties go to the earlier entry.
pub fn project(noisy: &[f64], floor: &[i64], total: i64) -> Option<Vec<i64>> {
    if noisy.len() != floor.len() || noisy.iter().any(|y| !y.is_finite()) {
        return None;
    }
    let floor_sum: i64 = floor.iter().sum();
    if floor_sum > total || (noisy.is_empty() && total != 0) {
        return None;
    }
    let real = real_projection(noisy, floor, total as f64);
    let mut x: Vec<i64> = real
        .iter()
        .zip(floor)
        .map(|(r, l)| (r.floor() as i64).max(*l))
        .collect();
    let mut missing = total - x.iter().sum::<i64>();
    // Rounding down never overshoots the sum; guard anyway against float error.
    while missing < 0 {
        let (i, _) = x
            .iter()
            .enumerate()
            .filter(|(i, v)| **v > floor[*i])
            .map(|(i, v)| (i, 2.0 * (*v as f64 - noisy[i]) - 1.0))
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))?;
        x[i] -= 1;
        missing += 1;
    }
    let mut heap: BinaryHeap<Unit> = x
        .iter()
        .enumerate()
        .map(|(i, v)| Unit::of(i, *v, noisy[i]))
        .collect();
    while missing > 0 {
        let unit = heap.pop()?;
        x[unit.index] += 1;
        missing -= 1;
        heap.push(Unit::of(unit.index, x[unit.index], noisy[unit.index]));
    }
    Some(x)
}

/// The real-valued projection: `x_i = max(floor_i, noisy_i − τ)` with `Σx = total`.
fn real_projection(noisy: &[f64], floor: &[i64], total: f64) -> Vec<f64> {
    // Σ max(l, y − τ) falls as τ rises; it is piecewise linear with a bend at each y − l.
    let mut bends: Vec<f64> = noisy
        .iter()
        .zip(floor)
        .map(|(y, l)| y - *l as f64)
        .collect();
    bends.sort_by(f64::total_cmp);
    let sum_at = |tau: f64| -> f64 {
        noisy
            .iter()
            .zip(floor)
            .map(|(y, l)| (*l as f64).max(y - tau))
            .sum()
    };
    // Between two bends the sum is linear; find the segment holding `total`.
    let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
    for bend in &bends {
        if sum_at(*bend) > total {
            lo = *bend;
        } else {
            hi = *bend;
            break;
        }
    }
    // On (lo, hi) the entries above their floor are those with y − l > τ: k of them, each
    // falling one for one with τ.
    let free: Vec<usize> = (0..noisy.len())
        .filter(|i| noisy[*i] - floor[*i] as f64 > lo)
        .collect();
    let tau = if free.is_empty() {
        hi
    } else {
        let fixed: f64 = (0..noisy.len())
            .filter(|i| !free.contains(i))
            .map(|i| floor[i] as f64)
            .sum();
        let free_sum: f64 = free.iter().map(|i| noisy[*i]).sum();
        (free_sum - (total - fixed)) / free.len() as f64
    };
    noisy
        .iter()
        .zip(floor)
        .map(|(y, l)| (*l as f64).max(y - tau))
        .collect()
}

/// What one more unit on an entry costs: `(v + 1 − y)² − (v − y)²`; the heap pops the cheapest
/// (the earliest entry among equals).
struct Unit {
    index: usize,
    cost: f64,
}

impl Unit {
    fn of(index: usize, value: i64, noisy: f64) -> Self {
        Self {
            index,
            cost: 2.0 * (value as f64 - noisy) + 1.0,
        }
    }
}

impl PartialEq for Unit {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Unit {}
impl PartialOrd for Unit {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Unit {
    /// Reversed: the cheapest, then the earliest, is the greatest.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .cost
            .total_cmp(&self.cost)
            .then(other.index.cmp(&self.index))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn cost(x: &[i64], y: &[f64]) -> f64 {
        x.iter().zip(y).map(|(a, b)| (*a as f64 - b).powi(2)).sum()
    }

    /// Every integer vector ≥ floor adding up to `total` (small cases only).
    fn all(floor: &[i64], total: i64) -> Vec<Vec<i64>> {
        let Some((first, rest)) = floor.split_first() else {
            return if total == 0 {
                vec![Vec::new()]
            } else {
                Vec::new()
            };
        };
        let rest_floor: i64 = rest.iter().sum();
        (*first..=total - rest_floor)
            .flat_map(|v| {
                all(rest, total - v).into_iter().map(move |mut tail| {
                    tail.insert(0, v);
                    tail
                })
            })
            .collect()
    }

    #[test]
    fn noise_pulled_back_to_the_public_total_without_going_below_what_is_public() {
        // A group of 40 persons; 3 published their answer "yes"; the noise made "yes" −2.4.
        let fitted = project(&[-2.4, 30.9, 9.8], &[3, 0, 0], 40).unwrap();
        assert_eq!(fitted.iter().sum::<i64>(), 40);
        assert!(fitted[0] >= 3);
        assert_eq!(fitted, vec![3, 29, 8]);
    }

    #[test]
    fn exact_counts_come_back_unchanged_and_impossible_totals_are_refused() {
        assert_eq!(
            project(&[5.0, 0.0, 12.0], &[1, 0, 0], 17),
            Some(vec![5, 0, 12])
        );
        assert_eq!(project(&[1.0, 1.0], &[2, 2], 3), None);
        assert_eq!(project(&[1.0], &[0, 0], 3), None);
        assert_eq!(project(&[f64::NAN], &[0], 3), None);
        assert_eq!(project(&[], &[], 0), Some(vec![]));
    }

    proptest! {
        #[test]
        fn the_fit_is_the_closest_integer_vector_that_keeps_the_public_facts(
            noisy in prop::collection::vec(-6.0f64..14.0, 1..5),
            floors in prop::collection::vec(0i64..3, 4),
            extra in 0i64..9,
        ) {
            let floor = &floors[..noisy.len()];
            let total = floor.iter().sum::<i64>() + extra;
            let fitted = project(&noisy, floor, total).unwrap();
            prop_assert_eq!(fitted.iter().sum::<i64>(), total);
            prop_assert!(fitted.iter().zip(floor).all(|(x, l)| x >= l));
            let best = all(floor, total)
                .into_iter()
                .map(|x| cost(&x, &noisy))
                .fold(f64::INFINITY, f64::min);
            prop_assert!(cost(&fitted, &noisy) <= best + 1e-9, "{fitted:?} costs more than {best}");
        }

        #[test]
        fn large_tables_keep_their_total_and_floors(
            noisy in prop::collection::vec(-50.0f64..5_000.0, 1..40),
            extra in 0i64..100_000,
        ) {
            let floor: Vec<i64> = noisy.iter().map(|y| (y / 10.0).max(0.0) as i64).collect();
            let total = floor.iter().sum::<i64>() + extra;
            let fitted = project(&noisy, &floor, total).unwrap();
            prop_assert_eq!(fitted.iter().sum::<i64>(), total);
            prop_assert!(fitted.iter().zip(&floor).all(|(x, l)| x >= l));
        }
    }
}
