"""Every conflict at once, and the nearest values that work.

**Fast path, the LP** (HiGHS, :func:`rotation.model.lp.solve_rows_lp`, deterministic): an
elastic phase 1 (every relaxable row gets a slack, the total slack minimised) names every row
that cannot hold even fractionally; each with the rows of its scope that bind it (non-zero dual)
is a conflict, conflicts sharing a row or a scope merged. The nearest value of each rule instance
of a conflict is its own expression optimised by the LP with that instance dropped, the rest of
its conflict kept and every other conflict relaxed, rounded to the integer side that an integer
plan can reach (down for a lower bound, up for a cap).

**Fallback, CP-SAT** (the LP relaxation is feasible, only integrality conflicts): the model is
built once in diagnosis mode (one assumption literal per relaxable rule instance,
:meth:`rotation.model.variables.Variables.add_bounds`). Then, with one worker and deterministic
time limits (so the same data and rules give the same answer every time):

1. **Correction set**: the fewest rule instances whose relaxation makes the model feasible
   (maximise the number of assumptions that hold). Every independent conflict needs at least one
   of them, so each one leads to a conflict.
2. **Conflicts**: for each instance ``r`` of the correction set, the model with the *other*
   instances of the set relaxed is infeasible (else the set was not the fewest); its conflict is
   CP-SAT's sufficient assumptions, shrunk to a minimal one by deletion. Conflicts sharing a rule
   instance or a scope are merged.
3. **Nearest values that work**: for each instance of a conflict, its own expression optimised
   with that instance dropped, the rest of its conflict kept and every other conflict relaxed:
   the largest count a lower-bounded row (a target) can reach, the smallest value an
   upper-bounded row (a cap, the budget) needs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from ..model import Variables, all_rows
from ..model.lp import RowsLpModel, solve_rows_lp
from ..rules import Rules

Name = tuple[str, str, str]
TOL = 1e-6
DETERMINISTIC_S = 5.0
"""Deterministic-time budget of one CP-SAT call (CP-SAT's own units, about seconds)."""
WALL_S = 60.0
"""A wall-clock safety cap per call (never reached on the benchmarks)."""


@dataclass
class Conflict:
    """One merged conflict: its rule instances (assumption indices) and, per instance, the
    optimised value of its expression with it dropped (None: dropping it alone does not help)."""

    rows: list[int]
    best: dict[int, int | None] = field(default_factory=dict)


class Elastic:
    """The elastic model and its calls (one worker, deterministic limits)."""

    def __init__(self, v: Variables, rules: Rules, relaxed: set[int]) -> None:
        self.v = v
        self.rules = rules
        self.lits = {i: v.cp.get_bool_var_from_proto_index(i) for i in v.assumptions}
        self.rows = sorted(i for i in v.assumptions if i not in relaxed)

    def _solve(self, active: list[int]) -> cp_model.CpSolver:
        cp = self.v.cp
        cp.clear_assumptions()
        cp.add_assumptions([self.lits[i] for i in active])
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = self.rules.seed
        solver.parameters.max_deterministic_time = DETERMINISTIC_S
        solver.parameters.max_time_in_seconds = WALL_S
        self.status = solver.solve(cp)
        return solver

    def infeasible(self, active: list[int]) -> list[int] | None:
        """The sufficient assumptions when ``active`` cannot all hold, else None."""
        self.v.cp.clear_objective()
        solver = self._solve(active)
        if self.status != cp_model.INFEASIBLE:
            return None
        core = set(solver.sufficient_assumptions_for_infeasibility()) & set(active)
        return sorted(core) or sorted(active)

    def correction_set(self) -> list[int]:
        """The fewest instances whose relaxation leaves a feasible model."""
        cp = self.v.cp
        cp.maximize(sum(self.lits[i] for i in self.rows))
        solver = self._solve([])
        cp.clear_objective()
        if self.status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return []
        return [i for i in self.rows if not solver.boolean_value(self.lits[i])]

    def minimal(self, core: list[int]) -> list[int]:
        """Shrink a conflict by deletion: drop each instance it does not need."""
        i = 0
        while i < len(core):
            trial = core[:i] + core[i + 1 :]
            sub = self.infeasible(trial) if trial else None
            if sub is not None:
                core = [k for k in trial if k in set(sub)]
            else:
                i += 1
        return core

    def optimum(self, row: int, active: list[int]) -> int | None:
        """The best value of ``row``'s expression with ``active`` holding: the largest for a
        lower-bounded row, the smallest for an upper-bounded one (None: infeasible)."""
        expr, lo, _ = self.v.bounds[row]
        cp = self.v.cp
        if lo is not None:
            cp.maximize(expr)
        else:
            cp.minimize(expr)
        solver = self._solve(active)
        cp.clear_objective()
        if self.status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return None
        return round(solver.objective_value)


def find_conflicts(
    v: Variables, rules: Rules, relaxed: set[int], tick: Callable[[], None]
) -> list[Conflict]:
    """Every conflict of the model, merged, each with its nearest values that work."""
    el = Elastic(v, rules, relaxed)
    correction = el.correction_set()
    tick()
    cores: list[list[int]] = []
    for r in correction:
        if any(r in c for c in cores):
            continue
        others = set(correction) - {r}
        active = [i for i in el.rows if i not in others]
        core = el.infeasible(active)
        if core is None:
            continue
        cores.append(el.minimal(core))
        tick()
    conflicts = _merge(cores, v.assumptions)
    correction_set = set(correction)
    for conflict in conflicts:
        mine = set(conflict.rows)
        for row in conflict.rows:
            active = [i for i in el.rows if i != row and (i in mine or i not in correction_set)]
            conflict.best[row] = el.optimum(row, active)
        tick()
    return conflicts


NUMERIC = frozenset({"max_changes", "non_local_target", "never_below_current", "budget_vnd"})
"""Rules whose nearest value that works is a number the LP optimises."""
CHUNK = 8
"""Rows a deletion filter tries to drop at once before it tries them one by one."""


def _delete(near: list[int], hard: np.ndarray, infeasible: Callable[[np.ndarray], bool]) -> None:
    """Deletion filter: switch off (in ``hard``) every row of ``near`` the conflict does not
    need, a chunk at a time, then one by one within a chunk that is needed."""
    for start in range(0, len(near), CHUNK):
        chunk = near[start : start + CHUNK]
        hard[chunk] = False
        if infeasible(hard):
            continue
        hard[chunk] = True
        for i in chunk:
            hard[i] = False
            if not infeasible(hard):
                hard[i] = True


def _merge(cores: list[list[int]], names: dict[int, Name]) -> list[Conflict]:
    """Conflicts sharing a rule instance or a scope, merged; ordered by their first instance."""
    groups: list[set[int]] = []
    for core in cores:
        scopes = {names[i][1] for i in core}
        hit = [g for g in groups if g & set(core) or scopes & {names[i][1] for i in g}]
        merged = set(core).union(*hit) if hit else set(core)
        groups = [g for g in groups if g not in hit] + [merged]
    return sorted((Conflict(sorted(g)) for g in groups), key=lambda c: c.rows)


def lp_conflicts(
    v: Variables, relaxed: set[int], tick: Callable[[], None]
) -> list[Conflict] | None:
    """The conflicts the LP relaxation already proves (None: the relaxation is feasible)."""
    rows = list(all_rows(v))
    rel = [i for i, r in enumerate(rows) if r.relaxable]
    assumption = dict(zip(rel, sorted(v.assumptions), strict=True))
    keep = np.ones(len(rows), dtype=bool)
    keep[[i for i in rel if assumption[i] in relaxed]] = False
    phase1 = solve_rows_lp(v, rows, keep, elastic=True)
    tick()
    if not phase1.ok:
        return None
    violated = [i for i in rel if keep[i] and phase1.slack[i] > TOL]
    if not violated:
        return None
    e = v.elig
    post_unit = dict(zip(e.posts.index, e.posts["unit_id"], strict=True))

    units = e.data.units
    parent = units["parent_id"].to_dict() if "parent_id" in units else {}

    def ancestors(scope: str) -> set[str]:
        out = {scope}
        u = post_unit.get(scope, scope)
        while isinstance(u, str) and u in units.index and u not in out:
            out.add(u)
            u = parent.get(u)
        return out

    def related(a: str, b: str) -> bool:
        """Same scope, one inside the other, or a plan-wide row (budget, priority group)."""
        plan_wide = not (a in post_unit or a in units.index) or not (
            b in post_unit or b in units.index
        )
        return plan_wide or a in ancestors(b) or b in ancestors(a)

    binding = [i for i in rel if keep[i] and abs(phase1.dual[i]) > TOL]

    model = RowsLpModel(v, rows)

    def lp_infeasible(hard: np.ndarray) -> bool:
        return not model.solve(hard).ok

    cores = []
    for r in violated:
        unit = rows[r].scope
        hard = keep.copy()
        hard[[i for i in violated if i != r]] = False
        # the rows of the scope, and of the scopes of the rows binding it (a keep rule at a post
        # binds the district's target, whose other posts' keep rules are in the conflict too)
        hubs = {unit} | {rows[i].scope for i in binding if related(rows[i].scope, unit)}
        near = [
            i
            for i in rel
            if hard[i] and i != r and any(related(rows[i].scope, h) for h in sorted(hubs))
        ]
        if lp_infeasible(hard):  # deletion filter over the rows of the scope
            loose = [i for i in near if i not in set(binding)]
            hard[loose] = False
            if lp_infeasible(hard):  # the non-binding rows at once, then one by one
                near = [i for i in near if i in set(binding)]
            else:
                hard[loose] = True
            _delete(near, hard, lp_infeasible)
            core = {r} | {i for i in near if hard[i]}
        else:
            core = {r} | {i for i in binding if related(rows[i].scope, unit)}
        cores.append(sorted(assumption[i] for i in core))
        tick()
    conflicts = _merge(cores, v.assumptions)
    row_of = {a: i for i, a in assumption.items()}
    for conflict in conflicts:
        mine = {row_of[a] for a in conflict.rows}
        others = [i for i in violated if i not in mine]
        for a in conflict.rows:
            i = row_of[a]
            if rows[i].rule not in NUMERIC:  # a lock, a keep rule: no number to optimise
                conflict.best[a] = None
                continue
            trial = keep.copy()
            trial[others] = False
            trial[i] = False
            maximise = rows[i].lo is not None
            res = solve_rows_lp(v, rows, trial, False, objective=(i, 1 if maximise else -1))
            if not res.ok:
                conflict.best[a] = None
            elif maximise:
                conflict.best[a] = math.floor(res.value + TOL)
            else:
                conflict.best[a] = math.ceil(res.value - TOL)
            best, row = conflict.best[a], rows[i]
            if best is not None and (
                (maximise and row.lo is not None and best >= row.lo)
                or (not maximise and row.hi is not None and best <= row.hi)
            ):
                return None  # the relaxation is not tight here (integrality): ask CP-SAT
        tick()
    return conflicts
