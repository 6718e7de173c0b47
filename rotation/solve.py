"""``solve(problem, rules) -> Result``: eligibility → CP-SAT model → plans (best first), with a
progress callback, candidate plans and, when nothing fits, a diagnosis.

Determinism: the same data, rules and ``seed`` give the same plan. Every table is sorted by id
before the model is built, so variable order never depends on file order or hashing; the LP
(HiGHS) is deterministic; the exact pipeline's CP-SAT solves (small, after reduced-cost fixing)
run on one worker with ``random_seed = rules.seed``, which CP-SAT makes deterministic. (Its
parallel mode is not: among equally good plans, two workers may return different ones; the
``plain`` baseline uses ``rules.workers`` workers and is not guaranteed reproducible.) A solve that
stops on the time limit is reproducible only in the plan it had found at that moment.
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
from .model import SCALE, PairIndex, Variables, all_rows, build_model, objective_expr, pair_costs
from .model.lp import solve_lp
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


class Watcher(cp_model.CpSolverSolutionCallback):
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


def solver_parameters(
    rules: Rules, time_limit: float | None = None, workers: int | None = None
) -> cp_model.CpSolver:
    """CP-SAT parameters. One worker (the exact pipeline's small models) is deterministic;
    ``rules.workers`` workers (the plain baseline) may return a different optimum among ties."""
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.max_time_in_seconds = float(time_limit if time_limit is not None else rules.time_limit_s)
    p.num_workers = workers if workers is not None else rules.workers
    p.random_seed = rules.seed
    p.log_search_progress = False
    if p.num_workers == 1:
        p.linearization_level = 2  # the single worker needs the full LP relaxation to prove
    return solver


def solve(
    problem: ProblemData,
    rules: Rules,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    explain: bool | None = None,
    method: str = "exact",
    decompose: bool = True,
) -> Result:
    """Plan the rotation: up to ``rules.candidates`` distinct plans, best first.

    ``progress`` receives dicts (phase, elapsed_s, objective, bound, gap) during the search;
    setting ``stop`` ends the search and keeps the best plan found so far. Explanations (score
    parts, three best alternatives per post) are added when ``explain`` is true (default: when the
    plan has at most 2,000 posts).

    ``method="exact"`` (default): LP bound → a first plan on the pairs the LP likes → reduced-cost
    fixing (pairs that provably cannot be in a plan within the tolerance are removed) → CP-SAT on
    the rest, proving optimality for the whole problem. ``method="plain"``: CP-SAT on every
    eligible pair (the baseline the benchmarks compare against).
    """
    from .diagnose import diagnose
    from .explain import add_explanations

    if decompose and method == "exact" and rules.same_province and rules.candidates == 1:
        from .decompose import provinces_in_scope, solve_by_province

        provinces = provinces_in_scope(problem, rules)
        if len(provinces) > 1:
            return solve_by_province(problem, rules, provinces, progress)
    t0 = time.perf_counter()
    elig = compute_eligibility(problem, rules)
    stats: dict[str, Any] = {
        "method": method,
        "eligibility_s": round(time.perf_counter() - t0, 3),
        "posts": len(elig.posts),
        "pairs": elig.n_pairs,
    }
    deadline = t0 + rules.time_limit_s
    if method == "exact" and rules.candidates == 1 and _pure_assignment(elig, rules):
        chosen = _min_cost_flow(elig)
        if chosen is not None:  # an optimal flow is an optimal plan, proven by the algorithm
            cost = float(pair_costs(elig)[chosen].sum()) / SCALE
            plan = plan_from_pairs(elig, chosen, "optimal", cost, cost)
            stats.update(solved_by="min-cost flow (pure assignment)", model_pairs=len(chosen))
            stats["total_s"] = round(time.perf_counter() - t0, 3)
            if explain if explain is not None else len(elig.posts) <= 2000:
                add_explanations(plan, elig)
            return Result(status="optimal", plans=[plan], stats=stats, eligibility=elig)
    if method == "plain":
        model_elig: Eligibility | None = elig
        hint = None
    else:
        model_elig, hint = _prune(elig, rules, stats, progress, stop, deadline, t0)
    plans: list[Plan] = []
    status = "infeasible" if model_elig is None else "unknown"
    if model_elig is not None:
        t1 = time.perf_counter()
        v = build_model(model_elig)
        stats["build_s"] = round(time.perf_counter() - t1, 3)
        stats["model_pairs"] = model_elig.n_pairs
        if hint is not None:
            _add_hint(v, hint)
        workers = rules.workers if method == "plain" else 1
        wanted = rules.candidates if method == "plain" else 1
        status = _solve_candidates(
            v, rules, plans, stats, progress, stop, deadline, workers, wanted
        )
        if method != "plain" and plans and rules.candidates > 1:
            _exact_candidates(elig, rules, plans, stats, progress, stop, deadline)
        stats.pop("_lp", None)
        if stats.get("proven_by_bound") and status == "feasible":
            status = plans[0].status = "optimal"
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


def _solve_candidates(
    v: Variables,
    rules: Rules,
    plans: list[Plan],
    stats: dict[str, Any],
    progress: Progress | None,
    stop: threading.Event | None,
    deadline: float,
    workers: int,
    wanted: int,
) -> str:
    status = "unknown"
    for k in range(wanted):
        remaining = deadline - time.perf_counter()
        if k and remaining <= 0.05:
            break
        if k:
            _add_candidate_cuts(v, plans, rules)
        solver = solver_parameters(rules, max(remaining, 0.05), workers)
        watcher = Watcher(progress, stop, f"plan {k + 1}")
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
            v.best_objective = round(solver.ObjectiveValue())
        if stop is not None and stop.is_set():
            break
    return status


def _prune(
    elig: Eligibility,
    rules: Rules,
    stats: dict[str, Any],
    progress: Progress | None,
    stop: threading.Event | None,
    deadline: float,
    t0: float,
) -> tuple[Eligibility | None, np.ndarray | None]:
    """LP bound, a first plan on a small pair set, then reduced-cost fixing.

    Returns the eligibility restricted to the pairs that can appear in a plan within the
    candidate tolerance (None when the LP proves the rules infeasible) and a hint (the first
    plan's pairs, as a mask over the returned pairs).
    """
    ix = PairIndex(elig)
    rows = list(all_rows(ix))
    lp = solve_lp(ix, rows)
    stats["lp_s"] = round(lp.seconds, 3)
    if not lp.feasible:
        stats["lp"] = "infeasible"
        return None, None
    lb = int(np.ceil(lp.bound - 1e-6))
    stats["lp_bound"] = round(lp.bound / SCALE, 3)
    if progress:
        progress(
            {
                "phase": "bound",
                "elapsed_s": round(time.perf_counter() - t0, 3),
                "objective": None,
                "bound": round(lp.bound / SCALE, 3),
                "gap": None,
            }
        )
    rc = np.maximum(lp.reduced_cost, 0.0)
    support = lp.x > 1e-9
    stats["_lp"] = (lb, rc, support)  # for the candidate plans' windows
    ub = None
    hint_pairs = None
    if lp.integral() and not rules.allow_vacancies and not rules.weights.max_travel:
        # an integral LP optimum is a plan (every row holds): the bound is met, no search needed
        hint_pairs = np.nonzero(lp.x > 0.5)[0]
        ub = int(pair_costs(elig)[hint_pairs].sum())
        stats["first_plan"] = round(ub / SCALE, 3)
        stats["first_plan_from_lp"] = True
    else:
        # a first plan on the pairs the LP likes best: its support and cheapest reduced costs
        first_mask = support | elig.pair_keep | elig.cheapest_per_post(rc, 8)
        first_mask |= elig.pairs_in({(lk.post_id, lk.cadre_id) for lk in rules.locks})
        sub = elig.subset(first_mask)
        v = build_model(sub)
        _add_hint(v, lp.x[first_mask] > 0.5)
        solver = solver_parameters(
            rules, max(0.05, min(10.0, deadline - time.perf_counter())), workers=1
        )
        code = solver.Solve(v.cp, Watcher(progress, stop, "first plan"))
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            ub = round(solver.ObjectiveValue())
            values = np.array(list(solver.response_proto.solution), dtype=np.int64)
            hint_pairs = np.nonzero(first_mask)[0][values[: sub.n_pairs].astype(bool)]
            stats["first_plan"] = round(ub / SCALE, 3)
            stats["first_plan_optimal_on_subset"] = code == cp_model.OPTIMAL
    if ub is None:  # no plan among the LP's favourites: keep every pair
        stats["pruned_pairs"] = 0
        return elig, None
    gap = ub - lb
    keep = (rc <= gap + 1e-6 * max(1.0, abs(lb))) | support | elig.pair_keep
    stats["pruned_pairs"] = int((~keep).sum())
    if ub == lb:
        stats["proven_by_bound"] = True
    hint = np.zeros(elig.n_pairs, dtype=bool)
    hint[hint_pairs] = True
    return elig.subset(keep), hint[keep]


def _pure_assignment(elig: Eligibility, rules: Rules) -> bool:
    """Only "fill every post" and "one post per cadre" bind: a bipartite assignment problem
    (no vacancies, locks, must-keep incumbents, relatives, targets or change caps)."""
    if rules.allow_vacancies or rules.weights.max_travel or rules.locks or elig.must_keep:
        return False
    if rules.change_caps:
        return False
    if rules.forbid_relatives_same_unit and not elig.data.relations.empty:
        return False
    positions = set(elig.posts["position"])
    return not any(
        t.position in positions
        and (t.min_share > 0 or rules.never_below_current or any(t.min_count_by_scope.values()))
        for t in rules.non_local_targets
    )


def _min_cost_flow(elig: Eligibility) -> np.ndarray | None:
    """The optimal assignment by OR-Tools min-cost flow (source → posts → cadres → sink, unit
    capacities): exact for the pure assignment case. None when no full assignment exists (the
    LP path then proves infeasibility and the diagnosis names the posts)."""
    from ortools.graph.python import min_cost_flow

    n_post, n_pair = len(elig.posts), elig.n_pairs
    if n_pair == 0:
        return None
    cadres, cad_node = np.unique(elig.pair_cadre, return_inverse=True)
    src, sink = 0, 1 + n_post + len(cadres)
    post_node = 1 + elig.pair_post.astype(np.int64)
    cad_node = 1 + n_post + cad_node.astype(np.int64)
    c_nodes = 1 + n_post + np.arange(len(cadres), dtype=np.int64)
    # arcs: source → each post, each eligible pair (post → cadre), each cadre → sink
    tails = np.concatenate([np.zeros(n_post, np.int64), post_node, c_nodes])
    heads = np.concatenate(
        [1 + np.arange(n_post, dtype=np.int64), cad_node, np.full(len(cadres), sink, np.int64)]
    )
    costs = np.concatenate(
        [np.zeros(n_post, np.int64), pair_costs(elig), np.zeros(len(cadres), np.int64)]
    )
    mcf = min_cost_flow.SimpleMinCostFlow()
    arcs = mcf.add_arcs_with_capacity_and_unit_cost(
        tails, heads, np.ones(len(tails), np.int64), costs
    )
    mcf.set_nodes_supplies(np.array([src, sink]), np.array([n_post, -n_post]))
    if mcf.solve() != mcf.OPTIMAL:
        return None
    flows = mcf.flows(arcs[n_post : n_post + n_pair])
    return np.nonzero(flows > 0)[0]


def _exact_candidates(
    elig: Eligibility,
    rules: Rules,
    plans: list[Plan],
    stats: dict[str, Any],
    progress: Progress | None,
    stop: threading.Event | None,
    deadline: float,
) -> None:
    """Plans 2..K: each the best plan differing from every earlier one in at least
    ``candidate_min_diff`` posts, within ``candidate_tolerance`` of the best plan.

    Exact with a growing window: keep the pairs whose reduced cost fits a cost window ``δ`` above
    the best plan; the best differing plan found with cost ≤ best + δ is the best overall
    (every pair it could use was kept). If none fits, widen ``δ`` (×4) up to the tolerance.
    """
    lb, rc, support = stats["_lp"]
    best = round(plans[0].objective * SCALE)
    top = int(np.floor(abs(best) * rules.candidate_tolerance))
    while len(plans) < rules.candidates and time.perf_counter() < deadline - 0.05:
        if stop is not None and stop.is_set():
            break
        delta = min(top, max(SCALE, abs(best) // 500))
        found = False
        while True:
            limit = best + delta
            keep = (rc <= limit - lb + 1e-6 * max(1.0, abs(lb))) | support | elig.pair_keep
            for pl in plans:
                keep |= elig.pairs_in(
                    {(a.post_id, a.cadre_id) for a in pl.assignments if a.cadre_id}
                )
            v = build_model(elig.subset(keep))
            v.cp.Add(objective_expr(v) <= limit)
            for pl in plans:
                _add_diff_cut(v, pl, rules)
            remaining = deadline - time.perf_counter()
            solver = solver_parameters(rules, max(0.05, remaining), workers=1)
            code = solver.Solve(v.cp, Watcher(progress, stop, f"plan {len(plans) + 1}"))
            stats.setdefault("solve_s", []).append(round(solver.WallTime(), 3))
            if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                plans.append(_plan_from_solution(v, solver, code))
                found = True
                break
            if code != cp_model.INFEASIBLE or delta >= top:
                break
            delta = min(top, delta * 4)
        if not found or (stop is not None and stop.is_set()):
            break


def _add_diff_cut(v: Variables, plan: Plan, rules: Rules) -> None:
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
    v.cp.Add(sum(same) <= len(plan.assignments) - rules.candidate_min_diff)


def _add_hint(v: Variables, chosen: np.ndarray) -> None:
    for k, val in enumerate(chosen.tolist()):
        v.cp.AddHint(v.x[k], bool(val))


def _add_candidate_cuts(v: Variables, plans: list[Plan], rules: Rules) -> None:
    """Plain method: next candidate within the tolerance of the best and differing from the
    last plan (earlier ones were cut before) in at least ``candidate_min_diff`` posts."""
    best = v.__dict__.get("best_objective")
    if best is not None and not v.__dict__.get("tolerance_added"):
        v.cp.Add(objective_expr(v) <= best + int(np.floor(abs(best) * rules.candidate_tolerance)))
        v.tolerance_added = True
    _add_diff_cut(v, plans[-1], rules)


def _plan_from_solution(v: Variables, solver: cp_model.CpSolver, code: int) -> Plan:
    values = np.array(list(solver.response_proto.solution), dtype=np.int64)[: len(v.x)]
    return plan_from_pairs(
        v.elig,
        np.nonzero(values.astype(bool))[0],
        "optimal" if code == cp_model.OPTIMAL else "feasible",
        solver.ObjectiveValue() / SCALE,
        solver.BestObjectiveBound() / SCALE,
    )


def plan_from_pairs(
    e: Eligibility, chosen: np.ndarray, status: str, objective: float, bound: float
) -> Plan:
    """The contract plan for the chosen pairs (indices into ``e``'s pair arrays)."""
    data = e.data
    by_post = {int(e.pair_post[k]): int(k) for k in chosen}
    cadre_ids = data.cadres.index
    incumbent_post = data.incumbent_post
    assignments: list[Assignment] = []
    holders: set[str] = set()
    for p, (pid, unit, position, inc) in enumerate(
        e.posts[["unit_id", "position", "incumbent_id"]].itertuples(name=None)
    ):
        inc = inc if isinstance(inc, str) else None
        k = by_post.get(p)
        if k is None:
            assignments.append(
                Assignment(
                    post_id=pid,
                    unit_id=unit,
                    position=position,
                    cadre_id=None,
                    previous_post_id=None,
                    changed=inc is not None,
                    non_local=False,
                    travel_km=0.0,
                )
            )
            continue
        cid = str(cadre_ids[e.pair_cadre[k]])
        holders.add(cid)
        prev = incumbent_post.get(cid)
        assignments.append(
            Assignment(
                post_id=pid,
                unit_id=unit,
                position=position,
                cadre_id=cid,
                previous_post_id=prev if isinstance(prev, str) else None,
                changed=cid != inc,
                non_local=bool(e.pair_non_local[k]),
                travel_km=float(e.pair_km[k]),
            )
        )
    released = sorted(c for c in e.posts["incumbent_id"].dropna() if c not in holders)
    return Plan(
        status=status,  # type: ignore[arg-type]
        objective=round(objective, 3),
        bound=round(bound, 3),
        assignments=assignments,
        released=released,
        kpis=compute_kpis(data, e.rules, assignments),
    )
