"""rotation.claims: the validator's own recomputation of a plan's claims, one function each."""

from __future__ import annotations

import math
from typing import Any

import pytest
from builders import baseline_plan, default_rules, tiny_problem, with_travel

from rotation.claims import (
    HOLDER_CLAIMS,
    KPI_CHECKS,
    ClaimContext,
    PlanFacts,
    close,
    kpi_changed_posts,
    kpi_max_travel_km,
    kpi_non_local_posts,
    kpi_posts,
    kpi_share_by_scope,
    kpi_share_overall,
    kpi_total_travel_km,
    plan_facts,
    wrong_holder_claims,
    wrong_kpis,
)
from rotation.geo import distances
from rotation.plan import Assignment
from rotation.rulebook import CLAIMS


def facts(moves: dict[str, str | None] | None = None) -> PlanFacts:
    """The baseline plan on the tiny instance (6 secretaries, 2 districts), with ``moves``."""
    data, rules = tiny_problem(), default_rules()
    plan = baseline_plan(data, rules)
    for a in plan.assignments:
        if moves and a.post_id in moves:
            a.cadre_id = moves[a.post_id]
    return plan_facts(ClaimContext(data, rules), plan.assignments)


def listed(post_id: str, cadre_id: str | None, **claims: Any) -> Assignment:
    unit = post_id.removeprefix("S-")
    return Assignment(
        post_id=post_id, unit_id=unit, position="secretary", cadre_id=cadre_id, **claims
    )


# --------------------------------------------------------------------------- one holding
def test_holding_of_a_newcomer_comes_from_the_data() -> None:
    """O11 (office, lives in C11) at S-C12: no previous post, changed, non-local, C11 → C12 km."""
    data, rules = tiny_problem(), default_rules()
    h = ClaimContext(data, rules).holding(listed("S-C12", "O11"))
    assert (h.previous_post_id, h.changed, h.non_local, h.known) == (None, True, True, True)
    assert h.travel_km == pytest.approx(distances(data, rules).km("C11", "C12"))
    assert h.travel_km > 1.0


def test_holding_of_a_kept_incumbent() -> None:
    h = ClaimContext(tiny_problem(), default_rules()).holding(listed("S-C11", "K11"))
    assert (h.previous_post_id, h.changed, h.non_local, h.travel_km) == ("S-C11", False, False, 0)


def test_holding_uses_a_travel_row_and_a_moved_incumbents_previous_post() -> None:
    data = with_travel(tiny_problem(), "C12", "C11", 17.25)
    h = ClaimContext(data, default_rules()).holding(listed("S-C11", "K12"))
    assert (h.previous_post_id, h.changed, h.non_local, h.travel_km) == ("S-C12", True, True, 17.25)


def test_vacancy_changes_only_an_occupied_post() -> None:
    ctx = ClaimContext(tiny_problem(), default_rules())
    h = ctx.holding(listed("S-C11", None))
    assert (h.changed, h.non_local, h.travel_km, h.previous_post_id) == (True, False, 0.0, None)


def test_unknown_cadre_keeps_its_own_claims_and_is_not_checked() -> None:
    """Nothing can be recomputed for a cadre the data lacks (unknown_cadre reports it)."""
    ctx = ClaimContext(tiny_problem(), default_rules())
    a = listed("S-C11", "NOBODY", non_local=True, travel_km=3.5, changed=False)
    h = ctx.holding(a)
    assert (h.known, h.non_local, h.travel_km, h.changed) == (False, True, 3.5, True)
    assert wrong_holder_claims(a, h, default_rules()) == []


# --------------------------------------------------------------------------- assignment claims
def test_holder_claims_are_named_in_the_rulebook() -> None:
    assert {rule for rule, _ in HOLDER_CLAIMS.values()} <= set(CLAIMS)
    assert set(HOLDER_CLAIMS) <= set(Assignment.model_fields)


@pytest.mark.parametrize(
    ("field", "wrong", "rule"),
    [
        ("previous_post_id", "S-C11", "claim_previous_post"),
        ("changed", False, "claim_changed"),
        ("non_local", False, "claim_non_local"),
        ("travel_km", 9.5, "claim_travel_km"),
    ],
)
def test_a_wrong_holder_claim_is_caught_and_a_missing_one_is_not(
    field: str, wrong: object, rule: str
) -> None:
    data, rules = tiny_problem(), default_rules()
    ctx = ClaimContext(data, rules)
    silent = listed("S-C12", "O11")  # claims nothing beyond the required fields
    assert wrong_holder_claims(silent, ctx.holding(silent), rules) == []
    claimed = listed("S-C12", "O11", **{field: wrong})
    found = wrong_holder_claims(claimed, ctx.holding(claimed), rules)
    assert [r for r, _ in found] == [rule]


def test_travel_km_within_rounding_is_true() -> None:
    data, rules = tiny_problem(), default_rules()
    ctx = ClaimContext(data, rules)
    km = round(distances(data, rules).km("C11", "C12"), 3)
    a = listed("S-C12", "O11", travel_km=km + 0.004)
    assert wrong_holder_claims(a, ctx.holding(a), rules) == []


