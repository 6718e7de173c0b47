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
3. a first roadmap: the HiGHS MIP of the same rows over the stints of reduced cost at most
   :data:`FIRST_GAP` × ``LB`` (and the LP's support); the LP is nearly integral, so this MIP
   is small and its optimum close to ``LB``: the upper bound ``UB``;
4. reduced-cost fixing: a stint whose reduced cost exceeds ``UB − LB`` is in no roadmap costing
   at most ``UB`` (for a 0/1 point ``s`` of the LP, cost(s) ≥ LB + Σ reduced cost × s);
5. the proof: the HiGHS MIP over the stints left. Its optimum is the optimum over every
   triple: every roadmap costing at most ``UB`` uses only stints left. (When ``UB − LB`` is
   already within the first MIP's reduced-cost limit, step 3 was the proof.) Costs are
   integers (scaled by ``SCALE``), so an absolute MIP gap below 1 is exact.

A MIP solution is a roadmap only if no pair's stay is split into two back-to-back stints
(:func:`~rotation.roadmap.stints.repeated_stays`: such rows are added and the MIP solved again);
each solution is turned into holders and back into holding/arrival columns, which must equal
the stints' own (:func:`stint_holders`), so the cost the MIP reports is the roadmap's.

Only when no MIP gives a roadmap in time does the former path run: the round-by-round roadmap
(:func:`greedy_roadmap`) and CP-SAT over the LP's support and the stints of smallest reduced
cost, then CP-SAT on the triples left (with more than :data:`PROOF_MAX_TRIPLES` left, no proof
is attempted: the best roadmap known is returned, ``feasible``, with the LP's gap and
``stats.message``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from ortools.sat.python import cp_model

from ..data import ProblemData
from ..model import SCALE
from ..rules import Rules
from ..solve import Progress, Watcher, solver_parameters
from ..solve.progress import Clock, relative_gap, stopped
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
from .paths import tighten
from .relaxation import Columns, TermLp, cost_vector, round_costs
from .rounds import RoundIndex, RoundPairs, restrict_round
from .rows import TermIndex
from .state import project_ratings, retired_by
from .stints import (
    StintLp,
    StintMip,
    Stints,
    open_stint_lp,
    repeated_stays,
    solve_stint_mip,
    stint_lp,
    term_stints,
)


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

FIRST_GAP = 2e-4
"""The first roadmap's MIP keeps the stints of reduced cost at most ``FIRST_GAP × |LB|`` (0.02%
of the bound: 2,517 of 487,319 stints on Hai Duong's default horizon, a 0.1 s MIP)."""

PROOF_GAP = 1e-6
"""A relative gap at most this is a proof (``status`` "optimal")."""

REPEATED_STAY_ROUNDS = 5
"""At most this many times a stint MIP is solved again with rows against split stays."""

PROOF_MAX_TRIPLES = 60_000
"""Above this many triples left after the pruning, CP-SAT is not asked for the proof (building
the model alone takes over a minute at 330k triples): the best roadmap known is returned,
``feasible``, with the LP bound's gap."""


@dataclass
class TermSetup:
    """A term's rounds over every eligible triple, its LP columns and costs (scaled)."""

    base: ProblemData
    horizon: Any
    rrules: list[Rules]
    retired: list[set[str]]
    pairs: list[RoundPairs]
    cand: Any
    rounds: list[RoundIndex]
    term: TermIndex
    cols: Columns
    hold_cost: np.ndarray

    def objective(self, holders: list[dict[str, str | None]]) -> float | None:
        """The term objective of a roadmap (scaled units); ``None`` if it uses a pair that is
        no pair of its round."""
        v = roadmap_vector(self.rounds, self.cols, holders)
        return None if v is None else float(self.hold_cost @ v)


def term_setup(
    data: ProblemData,
    rules: Rules,
    previous: dict[str, Any] | None = None,
    previous_weight: float | None = None,
    on_round: Callable[[int], None] | None = None,
) -> TermSetup:
    """Every round's eligible pairs (ratings projected to the last round), the columns and the
    term objective's coefficients."""
    h = horizon_of(rules)
    rrules = [round_rules(rules, h, k) for k in range(len(h.rounds))]
    base = project_ratings(data, h.rounds[-1].year)
    retired = [set(retired_by(base, rules, d)) for d in h.rounds]
    pairs, cand = term_pairs(base, rules, retired, None, None, on_round=on_round)
    rounds = [RoundIndex(rp.elig, rp.gids, rp.can_arrive, rp.prev) for rp in pairs]
    term = TermIndex(base, rules, h, list(rounds), retired)
    cols = Columns(rounds)
    hold_cost = cost_vector(round_costs(rounds, h, rules, previous, previous_weight), cols)
    return TermSetup(base, h, rrules, retired, pairs, cand, rounds, term, cols, hold_cost)


def term_objective(
    data: ProblemData,
    rules: Rules,
    holders: list[dict[str, str | None]],
    previous: dict[str, Any] | None = None,
    previous_weight: float | None = None,
) -> float | None:
    """The term objective (weight units, as ``stats.objective``) of a roadmap given as post →
    cadre per round, e.g. the round-by-round one; ``None`` if a pair is not eligible."""
    obj = term_setup(data, rules, previous, previous_weight).objective(holders)
    return None if obj is None else round(obj / SCALE, 3)


def stint_holders(
    t: TermSetup, stints: Stints, s: np.ndarray
) -> list[dict[str, str | None]] | None:
    """The roadmap (post → cadre per round) of a 0/1 stint solution; ``None`` unless its
    holding, arrival and vacancy columns are exactly the ones that roadmap has (one holder or a
    vacancy per post, an arrival exactly where a pair is held and was not the round before), so
    the cost of the stints is the roadmap's."""
    v = np.round(stints.T @ s)
    cols = t.cols
    out: list[dict[str, str | None]] = []
    prev_hold = np.zeros(0)
    for k, r in enumerate(t.rounds):
        hold = v[cols.hold_off[k] : cols.hold_off[k] + r.n_pairs]
        if not np.isin(hold, (0.0, 1.0)).all():
            return None
        n_posts = len(r.elig.posts)
        per_post = np.bincount(r.elig.pair_post, weights=hold, minlength=n_posts)
        if (per_post > 1).any():
            return None
        if r.allow_vacancies:  # vacant exactly where no one holds the post
            vac = v[cols.vac_off[k] : cols.vac_off[k] + n_posts]
            if not np.array_equal(vac, (per_post == 0).astype(float)):
                return None
        own = np.asarray(r.arrive_pairs, dtype=np.int64)
        if len(own):
            arrives = hold[own] * (1 - prev_hold[r.prev[own]])
            if not np.array_equal(v[cols.arrive_col[k][own]], arrives):
                return None
        held: dict[str, str | None] = dict.fromkeys(r.elig.posts.index.astype(str))
        on = np.nonzero(hold > 0.5)[0]
        posts = r.elig.posts.index.to_numpy().astype(str)[r.elig.pair_post[on]]
        cadres = r.elig.data.cadres.index.to_numpy().astype(str)[r.elig.pair_cadre[on]]
        held.update(zip(posts.tolist(), cadres.tolist(), strict=True))
        out.append(held)
        prev_hold = hold
    return out


@dataclass
class StintSearch:
    """What the stint MIPs found: the best roadmap (``holders``, cost ``ub``), the bound over
    every triple, whether it is a proof, and the stints the last MIP kept."""

    holders: list[dict[str, str | None]]
    ub: float
    bound: float
    proven: bool
    kept: np.ndarray
    stats: dict[str, Any]


def _roadmap_mip(
    t: TermSetup,
    stints: Stints,
    mat: StintLp,
    keep: np.ndarray,
    time_limit: float,
    start: np.ndarray | None,
    stop: threading.Event | None = None,
) -> tuple[StintMip, list[dict[str, str | None]] | None]:
    """The stint MIP over ``keep``, solved again with rows against split stays while its
    solution has some (every roadmap keeps them, so the MIP stays a relaxation of the
    roadmaps over ``keep``)."""
    t0 = time.perf_counter()
    extra: sp.csr_matrix | None = None
    mip = solve_stint_mip(mat, keep, time_limit, start, stop=stop)
    for _ in range(REPEATED_STAY_ROUNDS):
        if mip.s is None:
            return mip, None
        rows = repeated_stays(stints, t.cols, t.rounds, mip.s)
        if not rows.shape[0]:
            return mip, stint_holders(t, stints, mip.s)
        extra = rows if extra is None else sp.vstack([extra, rows]).tocsr()
        left = time_limit - (time.perf_counter() - t0)
        mip = solve_stint_mip(mat, keep, left, start, extra, stop)
    return mip, None


def stint_search(
    t: TermSetup,
    stints: Stints,
    mat: StintLp,
    lp: TermLp,
    left: Callable[[], float],
    event: Callable[..., None],
    stop: threading.Event | None = None,
) -> StintSearch | None:
    """Steps 3–5 of the module docstring; ``None`` when no MIP gave a roadmap (infeasible over
    the first stints or out of time: the caller falls back to the CP-SAT path)."""
    lb = float(lp.bound)
    tol = 1e-6 * max(1.0, abs(lb))  # the LP's reduced costs and bound carry HiGHS's tolerances
    rc = np.maximum(lp.reduced_cost, 0.0)
    support = lp.x > 1e-9
    stats: dict[str, Any] = {"lp_stints": len(stints)}
    delta = FIRST_GAP * max(1.0, abs(lb))
    t0 = time.perf_counter()
    while True:
        keep = support | (rc <= delta + tol)
        mip, holders = _roadmap_mip(
            t, stints, mat, keep, max(0.5, min(left() / 3, 10.0)), None, stop
        )
        if mip.status != "infeasible" or keep.all() or stopped(stop):
            break
        delta = max(10 * delta, 1.0)  # no roadmap costs at most LB + delta: look further
    stats["first_roadmap_s"] = round(time.perf_counter() - t0, 3)
    stats["first_stints"] = int(keep.sum())
    if holders is None or mip.s is None:
        return None
    ub, s_best = mip.objective, mip.s
    stats["first_roadmap"] = round(ub / SCALE, 3)
    event("first roadmap", objective=ub / SCALE, bound=lb / SCALE)
    if mip.status == "optimal" and ub - lb <= delta:
        # every roadmap costing at most ub ≤ lb + delta uses only the stints the MIP had
        stats["proof_s"] = 0.0
        event("proof", objective=ub / SCALE, bound=ub / SCALE)
        return StintSearch(holders, ub, ub, True, keep, stats)
    if stopped(stop):
        return StintSearch(holders, ub, lb, False, keep, stats)
    keep = support | (rc <= (ub - lb) + tol)
    event("pruning", objective=ub / SCALE, bound=lb / SCALE)
    proof, better = _roadmap_mip(t, stints, mat, keep, max(0.5, left()), s_best, stop)
    stats["proof_s"] = round(proof.seconds, 3)
    bound = lb
    if better is not None and proof.s is not None and proof.objective <= ub:
        ub, holders = proof.objective, better
    if proof.status == "optimal" and better is not None and proof.objective <= ub + 0.5:
        event("proof", objective=ub / SCALE, bound=ub / SCALE)
        return StintSearch(holders, ub, ub, True, keep, stats)
    # an "optimum" above a roadmap the MIP could use is not trusted: the LP bound stands
    trusted = not (proof.status == "optimal" and proof.objective > ub + 0.5)
    if trusted and proof.status in ("optimal", "feasible"):
        # every roadmap over the kept stints costs at least the MIP's bound; any other, > ub
        bound = max(lb, min(proof.bound, ub))
    proven = relative_gap(ub, bound) <= PROOF_GAP
    event("proof", objective=ub / SCALE, bound=(ub if proven else bound) / SCALE)
    return StintSearch(holders, ub, ub if proven else bound, proven, keep, stats)


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
    stats: dict[str, Any] = {"rounds": n_r, "method": "exact"}

    def event(phase: str, objective: float | None = None, bound: float | None = None) -> None:
        if progress is not None:
            progress(clock.event(phase, objective=objective, bound=bound))

    def left() -> float:
        return rules.time_limit_s - (time.perf_counter() - t0)

    t1 = time.perf_counter()
    t = term_setup(
        data,
        rules,
        previous,
        previous_weight,
        on_round=lambda k: event(f"pairs {h.rounds[k].year}"),
    )
    base, rrules, rounds, cols = t.base, t.rrules, t.rounds, t.cols
    stints = term_stints(t.term, cols)
    mat = stint_lp(t.term, cols, stints, rules, previous, previous_weight)
    stats["triples"] = int(sum(r.n_pairs for r in rounds))
    stats["lp_columns"] = int(mat.A.shape[1])
    stats["lp_rows"] = int(mat.A.shape[0])
    stats["lp_stints"] = len(stints)
    stats["rows_s"] = round(time.perf_counter() - t1, 3)
    event("rows")
    lp, highs = open_stint_lp(mat, max(1.0, left()), lp_options, stop)
    stats["lp_s"] = round(lp.seconds, 3)
    warm_cache: list[list[dict[str, str | None]]] = []

    def warm() -> list[dict[str, str | None]]:
        """The round-by-round roadmap (computed once, when needed)."""
        if not warm_cache:
            greedy = greedy_roadmap(data, rules)
            stats["greedy_s"] = greedy.stats.get("total_s")
            warm_cache.append(
                [p.holder() for _, p in greedy.rounds] if len(greedy.rounds) == n_r else []
            )
            event("round by round")
        return warm_cache[0]

    if lp.stopped:  # no bound in time: the round-by-round roadmap, unproven
        stats["message"] = (
            "stopped on request before the LP bound"
            if stopped(stop)
            else "the LP bound was not reached within the time limit; raise time_limit_s"
        )
        holders = warm()
        stats["total_s"] = clock.elapsed()
        if not holders:
            return RoadmapResult(status="unknown", stats=stats)
        result = _assemble(base, rules, h, rrules, holders, "feasible")
        result.stats.update(stats)
        obj = t.objective(holders)
        if obj is not None:
            result.stats["objective"] = round(obj / SCALE, 3)
        result.stats["proven"] = False
        result.stats["gap"] = None
        return result
    if not lp.feasible:
        stats["lp"] = "infeasible"
        stats["total_s"] = clock.elapsed()
        diag = _diagnose_rounds(base, rules, h, rrules)
        return RoadmapResult(status="infeasible", diagnosis=diag, stats=stats)
    if not stopped(stop):  # each cadre's way through the term, where the LP splits it
        tight = tighten(t.term, stints, mat, lp, highs, max(1.0, left()))
        if tight is not None and tight.lp.bound >= lp.bound:
            stats["lp_bound_stints"] = round(lp.bound / SCALE, 3)
            stats["path_cadres"] = tight.cadres
            stats["paths_s"] = round(tight.seconds, 3)
            stints, mat, lp = tight.stints, tight.mat, tight.lp
    del highs
    lb = float(lp.bound)
    stats["lp_bound"] = round(lb / SCALE, 3)
    event("bound", bound=lb / SCALE)
    found = stint_search(t, stints, mat, lp, left, event, stop)
    if found is not None:
        stats.update(found.stats)
        kept_triples = int(covered(stints, found.kept, None)[_hold_mask(t)].sum())
        stats["model_triples"] = kept_triples
        stats["pruned_triples"] = stats["triples"] - kept_triples
        stats["kept_stints"] = int(found.kept[: len(stints)].sum())
        status = "optimal" if found.proven else "feasible"
        result = _assemble(base, rules, h, rrules, found.holders, status)
        result.stats.update(stats)
        result.stats["objective"] = round(found.ub / SCALE, 3)
        result.stats["bound"] = round(found.bound / SCALE, 3)
        result.stats["gap"] = 0.0 if found.proven else round(relative_gap(found.ub, found.bound), 6)
        result.stats["proven"] = found.proven
        result.stats["exact_over"] = (
            f"every eligible (cadre, post, round) triple ({stats['triples']}): the stint LP bound "
            f"and reduced-cost fixing left {stats['kept_stints']} of {len(stints)} stints "
            f"({kept_triples} triples) that a roadmap costing at most the best one known can "
            "use; the HiGHS MIP of every rule row searched them"
        )
        if not found.proven:
            result.stats["message"] = (
                "stopped on request before the proof finished"
                if stopped(stop)
                else f"the proof did not finish within {rules.time_limit_s:g} s"
            )
        result.stats["total_s"] = clock.elapsed()
        event("done", objective=found.ub / SCALE, bound=found.bound / SCALE)
        return result
    return _cp_sat_search(
        data, rules, t, stints, lp, warm(), progress, stop, clock, stats, previous, previous_weight
    )


def _hold_mask(t: TermSetup) -> np.ndarray:
    """The holding columns among the LP's columns."""
    mask = np.zeros(t.cols.n, dtype=bool)
    for k, r in enumerate(t.rounds):
        mask[t.cols.hold_off[k] : t.cols.hold_off[k] + r.n_pairs] = True
    return mask


def _cp_sat_search(
    data: ProblemData,
    rules: Rules,
    t: TermSetup,
    stints: Stints,
    lp: TermLp,
    warm: list[dict[str, str | None]],
    progress: Progress | None,
    stop: threading.Event | None,
    clock: Clock,
    stats: dict[str, Any],
    previous: dict[str, Any] | None,
    previous_weight: float | None,
) -> RoadmapResult:
    """The former path, when no stint MIP gave a roadmap: a first roadmap by CP-SAT over the
    LP's support and the :data:`FIRST_ROADMAP_STINTS` stints of smallest reduced cost, hinted
    with the round-by-round one; reduced-cost fixing; CP-SAT on the triples left."""
    base, h, rrules, pairs, rounds, cols = t.base, t.horizon, t.rrules, t.pairs, t.rounds, t.cols
    retired, cand, hold_cost = t.retired, t.cand, t.hold_cost
    t0 = clock.t0

    def event(phase: str, objective: float | None = None, bound: float | None = None) -> None:
        if progress is not None:
            progress(clock.event(phase, objective=objective, bound=bound))

    def left() -> float:
        return rules.time_limit_s - (time.perf_counter() - t0)

    lb = float(lp.bound)
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


__all__ = [
    "FIRST_GAP",
    "FIRST_ROADMAP_STINTS",
    "PROOF_GAP",
    "PROOF_MAX_TRIPLES",
    "StintSearch",
    "TermSetup",
    "roadmap_vector",
    "solve_roadmap_exact",
    "stint_holders",
    "stint_search",
    "term_objective",
    "term_setup",
]
