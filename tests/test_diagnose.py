"""Diagnoses of infeasible rule sets: the minimal conflict, named by rule and scope, in sentences
that name the unit."""

from __future__ import annotations

import datetime as dt

import pytest
from builders import (
    default_rules,
    tiny_problem,
    with_cadre,
    with_post,
    with_relation,
)

from rotation.data import ProblemData
from rotation.plan import DiagnosisItem
from rotation.rules import Rules
from rotation.solve import Result, solve
from rotation.validate import validate_plan

NAN = float("nan")


def infeasible(data: ProblemData, rules: Rules) -> Result:
    """Solve, expect 'infeasible' with a diagnosis, and an infeasible plan the validator accepts."""
    res = solve(data, rules)
    assert res.status == "infeasible", res.status
    assert res.plans == []
    assert res.diagnosis
    assert res.plan.status == "infeasible" and res.plan.diagnosis == res.diagnosis
    assert validate_plan(data, rules, res.plan) == []
    return res


def assert_sentence(item: DiagnosisItem, unit_name: str) -> None:
    """A planner-readable sentence that names the unit."""
    assert unit_name in item.detail, item.detail
    assert len(item.detail.split()) >= 5, item.detail
    assert "\n" not in item.detail and "Traceback" not in item.detail


def rules_and_scopes(res: Result) -> set[tuple[str, str]]:
    return {(d.rule, d.scope) for d in res.diagnosis}


def test_target_beyond_travel_limit():
    """D1 needs 1 non-local secretary; its only non-local candidates live 80 km away."""
    data = tiny_problem(
        districts=1,
        units={
            "CX": {"name": "Xã Xa", "level": "commune", "parent_id": "D1", "lat": NAN, "lon": NAN}
        },
        cadres={
            "O11": {"hometown_id": "CX", "residence_id": "CX"},
            "O12": {"hometown_id": "CX", "residence_id": "CX"},
        },
        # incumbents may keep their posts but not take new ones (so cannot swap)
        ratings=[(k, 2025, "complete") for k in ("K11", "K12", "K13")],
        travel=[("CX", c, 80.0) for c in ("C11", "C12", "C13")],
    )
    res = infeasible(data, default_rules())
    targets = [d for d in res.diagnosis if d.rule == "non_local_target"]
    assert [d.scope for d in targets] == ["D1"]
    assert_sentence(targets[0], "Huyện 1")
    # the same data with a longer travel limit is feasible: the limit is what binds
    assert solve(data, default_rules(max_travel_km=100)).status == "optimal"


def test_full_target_with_max_changes_names_exactly_both_rules():
    """100% non-local in D1 with max 1 change there → exactly {non_local_target, max_changes}
    at D1; D2 (already all non-local) is not mentioned."""
    data = tiny_problem(
        cadres={k: {"hometown_id": "C11", "residence_id": "C11"} for k in ("K21", "K22", "K23")}
    )
    rules = default_rules(
        non_local_targets=[{"scope_level": "district", "min_share": 1.0}],
        max_changes={"scope_level": "district", "count": 1},
    )
    res = infeasible(data, rules)
    assert rules_and_scopes(res) == {("non_local_target", "D1"), ("max_changes", "D1")}
    assert not any("D2" in d.scope or "Huyện 2" in d.detail for d in res.diagnosis)
    for d in res.diagnosis:
        assert_sentence(d, "Huyện 1")
    # each rule alone is satisfiable
    assert solve(data, default_rules(non_local_targets=rules.non_local_targets)).plans
    assert solve(data, default_rules(max_changes=rules.max_changes)).plans


def test_not_movable_and_over_max_tenure_is_released_not_moved():
    """K12 is not movable but has 16 years in post: the tenure limit wins, K12 is released."""
    data = tiny_problem(cadres={"K12": {"movable": False, "current_since": dt.date(2010, 1, 1)}})
    rules = default_rules()
    res = solve(data, rules)
    assert res.status == "optimal"
    plan = res.plans[0]
    assert plan.holder()["S-C12"] != "K12"
    assert "K12" in plan.released
    assert validate_plan(data, rules, plan) == []


