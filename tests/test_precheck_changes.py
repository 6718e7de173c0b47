"""The change-cap precheck counts every change no plan can avoid — vacant posts to fill as well
as incumbents at the tenure limit — so an impossible continuity cap is named, with its commune,
before any model is built."""

from __future__ import annotations

import datetime as dt

from builders import default_rules, tiny_problem

from rotation.diagnose.precheck import change_cap_conflicts, unavoidable_changes
from rotation.eligibility import compute_eligibility
from rotation.solve import solve


def continuity_case():
    """Xã 11 has two key posts: its secretary K11 is 16 years in post (tenure limit 10: must
    leave) and its People's Committee chair post is vacant — two changes no plan avoids."""
    return tiny_problem(
        cadres={
            "K11": {"current_since": dt.date(2010, 1, 1)},
            "O11": {"planned_positions": ("secretary", "pc_chair")},
            "O12": {"planned_positions": ("secretary", "pc_chair")},
        },
        posts={"PC-C11": {"unit_id": "C11", "position": "pc_chair"}},
    )


def continuity_rules(count: int):
    return default_rules(
        positions=["secretary", "pc_chair"],
        max_changes=[{"scope_level": "commune", "count": count}],
    )


def test_vacant_posts_count_as_unavoidable_changes():
    """A vacant post that must be filled and a post whose incumbent must leave both count."""
    data, rules = continuity_case(), continuity_rules(1)
    e = compute_eligibility(data, rules)
    forced = dict(zip(e.posts.index, unavoidable_changes(e, rules), strict=True))
    assert forced["PC-C11"] and forced["S-C11"]
    assert not forced["S-C12"]
    # with vacancies allowed, the vacant post may stay vacant: not a forced change
    loose = default_rules(**{**rules.model_dump(), "allow_vacancies": True})
    e2 = compute_eligibility(data, loose)
    forced2 = dict(zip(e2.posts.index, unavoidable_changes(e2, loose), strict=True))
    assert forced2["S-C11"] and not forced2["PC-C11"]


def test_impossible_continuity_is_named_with_its_commune():
    """Cap 1 per commune, 2 forced changes in Xã 11: one conflict naming Xã 11, the cap, the
    count by cause, in English and Vietnamese; cap 2 holds (no conflict)."""
    data = continuity_case()
    e = compute_eligibility(data, continuity_rules(1))
    items = change_cap_conflicts(e, continuity_rules(1))
    assert [(d.rule, d.scope) for d in items] == [
        ("max_changes+fill_every_post+maximum_tenure", "C11")
    ]
    item = items[0]
    assert item.detail.startswith("Xã 11: at most 1 changes allowed, but 2 posts must change")
    assert "1 vacant and must be filled" in item.detail
    assert "maximum of 10 years" in item.detail
    extra = item.model_extra or {}
    assert extra["current"] == 1 and extra["would_work"] == 2
    assert extra["detail_vi"].startswith("Xã 11") and extra["detail_vi"] != item.detail
    assert (
        change_cap_conflicts(compute_eligibility(data, continuity_rules(2)), continuity_rules(2))
        == []
    )


def test_solve_stops_at_the_precheck():
    """solve() reports the conflict from the precheck (no model built: no LP, no CP-SAT)."""
    res = solve(continuity_case(), continuity_rules(1), explain=False)
    assert res.status == "infeasible"
    assert res.stats["infeasible_by"].startswith("precheck")
    assert "lp_s" not in res.stats and "model_pairs" not in res.stats
    assert any(d.scope == "C11" and d.rule.startswith("max_changes") for d in res.diagnosis)
    assert res.plan.kpis is None
