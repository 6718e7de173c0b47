"""``solve(problem, rules) -> Result``: eligibility → CP-SAT model → plans (best first), with a
progress callback, candidate plans and, when nothing fits, a diagnosis.

Determinism: the same data, rules and ``seed`` give the same plan. CP-SAT runs with
``random_seed = rules.seed`` and ``interleave_search`` (its deterministic parallel mode) on
``rules.workers`` workers; every table is sorted by id before the model is built, so variable
order never depends on file order or hashing. Plans that stop on the time limit are reproducible
as long as the limit is not hit (a proven optimum is the same on every run).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from .data import ProblemData
from .eligibility import Eligibility, compute_eligibility
from .model import SCALE, Variables, build_model
from .plan import Assignment, DiagnosisItem, Plan, compute_kpis
from .rules import Rules

Progress = Callable[[dict[str, Any]], None]


@dataclass
class Result:
    """What a solve returns: plans best first (empty when infeasible) and how it went."""

    status: str  # optimal | feasible | infeasible | unknown
    plans: list[Plan] = field(default_factory=list)
    diagnosis: list[DiagnosisItem] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    eligibility: Eligibility | None = None

    @property
    def plan(self) -> Plan:
        """The best plan, or the infeasible plan carrying the diagnosis."""
        if self.plans:
            return self.plans[0]
        return Plan(status="infeasible", objective=None, bound=None, diagnosis=self.diagnosis)


class _Watcher(cp_model.CpSolverSolutionCallback):
    """Reports progress on each improving solution and stops when asked."""

    def __init__(self, progress: Progress | None, stop: threading.Event | None, label: str):
        super().__init__()
        self.progress = progress
        self.stop = stop
        self.label = label
        self.t0 = time.perf_counter()

    def on_solution_callback(self) -> None:
        if self.progress is not None:
            obj = self.ObjectiveValue() / SCALE
            bound = self.BestObjectiveBound() / SCALE
            self.progress(
                {
                    "phase": self.label,
                    "elapsed_s": round(time.perf_counter() - self.t0, 3),
                    "objective": round(obj, 3),
                    "bound": round(bound, 3),
                    "gap": round(_gap(obj, bound), 6),
                }
            )
        if self.stop is not None and self.stop.is_set():
            self.StopSearch()


def _gap(obj: float, bound: float) -> float:
    return abs(obj - bound) / max(1.0, abs(obj))


def solver_parameters(rules: Rules, time_limit: float | None = None) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.max_time_in_seconds = float(time_limit if time_limit is not None else rules.time_limit_s)
    p.num_workers = rules.workers
    p.random_seed = rules.seed
    p.interleave_search = True
    p.log_search_progress = False
    return solver


def solve(
    problem: ProblemData,
    rules: Rules,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    explain: bool | None = None,
) -> Result:
    """Plan the rotation: up to ``rules.candidates`` distinct plans, best first.

    ``progress`` receives dicts (phase, elapsed_s, objective, bound, gap) during the search;
    setting ``stop`` ends the search and keeps the best plan found so far. Explanations (score
    parts, three best alternatives per post) are added when ``explain`` is true (default: when the
    plan has at most 2,000 posts).
    """
    from .diagnose import diagnose
    from .explain import add_explanations

    t0 = time.perf_counter()
    elig = compute_eligibility(problem, rules)
    t_elig = time.perf_counter() - t0
    v = build_model(elig)
    t_build = time.perf_counter() - t0
    stats: dict[str, Any] = {
        "eligibility_s": round(t_elig, 3),
        "build_s": round(t_build, 3),
        "posts": len(elig.posts),
        "pairs": elig.n_pairs,
    }
    plans: list[Plan] = []
    status = "unknown"
    deadline = t0 + rules.time_limit_s
    for k in range(rules.candidates):
        remaining = deadline - time.perf_counter()
        if k and remaining <= 0.05:
            break
        if k:
            _add_candidate_cuts(v, plans, rules)
        solver = solver_parameters(rules, max(remaining, 0.05))
        watcher = _Watcher(progress, stop, f"plan {k + 1}")
        t1 = time.perf_counter()
        code = solver.Solve(v.cp, watcher)
        stats.setdefault("solve_s", []).append(round(time.perf_counter() - t1, 3))
        if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            if k == 0:
                status = "infeasible" if code == cp_model.INFEASIBLE else "unknown"
            break
        plan = _plan_from_solution(v, solver, code)
        plans.append(plan)
        if k == 0:
            status = plan.status
            v.best_objective = int(round(solver.ObjectiveValue()))
        if stop is not None and stop.is_set():
            break
    stats["total_s"] = round(time.perf_counter() - t0, 3)
    result = Result(status=status, plans=plans, stats=stats, eligibility=elig)
    if status == "infeasible":
        result.diagnosis = diagnose(elig, rules)
    elif status == "unknown":
        result.diagnosis = [
            DiagnosisItem(
                rule="time_limit",
                scope="plan",
                detail=f"no plan found within {rules.time_limit_s:g} s; raise time_limit_s",
            )
        ]
    if plans and (explain if explain is not None else len(elig.posts) <= 2000):
        for plan in plans:
            add_explanations(plan, elig)
    return result


def _add_candidate_cuts(v: Variables, plans: list[Plan], rules: Rules) -> None:
    """Next candidate: within the optimality tolerance of the best plan, and differing from every
    earlier plan in at least ``candidate_min_diff`` posts."""
    best = v.__dict__.get("best_objective")
    if best is not None and not v.__dict__.get("tolerance_added"):
        limit = best + int(np.floor(abs(best) * rules.candidate_tolerance))
        v.cp.Add(_objective_expr(v) <= limit)
        v.tolerance_added = True
    last = plans[-1]
    same = []
    for a in last.assignments:
        p = v.post_index[a.post_id]
        if a.cadre_id is None:
            same.append(v.vacant[p])
        else:
            same.append(v.x[v.pair_index[(p, v.cadre_index[a.cadre_id])]])
    v.cp.Add(sum(same) <= len(same) - rules.candidate_min_diff)


def _objective_expr(v: Variables):
    from .model import pair_costs, vacancy_costs

    costs = pair_costs(v.elig)
    expr = sum(int(c) * v.x[k] for k, c in enumerate(costs.tolist()) if c)
    vac = vacancy_costs(v.elig)
    expr += sum(int(vac[p]) * var for p, var in v.vacant.items())
    w = v.elig.rules.weights
    if w.max_travel and hasattr(v, "longest"):
        expr += int(round(w.max_travel * SCALE)) * v.longest
    return expr


def _plan_from_solution(v: Variables, solver: cp_model.CpSolver, code: int) -> Plan:
    e = v.elig
    data = e.data
    values = np.array([solver.Value(x) for x in v.x], dtype=bool) if v.x else np.zeros(0, bool)
    chosen = np.nonzero(values)[0]
    by_post = {int(e.pair_post[k]): int(k) for k in chosen}
    posts = e.posts
    cadre_ids = data.cadres.index
    incumbent_post = data.incumbent_post
    assignments: list[Assignment] = []
    holders: set[str] = set()
    for p, (pid, row) in enumerate(posts.iterrows()):
        inc = row["incumbent_id"] if isinstance(row["incumbent_id"], str) else None
        k = by_post.get(p)
        if k is None:
            assignments.append(
                Assignment(post_id=pid, unit_id=row["unit_id"], position=row["position"],
                           cadre_id=None, previous_post_id=None, changed=inc is not None,
                           non_local=False, travel_km=0.0)
            )
            continue
        cid = str(cadre_ids[e.pair_cadre[k]])
        holders.add(cid)
        prev = incumbent_post.get(cid)
        assignments.append(
            Assignment(
                post_id=pid,
                unit_id=row["unit_id"],
                position=row["position"],
                cadre_id=cid,
                previous_post_id=prev if isinstance(prev, str) else None,
                changed=cid != inc,
                non_local=bool(e.pair_non_local[k]),
                travel_km=float(e.pair_km[k]),
            )
        )
    released = sorted(
        c for c in posts["incumbent_id"].dropna() if c not in holders
    )
    obj = solver.ObjectiveValue() / SCALE
    bound = solver.BestObjectiveBound() / SCALE
    plan = Plan(
        status="optimal" if code == cp_model.OPTIMAL else "feasible",
        objective=round(obj, 3),
        bound=round(bound, 3),
        assignments=assignments,
        released=released,
        kpis=compute_kpis(data, e.rules, assignments),
    )
    plan.solver = {  # type: ignore[attr-defined]
        "wall_s": round(solver.WallTime(), 3),
        "gap": round(_gap(obj, bound), 6),
        "pairs": e.n_pairs,
    }
    return plan
