"""The objective: the contract's weighted terms plus the planners' soft terms, all minimised.

Every term and its unit is documented on :class:`rotation.rules.Weights`. Costs are integers in
thousandths of a weight unit (``SCALE``): km are rounded to metres, so the optimum is exact.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..eligibility import Eligibility

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

    from .variables import Variables

SCALE = 1000
"""Objective units per weight unit (1 km of travel at weight 1 = 1000)."""


def pair_costs(elig: Eligibility) -> np.ndarray:
    """Scaled integer cost of each eligible pair (travel, change and the per-pair rewards)."""
    w = elig.rules.weights
    cost = w.travel_km * elig.pair_km
    cost = cost + w.change * (~elig.pair_keep)
    cost = cost - w.non_local_extra * elig.pair_non_local
    for term in ("priority_women", "priority_young", "priority_minority", "rating_fit"):
        weight = getattr(w, term)
        if weight:
            cost = cost - weight * elig.bonus[term]
    if w.preference:
        cost = cost - w.preference * elig.bonus["preference"]
    if w.support_cost:
        cost = cost + w.support_cost * elig.pair_support_vnd / 1e6  # per million VND
    return np.round(cost * SCALE).astype(np.int64)


def holding_costs(elig: Eligibility) -> np.ndarray:
    """The part of :func:`pair_costs` paid for every round a pair holds (its travel); the rest
    is paid once, when the cadre arrives. A single plan pays both at once; a term roadmap pays
    travel each round and the rest per arrival."""
    return np.round(elig.rules.weights.travel_km * elig.pair_km * SCALE).astype(np.int64)


def vacancy_costs(elig: Eligibility) -> np.ndarray:
    """Scaled cost of leaving each post vacant: the vacancy weight, plus a change when the post
    had an incumbent."""
    w = elig.rules.weights
    has_inc = elig.posts["incumbent_id"].notna().to_numpy()
    return np.round((w.vacancy + w.change * has_inc) * SCALE).astype(np.int64)


def longest_travel_bounds(elig: Eligibility) -> np.ndarray:
    """Whole km (rounded up) of each new-post pair, for the ``max_travel`` term (0 for keeps)."""
    return np.where(elig.pair_keep, 0, np.ceil(elig.pair_km)).astype(np.int64)


def max_travel_coef(elig: Eligibility) -> int:
    return round(elig.rules.weights.max_travel * SCALE)


def objective_expr(v: Variables) -> cp_model.LinearExpr:
    """The scaled objective as a CP-SAT linear expression."""
    from ortools.sat.python import cp_model

    e = v.elig
    costs = pair_costs(e)
    nz = np.nonzero(costs)[0].tolist()
    terms = [v.x[k] for k in nz]
    coefs = costs[nz].tolist()
    vac = vacancy_costs(e)
    for p, var in v.vacant.items():
        if vac[p]:
            terms.append(var)
            coefs.append(int(vac[p]))
    if e.rules.weights.max_travel:
        if v.longest is None:
            km = longest_travel_bounds(e)
            v.longest = v.cp.new_int_var(0, int(km.max(initial=0)), "longest_travel_km")
            for k in np.nonzero(km)[0].tolist():
                # longest >= km_k * x_k: linear, so the LP relaxation sees it too
                v.cp.add(v.longest >= int(km[k]) * v.x[k])
        terms.append(v.longest)
        coefs.append(max_travel_coef(e))
    return cp_model.LinearExpr.weighted_sum(terms, coefs)


def set_objective(v: Variables) -> None:
    v.cp.minimize(objective_expr(v))
