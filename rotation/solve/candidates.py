"""CP-SAT runs for plan 1 and the candidate plans 2..K (each differing from every earlier plan
in at least ``candidate_min_diff`` posts, within ``candidate_tolerance`` of the best)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from ..eligibility import Eligibility
from ..model import SCALE, Variables, build_model, objective_expr
from ..plan import Plan
from ..rules import Rules
from ..status import SolveStatus
from .params import Watcher, solver_parameters
from .plans import plan_from_solution
from .progress import Clock, Progress, StopFlag, stopped
from .pruning import LpPruning


def solve_candidates(
    v: Variables,
    rules: Rules,
    plans: list[Plan],
    stats: dict[str, Any],
    progress: Progress | None,
    stop: StopFlag | None,
    deadline: float,
    clock: Clock,
    workers: int,
    wanted: int,
) -> SolveStatus:
    """Up to ``wanted`` plans on one model, appended to ``plans``; returns plan 1's status.
    Plans 2.. (the plain baseline) are cut to the tolerance of plan 1 and to differ from the
    previous plan."""
    status: SolveStatus = "unknown"
    best: int | None = None
    for k in range(wanted):
        remaining = deadline - time.perf_counter()
        if k and remaining <= 0.05:
            break
        if k:
            if k == 1 and best is not None:
                add_tolerance_cut(v, best, rules)
            add_diff_cut(v, plans[-1], rules)
        solver = solver_parameters(rules, max(remaining, 0.05), workers)
        watcher = Watcher(progress, stop, f"plan {k + 1}", clock)
        t1 = time.perf_counter()
        code = solver.Solve(v.cp, watcher)
        stats.setdefault("solve_s", []).append(round(time.perf_counter() - t1, 3))
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            if k == 0:
                status = "infeasible" if code == cp_model.INFEASIBLE else "unknown"
            break
        plan = plan_from_solution(v, solver, code)
        plans.append(plan)
        if k == 0:
            status = plan.status
            best = round(solver.ObjectiveValue())
        if stopped(stop):
            break
    return status


def exact_candidates(
    elig: Eligibility,
    rules: Rules,
    plans: list[Plan],
    stats: dict[str, Any],
    lp: LpPruning,
    progress: Progress | None,
    stop: StopFlag | None,
    deadline: float,
    clock: Clock,
) -> None:
    """Plans 2..K: each the best plan differing from every earlier one in at least
    ``candidate_min_diff`` posts, within ``candidate_tolerance`` of the best plan.

    Exact with a growing window: keep the pairs whose reduced cost fits a cost window ``δ`` above
    the best plan; the best differing plan found with cost ≤ best + δ is the best overall
    (every pair it could use was kept). If none fits, widen ``δ`` (×4) up to the tolerance.
    """
    assert plans[0].objective is not None  # plan 1 of a solve always has an objective
    best = round(plans[0].objective * SCALE)
    top = int(np.floor(abs(best) * rules.candidate_tolerance))
    while len(plans) < rules.candidates and time.perf_counter() < deadline - 0.05:
        if stopped(stop):
            break
        delta = min(top, max(SCALE, abs(best) // 500))
        found = False
        while True:
            limit = best + delta
            keep = lp.within(elig, limit - lp.lower_bound)
            for pl in plans:
                keep |= elig.pairs_in(
                    {(a.post_id, a.cadre_id) for a in pl.assignments if a.cadre_id}
                )
            v = build_model(elig.subset(keep))
            v.cp.add(objective_expr(v) <= limit)
            for pl in plans:
                add_diff_cut(v, pl, rules)
            remaining = deadline - time.perf_counter()
            solver = solver_parameters(rules, max(0.05, remaining), workers=1)
            code = solver.Solve(v.cp, Watcher(progress, stop, f"plan {len(plans) + 1}", clock))
            stats.setdefault("solve_s", []).append(round(solver.WallTime(), 3))
            if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                plans.append(plan_from_solution(v, solver, code))
                found = True
                break
            if code != cp_model.INFEASIBLE or delta >= top:
                break
            delta = min(top, delta * 4)
        if not found or stopped(stop):
            break


def add_diff_cut(v: Variables, plan: Plan, rules: Rules) -> None:
    """The next plan differs from ``plan`` in at least ``candidate_min_diff`` posts."""
    same = []
    for a in plan.assignments:
        p = v.post_index[a.post_id]
        if a.cadre_id is None:
            if p in v.vacant:
                same.append(v.vacant[p])
            continue
        k = v.pair_index.get((p, v.cadre_index[a.cadre_id]))
        if k is not None:
            same.append(v.x[k])
    v.cp.add(sum(same) <= len(plan.assignments) - rules.candidate_min_diff)


def add_tolerance_cut(v: Variables, best: int, rules: Rules) -> None:
    """Plain method: later plans cost at most ``candidate_tolerance`` more than the best
    (``best`` in scaled integer objective units)."""
    v.cp.add(objective_expr(v) <= best + int(np.floor(abs(best) * rules.candidate_tolerance)))
