//! The feasible interval of a hidden count, by linear programming (good_lp with microlp):
//! the least and the most the value can be, given every published count, the lines and the
//! bounds the attacker knows. Only the lines connected to the value through hidden values
//! take part: the others cannot move it.

use good_lp::{Expression, ProblemVariables, Solution, SolverModel, Variable, microlp, variable};

use super::System;

/// What an attacker knows of a value besides the release: an upper bound (the persons of a
/// group, public in the candidacy lists) and a lower bound (answers published with consent).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bounds {
    pub lower: u64,
    pub upper: Option<u64>,
    /// How far the protection interval may reach upwards: the population of the value's group
    /// (`None`: the smallest published total of a line the value is a member of).
    pub reach: Option<u64>,
}

/// The integral interval `[lo, hi]` value `target` can take; `None` if the solver failed.
pub fn interval(system: &System, hidden: &[bool], target: usize) -> Option<(u64, u64)> {
    let unknown = |i: usize| hidden[i] && (i == target || !system.known_to_attacker[i]);
    // The lines reachable from the target through unknown values.
    let mut by_value: Vec<Vec<usize>> = vec![Vec::new(); system.values.len()];
    for (l, line) in system.lines.iter().enumerate() {
        for &i in line.members.iter().chain([&line.total]) {
            if unknown(i) {
                by_value[i].push(l);
            }
        }
    }
    let mut in_component = vec![false; system.values.len()];
    let mut line_taken = vec![false; system.lines.len()];
    let mut lines = Vec::new();
    let mut stack = vec![target];
    in_component[target] = true;
    while let Some(i) = stack.pop() {
        for &l in &by_value[i] {
            if line_taken[l] {
                continue;
            }
            line_taken[l] = true;
            lines.push(l);
            let line = &system.lines[l];
            for &j in line.members.iter().chain([&line.total]) {
                if unknown(j) && !in_component[j] {
                    in_component[j] = true;
                    stack.push(j);
                }
            }
        }
    }
    let lo = solve(system, &in_component, &lines, target, false)?;
    let hi = solve(system, &in_component, &lines, target, true)?;
    Some((
        (lo - 1e-6).ceil().max(0.0) as u64,
        (hi + 1e-6).floor() as u64,
    ))
}

fn solve(
    system: &System,
    variable_at: &[bool],
    lines: &[usize],
    target: usize,
    maximise: bool,
) -> Option<f64> {
    let cap = system.bounds[system.grand]
        .upper
        .unwrap_or(u64::MAX / 4)
        .max(system.values[system.grand]);
    let mut vars = ProblemVariables::new();
    let mut slot: Vec<Option<Variable>> = vec![None; system.values.len()];
    for (i, s) in slot.iter_mut().enumerate() {
        if variable_at[i] {
            let upper = system.bounds[i].upper.unwrap_or(cap).min(cap);
            let lower = system.assumed_lower(i).min(upper);
            *s = Some(vars.add(variable().min(lower as f64).max(upper as f64)));
        }
    }
    let objective: Expression = slot[target]?.into();
    let mut model = if maximise {
        vars.maximise(objective)
    } else {
        vars.minimise(objective)
    }
    .using(microlp);
    for &l in lines {
        let line = &system.lines[l];
        let mut sum = Expression::from(0.0);
        for &i in line.members.iter().chain([&line.total]) {
            let sign = if i == line.total { -1.0 } else { 1.0 };
            match slot[i] {
                Some(v) => sum += sign * v,
                None => sum += sign * system.values[i] as f64,
            }
        }
        model = model.with(sum.eq(0.0));
    }
    let solution = model.solve().ok()?;
    Some(solution.value(slot[target]?))
}
