"""A table of infeasible scenarios: the diagnosis names every conflicting scope, each nearest value
that works, applied alone, makes that scope feasible (re-solved), and the answer is the same on
every run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from builders import _replace, default_rules, tiny_problem, with_cadre, with_post, with_relation

from rotation.diagnose import diagnose
from rotation.eligibility import compute_eligibility
from rotation.read import read_dataset
from rotation.rules import Rules
from rotation.solve import solve

HAI_DUONG = Path(__file__).resolve().parent.parent / "data" / "hai_duong"
LOCAL_D2 = {f"K2{j}": {"hometown_id": f"C2{j}", "residence_id": f"C2{j}"} for j in (1, 2, 3)}


def both_districts():
    """100% non-local with one change per district: D1 and D2 both conflict, independently."""
    data = tiny_problem(cadres=LOCAL_D2)
    rules = default_rules(
        non_local_targets=[{"scope_level": "district", "min_share": 1.0}],
        max_changes={"scope_level": "district", "count": 1},
    )
    return data, rules


def named(res) -> set[tuple[str, str]]:
    return {(d.rule, d.scope) for d in res.diagnosis if d.rule != "summary"}


def with_rule(rules: Rules, **changes) -> Rules:
    return Rules.model_validate({**rules.model_dump(), **changes})


def test_every_district_named_with_a_total_line():
    data, rules = both_districts()
    res = solve(data, rules)
    assert res.status == "infeasible"
    assert {("max_changes", "D1"), ("max_changes", "D2")} <= named(res)
    assert {d.conflict for d in res.diagnosis if d.rule != "summary"} == {1, 2}
    total = res.diagnosis[-1]
    assert total.rule == "summary" and "2 of 2 districts" in total.detail


@pytest.mark.parametrize("scope", ["D1", "D2"])
def test_cap_would_work_applied_alone_frees_that_district(scope: str):
    data, rules = both_districts()
    item = next(
        d for d in solve(data, rules).diagnosis if (d.rule, d.scope) == ("max_changes", scope)
    )
    assert item.current == 1 and item.would_work > item.current
    mc = rules.max_changes
    assert not isinstance(mc, list)
    fixed = with_rule(
        rules,
        max_changes={**mc.model_dump(), "count_by_scope": {scope: item.would_work}},
    )
    res = solve(data, fixed)
    assert scope not in {s for _, s in named(res)}
    # one less would not do: the value is the nearest
    tighter = with_rule(
        rules,
        max_changes={**mc.model_dump(), "count_by_scope": {scope: item.would_work - 1}},
    )
    assert scope in {s for _, s in named(solve(data, tighter))}


def test_target_would_work_applied_alone():
    data, rules = both_districts()
    item = next(
        d for d in solve(data, rules).diagnosis if (d.rule, d.scope) == ("non_local_target", "D1")
    )
    assert item.would_work < item.current == 3
    assert item.best_share == pytest.approx(item.would_work / 3, abs=1e-4)
    # applied alone (D2 keeps its own conflict away by a cap that works there)
    fixed = with_rule(
        rules,
        non_local_targets=[{"scope_level": "district", "min_share": item.would_work / 3}],
        max_changes={"scope_level": "district", "count": 1, "count_by_scope": {"D2": 3}},
    )
    assert solve(data, fixed).status == "optimal"


def test_budget_would_work_is_the_cheapest_support():
    support = {"tiers": [{"min_km": 3, "vnd_per_month": 2_000_000}]}
    rules = default_rules(support=support, budget_vnd=100_000_000)
    res = solve(tiny_problem(), rules)
    item = next(d for d in res.diagnosis if d.rule == "budget_vnd")
    assert item.current == 100_000_000 and item.would_work > item.current
    assert solve(tiny_problem(), with_rule(rules, budget_vnd=item.would_work)).status == "optimal"
    lower = with_rule(rules, budget_vnd=item.would_work - 1)
    assert solve(tiny_problem(), lower).status == "infeasible"


def test_lock_on_a_refused_pair_is_named():
    data = tiny_problem(ratings=[("O11", 2025, "complete")])
    res = solve(data, default_rules(locks=[{"post_id": "S-C13", "cadre_id": "O11"}]))
    assert [d.scope for d in res.diagnosis if d.rule.startswith("lock")] == ["S-C13"]


def test_missing_ratings_is_one_line_saying_so():
    data = tiny_problem(posts={"S-CX": {"unit_id": "C11", "position": "secretary"}})
    data = _replace(data, ratings=data.ratings.iloc[0:0])
    res = solve(data, default_rules())
    assert res.status == "infeasible"
    rating = [d for d in res.diagnosis if getattr(d, "missing_data", None) == "rating"]
    # one line for the posts nobody may take, one for the targets out of reach: never one a post
    assert [d.rule for d in rating] == ["fill_every_post+rating", "non_local_target+rating"]
    assert all("no ratings table" in d.detail for d in rating)
    assert res.diagnosis[: len(rating)] == rating  # missing data first
    assert rating[1].count == 2 and rating[1].scopes == ["D1", "D2"]


def test_ten_runs_byte_identical():
    data, rules = both_districts()
    e = compute_eligibility(data, rules)
    runs = {json.dumps([d.model_dump() for d in diagnose(e, rules)]) for _ in range(10)}
    assert len(runs) == 1


def test_diagnosing_phase_in_progress():
    data, rules = both_districts()
    phases: list[str] = []
    solve(data, rules, progress=lambda ev: phases.append(ev.phase))
    assert "diagnosing" in phases


def test_hai_duong_cap_names_every_district_and_would_work_frees_it():
    data = read_dataset(HAI_DUONG)
    rules = Rules.model_validate({"max_changes": {"scope_level": "district", "count": 4}})
    res = solve(data, rules)
    caps = {d.scope: d for d in res.diagnosis if d.rule == "max_changes"}
    assert len(caps) >= 2
    scope, item = sorted(caps.items())[0]
    fixed = with_rule(
        rules,
        max_changes={
            "scope_level": "district",
            "count": 4,
            "count_by_scope": {scope: item.would_work},
        },
    )
    after = solve(data, fixed)
    assert scope not in {d.scope for d in after.diagnosis}
    assert set(caps) - {scope} <= {d.scope for d in after.diagnosis if d.rule == "max_changes"}


def test_hai_duong_cap_scenario_ten_runs_byte_identical():
    """The issue's case: ten runs of the cap-4 scenario once gave 2, 3 or 4 rows."""
    rules = Rules.model_validate({"max_changes": {"scope_level": "district", "count": 4}})
    e = compute_eligibility(read_dataset(HAI_DUONG), rules)
    runs = {json.dumps([d.model_dump() for d in diagnose(e, rules)]) for _ in range(10)}
    assert len(runs) == 1


