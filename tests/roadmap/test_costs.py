"""A term roadmap prices its rounds with the single plan's cost functions: a one-round horizon
costs exactly what the single plan of that round costs, vacancies included."""

from __future__ import annotations

import pytest
from builders import default_rules, tiny_problem, with_cadre

from rotation.roadmap.model import solve_roadmap
from rotation.rules import Rules
from rotation.solve import solve

WEIGHTS = {"travel_km": 1, "change": 50, "vacancy": 10, "priority_women": 2, "rating_fit": 2}


@pytest.mark.parametrize("vacant", [False, True])
def test_a_one_round_roadmap_costs_what_a_single_plan_costs(vacant):
    data = tiny_problem(posts={"S-C11": {"incumbent_id": None}} if vacant else None)
    extra = {}
    if vacant:  # filling S-C11 costs a change (50): leaving it vacant costs 10 only
        data = with_cadre(data, "K11", movable=False)
        extra = {"allow_vacancies": True, "non_local_targets": []}
    rules = default_rules(weights=WEIGHTS, horizon={"rounds": ["2026-01-01"]}, **extra)
    single = solve(data, rules).plans[0]
    term = solve_roadmap(data, rules)
    assert term.status == single.status == "optimal"
    assert term.stats["objective"] == single.objective
    ((_, plan),) = term.rounds
    if plan.holder() != single.holder():  # a tie: the single plan locked to the roadmap's
        locks = [{"post_id": p, "cadre_id": c} for p, c in plan.holder().items() if c]
        doc = rules.model_dump()
        locked = solve(data, Rules.model_validate({**doc, "locks": doc["locks"] + locks})).plans[0]
        assert locked.holder() == plan.holder() and locked.objective == single.objective
    if vacant:
        assert plan.holder()["S-C11"] is None
