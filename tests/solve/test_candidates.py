"""Candidate plans 2..K: distinct, near-optimal within the tolerance, each valid (the exact
pipeline's growing windows and the plain baseline's cuts)."""

from __future__ import annotations

import pytest
from builders import default_rules, tiny_problem
from solve_helpers import assert_valid, driver, driver_rules, holders, run

from rotation.solve import solve


def test_candidates_are_distinct_near_optimal_and_valid():
    """K=3: distinct plans, each >= candidate_min_diff posts from every earlier one, objectives
    non-decreasing and within candidate_tolerance of the best, each valid."""
    data = tiny_problem()
    rules = default_rules(
        weights={"travel_km": 1, "change": 1},
        candidates=3,
        candidate_min_diff=2,
        candidate_tolerance=0.5,
    )
    res = run(data, rules)
    plans = res.plans
    assert len(plans) == 3
    objs = [p.objective for p in plans]
    assert objs == sorted(objs)
    assert all(o <= objs[0] + abs(objs[0]) * rules.candidate_tolerance + 1e-6 for o in objs)
    for i, later in enumerate(plans):
        for earlier in plans[:i]:
            a, b = holders(later), holders(earlier)
            diff = sum(a[p] != b[p] for p in a)
            assert diff >= rules.candidate_min_diff
        assert_valid(data, rules, later)


def test_candidates_stop_at_the_tolerance():
    """With tolerance 0 only plans as good as the best may follow (here: none or ties)."""
    data = driver()
    rules = driver_rules(candidates=3, candidate_tolerance=0.0)
    res = solve(data, rules)
    assert res.status == "optimal"
    assert 1 <= len(res.plans) <= 3
    for p in res.plans:
        assert p.objective == pytest.approx(res.plans[0].objective)
        assert_valid(data, rules, p)


def test_plain_candidates_attach_nothing_to_the_model():
    """The plain baseline's candidate loop keeps its state (best objective, tolerance cut) to
    itself: the model's attributes are those it was built with."""
    import time
    from functools import cached_property

    from rotation.eligibility import compute_eligibility
    from rotation.model import build_model
    from rotation.solve import Clock
    from rotation.solve.candidates import solve_candidates

    data = tiny_problem()
    rules = default_rules(weights={"travel_km": 1, "change": 1}, candidates=3)
    v = build_model(compute_eligibility(data, rules))
    before = set(vars(v))
    plans: list = []
    stats: dict = {}
    status = solve_candidates(
        v, rules, plans, stats, None, None, time.perf_counter() + 30, Clock(), 1, 3
    )
    assert status == "optimal" and len(plans) == 3
    cached = {
        n for k in type(v).__mro__ for n, a in vars(k).items() if isinstance(a, cached_property)
    }
    assert set(vars(v)) - before <= cached  # lazily computed indexes only, nothing bolted on
    assert len(stats["solve_s"]) == 3
    for p in plans:
        assert_valid(data, rules, p)