def test_priority_share_would_work_is_the_highest_reachable_share():
    """Only one woman (K12) may be newly appointed and every district needs a newcomer: women
    ≥ 60% cannot hold; the diagnosis offers 50% (1 of 2), which re-solves, and no higher."""
    men = {c: {"gender": "M"} for c in ("O11", "O12", "O21", "O22", "K21", "K23")}
    data = tiny_problem(cadres=men)
    rules = default_rules(priority_shares=[{"group": "women", "min_share": 0.6}])
    res = solve(data, rules)
    assert res.status == "infeasible"
    item = next(d for d in res.diagnosis if d.rule == "priority_shares")
    assert item.current == 0.6 and item.would_work == 0.5
    assert "(1 of 2 newly appointed)" in item.detail
    fixed = with_rule(rules, priority_shares=[{"group": "women", "min_share": item.would_work}])
    assert solve(data, fixed).status == "optimal"
    higher = with_rule(rules, priority_shares=[{"group": "women", "min_share": 0.51}])
    assert solve(data, higher).status == "infeasible"


def test_merger_cap_would_work_applied_alone():
    """C13 merges into C12 (its post is not filled): D1's two posts, 100% non-local, one change
    allowed. Both rules are named; the cap's nearest value frees D1 and one less does not."""
    data = tiny_problem(districts=1, units={"C13": {"merged_into": "C12"}})
    rules = default_rules(
        non_local_targets=[{"scope_level": "district", "min_share": 1.0}],
        max_changes={"scope_level": "district", "count": 1},
    )
    res = solve(data, rules)
    assert {("non_local_target", "D1"), ("max_changes", "D1")} <= named(res)
    cap = next(d for d in res.diagnosis if d.rule == "max_changes")
    assert cap.would_work == 2
    fixed = with_rule(rules, max_changes={"scope_level": "district", "count": cap.would_work})
    assert solve(data, fixed).status == "optimal"
    target = next(d for d in res.diagnosis if d.rule == "non_local_target")
    lowered = with_rule(
        rules, non_local_targets=[{"scope_level": "district", "min_share": target.best_share}]
    )
    assert solve(data, lowered).status == "optimal"


def test_relatives_named_with_the_incumbent_who_must_stay():
    """K11 (not movable) is secretary of C11, whose People's Committee chair (out of scope) is his
    relative: the rule on relatives and the keep rule are named; letting K11 move frees C11."""
    data = with_cadre(
        tiny_problem(cadres={"K11": {"movable": False}}),
        "PC11",
        current_unit_id="C11",
        hometown_id="C11",
    )
    data = with_post(data, "PC-C11", unit_id="C11", position="pc_chair", incumbent_id="PC11")
    data = with_relation(data, "K11", "PC11")
    res = solve(data, default_rules())
    assert named(res) == {("relatives_same_unit", "C11"), ("not_movable", "S-C11")}
    movable = with_cadre(data, "K11", movable=True)
    assert solve(movable, default_rules()).status == "optimal"
