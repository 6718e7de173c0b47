"""The term roadmap, exact over every eligible (cadre, post, round) triple.

The single plan's exact pipeline (``rotation.solve.pruning``), lifted to a term:

1. every round's pairs are *all* its eligible pairs (plus the continuations of the round
   before); each round's single-round rule rows and the cross-round rows
   (:mod:`rotation.roadmap.rows`) are written over a variable-free :class:`RoundIndex`;
2. the LP relaxation of exactly those rows and of the same objective
   (:func:`~rotation.roadmap.model.objective_terms`), one column per holding literal, per
   arrival literal and per vacancy, is solved by HiGHS: a lower bound ``LB`` and reduced costs;
3. the round-by-round roadmap (each round optimal on its own, :func:`greedy_roadmap`), checked
   against every row, is an upper bound ``UB``;
4. reduced-cost fixing: a column whose reduced cost exceeds ``UB − LB`` is 0 in every roadmap
   costing at most ``UB``, so its triple (or its arrival) is dropped;
5. CP-SAT on the triples left, hinted with the round-by-round roadmap. Its ``OPTIMAL`` is a
   proof for the whole problem (every eligible triple), since nothing dropped can be in a
   roadmap at least as good as the one known; otherwise the status is ``feasible`` with the
   gap against the best bound (the LP's or CP-SAT's, both valid for every triple).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
from ortools.sat.python import cp_model

from ..data import ProblemData
from ..model import SCALE, all_rows
from ..model.constraints import Row
from ..model.lp import _silent_highs
from ..rules import Rules
from ..solve import Progress, Watcher, solver_parameters
from ..solve.progress import Clock, relative_gap
from .horizon import round_rules
from .model import (
    RoadmapModel,
    RoadmapResult,
    _assemble,
    _diagnose_rounds,
    greedy_roadmap,
    horizon_of,
    objective_terms,
    pair_of,
    term_pairs,
)
from .rounds import RoundIndex, RoundPairs, restrict_round
from .rows import CROSS_ROUND_RULES, SpanRow, TermIndex
from .state import project_ratings, retired_by


class Columns:
    """The LP's columns: per round its holding literals, its own arrival literals, its
    vacancies (a pair without an arrival literal of its own arrives when held)."""

    def __init__(self, rounds: list[RoundIndex]) -> None:
        self.hold_off: list[int] = []
        self.arrive_col: list[np.ndarray] = []  # per round, pair -> column of its arrival
        self.vac_off: list[int] = []
        n = 0
        for r in rounds:
            self.hold_off.append(n)
            amap = n + np.arange(r.n_pairs, dtype=np.int64)
            n += r.n_pairs
            amap[np.asarray(r.arrive_pairs, dtype=np.int64)] = n + np.arange(len(r.arrive_pairs))
            self.arrive_col.append(amap)
            n += len(r.arrive_pairs)
            self.vac_off.append(n)
            n += len(r.elig.posts) if r.allow_vacancies else 0
        self.n = n

    def col(self, k: int, kind: str, j: int) -> int:
        if kind == "hold":
            return self.hold_off[k] + j
        if kind == "arrive":
            return int(self.arrive_col[k][j])
        return self.vac_off[k] + j


@dataclass
class TermMatrix:
    """``lo <= A x <= hi`` as coordinates (row, column, value), and the cost vector."""

    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    cost: np.ndarray

    def holds(self, v: np.ndarray, tol: float = 1e-6) -> bool:
        """Whether the 0/1 vector ``v`` satisfies every row."""
        ax = np.bincount(self.rows, weights=self.vals * v[self.cols], minlength=len(self.lo))
        return bool(np.all(ax >= self.lo - tol) and np.all(ax <= self.hi + tol))


def term_matrix(
    rounds: list[RoundIndex],
    term: TermIndex,
    cols: Columns,
    rules: Rules,
    previous: dict[str, Any] | None,
    previous_weight: float | None = None,
) -> TermMatrix:
    """Every single-round row of every round, every cross-round row, and the objective, over
    ``cols`` (the same rows and costs the CP-SAT model gets)."""
    r_idx: list[np.ndarray] = []
    c_idx: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    lo: list[float] = []
    hi: list[float] = []

    def bounds(row: Row | SpanRow) -> None:
        lo.append(-np.inf if row.lo is None else float(row.lo))
        hi.append(np.inf if row.hi is None else float(row.hi))

    for k, r in enumerate(rounds):
        for row in all_rows(r):
            arrivals = np.asarray(row.arrivals, dtype=np.int64)
            c = np.concatenate(
                [
                    cols.hold_off[k] + row.pairs.astype(np.int64),
                    cols.vac_off[k] + np.asarray(row.vacs, dtype=np.int64),
                    cols.arrive_col[k][arrivals],
                ]
            )
            v = np.concatenate(
                [row.coefs, np.ones(len(row.vacs), dtype=np.int64), row.arrival_weights()]
            )
            r_idx.append(np.full(len(c), len(lo), dtype=np.int64))
            c_idx.append(c)
            vals.append(v.astype(float))
            bounds(row)
    span_r: list[int] = []
    span_c: list[int] = []
    span_v: list[float] = []
    for rule in CROSS_ROUND_RULES:
        for srow in rule(term):
            n = len(lo)
            for t in srow.terms:
                span_r.append(n)
                span_c.append(cols.col(t.round, t.kind, t.pair))
                span_v.append(float(t.coef))
            bounds(srow)
    r_idx.append(np.asarray(span_r, dtype=np.int64))
    c_idx.append(np.asarray(span_c, dtype=np.int64))
    vals.append(np.asarray(span_v, dtype=float))
    cost = np.zeros(cols.n)
    for k, kind, j, coef in objective_terms(rounds, term.horizon, rules, previous, previous_weight):
        cost[cols.col(k, kind, j)] += coef
    return TermMatrix(
        np.concatenate(r_idx),
        np.concatenate(c_idx),
        np.concatenate(vals),
        np.asarray(lo),
        np.asarray(hi),
        cost,
    )


@dataclass
class TermLp:
    feasible: bool
    bound: float  # scaled objective units
    x: np.ndarray
    reduced_cost: np.ndarray
    seconds: float
    stopped: bool = False  # the time limit (not infeasibility) ended the LP


def solve_term_lp(
    m: TermMatrix, time_limit: float = float("inf"), options: dict[str, Any] | None = None
) -> TermLp:
    """HiGHS on the LP relaxation (every column in [0, 1]); ``options``: HiGHS options (default
    dual simplex without presolve, as the single plan)."""
    t0 = time.perf_counter()
    n = len(m.cost)
    order = np.lexsort((m.rows, m.cols))
    starts = np.searchsorted(m.cols[order], np.arange(n + 1))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, len(m.lo)
    lp.col_cost_ = m.cost
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.ones(n)
    lp.row_lower_ = m.lo
    lp.row_upper_ = m.hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = starts.astype(np.int32)
    lp.a_matrix_.index_ = m.rows[order].astype(np.int32)
    lp.a_matrix_.value_ = m.vals[order]
    h = _silent_highs()
    opts = options or {"solver": "simplex", "simplex_strategy": 1, "presolve": "off"}
    for key, value in opts.items():
        h.setOptionValue(key, value)
    if np.isfinite(time_limit):
        h.setOptionValue("time_limit", float(time_limit))
    h.passModel(lp)
    h.run()
    secs = time.perf_counter() - t0
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        infeasible = status == highspy.HighsModelStatus.kInfeasible
        return TermLp(False, np.inf, np.zeros(n), np.zeros(n), secs, not infeasible)
    sol = h.getSolution()
    x = np.asarray(sol.col_value)
    rc = np.asarray(sol.col_dual)
    return TermLp(True, float(h.getInfo().objective_function_value), x, rc, secs)


def roadmap_vector(
    rounds: list[RoundIndex], cols: Columns, holders: list[dict[str, str | None]]
) -> np.ndarray | None:
    """A known roadmap (post → cadre per round) as a 0/1 column vector; ``None`` when one of
    its pairs is not a pair of its round."""
    v = np.zeros(cols.n)
    before: set[int] = set()
    for k, (r, held) in enumerate(zip(rounds, holders, strict=True)):
        chosen: set[int] = set()
        own = set(r.arrive_pairs)
        for pid, cid in held.items():
            if not cid:
                if r.allow_vacancies and pid in r.post_index:
                    v[cols.col(k, "vacant", r.post_index[pid])] = 1
                continue
            j = pair_of(r, pid, cid)
            if j is None:
                return None
            chosen.add(j)
            v[cols.col(k, "hold", j)] = 1
            if j in own and int(r.prev[j]) not in before:
                v[cols.col(k, "arrive", j)] = 1
        before = chosen
    return v


def solve_roadmap_exact(
    data: ProblemData,
    rules: Rules,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    previous: dict[str, Any] | None = None,
    previous_weight: float | None = None,
) -> RoadmapResult:
    """The roadmap over every eligible triple (see the module docstring); ``previous``,
    ``previous_weight``: as :func:`rotation.roadmap.model.solve_roadmap`."""
    clock = Clock()
    t0 = clock.t0
    h = horizon_of(rules)
    n_r = len(h.rounds)
    rrules = [round_rules(rules, h, k) for k in range(n_r)]
    stats: dict[str, Any] = {"rounds": n_r, "method": "exact"}

    def event(phase: str, objective: float | None = None, bound: float | None = None) -> None:
        if progress is not None:
            progress(clock.event(phase, objective=objective, bound=bound))

    greedy = greedy_roadmap(data, rules)
    warm = [p.holder() for _, p in greedy.rounds] if len(greedy.rounds) == n_r else []
    stats["greedy_s"] = greedy.stats.get("total_s")
    event("round by round")
    base = project_ratings(data, h.rounds[-1].year)
    retired = [set(retired_by(base, rules, d)) for d in h.rounds]
    pairs, cand = term_pairs(base, rules, retired, warm or None, None)
    rounds = [RoundIndex(rp.elig, rp.gids, rp.can_arrive, rp.prev) for rp in pairs]
    term = TermIndex(base, rules, h, list(rounds), retired)
    cols = Columns(rounds)
    mat = term_matrix(rounds, term, cols, rules, previous, previous_weight)
    stats["triples"] = int(sum(r.n_pairs for r in rounds))
    stats["lp_columns"] = cols.n
    stats["lp_rows"] = len(mat.lo)
    stats["rows_s"] = round(time.perf_counter() - t0, 3)
    lp = solve_term_lp(mat, max(1.0, rules.time_limit_s - (time.perf_counter() - t0)))
    stats["lp_s"] = round(lp.seconds, 3)
    if lp.stopped:  # no bound in time: the round-by-round roadmap, unproven
        stats["message"] = "the LP bound was not reached within the time limit; raise time_limit_s"
        stats["total_s"] = clock.elapsed()
        if not warm:
            return RoadmapResult(status="unknown", stats=stats)
        result = _assemble(base, rules, h, rrules, warm, "feasible")
        result.stats.update(stats)
        result.stats["proven"] = False
        result.stats["gap"] = None
        return result
    if not lp.feasible:
        stats["lp"] = "infeasible"
        stats["total_s"] = clock.elapsed()
        diag = _diagnose_rounds(base, rules, h, rrules)
        return RoadmapResult(status="infeasible", diagnosis=diag, stats=stats)
    lb = float(lp.bound)
    stats["lp_bound"] = round(lb / SCALE, 3)
    event("bound", bound=lb / SCALE)
    v = roadmap_vector(rounds, cols, warm) if warm else None
    ub: float | None = None
    if v is not None and mat.holds(v):
        ub = float(mat.cost @ v)
        stats["first_roadmap"] = round(ub / SCALE, 3)
        event("first roadmap", objective=ub / SCALE, bound=lb / SCALE)
    else:
        v = None
    rc = np.maximum(lp.reduced_cost, 0.0)
    keep = lp.x > 1e-9
    if v is not None:
        keep |= v > 0.5
    if ub is not None:
        keep |= rc <= (ub - lb) + 1e-6 * max(1.0, abs(lb))
    else:
        keep[:] = True
    restricted: list[RoundPairs] = []
    for k, (rp, r) in enumerate(zip(pairs, rounds, strict=True)):
        hold = keep[cols.hold_off[k] : cols.hold_off[k] + r.n_pairs]
        arrive_ok = keep[cols.arrive_col[k]]
        restricted.append(
            restrict_round(rp, hold, arrive_ok | ~r.can_arrive, restricted[-1] if k else None)
        )
    stats["pruned_triples"] = int(stats["triples"] - sum(len(rp.gids) for rp in restricted))
    stats["model_triples"] = int(sum(len(rp.gids) for rp in restricted))
    event("pruning", objective=None if ub is None else ub / SCALE, bound=lb / SCALE)
    t1 = time.perf_counter()
    m = RoadmapModel(
        base, rules, h, restricted, retired, cand, previous, previous_weight=previous_weight
    )
    if warm:
        m.hint(warm)
    stats["build_s"] = round(time.perf_counter() - t1, 3)
    left = max(0.5, rules.time_limit_s - (time.perf_counter() - t0))
    solver = solver_parameters(rules, left)
    code = solver.solve(m.cp, Watcher(progress, stop, "proof", clock))
    stats["solve_s"] = round(solver.wall_time, 3)
    stats["exact_over"] = (
        f"every eligible (cadre, post, round) triple ({stats['triples']}): the LP bound and "
        f"reduced-cost fixing removed {stats['pruned_triples']} that cannot be in a roadmap "
        f"costing at most the round-by-round one; CP-SAT searched the {stats['model_triples']} left"
    )
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        status = "infeasible" if code == cp_model.INFEASIBLE else "unknown"
        diag = _diagnose_rounds(base, rules, h, rrules) if status == "infeasible" else []
        if status == "unknown":
            stats["message"] = (
                f"no roadmap found within {rules.time_limit_s:g} s; raise time_limit_s"
            )
        stats["total_s"] = clock.elapsed()
        return RoadmapResult(status=status, diagnosis=diag, stats=stats)
    obj = solver.objective_value
    bound = max(solver.best_objective_bound, lb)
    proven = code == cp_model.OPTIMAL
    status = "optimal" if proven else "feasible"
    result = _assemble(base, rules, h, rrules, m.holders(solver), status)
    result.stats.update(stats)
    result.stats["objective"] = round(obj / SCALE, 3)
    result.stats["bound"] = round((obj if proven else bound) / SCALE, 3)
    result.stats["gap"] = 0.0 if proven else round(relative_gap(obj, bound), 6)
    result.stats["proven"] = proven
    result.stats["total_s"] = clock.elapsed()
    event("done", objective=obj / SCALE, bound=(obj if proven else bound) / SCALE)
    return result


__all__ = [
    "Columns",
    "TermMatrix",
    "roadmap_vector",
    "solve_roadmap_exact",
    "solve_term_lp",
    "term_matrix",
]
