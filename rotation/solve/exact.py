"""The exact pipeline on one problem: LP bound → a first plan on the pairs the LP likes →
reduced-cost fixing → CP-SAT on the pairs left (one worker, deterministic), proving optimality
for the whole problem; then the candidate plans by growing reduced-cost windows."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..eligibility import Eligibility
from ..model import SCALE, build_model, pair_costs
from ..plan import Plan
from ..profile import phase
from ..rules import Rules
from ..status import SolveStatus
from .plans import plan_from_pairs
from .progress import Clock, Progress, StopFlag
from .pruning import add_hint, prune


def solve_exact(
    elig: Eligibility,
    rules: Rules,
    stats: dict[str, Any],
    progress: Progress | None,
    stop: StopFlag | None,
    deadline: float,
    clock: Clock,
) -> tuple[SolveStatus, list[Plan]]:
    """Plans best first and plan 1's status (``infeasible`` when the LP proves it)."""
    pruned = prune(elig, rules, stats, progress, stop, deadline, clock)
    if pruned.elig is None:
        return "infeasible", []
    if pruned.plan_from_lp and pruned.proven_by_bound and rules.candidates == 1:
        assert pruned.hint is not None
        with phase("proof"):  # the LP's integral optimum meets its own bound: proven, no search
            chosen = np.nonzero(pruned.hint)[0]
            cost = float(pair_costs(pruned.elig)[chosen].sum()) / SCALE
            plan = plan_from_pairs(pruned.elig, chosen, "optimal", cost, cost)
        stats["model_pairs"] = pruned.elig.n_pairs
        stats["solved_by"] = "LP (its optimum is integral, keeps every rule row: the bound is met)"
        if progress is not None:
            progress(clock.event("proof", objective=cost, bound=cost))
        return "optimal", [plan]
    from .candidates import exact_candidates, solve_candidates  # CP-SAT: loaded when needed

    plans: list[Plan] = []
    with phase("proof"):
        t1 = time.perf_counter()
        v = build_model(pruned.elig)
        stats["build_s"] = round(time.perf_counter() - t1, 3)
        stats["model_pairs"] = pruned.elig.n_pairs
        if pruned.hint is not None:
            add_hint(v, pruned.hint)
        status = solve_candidates(
            v, rules, plans, stats, progress, stop, deadline, clock, workers=1, wanted=1
        )
    if plans and rules.candidates > 1 and pruned.lp is not None:
        with phase("candidates"):
            exact_candidates(elig, rules, plans, stats, pruned.lp, progress, stop, deadline, clock)
    if pruned.proven_by_bound and status == "feasible":
        status = plans[0].status = "optimal"
    return status, plans
