"""``rotation.repair``: the valid plan closest to a given one after events, on the bundled data."""

from __future__ import annotations

from pathlib import Path

import pytest

from rotation.plan import Plan
from rotation.read import read_dataset
from rotation.repair import RepairError, parse_events, repair_plan
from rotation.rules import load_rules
from rotation.solve import solve
from rotation.validate import validate_plan

DATA = Path(__file__).resolve().parents[1] / "data" / "hai_duong"


@pytest.fixture(scope="module")
def solved():
    data = read_dataset(DATA)
    rules = load_rules({})
    plan = solve(data, rules).plan.with_rules(rules)
    return data, rules, plan


def _moved(plan: Plan) -> str:
    return next(a.cadre_id for a in plan.assignments if a.changed and a.cadre_id)


def test_decline_changes_only_the_declined_post_and_validates(solved):
    """A cadre declining a new post: that post gets another holder, every other post keeps the
    given plan's holder (a nearby free cadre exists), and the result validates."""
    data, rules, plan = solved
    cadre = _moved(plan)
    post = next(a.post_id for a in plan.assignments if a.cadre_id == cadre)
    out = repair_plan(data, rules, plan, parse_events([f"declines:{cadre}"]))
    assert out.plans and not out.capped
    repaired = Plan.model_validate(out.plans[0])
    given = plan.holder()
    changed = [a.post_id for a in repaired.assignments if given[a.post_id] != a.cadre_id]
    assert changed == [post]
    assert repaired.holder()[post] != cadre
    assert sum(a["changed_vs_base"] for a in out.plans[0]["assignments"]) == 1
    real = load_rules(
        {**rules.model_dump(mode="json"), "exclude": [{"post_id": post, "cadre_id": cadre}]}
    )
    assert validate_plan(data, real, repaired) == []


def test_leaves_removes_the_cadre(solved):
    """A cadre who leaves holds no post in the repaired plan, which validates on the data
    without them."""
    data, rules, plan = solved
    cadre = _moved(plan)
    out = repair_plan(data, rules, plan, parse_events([f"leaves:{cadre}"]))
    repaired = Plan.model_validate(out.plans[0])
    assert cadre not in {a.cadre_id for a in repaired.assignments}
    given = plan.holder()
    assert sum(given[a.post_id] != a.cadre_id for a in repaired.assignments) == 1


def test_bad_events_are_named():
    """Malformed events and unknown ids are refused with a message naming them."""
    with pytest.raises(RepairError, match="refuses:C1"):
        parse_events(["refuses:C1"])
    assert parse_events(["vacant:P1", "leaves:C2"]) == [
        {"type": "vacant", "post_id": "P1"},
        {"type": "leaves", "cadre_id": "C2"},
    ]


def test_unknown_cadre_is_refused(solved):
    data, rules, plan = solved
    with pytest.raises(RepairError, match="C99999"):
        repair_plan(data, rules, plan, parse_events(["leaves:C99999"]))


def test_change_cap_counts_against_todays_incumbents(solved):
    """A given plan with many changes (made without a cap), repaired under a cap of 6 per
    district: the closest plan to it would break the cap against today's incumbents, so the
    repair falls back to a plan that honours it; the result validates under the capped rules."""
    data, _, _ = solved
    eager = load_rules({"weights": {"travel_km": 1, "change": 1, "non_local_extra": 100}})
    given = solve(data, eager).plan
    per_district: dict[str, int] = {}
    for a, sid in zip(
        given.assignments,
        data.scope_of([a.unit_id for a in given.assignments], "district"),
        strict=True,
    ):
        per_district[sid] = per_district.get(sid, 0) + int(a.changed)
    assert max(per_district.values()) > 6  # the given plan itself is far over the cap
    capped = load_rules({"max_changes": {"scope_level": "district", "count": 6}})
    cadre = _moved(given)
    post = next(a.post_id for a in given.assignments if a.cadre_id == cadre)
    out = repair_plan(data, capped, given, parse_events([f"declines:{cadre}"]))
    assert out.capped and out.plans
    repaired = Plan.model_validate(out.plans[0])
    real = load_rules(
        {**capped.model_dump(mode="json"), "exclude": [{"post_id": post, "cadre_id": cadre}]}
    )
    assert validate_plan(data, real, repaired) == []


def test_vacant_post_is_filled_anew(solved):
    """vacant:P — P's planned holder is out of P; P gets another holder and the plan validates
    (with that pair excluded)."""
    data, rules, plan = solved
    a = next(a for a in plan.assignments if a.changed and a.cadre_id)
    out = repair_plan(data, rules, plan, parse_events([f"vacant:{a.post_id}"]))
    repaired = Plan.model_validate(out.plans[0])
    assert repaired.holder()[a.post_id] not in (None, a.cadre_id)
    real = load_rules(
        {
            **rules.model_dump(mode="json"),
            "exclude": [{"post_id": a.post_id, "cadre_id": a.cadre_id}],
        }
    )
    assert validate_plan(data, real, repaired) == []


def test_disciplined_cadre_takes_no_new_post(solved):
    """A cadre disciplined on the plan's date loses the new post the plan gave them (only that
    post changes here), and the result validates on the data with that discipline row."""
    from rotation.repair import with_discipline

    data, rules, plan = solved
    cadre = _moved(plan)
    post = next(a.post_id for a in plan.assignments if a.cadre_id == cadre)
    events = parse_events([f"disciplined:{cadre}:kind=warning"])
    assert events == [{"type": "disciplined", "cadre_id": cadre, "kind": "warning"}]
    out = repair_plan(data, rules, plan, events)
    repaired = Plan.model_validate(out.plans[0])
    assert repaired.holder()[post] != cadre
    assert cadre not in {a.cadre_id for a in repaired.assignments}
    assert validate_plan(with_discipline(data, events, rules.as_of), rules, repaired) == []
    assert validate_plan(with_discipline(data, events, rules.as_of), rules, plan) != []


def test_plan_events_have_no_round():
    """round= belongs to a roadmap's repair: a plan's repair refuses it, naming the event."""
    with pytest.raises(RepairError) as exc:
        parse_events(["leaves:C1:round=2"])
    assert "'leaves:C1:round=2': a plan has no rounds" in exc.value.messages[0]
