"""LP bound and reduced-cost fixing: the first half of the exact pipeline.

HiGHS solves the LP relaxation of the same rule rows CP-SAT gets; a first plan (from the LP if
it is integral, else CP-SAT on the pairs the LP likes) gives an upper bound; every pair whose
reduced cost exceeds upper − lower bound provably cannot be in a better plan and is removed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..eligibility import Eligibility
from ..model import SCALE, PairIndex, Row, all_rows, build_model, pair_costs
from ..model.lp import solve_lp
from ..profile import phase
from ..rules import Rules
from .plans import chosen_pairs
from .progress import Clock, Progress, StopFlag

if TYPE_CHECKING:
    from ..model import Variables


@dataclass(frozen=True)
class LpPruning:
    """What the LP leaves for the later solves (plan 1 and the candidate plans' windows).

    ``lower_bound``: the LP bound rounded up, in scaled integer objective units (weight units ×
    ``SCALE``); ``reduced_cost``: per pair, ≥ 0, same units; ``support``: pairs the LP uses.
    """

    lower_bound: int
    reduced_cost: np.ndarray
    support: np.ndarray

    def within(self, elig: Eligibility, slack: int) -> np.ndarray:
        """Pairs that may appear in a plan costing at most ``lower_bound + slack`` (a tiny
        tolerance for the LP's floating point), plus the LP's support and the incumbents."""
        lb = self.lower_bound
        fits = self.reduced_cost <= slack + 1e-6 * max(1.0, abs(lb))
        return fits | self.support | elig.pair_keep


@dataclass(frozen=True)
class Pruned:
    """The pruning's outcome: the eligibility restricted to the pairs kept (``None`` when the
    LP proves the rules infeasible), a hint (the first plan's pairs, as a mask over the kept
    pairs), the LP state, and whether the first plan already meets the bound."""

    elig: Eligibility | None
    hint: np.ndarray | None = None
    lp: LpPruning | None = None
    proven_by_bound: bool = False
    plan_from_lp: bool = False
    """The hint is the LP's own optimum, integral and meeting every rule row: with
    ``proven_by_bound``, an optimal plan that needs no CP-SAT run."""


def prune(
    elig: Eligibility,
    rules: Rules,
    stats: dict[str, object],
    progress: Progress | None,
    stop: StopFlag | None,
    deadline: float,
    clock: Clock,
) -> Pruned:
    """LP bound, a first plan on a small pair set, then reduced-cost fixing."""
    with phase("LP"):
        ix = PairIndex(elig)
        rows = list(all_rows(ix))
        lp = solve_lp(ix, rows)
    stats["lp_s"] = round(lp.seconds, 3)
    if not lp.feasible:
        stats["lp"] = "infeasible"
        return Pruned(elig=None)
    lb = int(np.ceil(lp.bound - 1e-6))
    stats["lp_bound"] = round(lp.bound / SCALE, 3)
    if progress:
        progress(clock.event("bound", bound=lp.bound / SCALE))
    state = LpPruning(
        lower_bound=lb, reduced_cost=np.maximum(lp.reduced_cost, 0.0), support=lp.x > 1e-9
    )
    ub = None
    hint_pairs = None
    from_lp = False
    with phase("first plan"):
        integral = lp.integral() and not rules.allow_vacancies and not rules.weights.max_travel
        if integral and rows_hold(rows, lp.x > 0.5):
            # an integral LP optimum is a plan (every row holds): the bound is met, no search
            hint_pairs = np.nonzero(lp.x > 0.5)[0]
            ub = int(pair_costs(elig)[hint_pairs].sum())
            stats["first_plan"] = round(ub / SCALE, 3)
            stats["first_plan_from_lp"] = from_lp = True
        else:
            from ortools.sat.python import cp_model

            from .params import Watcher, solver_parameters

            # a first plan on the pairs the LP likes best: its support and cheapest reduced costs
            first_mask = state.support | elig.pair_keep
            first_mask |= elig.cheapest_per_post(state.reduced_cost, 8)
            first_mask |= elig.pairs_in({(lk.post_id, lk.cadre_id) for lk in rules.locks})
            sub = elig.subset(first_mask)
            v = build_model(sub)
            add_hint(v, lp.x[first_mask] > 0.5)
            solver = solver_parameters(
                rules, max(0.05, min(10.0, deadline - time.perf_counter())), workers=1
            )
            code = solver.Solve(v.cp, Watcher(progress, stop, "first plan", clock))
            if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                ub = round(solver.ObjectiveValue())
                hint_pairs = np.nonzero(first_mask)[0][chosen_pairs(v, solver)]
                stats["first_plan"] = round(ub / SCALE, 3)
                stats["first_plan_optimal_on_subset"] = code == cp_model.OPTIMAL
    if ub is None:  # no plan among the LP's favourites: keep every pair
        stats["pruned_pairs"] = 0
        return Pruned(elig=elig, lp=state)
    with phase("pruning"):
        keep = state.within(elig, ub - lb)
        stats["pruned_pairs"] = int((~keep).sum())
        hint = np.zeros(elig.n_pairs, dtype=bool)
        hint[hint_pairs] = True
        kept = elig.subset(keep)
    proven = ub == lb
    if proven:
        stats["proven_by_bound"] = True
    return Pruned(
        elig=kept, hint=hint[keep], lp=state, proven_by_bound=proven, plan_from_lp=from_lp
    )


def rows_hold(rows: list[Row], chosen: np.ndarray) -> bool:
    """Whether the pairs ``chosen`` (a mask over the pairs; no vacancy) keep every rule row, in
    integers (a single plan's rows count no arrivals: a chosen new-post pair is one)."""
    for row in rows:
        if row.vacs or row.arrivals:
            return False
        total = int(row.coefs[chosen[row.pairs]].sum())
        if (row.lo is not None and total < row.lo) or (row.hi is not None and total > row.hi):
            return False
    return True


def add_hint(v: Variables, chosen: np.ndarray) -> None:
    """Hint CP-SAT with a known plan (a boolean mask over ``v``'s pairs)."""
    for k, val in enumerate(chosen.tolist()):
        v.cp.add_hint(v.x[k], bool(val))
