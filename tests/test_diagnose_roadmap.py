"""The term roadmap's diagnosis across rounds: a horizon whose rounds can each be planned on their
own but not together (a newcomer's minimum stay against a later round's target) names the rule
instances of both rounds, the same every run, and its would-work value, applied alone, makes the
horizon feasible."""

from __future__ import annotations

import datetime as dt
import json

from builders import default_rules, tiny_problem

from rotation.diagnose.roadmap import diagnose_horizon
from rotation.roadmap.model import greedy_roadmap, solve_roadmap
from rotation.roadmap.validate import validate_roadmap
from rotation.rules import Rules

ROUNDS = ["2026-01-01", "2027-01-01"]


def stay_vs_target(share_2027: float = 0.3, o12_since: dt.date = dt.date(2025, 9, 1)) -> tuple:
    """D1 alone. K11 has reached the tenure limit and must leave in 2026; K12 and K13 are not
    movable (local); O12 has been in the office only since 2025-09 (under the half-year minimum
    in 2026, free in 2027), so O11 — local to C11 — is the only one who can take C11 in 2026, and
    must then stay three years; 2027 wants ceil(0.3 × 3) = 1 non-local secretary, which only
    C11 could give. Round by round both rounds work (O12 replaces O11 in 2027)."""
    data = tiny_problem(
        districts=1,
        cadres={
            "K11": {"current_since": dt.date(2010, 1, 1)},
            "K12": {"movable": False},
            "K13": {"movable": False},
            "O12": {"current_since": o12_since},
        },
    )
    horizon = {
        "rounds": ROUNDS,
        "trajectory": [
            {
                "position": "secretary",
                "scope_level": "district",
                "shares": {"2026-01-01": 0.0, "2027-01-01": share_2027},
                "never_decrease": True,
            }
        ],
    }
    rules = default_rules(
        min_years_in_post=0.5,
        horizon=horizon,
        weights={"travel_km": 1, "change": 50},
        time_limit_s=20,
    )
    return data, rules


def test_each_round_alone_works():
    """The premise: planned round by round without the minimum stay, both rounds have a plan."""
    from rotation.roadmap.horizon import round_rules
    from rotation.roadmap.model import _diagnose_rounds, horizon_of
    from rotation.roadmap.state import project_ratings

    data, rules = stay_vs_target()
    h = horizon_of(rules)
    base = project_ratings(data, h.rounds[-1].year)
    rrules = [round_rules(rules, h, k) for k in range(len(h.rounds))]
    items = _diagnose_rounds(base, rules, h, rrules)
    # every round passed on its own: the answer is the cross-round diagnosis, rounds named
    assert {d.model_extra["round"] for d in items} == set(ROUNDS)
    assert greedy_roadmap(data, rules).status == "infeasible"  # blind to 2027 in 2026


def test_both_rounds_named_with_their_rules():
    data, rules = stay_vs_target()
    res = solve_roadmap(data, rules)
    assert res.status == "infeasible"
    named = {(d.rule, d.scope, d.model_extra["round"]) for d in res.diagnosis}
    assert ("min_stay", "S-C11", "2026-01-01") in named
    assert ("non_local_target", "D1", "2027-01-01") in named
    for d in res.diagnosis:
        assert d.detail.startswith(d.model_extra["round"][:4] + ": ")
        assert d.model_extra["detail_vi"].startswith(d.model_extra["round"][:4] + ": ")
    target = next(d for d in res.diagnosis if d.rule == "non_local_target")
    assert target.best_share == 0.0 and target.model_extra["would_work"] == 0
    # the roadmap JSON carries the diagnosis as data, and the validator accepts it
    doc = res.to_json()
    assert doc["diagnosis"][0]["round"] in ROUNDS
    assert validate_roadmap(data, rules, doc) == []


def test_would_work_applied_alone_makes_the_horizon_feasible():
    data, rules = stay_vs_target()
    target = next(d for d in solve_roadmap(data, rules).diagnosis if d.rule == "non_local_target")
    share = target.model_extra["would_work"] / 3
    fixed_data, fixed = stay_vs_target(share_2027=share)
    res = solve_roadmap(fixed_data, fixed)
    assert res.status in ("optimal", "feasible")
    assert validate_roadmap(fixed_data, fixed, res.to_json()) == []


def test_horizon_diagnosis_is_deterministic():
    data, rules = stay_vs_target()
    runs = {
        json.dumps([d.model_dump() for d in diagnose_horizon(data, rules)], ensure_ascii=False)
        for _ in range(3)
    }
    assert len(runs) == 1


def test_feasible_horizon_has_nothing_to_diagnose():
    data, rules = stay_vs_target(share_2027=0.0)
    assert isinstance(rules, Rules)
    assert diagnose_horizon(data, rules) == []


def test_later_round_failing_after_earlier_plans_gets_the_horizon_conflict():
    """With the default two years in post, O12 (in the office since 2024-06) is free only in
    2027 and O11, arrived in 2026, must stay: round by round, 2027 fails after 2026's plan. The
    diagnosis is the horizon's, so 2026's forced arrival is named beside 2027's target."""
    data, rules = stay_vs_target(o12_since=dt.date(2024, 6, 1))
    rules = rules.model_copy(update={"min_years_in_post": 2.0})
    res = solve_roadmap(data, rules)
    assert res.status == "infeasible"
    rounds = {d.model_extra["round"] for d in res.diagnosis}
    assert rounds == set(ROUNDS)
    assert ("non_local_target", "D1", "2027-01-01") in {
        (d.rule, d.scope, d.model_extra["round"]) for d in res.diagnosis
    }
