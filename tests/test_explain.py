"""Explanations: a nearer cadre a rule refuses is shown with that rule, in plain words."""

from __future__ import annotations

from pathlib import Path

import pytest

from rotation.explain import plain_explanation
from rotation.i18n import translator
from rotation.read import read_dataset
from rotation.rules import load_rules
from rotation.solve import solve

DATA = Path(__file__).resolve().parents[1] / "data" / "hai_duong"


@pytest.fixture(scope="module")
def solved():
    data = read_dataset(DATA)
    rules = load_rules({})
    res = solve(data, rules)
    return data, rules, res.plan, res.eligibility


def test_failed_rule_is_the_rule_that_blocks_a_nearer_cadre(solved):
    """Every alternative with a failed_rule lives nearer than the holder (or fills a short
    list) and eligibility's why_not names that rule; at least one post shows one."""
    _, _, plan, e = solved
    shown = 0
    for a in plan.assignments:
        for alt in a.alternatives or []:
            if alt.get("failed_rule"):
                shown += 1
                reasons = [r for r, _ in e.why_not(alt["cadre_id"], a.post_id)]
                assert alt["failed_rule"] == reasons[0]
    assert shown > 0


def test_plain_explanation_in_vietnamese_with_names(solved):
    data, rules, plan, _ = solved
    t = translator("vi")
    a = next(
        a
        for a in plan.assignments
        if a.changed and any(x.get("failed_rule") == "minimum_tenure" for x in a.alternatives or [])
    )
    text = plain_explanation(data, rules, a, t)
    assert text.startswith(("Chọn ông ", "Chọn bà ")) and data.cadre_name(a.cadre_id) in text
    assert "gần hơn" in text and "chưa đủ 2 năm giữ chức vụ hiện tại" in text


def test_nearby_km_in_blocks_is_the_per_post_distance(solved, monkeypatch):
    """The refused-nearby distances computed a block of units at a time (blocks of 7 here, so
    many block edges) are the per-post distance matrix's figures, for every post, in order."""
    from rotation import explain
    from rotation.geo import distances

    data, rules, plan, e = solved
    monkeypatch.setattr(explain._NearbyKm, "BLOCK", 7)
    posts = [a.post_id for a in plan.assignments]
    nearby = explain._NearbyKm(e, posts)
    works_in = data.units["province_id"].reindex(data.cadres["current_unit_id"]).to_numpy()
    for p in posts:
        ids, km = nearby.of(p)
        unit = data.posts.at[p, "unit_id"]
        mine = data.cadres[works_in == data.units.at[unit, "province_id"]]
        assert ids == [str(c) for c in mine.index]
        want = distances(data, rules).matrix(mine["residence_id"].to_numpy(), [unit])[:, 0]
        assert km.tolist() == want.tolist(), p


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_wording_worked_out_once_says_the_same(solved, lang):
    """A workbook's Wording (names and reasons looked up once) words every explanation exactly
    as plain_explanation does alone, and names every cadre as honorific does."""
    from rotation.explain import Wording, honorific, rule_reason

    data, rules, plan, _ = solved
    t = translator(lang)
    wording = Wording(data, rules, t)
    for a in plan.assignments:
        assert plain_explanation(data, rules, a, t, wording) == plain_explanation(data, rules, a, t)
    for cid in [*data.cadres.index[:50], "NO-SUCH-CADRE"]:
        assert wording.who(cid) == honorific(data, cid, t)
    for rule in ("minimum_tenure", "rating", "planning_list", "no_such_rule"):
        assert wording.reason(rule, "secretary") == rule_reason(rule, rules, t, "secretary")
