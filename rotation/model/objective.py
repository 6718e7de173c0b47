"""The objective: the contract's weighted terms plus the planners' soft terms, all minimised.

Every term and its unit is documented on :class:`rotation.rules.Weights`. Costs are integers in
thousandths of a weight unit (``SCALE``): km are rounded to metres, so the optimum is exact.
"""

from __future__ import annotations

import numpy as np

from ..eligibility import Eligibility
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
    return np.round(cost * SCALE).astype(np.int64)


def vacancy_costs(elig: Eligibility) -> np.ndarray:
    """Scaled cost of leaving each post vacant: the vacancy weight, plus a change when the post
    had an incumbent."""
    w = elig.rules.weights
    has_inc = elig.posts["incumbent_id"].notna().to_numpy()
    return np.round((w.vacancy + w.change * has_inc) * SCALE).astype(np.int64)


def set_objective(v: Variables) -> None:
    """Minimise the weighted sum; ``max_travel`` adds the longest new-post travel."""
    e = v.elig
    costs = pair_costs(e)
    terms = [(v.x[k], int(c)) for k, c in enumerate(costs.tolist()) if c]
    vac = vacancy_costs(e)
    terms += [(var, int(vac[p])) for p, var in v.vacant.items() if vac[p]]
    expr = sum(c * var for var, c in terms) if terms else 0
    w = e.rules.weights
    if w.max_travel:
        # the longest travel among cadres taking a new post, in whole km (rounded up)
        new = np.nonzero(~e.pair_keep)[0]
        top = int(np.ceil(e.pair_km[new].max())) if len(new) else 0
        longest = v.cp.NewIntVar(0, top, "longest_travel_km")
        for k in new.tolist():
            v.cp.Add(longest >= int(np.ceil(e.pair_km[k]))).OnlyEnforceIf(v.x[k])
        expr = expr + int(round(w.max_travel * SCALE)) * longest
        v.longest = longest
    v.cp.Minimize(expr)
