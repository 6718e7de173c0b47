"""The "where we stand" tables on the tiny instance (tests/builders.py)."""

from __future__ import annotations

import datetime as dt
import math

from builders import baseline_plan, default_rules, plan_from, tiny_problem, with_cadre, with_post

from rotation import report


def _rows(table):
    return {r.scope_id: r for r in table.itertuples(index=False)}


def test_status_counts_non_local_incumbents_per_district():
    """One non-local incumbent in D1 gives 1/3 there, 0/3 in D2 and 1/6 for the province."""
    data = with_cadre(tiny_problem(), "K12", hometown_id="C21", residence_id="C21")
    table = report.status_table(data, default_rules())
    rows = _rows(table)
    assert rows["D1"].posts == 3 and rows["D1"].non_local == 1
    assert math.isclose(rows["D1"].share, 1 / 3)
    assert rows["D1"].required == 1 and rows["D1"].shortfall == 0
    assert rows["D2"].non_local == 0 and rows["D2"].shortfall == 1
    total = table[table["is_total"]].iloc[0]
    assert total["scope_id"] == "P" and total["posts"] == 6 and total["non_local"] == 1
    assert total["required"] == 2 and total["shortfall"] == 1
    assert math.isclose(total["share"], 1 / 6)
    assert rows["D1"].scope_name == "Huyện 1"


def test_status_vacant_posts_are_not_non_local():
    """A vacant post counts as a post but never as a non-local holder."""
    data = with_post(tiny_problem(), "S-C13", incumbent_id=None)
    rows = _rows(report.status_table(data, default_rules()))
    assert rows["D1"].posts == 3 and rows["D1"].non_local == 0


def test_status_target_share_and_required_follow_rules():
    """A 50% province-wide target gives a single province row requiring 3 of 6."""
    rules = default_rules(
        non_local_targets=[{"position": "secretary", "scope_level": "province", "min_share": 0.5}]
    )
    table = report.status_table(tiny_problem(), rules)
    assert list(table["scope_id"]) == ["P"]
    assert table.iloc[0]["required"] == 3 and table.iloc[0]["target_share"] == 0.5


def test_status_local_means_residence():
    """With local_means residence, an incumbent living elsewhere is non-local."""
    data = with_cadre(tiny_problem(), "K11", residence_id="C12")
    rules = default_rules(local_means="residence")
    assert _rows(report.status_table(data, rules))["D1"].non_local == 1
    assert _rows(report.status_table(data, default_rules()))["D1"].non_local == 0


def test_tenure_alerts_lists_incumbents_over_the_maximum():
    """An incumbent in post for 12 years is listed with name and years; others are not."""
    data = with_cadre(tiny_problem(), "K11", current_since=dt.date(2014, 1, 1))
    alerts = report.tenure_alerts(data, default_rules())
    assert list(alerts["cadre_id"]) == ["K11"]
    assert alerts.iloc[0]["post_id"] == "S-C11" and alerts.iloc[0]["years"] == 12.0
    assert alerts.iloc[0]["cadre_name"] == data.cadre_name("K11")
    assert report.tenure_alerts(data, default_rules(max_years_in_post=None)).empty


def test_pool_summary_counts_free_and_blocked_cadres():
    """Free plus blocked cadres add up to all cadres; a not-movable cadre is counted."""
    data = with_cadre(tiny_problem(), "K12", movable=False)
    pool = report.pool_summary(data, default_rules())["count"]
    assert pool["cadres"] == 10
    assert pool["not_movable"] == 1
    blocked = sum(
        pool[r]
        for r in ("out_of_scope_post", "not_movable", "minimum_tenure", "rating", "retirement")
    )
    assert pool["free"] + blocked == pool["cadres"]
    assert pool["pairs"] >= pool["new_post_pairs"] > 0


def test_before_after_counts_plan_moves():
    """The baseline plan moves one non-local office cadre into each district."""
    data, rules = tiny_problem(), default_rules()
    table = report.before_after_table(data, rules, baseline_plan(data, rules))
    rows = _rows(table)
    for d in ("D1", "D2"):
        assert rows[d].non_local_before == 0 and rows[d].non_local_after == 1
        assert rows[d].changes == 1 and math.isclose(rows[d].share_after, 1 / 3)
    assert rows["P"].is_total and rows["P"].non_local_after == 2 and rows["P"].changes == 2


def test_before_after_without_moves_keeps_shares():
    """A plan that keeps every incumbent has after == before and no changes."""
    data, rules = tiny_problem(), default_rules()
    table = report.before_after_table(data, rules, plan_from(data, rules, {}))
    assert (table["non_local_after"] == table["non_local_before"]).all()
    assert (table["changes"] == 0).all()


def test_candidates_table_counts_differences():
    """A second plan differing in two posts is reported as differing from plan 1 by 2."""
    data, rules = tiny_problem(), default_rules()
    p1 = baseline_plan(data, rules)
    p2 = plan_from(data, rules, {"S-C13": "O11", "S-C22": "O21"})
    table = report.candidates_table([p1, p2])
    assert list(table["differs_from_plan_1"]) == [0, 2]
