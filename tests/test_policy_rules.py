"""Contract v1.1 rules, one test each showing the rule binds: discipline, retirement from an
office (Reg. 65), never below today's non-local count."""

from __future__ import annotations

import datetime as dt

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
