"""Property test: on small random instances every plan solve() returns is valid, every
infeasible result carries a diagnosis, and the status is never 'unknown'."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, event, given, settings
from strategies import instances

from rotation.data import ProblemData
from rotation.eligibility import compute_eligibility
from rotation.rules import Rules
from rotation.solve import solve
from rotation.validate import format_violations, validate_plan


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(instances())
def test_random_instances_plans_valid_or_diagnosed(case: tuple[ProblemData, Rules]):
    """Every returned plan validates; infeasible results are diagnosed; never 'unknown'."""
    data, rules = case
    # zero eligible pairs crash PairIndex: covered by test_solve.py::test_no_eligible_pairs
    assume(compute_eligibility(data, rules).n_pairs > 0)
    res = solve(data, rules, explain=False)
    event(f"status {res.status}")
    assert res.status != "unknown", res.diagnosis
    if res.status == "infeasible":
        assert res.plans == []
        assert res.diagnosis, "infeasible without a diagnosis"
        assert all(d.rule and d.detail for d in res.diagnosis)
        assert all(d.rule != "unknown" for d in res.diagnosis), res.diagnosis
        assert validate_plan(data, rules, res.plan) == []
        return
    assert res.status in ("optimal", "feasible")
    assert res.diagnosis == []
    assert 1 <= len(res.plans) <= rules.candidates
    assert res.plans[0].status == res.status
    for plan in res.plans:
        violations = validate_plan(data, rules, plan)
        assert violations == [], format_violations(violations)
