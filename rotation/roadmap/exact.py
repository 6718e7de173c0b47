"""The term roadmap, exact over every eligible (cadre, post, round) triple.

The single plan's exact pipeline (``rotation.solve.pruning``), lifted to a term:

1. every round's pairs are *all* its eligible pairs (plus the continuations of the round
   before);
2. the LP relaxation over *stints* (:mod:`rotation.roadmap.stints`: one column per stay of a
   cadre at a post from one round to a later one, so arrival, continuation and minimum stay
   decide which columns exist and are no rows), with every single-round rule row of every
   round, ``office_wait`` and ``never_decrease`` as rows and the term objective
   (:func:`~rotation.roadmap.relaxation.round_costs`), solved by HiGHS: a lower bound ``LB``
   and reduced costs, valid for every triple since every roadmap is a set of stints;
3. an upper bound ``UB``: the round-by-round roadmap (:func:`greedy_roadmap`), improved by
   CP-SAT over the LP's support and the stints of smallest reduced cost;
4. reduced-cost fixing: a stint whose reduced cost exceeds ``UB − LB`` is in no roadmap costing
   at most ``UB``; a triple (or its arrival) no kept stint covers is dropped;
5. CP-SAT on the triples left (every rule row, single-round and cross-round), hinted with the
   best roadmap. Its ``OPTIMAL`` at a cost ``≤ UB`` is a proof for the whole problem;
   otherwise the status is ``feasible`` with the gap against the best bound (the LP's or
   CP-SAT's). With more than :data:`PROOF_MAX_TRIPLES` triples left the proof is not attempted:
   the best roadmap known is returned, ``feasible``, with the LP's gap and ``stats.message``.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from ..data import ProblemData
from ..model import SCALE
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
    pair_of,
    term_pairs,
)
from .relaxation import Columns, TermLp, cost_vector, round_costs
from .rounds import RoundIndex, RoundPairs, restrict_round
from .rows import TermIndex
from .state import project_ratings, retired_by
from .stints import Stints, solve_stint_lp, stint_lp, term_stints


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


def first_roadmap_pairs(
    stints: Stints, lp: TermLp, warm_cols: np.ndarray | None, limit: int
) -> np.ndarray:
    """The stints a first roadmap is searched among: the LP's support and the ``limit``
    stints of smallest reduced cost (the pairs the LP likes, as the single plan's first plan)."""
    keep = lp.x > 1e-9
    order = np.argsort(lp.reduced_cost, kind="stable")[:limit]
    keep[order] = True
    return keep


def covered(stints: Stints, keep: np.ndarray, warm_cols: np.ndarray | None) -> np.ndarray:
    """Holding/arrival columns some kept stint covers (plus the known roadmap's)."""
    hit = np.asarray(stints.T[:, keep].sum(axis=1)).ravel() > 0
    if warm_cols is not None:
        hit |= warm_cols
    return hit


def restrict_rounds(
    pairs: list[RoundPairs], rounds: list[RoundIndex], cols: Columns, hit: np.ndarray
) -> list[RoundPairs]:
    """Each round's pairs where ``hit`` covers the holding column, arriving only where it
    covers the arrival column."""
    out: list[RoundPairs] = []
    for k, (rp, r) in enumerate(zip(pairs, rounds, strict=True)):
        hold = hit[cols.hold_off[k] : cols.hold_off[k] + r.n_pairs]
        arrive_ok = hit[cols.arrive_col[k]]
        out.append(restrict_round(rp, hold, arrive_ok | ~r.can_arrive, out[-1] if k else None))
    return out


FIRST_ROADMAP_STINTS = 2_000
"""Stints of smallest reduced cost a first roadmap is searched among, besides the LP's support
(the LP is nearly integral: 16 fractional stints of 488,933 on Hai Duong)."""

PROOF_MAX_TRIPLES = 60_000
"""Above this many triples left after the pruning, CP-SAT is not asked for the proof (building
the model alone takes over a minute at 330k triples): the best roadmap known is returned,
``feasible``, with the LP bound's gap."""


def solve_roadmap_exact(
    data: ProblemData,
    rules: Rules,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    previous: dict[str, Any] | None = None,
    previous_weight: float | None = None,
    lp_options: dict[str, Any] | None = None,
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

    def left() -> float:
        return rules.time_limit_s - (time.perf_counter() - t0)

    greedy = greedy_roadmap(data, rules)
    warm = [p.holder() for _, p in greedy.rounds] if len(greedy.rounds) == n_r else []
    stats["greedy_s"] = greedy.stats.get("total_s")
    event("round by round")
    t1 = time.perf_counter()
    base = project_ratings(data, h.rounds[-1].year)
    retired = [set(retired_by(base, rules, d)) for d in h.rounds]
    pairs, cand = term_pairs(base, rules, retired, warm or None, None)
    rounds = [RoundIndex(rp.elig, rp.gids, rp.can_arrive, rp.prev) for rp in pairs]
    term = TermIndex(base, rules, h, list(rounds), retired)
    cols = Columns(rounds)
    stints = term_stints(term, cols)
    mat = stint_lp(term, cols, stints, rules, previous, previous_weight)
    hold_cost = cost_vector(round_costs(rounds, h, rules, previous, previous_weight), cols)
    stats["triples"] = int(sum(r.n_pairs for r in rounds))
    stats["lp_columns"] = int(mat.A.shape[1])
    stats["lp_rows"] = int(mat.A.shape[0])
    stats["lp_stints"] = len(stints)
    stats["rows_s"] = round(time.perf_counter() - t1, 3)
    lp = solve_stint_lp(mat, max(1.0, left()), lp_options)
    stats["lp_s"] = round(lp.seconds, 3)
    if lp.stopped:  # no bound in time: the round-by-round roadmap, unproven
        stats["message"] = "the LP bound was not reached within the time limit; raise time_limit_s"
        stats["total_s"] = clock.elapsed()
        if not warm:
            return RoadmapResult(status="unknown", stats=stats)
        result = _assemble(base, rules, h, rrules, warm, "feasible")
        result.stats.update(stats)
        v0 = roadmap_vector(rounds, cols, warm)
        if v0 is not None:
            result.stats["objective"] = round(float(hold_cost @ v0) / SCALE, 3)
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
    warm_cols = None if v is None else v > 0.5
    best = warm if v is not None else []
    ub: float | None = None if v is None else float(hold_cost @ v)
    # a first roadmap among the stints the LP likes (with the round-by-round one as hint)
    first = restrict_rounds(
        pairs,
        rounds,
        cols,
        covered(
            stints, first_roadmap_pairs(stints, lp, warm_cols, FIRST_ROADMAP_STINTS), warm_cols
        ),
    )
    m1 = RoadmapModel(
        base, rules, h, first, retired, cand, previous, previous_weight=previous_weight
    )
    if warm:
        m1.hint(warm)
    s1 = solver_parameters(rules, max(0.5, min(left() / 4, 10.0)))
    code = s1.solve(m1.cp, Watcher(progress, stop, "first roadmap", clock))
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE) and (ub is None or s1.objective_value < ub):
        ub = float(s1.objective_value)
        best = m1.holders(s1)
    stats["first_roadmap_s"] = round(s1.wall_time, 3)
    if ub is not None:
        stats["first_roadmap"] = round(ub / SCALE, 3)
        event("first roadmap", objective=ub / SCALE, bound=lb / SCALE)
    rc = np.maximum(lp.reduced_cost, 0.0)
    keep = lp.x > 1e-9
    if ub is not None:
        keep |= rc <= (ub - lb) + 1e-6 * max(1.0, abs(lb))
    else:
        keep[:] = True
    vb = roadmap_vector(rounds, cols, best) if best else None
    restricted = restrict_rounds(
        pairs, rounds, cols, covered(stints, keep, None if vb is None else vb > 0.5)
    )
    stats["pruned_triples"] = int(stats["triples"] - sum(len(rp.gids) for rp in restricted))
    stats["model_triples"] = int(sum(len(rp.gids) for rp in restricted))
    event("pruning", objective=None if ub is None else ub / SCALE, bound=lb / SCALE)

    def unproven(reason: str) -> RoadmapResult:
        """The best roadmap known, ``feasible``, with the LP bound's gap."""
        stats["message"] = reason
        stats["total_s"] = clock.elapsed()
        if not best or ub is None:
            return RoadmapResult(status="unknown", stats=stats)
        result = _assemble(base, rules, h, rrules, best, "feasible")
        result.stats.update(stats)
        result.stats["objective"] = round(ub / SCALE, 3)
        result.stats["bound"] = round(lb / SCALE, 3)
        result.stats["gap"] = round(relative_gap(ub, lb), 6)
        result.stats["proven"] = False
        event("done", objective=ub / SCALE, bound=lb / SCALE)
        return result

    if stats["model_triples"] > PROOF_MAX_TRIPLES and ub is not None:
        return unproven(
            f"{stats['model_triples']} triples left after the pruning (more than "
            f"{PROOF_MAX_TRIPLES}): no CP-SAT proof attempted"
        )
    t2 = time.perf_counter()
    m = RoadmapModel(
        base, rules, h, restricted, retired, cand, previous, previous_weight=previous_weight
    )
    if best:
        m.hint(best)
    stats["build_s"] = round(time.perf_counter() - t2, 3)
    solver = solver_parameters(rules, max(0.5, left()))
    code = solver.solve(m.cp, Watcher(progress, stop, "proof", clock))
    stats["solve_s"] = round(solver.wall_time, 3)
    stats["exact_over"] = (
        f"every eligible (cadre, post, round) triple ({stats['triples']}): the stint LP bound "
        f"and reduced-cost fixing removed {stats['pruned_triples']} that cannot be in a roadmap "
        f"costing at most the best one known; CP-SAT searched the {stats['model_triples']} left"
    )
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        status = "infeasible" if code == cp_model.INFEASIBLE else "unknown"
        if ub is not None and best:  # a roadmap is known: return it, unproven
            return unproven(f"the proof did not finish within {rules.time_limit_s:g} s")
        diag = _diagnose_rounds(base, rules, h, rrules) if status == "infeasible" else []
        if status == "unknown":
            stats["message"] = (
                f"no roadmap found within {rules.time_limit_s:g} s; raise time_limit_s"
            )
        stats["total_s"] = clock.elapsed()
        return RoadmapResult(status=status, diagnosis=diag, stats=stats)
    obj = solver.objective_value
    if ub is not None and best and obj > ub + 1e-6 * max(1.0, abs(ub)):
        return unproven("the proof's search stopped above the best roadmap known")
    bound = max(solver.best_objective_bound, lb)
    # the proof covers every triple only if the optimum found is no worse than the roadmap the
    # pruning was measured against (every roadmap costing at most ub uses only kept stints)
    proven = code == cp_model.OPTIMAL and (ub is None or obj <= ub + 1e-6 * max(1.0, abs(ub)))
    if code == cp_model.OPTIMAL and not proven:
        bound = lb
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


__all__ = ["FIRST_ROADMAP_STINTS", "PROOF_MAX_TRIPLES", "roadmap_vector", "solve_roadmap_exact"]
