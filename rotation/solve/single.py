"""One problem (one province, or every province when they cannot be split): eligibility, then
the pure-assignment flow, the exact pipeline or the plain baseline; the diagnosis when no plan
exists; the explanations."""

from __future__ import annotations

import time
from typing import Any, Literal

from ..data import ProblemData
from ..diagnose.precheck import change_cap_conflicts, precheck
from ..eligibility import compute_eligibility
from ..explain import add_explanations
from ..model import SCALE, pair_costs
from ..plan import DiagnosisItem, Plan
from ..profile import phase
from ..rules import Rules
from ..status import SolveStatus
from .exact import solve_exact
from .flow import is_pure_assignment, min_cost_flow_pairs
from .plans import plan_from_pairs
from .progress import Clock, Progress, StopFlag
from .result import Result

Method = Literal["exact", "plain"]
EXPLAIN_MAX_POSTS = 2000
"""Explanations are added by default when a plan has at most this many posts."""


def solve_one(
    problem: ProblemData,
    rules: Rules,
    progress: Progress | None,
    stop: StopFlag | None,
    explain: bool | None,
    method: Method,
    clock: Clock,
) -> Result:
    """The solve of one problem, whichever path fits it (see :func:`rotation.solve.solve`)."""
    t0 = time.perf_counter()
    with phase("eligibility"):
        elig = compute_eligibility(problem, rules)
    stats: dict[str, Any] = {
        "method": method,
        "eligibility_s": round(time.perf_counter() - t0, 3),
        "posts": len(elig.posts),
        "pairs": elig.n_pairs,
    }
    deadline = t0 + rules.time_limit_s
    want_explain = explain if explain is not None else len(elig.posts) <= EXPLAIN_MAX_POSTS
    with phase("precheck"):
        cap_conflicts = change_cap_conflicts(elig, rules)
    if cap_conflicts:  # proven infeasible without a model: say so in words, at once
        stats["infeasible_by"] = "precheck: a change cap below the changes no plan can avoid"
        stats["total_s"] = round(time.perf_counter() - t0, 3)
        return Result(
            status="infeasible", diagnosis=precheck(elig, rules), stats=stats, eligibility=elig
        )
    if method == "exact" and rules.candidates == 1 and is_pure_assignment(elig, rules):
        with phase("min-cost flow"):
            chosen = min_cost_flow_pairs(elig)
        if chosen is not None:  # an optimal flow is an optimal plan, proven by the algorithm
            cost = float(pair_costs(elig)[chosen].sum()) / SCALE
            plan = plan_from_pairs(elig, chosen, "optimal", cost, cost)
            stats.update(solved_by="min-cost flow (pure assignment)", model_pairs=len(chosen))
            stats["total_s"] = round(time.perf_counter() - t0, 3)
            if progress is not None:
                progress(clock.event("min-cost flow", objective=cost, bound=cost))
            if want_explain:
                with phase("explanations"):
                    add_explanations(plan, elig)
            return Result(status="optimal", plans=[plan], stats=stats, eligibility=elig)
    status: SolveStatus
    plans: list[Plan]
    if method == "plain":
        from .plain import solve_plain  # the benchmarks' baseline: CP-SAT loaded for it only

        with phase("plain CP-SAT"):
            status, plans = solve_plain(elig, rules, stats, progress, stop, deadline, clock)
    else:
        status, plans = solve_exact(elig, rules, stats, progress, stop, deadline, clock)
    stats["total_s"] = round(time.perf_counter() - t0, 3)
    result = Result(status=status, plans=plans, stats=stats, eligibility=elig)
    if status == "infeasible":
        from ..diagnose import diagnose  # the conflict search: only when no plan exists

        with phase("diagnosis"):
            result.diagnosis = diagnose(elig, rules, progress, clock)
    elif status == "unknown":
        result.diagnosis = [
            DiagnosisItem(
                rule="time_limit",
                scope="plan",
                detail=f"no plan found within {rules.time_limit_s:g} s; raise time_limit_s",
            )
        ]
    if plans and want_explain:
        with phase("explanations"):
            for plan in plans:
                add_explanations(plan, elig)
    return result
