"""Whole-plan rules across provinces, solved exactly without one national model.

``budget_vnd`` and ``priority_shares`` are the only rules that cross a province line (with
``same_province``): every other row lives inside one province. Two exact paths, in order:

1. **Relaxation first.** Solve the provinces apart without the coupling rows
   (:func:`~rotation.solve.province.solve_by_province`). The provinces' optimum is a lower bound
   of the whole problem (fewer rules); when the merged plan also keeps the budget and every
   priority share, it is feasible for the whole, so it is optimal for the whole. ``stats``
   says so (``coupling``, ``proof``).
2. **Lagrangian decomposition**, when the merged plan breaks a coupling row. Each coupling row
   ``lo ≤ a·x ≤ hi`` gets a multiplier λ ≥ 0 and moves into the pair costs (the support of a
   pair priced by λ_budget per VND; the newly appointed of a share priced by its row
   coefficient). For any λ, ``L(λ) = Σ_provinces LP(c + λ·a) − λ·b`` is a valid lower bound of
   the whole problem; λ is searched by projected subgradient steps (Polyak's step length, a
   few iterations, each province LP warm-started from its last basis). A plan of the whole (an
   upper bound ``UB``) comes from the provinces solved exactly with the priced costs — checked
   against every coupling row. Reduced-cost fixing then holds for the whole: with ``d`` a pair's
   reduced cost in its province LP at λ, a plan using the pair costs at least ``L(λ) + d``, so
   a pair with ``L(λ) + d > UB`` is in no plan better than the one known and is removed. One
   CP-SAT model over the pairs left in every province, with every row (coupling rows
   included), hinted with the known plan, proves optimality for the whole problem — or returns
   ``feasible`` with the gap to ``L(λ)``.

When neither path applies (vacancies allowed: a vacant post's cost carries the change weight,
which the pricing of shares uses; the ``max_travel`` term; no plan found with the priced costs)
the problem is solved as one (:func:`~rotation.solve.single.solve_one`), exact as well.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp
from ortools.sat.python import cp_model

from ..data import ProblemData
from ..eligibility import Eligibility, compute_eligibility
from ..explain import add_explanations
from ..model import SCALE, PairIndex, Row, all_rows, build_model, pair_costs
from ..model.constraints import PRIORITY_SCALE
from ..model.lp import _silent_highs, pass_lp
from ..plan import Plan
from ..profile import phase
from ..rules import Rules
from ..status import has_plan
from .candidates import solve_candidates
from .params import Watcher, solver_parameters
from .plans import chosen_pairs
from .progress import Clock, Progress, StopFlag
from .province import couples, solve_by_province
from .pruning import add_hint
from .result import Result
from .single import EXPLAIN_MAX_POSTS, solve_one

__all__ = ["COUPLING_RULES", "couples", "coupling_breaks", "solve_coupled", "without_coupling"]

COUPLING_RULES = ("budget_vnd", "priority_shares")
"""The rules whose rows span the whole plan (every other rule lives inside one province)."""

FIRST_ITERATIONS = 4
"""Subgradient steps before the first plan of the whole (towards an estimate)."""
LAGRANGE_ITERATIONS = 8
"""Subgradient steps after it (towards that plan's cost); each: one warm-started LP per
province."""

REPAIR_PER_POST = 8
"""Pairs of each post (cheapest reduced costs at λ) the repair of a priced plan may use."""
REPAIR_S = 10.0
"""Seconds at most for that repair."""


def without_coupling(rules: Rules) -> Rules:
    """The same rules without the whole-plan rows: a relaxation, decomposable by province."""
    return rules.model_copy(update={"budget_vnd": None, "priority_shares": []})


def coupling_breaks(rules: Rules, plan: Plan) -> list[str]:
    """The coupling rules ``plan`` breaks, from its KPIs (support paid, the newly appointed by
    group: the same quantities the rows count; shares in ten-thousandths, as the row)."""
    k = plan.kpis
    assert k is not None and k.new_appointees is not None
    broken: list[str] = []
    if rules.budget_vnd is not None and (k.support_cost_vnd or 0) > rules.budget_vnd:
        broken.append("budget_vnd")
    new = k.new_appointees
    for ps in rules.priority_shares:
        share = round(ps.min_share * PRIORITY_SCALE)
        if PRIORITY_SCALE * getattr(new, ps.group) - share * new.count < 0:
            broken.append(f"priority_shares:{ps.group}")
    return broken


def solve_coupled(
    problem: ProblemData,
    rules: Rules,
    provinces: list[str],
    progress: Progress | None = None,
    stop: StopFlag | None = None,
    explain: bool | None = None,
    clock: Clock | None = None,
) -> Result:
    """The whole problem, provinces coupled by a budget or priority shares (module docstring)."""
    clock = clock if clock is not None else Clock()
    t0 = time.perf_counter()
    with phase("relaxation by province"):
        relaxed = solve_by_province(
            problem, without_coupling(rules), provinces, progress, stop, explain, clock
        )
    relaxed.stats["relaxation_s"] = relaxed.stats.pop("total_s", None)
    if not has_plan(relaxed.status):
        # no plan even without the coupling rows: none with them (a relaxation's conflict)
        relaxed.stats["coupling"] = "relaxation has no plan"
        return relaxed
    plan = relaxed.plans[0]
    broken = coupling_breaks(rules, plan)
    if not broken:
        proven = relaxed.status == "optimal"
        relaxed.stats["coupling"] = "relaxation"
        relaxed.stats["proof"] = (
            "the provinces' optimum without budget_vnd and priority_shares (a relaxation of the "
            "whole problem) keeps them, so it is optimal for the whole problem"
            if proven
            else "the provinces' plan without budget_vnd and priority_shares keeps them; its "
            "bound (the provinces' bounds summed) is a bound of the whole problem"
        )
        relaxed.stats["total_s"] = round(time.perf_counter() - t0, 3)
        return relaxed
    if rules.allow_vacancies or rules.weights.max_travel:
        return _as_one(problem, rules, progress, stop, explain, clock, t0, broken, "rules")
    res = _lagrangian(
        problem, rules, provinces, relaxed, broken, progress, stop, explain, clock, t0
    )
    if res is None:
        return _as_one(problem, rules, progress, stop, explain, clock, t0, broken, "no plan")
    res.stats["total_s"] = round(time.perf_counter() - t0, 3)
    return res


def _as_one(
    problem: ProblemData,
    rules: Rules,
    progress: Progress | None,
    stop: StopFlag | None,
    explain: bool | None,
    clock: Clock,
    t0: float,
    broken: list[str],
    why: str,
) -> Result:
    res = solve_one(problem, rules, progress, stop, explain, "exact", clock)
    res.stats["coupling"] = f"one problem ({why}); the relaxation broke {', '.join(broken)}"
    res.stats["total_s"] = round(time.perf_counter() - t0, 3)
    return res


# ------------------------------------------------------------------------ the Lagrangian
@dataclass
class CouplingRow:
    """One coupling row as ``σ·a·x ≤ σ·b`` (σ = +1 for ``a·x ≤ hi``, −1 for ``a·x ≥ lo``)."""

    row: Row
    sign: float
    rhs: float

    def priced(self, n: int) -> np.ndarray:
        """σ·a as a dense vector over the pairs."""
        out = np.zeros(n)
        np.add.at(out, self.row.pairs, self.sign * self.row.coefs.astype(float))
        return out


class ProvinceLps:
    """One HiGHS LP per province over the province's pairs and rows, kept between calls so
    each new price vector starts from the last basis."""

    def __init__(self, ix: PairIndex, rows: list[Row], pair_block: np.ndarray) -> None:
        n = ix.n_pairs
        r_idx, c_idx, vals, lo, hi = [], [], [], [], []
        for i, r in enumerate(rows):
            assert not r.vacs and not r.arrivals, "a single plan without vacancies"
            r_idx.append(np.full(len(r.pairs), i, dtype=np.int64))
            c_idx.append(np.asarray(r.pairs, dtype=np.int64))
            vals.append(r.coefs.astype(float))
            lo.append(-np.inf if r.lo is None else float(r.lo))
            hi.append(np.inf if r.hi is None else float(r.hi))
        a = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(r_idx), np.concatenate(c_idx))),
            shape=(len(rows), n),
        )
        row_lo, row_hi = np.asarray(lo), np.asarray(hi)
        # a row belongs to the block of its pairs (every non-coupling row lives in one province)
        first = np.full(len(rows), -1, dtype=np.int64)
        nz_rows, nz_cols = a.nonzero()
        first[nz_rows] = pair_block[nz_cols]
        self.blocks: list[tuple[np.ndarray, Any]] = []
        self.n = n
        for b in range(int(pair_block.max(initial=-1)) + 1):
            cols = np.nonzero(pair_block == b)[0]
            rws = np.nonzero(first == b)[0]
            sub = a[rws][:, cols].tocsc()
            h = _silent_highs()
            h.setOptionValue("presolve", "off")
            pass_lp(
                h,
                cost=np.zeros(len(cols)),
                col_lower=np.zeros(len(cols)),
                col_upper=np.ones(len(cols)),
                row_lower=row_lo[rws],
                row_upper=row_hi[rws],
                start=sub.indptr,
                index=sub.indices,
                value=sub.data,
            )
            self.blocks.append((cols, h))

    def solve(self, cost: np.ndarray) -> tuple[float, np.ndarray, np.ndarray] | None:
        """(Σ LP optimum, x, reduced costs) at the pair costs ``cost``; None if a block has no
        LP solution (then the whole problem has none)."""
        total = 0.0
        x = np.zeros(self.n)
        rc = np.zeros(self.n)
        for cols, h in self.blocks:
            h.changeColsCost(len(cols), np.arange(len(cols), dtype=np.int32), cost[cols])
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                return None
            sol = h.getSolution()
            x[cols] = np.asarray(sol.col_value)
            rc[cols] = np.asarray(sol.col_dual)
            total += float(h.getInfo().objective_function_value)
        return total, x, rc


def _coupling_rows(rows: list[Row]) -> tuple[list[CouplingRow], list[Row]]:
    coupling: list[CouplingRow] = []
    rest: list[Row] = []
    for r in rows:
        if r.rule not in COUPLING_RULES:
            rest.append(r)
            continue
        if r.hi is not None:
            coupling.append(CouplingRow(r, 1.0, float(r.hi)))
        if r.lo is not None:
            coupling.append(CouplingRow(r, -1.0, -float(r.lo)))
    return coupling, rest


def _pair_blocks(elig: Eligibility, provinces: list[str]) -> np.ndarray:
    """The province (its number in ``provinces``) of each pair's post."""
    prov = elig.data.units["province_id"].reindex(elig.posts["unit_id"]).to_numpy()
    number = {p: i for i, p in enumerate(provinces)}
    post_block = np.array([number.get(p, -1) for p in prov], dtype=np.int64)
    return post_block[elig.pair_post]


@dataclass
class LagrangeState:
    bound: float  # L(λ), scaled objective units
    prices: np.ndarray  # λ per coupling row
    x: np.ndarray
    reduced_cost: np.ndarray


def _search_prices(
    lps: ProvinceLps,
    cost: np.ndarray,
    a: np.ndarray,
    rhs: np.ndarray,
    target: float,
    iterations: int,
    start: LagrangeState | None,
    history: list[float],
) -> LagrangeState | None:
    """Projected subgradient on λ ≥ 0 from ``start`` (λ = 0 when None) with Polyak steps
    towards ``target`` (a value at least the optimum: a known plan's cost, or an estimate),
    halving the step after a step that does not improve; the best L(λ) seen (``history``
    gets every L(λ), in objective units)."""
    best = start
    if best is None:  # L(0): the provinces' LPs without prices
        out = lps.solve(cost)
        if out is None:
            return None
        best = LagrangeState(out[0], np.zeros(len(rhs)), out[1], out[2])
        history.append(round(best.bound / SCALE, 3))
    theta = 1.0
    for _ in range(iterations):
        lam = best.prices
        g = a @ best.x - rhs  # > 0: the row is broken by the LP's x
        g = np.where((lam <= 0) & (g < 0), 0.0, g)  # projection onto λ ≥ 0
        slack = 1e-6 * max(1.0, abs(best.bound))
        if not np.any(g > 1e-9) and np.all(np.abs(lam * g) <= slack):
            break  # x keeps every coupling row, with complementary slackness: L(λ) is the LP
        norm = float(g @ g)
        if norm <= 0 or target <= best.bound + slack:
            break
        lam = np.maximum(0.0, lam + theta * (target - best.bound) / norm * g)
        out = lps.solve(cost + lam @ a)
        if out is None:
            return None
        value, x, rc = out
        bound = value - float(lam @ rhs)
        history.append(round(bound / SCALE, 3))
        if bound > best.bound + 1e-9:
            best = LagrangeState(bound, lam, x, rc)
        else:  # step again from the best point, shorter
            theta /= 2
    return best


def _priced_rules(rules: Rules, coupling: list[CouplingRow], lam: np.ndarray) -> Rules:
    """The rules whose weights price the coupling rows at λ (a heuristic's costs, for a plan of
    the whole: the budget as support cost per million VND, a share as a reward per newly
    appointed cadre of the group and a cost per newly appointed cadre)."""
    w = rules.weights.model_copy()
    for cr, price in zip(coupling, lam.tolist(), strict=True):
        if price <= 0:
            continue
        if cr.row.rule == "budget_vnd":
            w.support_cost += price * 1e6 / SCALE
        else:  # priority_shares: coefficient P − s for the group's newcomers, −s for the others
            ps = next(p for p in rules.priority_shares if p.group == cr.row.scope)
            share = round(ps.min_share * PRIORITY_SCALE)
            term = f"priority_{ps.group}"
            setattr(w, term, getattr(w, term) + price * PRIORITY_SCALE / SCALE)
            w.change += price * share / SCALE
    return rules.model_copy(update={"weights": w, "budget_vnd": None, "priority_shares": []})


def _lagrangian(
    problem: ProblemData,
    rules: Rules,
    provinces: list[str],
    relaxed: Result,
    broken: list[str],
    progress: Progress | None,
    stop: StopFlag | None,
    explain: bool | None,
    clock: Clock,
    t0: float,
) -> Result | None:
    """Lagrangian bound, a priced plan of the whole, reduced-cost fixing, one CP-SAT proof
    (module docstring); None when no plan of the whole comes from the priced provinces."""
    stats: dict[str, Any] = {
        "method": "exact",
        "coupling": "lagrangian",
        "relaxation_broke": broken,
        "relaxation_s": relaxed.stats.get("relaxation_s"),
        "decomposed": len(provinces),
    }
    with phase("eligibility (whole plan)"):
        elig = compute_eligibility(problem, rules)
        ix = PairIndex(elig)
        rows = list(all_rows(ix))
        coupling, rest = _coupling_rows(rows)
        cost = pair_costs(elig).astype(float)
        a = np.vstack([cr.priced(elig.n_pairs) for cr in coupling])
        rhs = np.array([cr.rhs for cr in coupling])
        stats["pairs"], stats["posts"] = elig.n_pairs, len(elig.posts)
    with phase("province LPs"):
        lps = ProvinceLps(ix, rest, _pair_blocks(elig, provinces))
    # the relaxation's optimum is below the whole optimum: aim a little above it at first
    z0 = (relaxed.plans[0].objective or 0.0) * SCALE
    history: list[float] = []
    stats["lagrange_bounds"] = history
    t1 = time.perf_counter()
    with phase("Lagrangian search"):
        state = _search_prices(
            lps, cost, a, rhs, z0 + 0.005 * abs(z0) + SCALE, FIRST_ITERATIONS, None, history
        )
    stats["lagrange_s"] = round(time.perf_counter() - t1, 3)
    if state is None:
        return None
    stats["lagrange_bound"] = round(state.bound / SCALE, 3)
    stats["prices"] = [round(float(v), 9) for v in state.prices]
    if progress:
        progress(clock.event("Lagrangian bound", bound=state.bound / SCALE))
    # a plan of the whole: the provinces solved exactly with the priced costs, repaired by
    # CP-SAT on a few pairs with every row when it breaks a coupling row
    with phase("priced provinces"):
        priced = solve_by_province(
            problem,
            _priced_rules(rules, coupling, state.prices),
            provinces,
            None,
            stop,
            False,
            clock,
        )
    if not priced.plans:
        return None
    chosen = elig.pairs_in(
        {(x.post_id, x.cadre_id) for x in priced.plans[0].assignments if x.cadre_id}
    )
    ub_pairs: np.ndarray | None = chosen
    if np.any(a @ chosen - rhs > 1e-9):
        with phase("repair"):
            ub_pairs = _repair(elig, rules, state, chosen, stats, stop, clock, t0)
    if ub_pairs is None:
        return None
    ub = float(cost[ub_pairs].sum())
    stats["upper_bound"] = round(ub / SCALE, 3)
    t1 = time.perf_counter()
    with phase("Lagrangian search"):  # now towards a known plan's cost: Polyak's own target
        state = _search_prices(lps, cost, a, rhs, ub, LAGRANGE_ITERATIONS, state, history) or state
    stats["lagrange_s"] += round(time.perf_counter() - t1, 3)
    stats["lagrange_bound"] = round(state.bound / SCALE, 3)
    stats["prices"] = [round(float(v), 9) for v in state.prices]
    with phase("reduced-cost fixing"):
        rc = np.maximum(state.reduced_cost, 0.0)
        tol = 1e-6 * max(1.0, abs(state.bound)) + 1e-6
        keep = (state.bound + rc <= ub + tol) | ub_pairs | (state.x > 1e-9)
        stats["pruned_pairs"] = int((~keep).sum())
        kept = elig.subset(keep)
        hint = ub_pairs[keep]
    plans: list[Plan] = []
    with phase("proof"):
        t1 = time.perf_counter()
        v = build_model(kept)
        stats["build_s"] = round(time.perf_counter() - t1, 3)
        stats["model_pairs"] = kept.n_pairs
        add_hint(v, hint)
        deadline = max(t0 + rules.time_limit_s, time.perf_counter() + 1.0)
        status = solve_candidates(
            v, rules, plans, stats, progress, stop, deadline, clock, workers=1, wanted=1
        )
    if not plans:  # the hint is a plan of these pairs: only a stop or the time limit gets here
        plans = [_plan_of(elig, ub_pairs, ub, state.bound)]
        status = "feasible"
    plan = plans[0]
    lower = state.bound / SCALE
    if relaxed.status == "optimal":  # the relaxation's optimum is a bound of the whole too
        lower = max(lower, relaxed.plans[0].objective or lower)
    plan.bound = round(max(plan.bound or lower, lower), 3)
    if status == "optimal":
        stats["proof"] = (
            "CP-SAT optimum over the pairs reduced-cost fixing keeps (every plan at most as "
            "costly as the priced provinces' plan uses only them), with every rule of the "
            "whole plan: optimal for the whole problem"
        )
    else:
        stats["gap"] = round(((plan.objective or 0.0) - plan.bound) / max(1.0, abs(plan.bound)), 6)
    if explain if explain is not None else len(elig.posts) <= EXPLAIN_MAX_POSTS:
        with phase("explanations"):
            add_explanations(plan, elig)
    return Result(status=status, plans=[plan], stats=stats, eligibility=elig)


def _repair(
    elig: Eligibility,
    rules: Rules,
    state: LagrangeState,
    chosen: np.ndarray,
    stats: dict[str, Any],
    stop: StopFlag | None,
    clock: Clock,
    t0: float,
) -> np.ndarray | None:
    """A plan keeping every row (coupling rows included) on a small set of pairs: the priced
    plan's, the LP's support and the cheapest reduced costs of each post at λ; hinted with the
    priced plan. None when none is found within the time left (at most ``REPAIR_S``)."""
    mask = chosen | (state.x > 1e-9) | elig.pair_keep
    mask |= elig.cheapest_per_post(state.reduced_cost, REPAIR_PER_POST)
    mask |= elig.pairs_in({(lk.post_id, lk.cadre_id) for lk in rules.locks})
    sub = elig.subset(mask)
    v = build_model(sub)
    add_hint(v, chosen[mask])
    left = t0 + rules.time_limit_s - time.perf_counter()
    solver = solver_parameters(rules, max(0.5, min(REPAIR_S, left)), workers=1)
    code = solver.Solve(v.cp, Watcher(None, stop, "repair", clock))
    stats["repair_pairs"] = sub.n_pairs
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    out = np.zeros(elig.n_pairs, dtype=bool)
    out[np.nonzero(mask)[0][chosen_pairs(v, solver)]] = True
    return out


def _plan_of(elig: Eligibility, pairs: np.ndarray, ub: float, lower: float) -> Plan:
    from .plans import plan_from_pairs

    return plan_from_pairs(elig, np.nonzero(pairs)[0], "feasible", ub / SCALE, lower / SCALE)