def test_not_movable_and_under_min_tenure_but_over_max_is_diagnosed():
    """min_years_in_post above max_years_in_post: an incumbent must both stay and leave."""
    data = tiny_problem(cadres={"K12": {"current_since": dt.date(2020, 1, 1)}})
    res = infeasible(data, default_rules(min_years_in_post=8, max_years_in_post=5))
    items = [d for d in res.diagnosis if d.scope == "S-C12"]
    assert items, res.diagnosis
    assert any("maximum_tenure" in d.rule for d in items)
    assert_sentence(items[0], "Xã 12")


def test_lock_on_an_ineligible_pair_names_the_failed_rule():
    """Locking O11 (rated 'complete' last year) to S-C13 → a lock item naming 'rating'."""
    data = tiny_problem(ratings=[("O11", 2025, "complete")])
    rules = default_rules(locks=[{"post_id": "S-C13", "cadre_id": "O11"}])
    res = infeasible(data, rules)
    locks = [d for d in res.diagnosis if d.rule.startswith("lock")]
    assert len(locks) == 1
    assert locks[0].scope == "S-C13"
    assert "rating" in locks[0].rule
    assert_sentence(locks[0], "Xã 13")


def test_lock_on_an_out_of_scope_post():
    """A lock on a post outside the plan's positions is reported as a lock problem."""
    data = with_post(tiny_problem(), "PC-C11", unit_id="C11", position="pc_chair")
    rules = default_rules(locks=[{"post_id": "PC-C11", "cadre_id": "O11"}])
    res = infeasible(data, rules)
    assert [d.rule for d in res.diagnosis if d.scope == "PC-C11"] == ["lock"]


def test_post_nobody_may_take():
    """A vacant post in a commune nobody can reach (no coordinates, no travel rows)."""
    data = tiny_problem(
        units={
            "CZ": {"name": "Xã Z", "level": "commune", "parent_id": "D1", "lat": NAN, "lon": NAN}
        },
        posts={"S-CZ": {"unit_id": "CZ", "position": "secretary"}},
    )
    res = infeasible(data, default_rules())
    items = [d for d in res.diagnosis if d.rule == "fill_every_post"]
    assert [d.scope for d in items] == ["S-CZ"]
    assert_sentence(items[0], "Xã Z")
    assert "travel_distance" in items[0].detail  # why the nearest cadres are refused


def test_lock_against_relative_out_of_scope():
    """O11 locked to S-C11 while a relative chairs C11 (out of scope): lock + relatives."""
    data = with_cadre(tiny_problem(), "PC11", current_unit_id="C11", hometown_id="C11")
    data = with_post(data, "PC-C11", unit_id="C11", position="pc_chair", incumbent_id="PC11")
    data = with_relation(data, "O11", "PC11")
    res = infeasible(data, default_rules(locks=[{"post_id": "S-C11", "cadre_id": "O11"}]))
    assert rules_and_scopes(res) == {("lock", "S-C11"), ("relatives_same_unit", "C11")}
    for d in res.diagnosis:
        assert_sentence(d, "Xã 11")


def test_minimum_tenure_blocks_target():
    """All D1 incumbents are under minimum tenure: the target conflicts with keeping them."""
    short = {k: {"current_since": dt.date(2025, 6, 1)} for k in ("K11", "K12", "K13")}
    data = tiny_problem(cadres=short)
    res = infeasible(data, default_rules())
    pairs = rules_and_scopes(res)
    assert ("non_local_target", "D1") in pairs
    assert {("minimum_tenure", p) for p in ("S-C11", "S-C12", "S-C13")} <= pairs
    assert not any(s.startswith("S-C2") or s == "D2" for _, s in pairs)
    target = next(d for d in res.diagnosis if d.rule == "non_local_target")
    assert_sentence(target, "Huyện 1")
    assert getattr(target, "best_share", 0.0) == pytest.approx(0.0)


def test_best_share_text_has_no_negative_zero():
    """The best reachable share is printed as 0%, never '-0%'."""
    short = {k: {"current_since": dt.date(2025, 6, 1)} for k in ("K11", "K12", "K13")}
    res = infeasible(tiny_problem(cadres=short), default_rules())
    target = next(d for d in res.diagnosis if d.rule == "non_local_target")
    assert "-0%" not in target.detail
