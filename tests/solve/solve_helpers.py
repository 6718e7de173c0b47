"""Helpers of the solve tests: solve-and-validate, holders, the *driver* instance.

The driver instance: one district (communes C11 C12 C13, incumbents K11 K12 K13) and one office
cadre O11 (born and living in C11) who is the only ethnic-minority cadre. With
``priority_minority`` 100 the solver always wants O11 in a new post, and the nearest one is S-C11
(0 km), so the unconstrained optimum is O11 → S-C11 (K11 released).
"""

from __future__ import annotations

from typing import Any

from builders import default_rules, plan_from, tiny_problem, with_cadre, with_travel, with_unit

from rotation.data import ProblemData
from rotation.plan import Plan
from rotation.rules import Rules
from rotation.solve import Result, solve
from rotation.validate import format_violations, validate_plan

DRIVER_WEIGHTS = {"travel_km": 1, "change": 1, "priority_minority": 100}
FREE_MOVE = {"S-C11": "O11", "S-C12": "K12", "S-C13": "K13"}
"""The driver instance's unconstrained optimum."""


def assert_valid(data: ProblemData, rules: Rules, plan: Plan) -> None:
    """The independent validator finds nothing wrong with ``plan``."""
    violations = validate_plan(data, rules, plan)
    assert violations == [], format_violations(violations)


def run(data: ProblemData, rules: Rules, **kw: Any) -> Result:
    """Solve, expect an optimal plan, and validate every returned plan."""
    res = solve(data, rules, **kw)
    assert res.status == "optimal", (res.status, res.diagnosis)
    assert res.plans and res.diagnosis == []
    for plan in res.plans:
        assert_valid(data, rules, plan)
    return res


def best(data: ProblemData, rules: Rules) -> Plan:
    return run(data, rules).plans[0]


def holders(plan: Plan) -> dict[str, str | None]:
    return plan.holder()


def broken(data: ProblemData, rules: Rules, plan: Plan) -> set[str]:
    """Names of the rules ``plan`` breaks under ``rules``."""
    return {v.rule for v in validate_plan(data, rules, plan)}


def assert_binds(
    rule: str,
    tight: tuple[ProblemData, Rules],
    loose: tuple[ProblemData, Rules] | None = None,
    free: dict[str, str | None] | None = None,
) -> Plan:
    """``rule`` binds: the optimum without it (``loose`` solved, or the hand-built ``free``
    holders) breaks it under ``tight``; the solver's plan under ``tight`` is valid and differs."""
    data, rules = tight
    if loose is not None:
        unconstrained = best(*loose)
        if free is not None:
            assert holders(unconstrained) == free
    else:
        assert free is not None
        unconstrained = plan_from(data, rules, free)
    assert rule in broken(data, rules, unconstrained)
    plan = best(data, rules)
    assert holders(plan) != holders(unconstrained)
    return plan


def driver(**cadres: dict[str, Any]) -> ProblemData:
    """The driver instance (module docstring); ``cadres`` are extra cadre overrides."""
    return tiny_problem(districts=1, office=1, cadres={"O11": {"ethnicity": "Tày"}, **cadres})


def driver_rules(**overrides: Any) -> Rules:
    base: dict[str, Any] = {"non_local_targets": [], "weights": DRIVER_WEIGHTS}
    return default_rules(**{**base, **overrides})


def with_far_residence(data: ProblemData, cadre: str, km: float) -> ProblemData:
    """``cadre`` lives in commune CX (no coordinates), ``km`` + 0/5/10 km from C11/C12/C13."""
    data = with_unit(data, "CX", name="Xã Xa", level="commune", parent_id="D1")
    for i, c in enumerate(("C11", "C12", "C13")):
        data = with_travel(data, "CX", c, km + 5 * i)
    return with_cadre(data, cadre, residence_id="CX", hometown_id="CX")


def non_local_count(plan: Plan, posts: set[str] | None = None) -> int:
    return sum(
        int(a.non_local)
        for a in plan.assignments
        if a.cadre_id is not None and (posts is None or a.post_id in posts)
    )
