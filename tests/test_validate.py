"""The validator: silent on valid plans, and each hard rule / claim caught when broken alone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from builders import (
    BASELINE_MOVES,
    baseline_plan,
    default_rules,
    plan_from,
    tiny_problem,
    with_cadre,
    with_post,
    with_rating,
    with_relation,
    with_travel,
)

from rotation.data import ProblemData
from rotation.plan import Assignment, DiagnosisItem, Plan, compute_kpis
from rotation.rulebook import CLAIMS, HARD_RULES
from rotation.rules import Rules
from rotation.validate import DIAGNOSIS_RULE, RULE_ORDER, Violation, validate_plan

Case = tuple[ProblemData, Rules, Plan]


def rules_of(violations: list[Violation]) -> set[str]:
    return {v.rule for v in violations}


def base(**rule_overrides: object) -> Case:
    data = tiny_problem()
    rules = default_rules(**rule_overrides)
    return data, rules, plan_from(data, rules, BASELINE_MOVES)


def on(data: ProblemData, rules: Rules | None = None, moves: dict | None = None) -> Case:
    rules = rules or default_rules()
    return data, rules, plan_from(data, rules, BASELINE_MOVES if moves is None else moves)


def edit(case: Case, fn: Callable[[Plan], None]) -> Case:
    data, rules, plan = case
    plan = plan.model_copy(deep=True)
    fn(plan)
    return data, rules, plan


def a_(plan: Plan, post_id: str) -> Assignment:
    return next(a for a in plan.assignments if a.post_id == post_id)


def with_pc_chair(data: ProblemData, unit: str, cadre: str, **cadre_fields: object) -> ProblemData:
    """Add an out-of-scope pc_chair post at ``unit`` held by a new local cadre ``cadre``."""
    data = with_cadre(data, cadre, current_unit_id=unit, hometown_id=unit, **cadre_fields)
    return with_post(data, f"PC-{unit}", unit_id=unit, position="pc_chair", incumbent_id=cadre)


# --------------------------------------------------------------------------- valid plans
VALID: dict[str, Callable[[], Case]] = {
    "baseline": lambda: base(),
    "swap_between_communes": lambda: on(
        tiny_problem(), moves={"S-C11": "K12", "S-C12": "K11", "S-C21": "K22", "S-C22": "K21"}
    ),
    "lateral_move_off_planning_list": lambda: on(
        tiny_problem(cadres={"K11": {"planned_positions": ()}, "K12": {"planned_positions": ()}}),
        moves={"S-C11": "K12", "S-C12": "K11", "S-C22": "O21"},
    ),
    "vacancy_allowed": lambda: on(
        tiny_problem(),
        default_rules(allow_vacancies=True),
        {**BASELINE_MOVES, "S-C13": None},
    ),
    "two_level_hierarchy": lambda: on(
        tiny_problem(two_level=True),
        default_rules(non_local_targets=[{"scope_level": "province", "min_share": 0.3}]),
    ),
    "out_of_scope_posts_and_relatives_apart": lambda: on(
        with_relation(with_pc_chair(tiny_problem(), "C13", "Q13"), "Q13", "O11")
    ),
    "lock_exclusion_max_changes_hold": lambda: base(
        locks=[{"post_id": "S-C12", "cadre_id": "O11"}],
        exclude=[{"post_id": "S-C13", "cadre_id": "O11"}],
        max_changes={"scope_level": "district", "count": 1},
    ),
    "old_incumbent_kept_when_no_max_tenure": lambda: on(
        tiny_problem(cadres={"K13": {"current_since": dt.date(2010, 1, 1)}}),
        default_rules(max_years_in_post=None),
    ),
    "personal_limit_met": lambda: on(tiny_problem(cadres={"O11": {"max_travel_km": 5.0}})),
    "infeasible_with_diagnosis": lambda: (
        tiny_problem(),
        default_rules(),
        Plan(
            status="infeasible",
            diagnosis=[DiagnosisItem(rule="non_local_target", scope="D1", detail="no one")],
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_plans_pass(name: str) -> None:
    """A valid plan yields no violation at all."""
    data, rules, plan = VALID[name]()
    assert validate_plan(data, rules, plan) == []


# --------------------------------------------------------------------------- broken plans
def _drop_post(plan: Plan) -> None:
    plan.assignments = [a for a in plan.assignments if a.post_id != "S-C13"]
    plan.released = sorted([*plan.released, "K13"])
    plan.kpis = compute_kpis(tiny_problem(), default_rules(), plan.assignments)


def _duplicate_post(plan: Plan) -> None:
    plan.assignments.append(a_(plan, "S-C13").model_copy())
    plan.kpis = compute_kpis(tiny_problem(), default_rules(), plan.assignments)


def _out_of_scope_listed() -> Case:
    data = with_pc_chair(tiny_problem(), "C13", "Q13")
    rules = default_rules()
    return data, rules, plan_from(data, rules, {**BASELINE_MOVES, "PC-C13": "Q13"})


def _released(fn: Callable[[list[str]], list[str]]) -> Callable[[Plan], None]:
    def go(plan: Plan) -> None:
        plan.released = fn(list(plan.released))

    return go


BROKEN: dict[str, tuple[set[str], Callable[[], Case]]] = {
    # ------------------------------------------------------------------ hard rules
    "fill_every_post/missing": ({"fill_every_post"}, lambda: edit(base(), _drop_post)),
    "fill_every_post/duplicate": ({"fill_every_post"}, lambda: edit(base(), _duplicate_post)),
    "fill_every_post/vacancy": (
        {"fill_every_post"},
        lambda: on(tiny_problem(), moves={**BASELINE_MOVES, "S-C13": None}),
    ),
    "fill_every_post/out_of_scope_listed": ({"fill_every_post"}, _out_of_scope_listed),
    "one_post_per_cadre": (
        {"one_post_per_cadre"},
        lambda: on(tiny_problem(), moves={**BASELINE_MOVES, "S-C13": "O11"}),
    ),
    # an incumbent of an out-of-scope post also holds two posts after the plan
    "out_of_scope_post": (
        {"out_of_scope_post", "one_post_per_cadre"},
        lambda: on(
            with_pc_chair(tiny_problem(), "C11", "Q11"), moves={**BASELINE_MOVES, "S-C13": "Q11"}
        ),
    ),
    "not_movable/incumbent": (
        {"not_movable"},
        lambda: on(tiny_problem(cadres={"K12": {"movable": False}})),
    ),
    "not_movable/office": (
        {"not_movable"},
        lambda: on(tiny_problem(cadres={"O11": {"movable": False}})),
    ),
    "minimum_tenure/incumbent": (
        {"minimum_tenure"},
        lambda: on(tiny_problem(cadres={"K12": {"current_since": dt.date(2025, 6, 1)}})),
    ),
    "minimum_tenure/office": (
        {"minimum_tenure"},
        lambda: on(tiny_problem(cadres={"O11": {"current_since": dt.date(2025, 6, 1)}})),
    ),
    "maximum_tenure": (
        {"maximum_tenure"},
        lambda: on(tiny_problem(cadres={"K13": {"current_since": dt.date(2016, 1, 1)}})),
    ),
    "lock": ({"lock"}, lambda: base(locks=[{"post_id": "S-C13", "cadre_id": "O12"}])),
    "exclusion": ({"exclusion"}, lambda: base(exclude=[{"post_id": "S-C12", "cadre_id": "O11"}])),
    "planning_list": (
        {"planning_list"},
        lambda: on(tiny_problem(cadres={"O11": {"planned_positions": ()}})),
    ),
    "rating/low": ({"rating"}, lambda: on(with_rating(tiny_problem(), "O11", 2025, "complete"))),
    "rating/missing": ({"rating"}, lambda: on(with_rating(tiny_problem(), "O11", 2024, None))),
    "retirement": (
        {"retirement"},
        lambda: on(
            tiny_problem(cadres={"O11": {"gender": "M", "birth_date": dt.date(1965, 1, 1)}})
        ),
    ),
    "travel_distance": (
        {"travel_distance"},
        lambda: on(with_travel(tiny_problem(), "C11", "C12", 71.234)),
    ),
    "personal_travel_limit": (
        {"personal_travel_limit"},
        lambda: on(tiny_problem(cadres={"O11": {"max_travel_km": 3.0}})),
    ),
    "other_province": (
        {"other_province"},
        lambda: on(
            tiny_problem(
                units={
                    "P9": {
                        "name": "Tỉnh P9",
                        "level": "province",
                        "parent_id": None,
                        "lat": 20.95,
                        "lon": 106.3,
                    },
                    "C91": {
                        "name": "Xã 91",
                        "level": "commune",
                        "parent_id": "P9",
                        "lat": 20.95,
                        "lon": 106.33,
                    },
                },
                cadres={"Z91": {"current_unit_id": "C91", "hometown_id": "C91"}},
            ),
            moves={"S-C12": "Z91", "S-C22": "O21"},
        ),
    ),
    "relatives_same_unit": (
        {"relatives_same_unit"},
        lambda: on(with_relation(with_pc_chair(tiny_problem(), "C12", "Q12"), "Q12", "O11")),
    ),
    "non_local_target": ({"non_local_target"}, lambda: on(tiny_problem(), moves={"S-C12": "O11"})),
    "max_changes": (
        {"max_changes"},
        lambda: base(max_changes={"scope_level": "province", "count": 1}),
    ),
    # ------------------------------------------------------------------ claims
    "unknown_post": (
        {"unknown_post"},
        lambda: edit(
            base(),
            lambda p: p.assignments.append(
                Assignment(post_id="S-NOPE", unit_id="C11", position="secretary", cadre_id="O12")
            ),
        ),
    ),
    # an unknown holder cannot count as non-local, so D1 also misses its target
    "unknown_cadre/assignment": (
        {"unknown_cadre", "non_local_target"},
        lambda: edit(base(), lambda p: setattr(a_(p, "S-C12"), "cadre_id", "NOBODY")),
    ),
    "unknown_cadre/released": (
        {"unknown_cadre"},
        lambda: edit(base(), _released(lambda r: [*r, "NOBODY"])),
    ),
    "claim_previous_post": (
        {"claim_previous_post"},
        lambda: edit(base(), lambda p: setattr(a_(p, "S-C12"), "previous_post_id", "S-C11")),
    ),
    "claim_changed": (
        {"claim_changed"},
        lambda: edit(base(), lambda p: setattr(a_(p, "S-C11"), "changed", True)),
    ),
    "claim_non_local": (
        {"claim_non_local"},
        lambda: edit(base(), lambda p: setattr(a_(p, "S-C12"), "non_local", False)),
    ),
    "claim_travel_km": (
        {"claim_travel_km"},
        lambda: edit(base(), lambda p: setattr(a_(p, "S-C12"), "travel_km", 9.5)),
    ),
    "claim_released/missing": (
        {"claim_released"},
        lambda: edit(base(), _released(lambda r: r[1:])),
    ),
    "claim_released/extra": (
        {"claim_released"},
        lambda: edit(base(), _released(lambda r: [*r, "K11"])),
    ),
    "claim_kpis/changed_posts": (
        {"claim_kpis"},
        lambda: edit(base(), lambda p: setattr(p.kpis, "changed_posts", 5)),
    ),
    "claim_kpis/total_travel_km": (
        {"claim_kpis"},
        lambda: edit(base(), lambda p: setattr(p.kpis, "total_travel_km", 1.0)),
    ),
    "claim_kpis/max_travel_km": (
        {"claim_kpis"},
        lambda: edit(base(), lambda p: setattr(p.kpis, "max_travel_km", 99.0)),
    ),
    "claim_kpis/overall_share": (
        {"claim_kpis"},
        lambda: edit(base(), lambda p: setattr(p.kpis.non_local_share, "overall", 0.5)),
    ),
    "claim_kpis/by_scope": (
        {"claim_kpis"},
        lambda: edit(base(), lambda p: p.kpis.non_local_share.by_scope.update({"D1": 0.9})),
    ),
    "claim_unit_position": (
        {"claim_unit_position"},
        lambda: edit(base(), lambda p: setattr(a_(p, "S-C11"), "unit_id", "C12")),
    ),
    "claim_diagnosis/infeasible_empty": (
        {DIAGNOSIS_RULE},
        lambda: (tiny_problem(), default_rules(), Plan(status="infeasible")),
    ),
    "claim_diagnosis/feasible_with_diagnosis": (
        {DIAGNOSIS_RULE},
        lambda: edit(
            base(),
            lambda p: p.diagnosis.append(DiagnosisItem(rule="lock", scope="S-C11", detail="x")),
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_plan_is_caught(name: str) -> None:
    """A plan breaking one rule yields violations of exactly that rule, each naming it."""
    expected, build = BROKEN[name]
    data, rules, plan = build()
    violations = validate_plan(data, rules, plan)
    assert rules_of(violations) == expected, [str(v) for v in violations]
    for v in violations:
        assert str(v).startswith(f"{v.rule}: ")


def test_every_rule_has_a_broken_case() -> None:
    """Each HARD_RULES and CLAIMS key (and the diagnosis check) is exercised by a broken plan."""
    covered = set().union(*(exp for exp, _ in BROKEN.values()))
    assert set(HARD_RULES) | set(CLAIMS) | {DIAGNOSIS_RULE} <= covered


def test_rule_names_come_from_the_rulebook() -> None:
    """The validator's rule order is the rulebook's keys (plus the diagnosis check)."""
    assert RULE_ORDER[: len(HARD_RULES) + len(CLAIMS)] == [*HARD_RULES, *CLAIMS]
    assert set(RULE_ORDER) - set(HARD_RULES) - set(CLAIMS) <= {DIAGNOSIS_RULE}


# --------------------------------------------------------------------------- messages and order
def test_violation_line_names_rule_post_and_cadre() -> None:
    """A violation prints as one line: rule, post (unit name), cadre (full name), the facts."""
    data, rules, plan = BROKEN["travel_distance"][1]()
    (v,) = validate_plan(data, rules, plan)
    assert (v.rule, v.post_id, v.cadre_id) == ("travel_distance", "S-C12", "O11")
    name = data.cadre_name("O11")
    assert str(v) == (
        f"travel_distance: post S-C12 (Xã 12), cadre O11 ({name}): "
        "71.2 km from residence, limit 60 km"
    )
    assert "\n" not in str(v)


def test_scope_violation_names_the_scope() -> None:
    """A per-scope violation has no post or cadre and names the scope unit in its message."""
    data, rules, plan = BROKEN["non_local_target"][1]()
    (v,) = validate_plan(data, rules, plan)
    assert v.post_id is None and v.cadre_id is None
    assert str(v).startswith("non_local_target: district D2 (Huyện 2): 0 of 3")


def test_violations_are_ordered_by_rulebook_then_post() -> None:
    """Violations come in rulebook order, then by post and cadre, deterministically."""
    data = tiny_problem(cadres={"O11": {"planned_positions": ()}, "O21": {"movable": False}})
    rules = default_rules()
    plan = plan_from(data, rules, BASELINE_MOVES)
    plan.assignments[0].travel_km = 50.0
    vs = validate_plan(data, rules, plan)
    assert [v.rule for v in vs] == ["not_movable", "planning_list", "claim_travel_km"]
    assert vs == validate_plan(data, rules, plan)
    assert vs == sorted(vs, key=Violation.sort_key)


def test_vacancy_of_incumbent_counts_as_change() -> None:
    """Leaving an incumbent's post vacant counts towards max_changes."""
    data = tiny_problem()
    rules = default_rules(allow_vacancies=True, max_changes={"scope_level": "district", "count": 1})
    plan = plan_from(data, rules, {**BASELINE_MOVES, "S-C13": None})
    vs = validate_plan(data, rules, plan)
    assert rules_of(vs) == {"max_changes"}
    assert "D1" in vs[0].message


def test_non_local_is_recomputed_not_taken_from_claims() -> None:
    """The non-local target counts holders from the data even when claims say otherwise."""
    data, rules, plan = on(tiny_problem(), moves={"S-C12": "O11"})
    for a in plan.assignments:
        a.non_local = True
    vs = validate_plan(data, rules, plan)
    assert "non_local_target" in rules_of(vs)


def test_baseline_helper_is_valid() -> None:
    """builders.baseline_plan is valid under the default rules (the optimizer tests rely on it)."""
    assert validate_plan(tiny_problem(), default_rules(), baseline_plan()) == []
