"""Contract v1.1 rules, one test each showing the rule binds: discipline, retirement from an
office (Reg. 65), never below today's non-local count."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from builders import default_rules, tiny_problem

from rotation.data import ProblemData
from rotation.eligibility import compute_eligibility
from rotation.rules import Rules
from rotation.solve import solve
from rotation.validate import format_violations, validate_plan


def _with_discipline(data: ProblemData, rows: list[tuple[str, str, dt.date]]) -> ProblemData:
    data.discipline = pd.DataFrame(rows, columns=["cadre_id", "kind", "date"])
    return data


def _eligible_posts(data: ProblemData, rules: Rules, cadre_id: str) -> set[str]:
    e = compute_eligibility(data, rules)
    c = data.cadres.index.get_loc(cadre_id)
    return {e.post_id(int(p)) for p, cc in zip(e.pair_post, e.pair_cadre, strict=True) if cc == c}


@pytest.mark.parametrize(
    ("kind", "date", "blocked"),
    [
        ("reprimand", dt.date(2025, 6, 1), True),  # until 2027-06-01
        ("reprimand", dt.date(2023, 6, 1), False),  # until 2025-06-01: over at as_of
        ("warning", dt.date(2023, 6, 1), True),  # 36 months: until 2026-06-01
        ("removal", dt.date(2021, 6, 1), True),  # 60 months: until 2026-06-01
        ("removal", dt.date(2020, 6, 1), False),
    ],
)
def test_discipline_blocks_new_posts_for_its_months(kind: str, date: dt.date, blocked: bool):
    """A disciplined cadre takes no new post within discipline_months[kind] of the measure."""
    data = _with_discipline(tiny_problem(), [("O11", kind, date)])
    rules = default_rules()
    posts = _eligible_posts(data, rules, "O11")
    assert (posts == set()) is blocked
    e = compute_eligibility(data, rules)
    reasons = [r for r, _ in e.why_not("O11", "S-C12")]
    assert ("discipline" in reasons) is blocked


def test_discipline_months_are_rules():
    """discipline_months is a parameter: 0 months lifts the bar at once."""
    data = _with_discipline(tiny_problem(), [("O11", "reprimand", dt.date(2025, 6, 1))])
    rules = default_rules(discipline_months={"reprimand": 0})
    assert _eligible_posts(data, rules, "O11")


def test_disciplined_incumbent_keeps_own_post():
    """Discipline bars *new* posts only: the incumbent may stay."""
    data = _with_discipline(tiny_problem(), [("K11", "warning", dt.date(2025, 6, 1))])
    assert _eligible_posts(data, default_rules(), "K11") == {"S-C11"}


def test_retirement_from_office_needs_ten_years():
    """Reg. 65: from an office to a commune post needs min_years_to_retirement_from_office."""
    # born 1971-06-01, a man: retires at 62 in 2033, 7.4 years after as_of (≥ 5, < 10)
    data = tiny_problem(cadres={"O11": {"birth_date": dt.date(1971, 6, 1), "gender": "M"}})
    assert _eligible_posts(data, default_rules(), "O11") == set()
    e = compute_eligibility(data, default_rules())
    assert [r for r, _ in e.why_not("O11", "S-C12")] == ["retirement_from_office"]
    assert _eligible_posts(data, default_rules(min_years_to_retirement_from_office=5), "O11")
    # a commune cadre of the same age is not "from an office": only the 5-year rule applies
    data = tiny_problem(cadres={"K11": {"birth_date": dt.date(1971, 6, 1), "gender": "M"}})
    assert "S-C12" in _eligible_posts(data, default_rules(), "K11")


def _two_non_local_in_d1() -> ProblemData:
    """D1 today: K11 (over the tenure limit) and K12 are non-local; the target needs 1.
    S-C11 must change hands: O11 is local to C11 (0 km), O12 non-local (≈ 4 km)."""
    return tiny_problem(
        cadres={
            "K11": {
                "hometown_id": "C12",
                "residence_id": "C12",
                "current_since": dt.date(2012, 1, 1),
            },
            "K12": {"hometown_id": "C13", "residence_id": "C13"},
        }
    )


@pytest.mark.parametrize("on", [True, False])
def test_never_below_current_keeps_todays_non_local_count(on: bool):
    """With never_below_current the plan keeps D1's 2 non-local secretaries; without it the
    cheaper local replacement lowers D1 to 1 (still meeting the 30% target)."""
    data = _two_non_local_in_d1()
    rules = default_rules(never_below_current=on)
    res = solve(data, rules)
    plan = res.plan
    assert res.status == "optimal"
    holder = plan.holder()
    assert holder["S-C11"] == ("O12" if on else "O11")
    assert validate_plan(data, rules, plan) == [], format_violations(
        validate_plan(data, rules, plan)
    )


def test_never_below_current_is_named_in_the_diagnosis():
    """A lock that lowers D1's count, with no other change allowed there, conflicts with
    never_below_current: the diagnosis names it with D1."""
    data = _two_non_local_in_d1()
    rules = default_rules(
        locks=[{"post_id": "S-C11", "cadre_id": "O11"}],
        max_changes={"scope_level": "district", "count": 1},
    )
    res = solve(data, rules)
    assert res.status == "infeasible"
    rules_named = {(d.rule, d.scope) for d in res.diagnosis}
    assert ("never_below_current", "D1") in rules_named


# --------------------------------------------------------------------------- priority shares
PLAIN = {"travel_km": 1, "change": 50}  # no soft rewards: only the hard rule can decide


def _all_men(**extra: dict) -> ProblemData:
    ids = ["K11", "K12", "K13", "K21", "K22", "K23", "O11", "O12", "O21", "O22"]
    cadres: dict[str, dict] = {c: {"gender": "M"} for c in ids}
    cadres["O22"] = {"gender": "F", "residence_id": "C23"}  # local to C22 and C23: only S-C21
    cadres.update(extra)
    return tiny_problem(cadres=cadres)


@pytest.mark.parametrize("share", [None, 0.5])
def test_priority_share_of_women_among_the_newly_appointed(share: float | None):
    """Women ≥ 50% of the newly appointed forces the one woman (8 km) in over a man (4 km)."""
    data = _all_men()
    extra = {"priority_shares": [{"group": "women", "min_share": share}]} if share else {}
    rules = default_rules(weights=PLAIN, **extra)
    plan = solve(data, rules).plan
    appointed = [a.cadre_id for a in plan.assignments if a.changed]
    women = [c for c in appointed if data.cadres.at[c, "gender"] == "F"]
    if share:
        assert plan.holder()["S-C21"] == "O22"
        assert len(women) >= share * len(appointed)
    else:
        assert women == []
    assert validate_plan(data, rules, plan) == []


def test_priority_share_out_of_reach_is_diagnosed():
    """No minority cadre at all: a 10% minority share among the newly appointed cannot hold."""
    rules = default_rules(priority_shares=[{"group": "minority", "min_share": 0.1}])
    res = solve(tiny_problem(), rules)
    assert res.status == "infeasible"
    assert "priority_shares" in {d.rule for d in res.diagnosis}


# --------------------------------------------------------------------------- support, budget
def test_support_allowance_by_tier():
    """The highest tier with min_km ≤ travel applies; below every tier nothing is paid."""
    rules = default_rules(
        support={
            "months": 36,
            "one_time_vnd": 5_000_000,
            "tiers": [
                {"min_km": 15, "vnd_per_month": 2_000_000},
                {"min_km": 40, "vnd_per_month": 4_000_000},
            ],
        }
    )
    assert rules.support.vnd(14.9) == 0
    assert rules.support.vnd(15) == 5_000_000 + 36 * 2_000_000
    assert rules.support.vnd(60) == 5_000_000 + 36 * 4_000_000


def test_support_is_one_rule_for_the_model_and_the_plan():
    """The model's vectorised support per pair and the plan's/validator's per assignment are
    the same tier rule: equal at the tier boundaries, between them and beyond the last; and an
    incumbent staying gets nothing."""
    from rotation.concepts import support_vnd

    rules = default_rules(
        support={
            "months": 24,
            "one_time_vnd": 1_000_000,
            "tiers": [
                {"min_km": 10, "vnd_per_month": 1_500_000},
                {"min_km": 25.5, "vnd_per_month": 3_000_000},
            ],
        }
    )
    km = np.array([0.0, 9.999, 10.0, 17.3, 25.5, 25.499, 80.0])
    each = support_vnd(rules, km, np.ones(len(km), dtype=bool))
    assert each.tolist() == [rules.support.vnd(float(k)) for k in km]
    assert each.tolist() == [0, 0, 37_000_000, 37_000_000, 73_000_000, 37_000_000, 73_000_000]
    assert support_vnd(rules, km, np.zeros(len(km), dtype=bool)).tolist() == [0] * len(km)


def test_support_tiers_must_ascend():
    with pytest.raises(ValueError, match="increasing order"):
        default_rules(
            support={
                "tiers": [{"min_km": 40, "vnd_per_month": 1}, {"min_km": 15, "vnd_per_month": 2}]
            }
        )


@pytest.mark.parametrize(
    ("budget", "status"), [(144_000_000, "optimal"), (143_999_999, "infeasible")]
)
def test_budget_caps_the_total_support(budget: int, status: str):
    """Two appointees at ≈ 4 km, 2 M VND a month for 36 months from 3 km: 144 M VND in all."""
    rules = default_rules(
        support={"tiers": [{"min_km": 3, "vnd_per_month": 2_000_000}]}, budget_vnd=budget
    )
    res = solve(tiny_problem(), rules)
    assert res.status == status
    if status == "infeasible":
        assert "budget_vnd" in {d.rule for d in res.diagnosis}
    else:
        assert validate_plan(tiny_problem(), rules, res.plan) == []


# --------------------------------------------------------------------------- wishes
@pytest.mark.parametrize("weight", [0, 10])
def test_wish_weight_places_a_cadre_where_they_asked(weight: float):
    """O11 wishes C13 (8 km): a reward of 10 beats the 4 km alternatives; 0 does not."""
    data = tiny_problem()
    data.preferences = pd.DataFrame([("O11", "C13", 1)], columns=["cadre_id", "unit_id", "rank"])
    rules = default_rules(weights={**PLAIN, "preference": weight})
    holder = solve(data, rules).plan.holder()
    assert (holder["S-C13"] == "O11") is bool(weight)


def test_a_district_wish_covers_its_communes():
    from rotation.concepts import wish_rank

    data = tiny_problem()
    data.preferences = pd.DataFrame(
        [("O11", "D2", 2), ("O11", "C21", 1)], columns=["cadre_id", "unit_id", "rank"]
    )
    ranks = wish_rank(data, ["O11", "O11", "O11", "O12"], ["C21", "C22", "C11", "C21"])
    assert ranks.tolist() == [1, 2, 0, 0]


def test_wish_rank_by_index_is_wish_rank_spelt_out():
    """Pairs given as (cadre, unit) indices rank exactly as the same pairs spelt out: every
    cadre with every unit, commune and district wishes, repeated wishes, unknown units."""
    from rotation.concepts import wish_rank

    data = tiny_problem()
    cadres = [*data.cadres.index]
    data.preferences = pd.DataFrame(
        [
            ("O11", "D2", 2),
            ("O11", "C21", 1),
            ("O12", "C11", 3),
            ("O12", "C11", 1),
            (cadres[0], "D1", 1),
        ],
        columns=["cadre_id", "unit_id", "rank"],
    )
    units = [*data.units.index, "NOWHERE"]
    ci, pj = (a.ravel() for a in np.meshgrid(np.arange(len(cadres)), np.arange(len(units))))
    by_index = wish_rank(data, cadres, units, pairs=(ci, pj))
    spelt = wish_rank(data, [cadres[i] for i in ci], [units[j] for j in pj])
    assert by_index.tolist() == spelt.tolist()
    assert sorted(set(by_index.tolist())) == [0, 1, 2]
    # the rule itself: the best rank among the wishes for the unit and for its district
    district = data.units["district_id"].to_dict()
    wishes: dict[tuple[str, str], list[int]] = {}
    for c, u, r in data.preferences.itertuples(index=False):
        wishes.setdefault((c, u), []).append(r)
    want = []
    for i, j in zip(ci, pj, strict=True):
        c, u = cadres[i], units[j]
        ranks = wishes.get((c, u), []) + wishes.get((c, district.get(u)), [])
        want.append(min(ranks) if ranks else 0)
    assert by_index.tolist() == want


# --------------------------------------------------------------------------- change caps
@pytest.mark.parametrize(
    ("caps", "status", "scope"),
    [
        ({"scope_level": "district", "count": 1, "count_by_scope": {"D2": 0}}, "infeasible", "D2"),
        ({"scope_level": "district", "count": 1, "count_by_scope": {"D2": 1}}, "optimal", None),
        (
            [{"scope_level": "district", "count": 1}, {"scope_level": "province", "count": 1}],
            "infeasible",
            "P",
        ),
    ],
)
def test_change_caps_list_and_overrides(caps, status: str, scope: str | None):
    """Each district needs one change; an override of 0 or a province cap of 1 cannot hold."""
    rules = default_rules(max_changes=caps)
    res = solve(tiny_problem(), rules)
    assert res.status == status
    if scope:
        assert ("max_changes", scope) in {(d.rule, d.scope) for d in res.diagnosis}


def test_commune_continuity_cap():
    """At most one key post of a commune changes: C12's vacant chair post and its secretary
    post are not both given new holders."""
    data = tiny_problem(posts={"C-C12": {"unit_id": "C12", "position": "pc_chair"}})
    base = {"positions": ["secretary", "pc_chair"], "require_planning": False, "weights": PLAIN}
    free = solve(data, default_rules(**base)).plan
    assert {"S-C12", "C-C12"} <= {a.post_id for a in free.assignments if a.changed}
    rules = default_rules(**base, max_changes=[{"scope_level": "commune", "count": 1}])
    plan = solve(data, rules).plan
    changed = {a.post_id for a in plan.assignments if a.changed}
    assert "C-C12" in changed and "S-C12" not in changed
    assert validate_plan(data, rules, plan) == []


# --------------------------------------------------------------------------- mergers
def test_merged_commune_posts_are_not_filled_and_local_follows():
    """C13 merged into C12: S-C13 is not in the plan, K13 is free to move (or released), and a
    cadre from C13 counts as local to C12."""
    from rotation.concepts import is_local

    data = tiny_problem(units={"C13": {"merged_into": "C12"}})
    rules = default_rules()
    assert is_local(data, "C13", "C13", "C12", rules)
    e = compute_eligibility(data, rules)
    assert "S-C13" not in e.posts.index
    assert e.why_not("K13", "S-C12") == []  # not blocked by holding a post any more...
    plan = solve(data, rules).plan
    assert "S-C13" not in plan.holder()
    assert plan.holder().get("S-C12") != "K13"  # local to C12 after the merger