# --------------------------------------------------------------------------- KPIs
def test_kpis_of_the_baseline() -> None:
    """Two newcomers (O11, O21), both non-local, one per district; four kept incumbents."""
    f = facts()
    d = distances(tiny_problem(), default_rules())
    k1, k2 = d.km("C11", "C12"), d.km("C21", "C22")
    assert kpi_posts(f) == 6 and kpi_non_local_posts(f) == 2 and kpi_changed_posts(f) == 2
    assert kpi_share_overall(f) == pytest.approx(1 / 3)
    assert kpi_share_by_scope(f) == pytest.approx({"D1": 1 / 3, "D2": 1 / 3})
    assert kpi_total_travel_km(f) == pytest.approx(k1 + k2)
    assert kpi_max_travel_km(f) == pytest.approx(max(k1, k2))


def test_kpis_with_a_vacancy_and_no_holder() -> None:
    """A vacancy counts as a post (not non-local) and a change; an empty plan has zero KPIs."""
    f = facts({"S-C12": None})
    assert kpi_changed_posts(f) == 2 and kpi_non_local_posts(f) == 1
    assert kpi_share_by_scope(f) == pytest.approx({"D1": 0.0, "D2": 1 / 3})
    empty = plan_facts(ClaimContext(tiny_problem(), default_rules()), [])
    assert (kpi_share_overall(empty), kpi_max_travel_km(empty), kpi_posts(empty)) == (0.0, 0.0, 0)


def test_kpis_scope_follows_the_first_target() -> None:
    data = tiny_problem()
    rules = default_rules(non_local_targets=[{"scope_level": "province", "min_share": 0.3}])
    plan = baseline_plan(data, rules)
    f = plan_facts(ClaimContext(data, rules), plan.assignments)
    province = data.units.index[data.units["level"] == "province"].tolist()
    assert kpi_share_by_scope(f) == pytest.approx({province[0]: 2 / 6})


def test_true_kpis_pass_and_absent_kpis_are_not_claims() -> None:
    data, rules = tiny_problem(), default_rules()
    plan = baseline_plan(data, rules)
    f = plan_facts(ClaimContext(data, rules), plan.assignments)
    assert wrong_kpis(f, plan.kpis.model_dump()) == []
    assert wrong_kpis(f, {}) == []
    assert wrong_kpis(f, {"non_local_share": {}}) == []
    assert wrong_kpis(f, {"changed_posts": 2}) == []


@pytest.mark.parametrize(
    ("claimed", "line"),
    [
        ({"changed_posts": 3}, "changed_posts 3, recomputed 2"),
        ({"changed_posts": "2"}, "changed_posts '2', recomputed 2"),
        ({"total_travel_km": 8.0}, "total_travel_km 8.0, recomputed 8.1"),
        ({"max_travel_km": 0.0}, "max_travel_km 0.0, recomputed 4.051"),
        ({"non_local_share": {"overall": 0.33}}, "non_local_share.overall 0.33, recomputed"),
        ({"non_local_share": {"posts": 5}}, "non_local_share.posts 5, recomputed 6"),
        ({"non_local_share": {"non_local_posts": 3}}, "non_local_share.non_local_posts 3"),
        (
            {"non_local_share": {"by_scope": {"D1": 1 / 3}}},
            "non_local_share.by_scope[D2] None, recomputed 0.333333",
        ),
        (
            {"non_local_share": {"by_scope": {"D1": 1 / 3, "D2": 1 / 3, "D9": 0.0}}},
            "non_local_share.by_scope[D9] 0.0, recomputed None",
        ),
        ({"non_local_share": {"by_scope": [0.3]}}, "non_local_share.by_scope [0.3] is not"),
    ],
)
def test_a_wrong_kpi_is_one_line(claimed: dict[str, Any], line: str) -> None:
    (got,) = wrong_kpis(facts(), claimed)
    assert got.startswith(line), got


def test_every_kpi_of_our_plans_has_a_check() -> None:
    """Each KPI our plans write (fields and extras, nested) is checked by one KPI_CHECKS entry."""
    kpis = baseline_plan().kpis
    assert kpis is not None
    dumped = kpis.model_dump()
    whole = {c.path[0] for c in KPI_CHECKS if len(c.path) == 1}  # objects checked as a whole
    paths = {
        (k, sub) if isinstance(v, dict) and k not in whole else (k,)
        for k, v in dumped.items()
        for sub in (v if isinstance(v, dict) else [None])
    }
    assert paths == {c.path for c in KPI_CHECKS}


def test_close() -> None:
    assert close(1.0, 1.005, 0.01) and not close(1.0, 1.02, 0.01)
    assert close(math.inf, math.inf, 0.01) and not close(math.inf, 1e9, 0.01)
    assert not close(True, 1, 0.5) and not close("1", 1, 0.5) and not close(None, 0, 1)
