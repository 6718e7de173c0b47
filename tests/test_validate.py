"""The validator: silent on valid plans, and each hard rule / claim caught when broken alone."""

from __future__ import annotations

import ast
import datetime as dt
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
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
from sabotage import FACT_CORRUPTIONS, KPI_CORRUPTIONS, PLAN_CORRUPTIONS, Sabotage
from typer.testing import CliRunner

from rotation import cli
from rotation import plan as plan_module
from rotation import solve as solve_module
from rotation.data import ProblemData
from rotation.plan import Assignment, DiagnosisItem, Plan, compute_kpis
from rotation.read import write_dataset
from rotation.rulebook import CLAIMS, HARD_RULES
from rotation.rules import Rules
from rotation.solve import solve
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


def _disciplined(cadre: str, kind: str, date: dt.date) -> ProblemData:
    data = tiny_problem()
    data.discipline = pd.DataFrame([(cadre, kind, date)], columns=["cadre_id", "kind", "date"])
    return data


V11_SUPPORT = {"tiers": [{"min_km": 3, "vnd_per_month": 1_000_000}], "months": 12}


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
            tiny_problem(cadres={"O11": {"gender": "M", "birth_date": dt.date(1965, 1, 1)}}),
            default_rules(min_years_to_retirement_from_office=0),  # the 5-year rule alone
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
    # ------------------------------------------------------------------ contract v1.1 rules
    "discipline": (
        {"discipline"},
        lambda: on(_disciplined("O11", "reprimand", dt.date(2025, 6, 1))),
    ),
    "retirement_from_office": (
        {"retirement_from_office"},
        lambda: on(
            tiny_problem(cadres={"O11": {"gender": "M", "birth_date": dt.date(1971, 6, 1)}})
        ),
    ),
    "never_below_current": (
        {"never_below_current"},
        lambda: on(
            tiny_problem(
                cadres={
                    "K11": {"hometown_id": "C12", "residence_id": "C12"},
                    "K12": {"hometown_id": "C13", "residence_id": "C13"},
                }
            ),
            moves={"S-C12": "O12", "S-C22": "O21"},
        ),
    ),
    "priority_shares": (
        {"priority_shares"},
        lambda: base(priority_shares=[{"group": "women", "min_share": 0.75}]),
    ),
    "budget_vnd": ({"budget_vnd"}, lambda: base(support=V11_SUPPORT, budget_vnd=1)),
    "merged_commune": (
        {"merged_commune", "claim_released"},
        lambda: (
            lambda d: (
                d,
                default_rules(),
                plan_from(d, default_rules(), {**BASELINE_MOVES, "S-C13": "K13"}),
            )
        )(tiny_problem(units={"C13": {"merged_into": "C12"}})),
    ),
    "claim_support": (
        {"claim_support"},
        lambda: edit(
            base(support=V11_SUPPORT), lambda p: setattr(a_(p, "S-C12"), "support_vnd", 5)
        ),
    ),
    "claim_names": (
        {"claim_names"},
        lambda: edit(base(), lambda p: setattr(a_(p, "S-C12"), "cadre_name", "Ai Đó")),
    ),
    "claim_kpis/support_cost_vnd": (
        {"claim_kpis"},
        lambda: edit(base(support=V11_SUPPORT), lambda p: setattr(p.kpis, "support_cost_vnd", 1)),
    ),
    "claim_kpis/new_appointees": (
        {"claim_kpis"},
        lambda: edit(base(), lambda p: setattr(p.kpis.new_appointees, "women", 2)),
    ),
    "claim_kpis/preferences": (
        {"claim_kpis"},
        lambda: edit(base(), lambda p: setattr(p.kpis.preferences, "with_wishes", 1)),
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
    "claim_kpis/non_local_posts": (
        {"claim_kpis"},
        lambda: edit(base(), lambda p: setattr(p.kpis.non_local_share, "non_local_posts", 1)),
    ),
    "claim_kpis/posts": (
        {"claim_kpis"},
        lambda: edit(base(), lambda p: setattr(p.kpis.non_local_share, "posts", 7)),
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


# --------------------------------------------------------------------------- claims: only those made
def _baseline_json() -> dict[str, Any]:
    return baseline_plan().model_dump(mode="json")


def _drop(*path: str) -> Callable[[dict[str, Any]], None]:
    """Remove ``path`` from the plan JSON (``assignments`` paths: from every assignment)."""

    def go(doc: dict[str, Any]) -> None:
        nodes = doc["assignments"] if path[0] == "assignments" else [doc]
        keys = path[1:] if path[0] == "assignments" else path
        for node in nodes:
            for k in keys[:-1]:
                node = node[k]
            del node[keys[-1]]

    return go


OMITTED: dict[str, Callable[[dict[str, Any]], None]] = {
    "previous_post_id": _drop("assignments", "previous_post_id"),
    "changed": _drop("assignments", "changed"),
    "non_local": _drop("assignments", "non_local"),
    "travel_km": _drop("assignments", "travel_km"),
    "released": _drop("released"),
    "kpis": _drop("kpis"),
    "kpis.non_local_share": _drop("kpis", "non_local_share"),
    "kpis.non_local_share.overall": _drop("kpis", "non_local_share", "overall"),
    "kpis.non_local_share.by_scope": _drop("kpis", "non_local_share", "by_scope"),
    "kpis.non_local_share.posts": _drop("kpis", "non_local_share", "posts"),
    "kpis.changed_posts": _drop("kpis", "changed_posts"),
    "kpis.total_travel_km": _drop("kpis", "total_travel_km"),
    "kpis.max_travel_km": _drop("kpis", "max_travel_km"),
    "objective_bound_diagnosis": lambda d: [d.pop(k) for k in ("objective", "bound", "diagnosis")],
}
"""Optional claims. Each, read with its default (False, 0, [], {}), would be false on the
baseline plan (which moves two office cadres and releases two incumbents)."""


@pytest.mark.parametrize("name", sorted(OMITTED))
def test_a_missing_optional_claim_is_not_a_violation(name: str) -> None:
    """A plan that leaves out an optional claim is judged on the claims it makes."""
    doc = _baseline_json()
    OMITTED[name](doc)
    plan = Plan.model_validate(doc)
    assert validate_plan(tiny_problem(), default_rules(), plan) == []


NO_DEFAULT = {"objective_bound_diagnosis", "kpis.non_local_share.posts"}
"""Omissions whose default is no claim (no claim made, or an extra field without default)."""


@pytest.mark.parametrize("name", sorted(OMITTED))
def test_a_default_in_place_of_a_missing_claim_would_be_false(name: str) -> None:
    """The omission tests can fail: writing each claim's default explicitly is caught."""
    doc = _baseline_json()
    OMITTED[name](doc)
    explicit = Plan.model_validate(Plan.model_validate(doc).model_dump(mode="json"))
    if name in NO_DEFAULT:
        assert validate_plan(tiny_problem(), default_rules(), explicit) == []
        return
    found = rules_of(validate_plan(tiny_problem(), default_rules(), explicit))
    assert found and found <= set(CLAIMS), found


def test_missing_share_is_not_a_claimed_zero() -> None:
    """Issue 18: a plan without non_local_share is not read as claiming 0.0; a present 0.0 is
    caught."""
    doc = _baseline_json()
    del doc["kpis"]["non_local_share"]
    assert validate_plan(tiny_problem(), default_rules(), Plan.model_validate(doc)) == []
    doc["kpis"]["non_local_share"] = {"overall": 0.0}
    (v,) = validate_plan(tiny_problem(), default_rules(), Plan.model_validate(doc))
    assert (v.rule, v.message) == ("claim_kpis", "non_local_share.overall 0.0, recomputed 0.333333")


MINIMAL_PLAN = """{
  "status": "feasible",
  "assignments": [
    {"post_id": "S-C11", "unit_id": "C11", "position": "secretary", "cadre_id": "K11"},
    {"post_id": "S-C12", "unit_id": "C12", "position": "secretary", "cadre_id": "O11"},
    {"post_id": "S-C13", "unit_id": "C13", "position": "secretary", "cadre_id": "K13"},
    {"post_id": "S-C21", "unit_id": "C21", "position": "secretary", "cadre_id": "K21"},
    {"post_id": "S-C22", "unit_id": "C22", "position": "secretary", "cadre_id": "O21"},
    {"post_id": "S-C23", "unit_id": "C23", "position": "secretary", "cadre_id": "K23"}
  ]
}"""
"""A plan from another tool with only the contract's required fields: who holds each post."""


def test_minimal_plan_from_another_tool_validates() -> None:
    plan = Plan.model_validate(json.loads(MINIMAL_PLAN))
    assert validate_plan(tiny_problem(), default_rules(), plan) == []


def test_minimal_plan_is_still_judged_on_every_hard_rule() -> None:
    """The same minimal plan keeping K12 in C12 leaves district D1 without a non-local holder."""
    plan = Plan.model_validate(json.loads(MINIMAL_PLAN.replace('"O11"', '"K12"')))
    vs = validate_plan(tiny_problem(), default_rules(), plan)
    assert rules_of(vs) == {"non_local_target"}, [str(v) for v in vs]


def test_minimal_plan_file_validates_on_the_command_line(tmp_path: Path) -> None:
    """`rotation validate` exits 0 on the minimal plan file (contract §4)."""
    write_dataset(tiny_problem(), tmp_path / "tiny")
    (tmp_path / "plan.json").write_text(MINIMAL_PLAN, encoding="utf-8")
    result = CliRunner().invoke(
        cli.app, ["validate", str(tmp_path / "tiny"), "--plan", str(tmp_path / "plan.json")]
    )
    assert result.exit_code == 0, result.output


# --------------------------------------------------------------------------- break on purpose
SOLVER_SABOTAGE: dict[str, Sabotage] = {
    **{
        f"compute_kpis/{name}": Sabotage(plan_module, "compute_kpis", f, frozenset({"claim_kpis"}))
        for name, f in KPI_CORRUPTIONS.items()
    },
    **{
        f"plan_from_pairs/{name}": Sabotage(solve_module, "plan_from_pairs", f, frozenset({rule}))
        for name, (f, rule) in PLAN_CORRUPTIONS.items()
    },
}
"""Each plan-building computation of the solver's plan, broken one at a time."""


def test_unbroken_solver_plan_is_valid() -> None:
    """The control for the sabotage tests: the tiny instance's optimum validates."""
    res = solve(tiny_problem(), default_rules())
    assert res.plans and validate_plan(tiny_problem(), default_rules(), res.plans[0]) == []


@pytest.mark.parametrize("name", sorted(SOLVER_SABOTAGE))
def test_solver_plan_with_a_broken_claim_is_caught(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in plan building (a KPI, a flag, the released list) is written into our solver's
    plan and the validator reports it, and only it."""
    sabotage = SOLVER_SABOTAGE[name]
    sabotage.apply(monkeypatch)
    data, rules = tiny_problem(), default_rules()
    res = solve(data, rules)
    assert res.plans, res.status
    vs = validate_plan(data, rules, res.plans[0])
    assert rules_of(vs) == sabotage.expected, [str(v) for v in vs]


PLAN_PY_SABOTAGE: dict[str, Sabotage] = {
    **{
        f"assignment_facts/{name}": Sabotage(plan_module, "assignment_facts", f, expected)
        for name, (f, expected) in FACT_CORRUPTIONS.items()
    },
    **{
        f"compute_kpis/{name}": Sabotage(plan_module, "compute_kpis", f, frozenset({"claim_kpis"}))
        for name, f in KPI_CORRUPTIONS.items()
    },
    **{
        f"plan_from_holders/{name}": Sabotage(
            plan_module, "plan_from_holders", f, frozenset({rule})
        )
        for name, (f, rule) in PLAN_CORRUPTIONS.items()
        if not name.startswith("released")  # builders.plan_from recomputes released itself
    },
}
"""``rotation.plan``'s computations (what the roadmap rounds, repairs and test builders use),
broken one at a time; the plan comes from :func:`builders.plan_from`."""


@pytest.mark.parametrize("name", sorted(PLAN_PY_SABOTAGE))
def test_plan_py_with_a_broken_computation_is_caught(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sabotage = PLAN_PY_SABOTAGE[name]
    sabotage.apply(monkeypatch)
    data, rules = tiny_problem(), default_rules()
    vs = validate_plan(data, rules, plan_from(data, rules, BASELINE_MOVES))
    assert rules_of(vs) == sabotage.expected, [str(v) for v in vs]


# --------------------------------------------------------------------------- independence
VALIDATOR_MODULES = ["rotation.validate", "rotation.roadmap.validate", "rotation.claims"]
PLAN_TYPES = {"Plan", "Assignment", "DiagnosisItem", "Kpis", "NonLocalShare"}
PLAN_BUILDING = ("rotation.solve", "rotation.decompose", "rotation.eligibility", "rotation.model")
PLAN_BUILDING += ("rotation.roadmap.model", "rotation.diagnose", "rotation.explain", "api")


def _imports(module: str) -> list[tuple[str, list[str]]]:
    """(imported module, names) for every import statement in a rotation module."""
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    package = module if spec.origin.endswith("__init__.py") else module.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = importlib.util.resolve_name("." * node.level + base, package)
            out.append((base, [a.name for a in node.names]))
    return out


def test_validators_import_nothing_from_plan_building() -> None:
    """validate.py, roadmap/validate.py and claims.py (and every rotation module they reach,
    except rotation.plan, whose types alone they may take) never import plan-building code."""
    seen: set[str] = set()
    todo = list(VALIDATOR_MODULES)
    while todo:
        mod = todo.pop()
        if mod in seen:
            continue
        seen.add(mod)
        for target, names in _imports(mod):
            assert not target.startswith(PLAN_BUILDING), f"{mod} imports {target}"
            if target == "rotation.plan":
                assert set(names) <= PLAN_TYPES, f"{mod} imports {set(names) - PLAN_TYPES}"
                continue
            if target == "rotation" or target.startswith("rotation."):
                spec = importlib.util.find_spec(target)
                if spec is not None and spec.submodule_search_locations is not None:
                    subs = [f"{target}.{n}" for n in names]
                    todo += [m for m in subs if importlib.util.find_spec(m) is not None]
                todo.append(target)
    assert {"rotation.concepts", "rotation.geo", "rotation.roadmap.state"} <= seen
