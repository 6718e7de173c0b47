"""The roadmap validator: every round against its rolled state, and the cross-round rules."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from builders import BASELINE_MOVES, default_rules, plan_from, tiny_problem
from sabotage import FACT_CORRUPTIONS, KPI_CORRUPTIONS, PLAN_CORRUPTIONS, Sabotage
from typer.testing import CliRunner

from rotation import cli
from rotation import plan as plan_module
from rotation.data import ProblemData
from rotation.plan import Plan
from rotation.read import write_dataset
from rotation.roadmap.horizon import Horizon, round_rules
from rotation.roadmap.model import solve_roadmap
from rotation.roadmap.state import project_ratings, roll_forward
from rotation.roadmap.validate import (
    ROADMAP_RULES,
    RoadmapError,
    RoundViolation,
    parse_roadmap,
    roll_states,
    validate_roadmap,
)
from rotation.rules import Rules
from rotation.validate import Violation

ROUNDS = [dt.date(2026, 1, 1), dt.date(2027, 1, 1), dt.date(2028, 1, 1)]
D1_TWO_NON_LOCAL = {"S-C12": "O11", "S-C13": "O12"}
"""Round moves that give district D1 two non-local secretaries (K12, K13 released)."""


def horizon_rules(horizon: Mapping[str, Any] | None = None, **overrides: Any) -> Rules:
    """Default rules with a three-round horizon (2026–2028) merged with ``horizon``."""
    return default_rules(horizon={"rounds": ROUNDS, **(horizon or {})}, **overrides)


def build_roadmap(
    data: ProblemData,
    rules: Rules,
    moves: Sequence[Mapping[str, str | None]],
    *,
    days: Sequence[dt.date] | None = None,
    status: str = "feasible",
) -> dict[str, Any]:
    """A roadmap JSON with correct claims: round k's plan is ``plan_from`` the state rolled
    through the earlier rounds (ratings projected, retirements removed), under round k's rules."""
    h = Horizon.model_validate(rules.horizon or {})
    days = list(days or h.rounds)
    h = h.model_copy(update={"rounds": days})
    state = project_ratings(data, days[-1].year)
    state = roll_forward(state, rules, Plan(status="feasible"), days[0], days[0])
    rounds = []
    for k, day in enumerate(days):
        plan = plan_from(state, round_rules(rules, h, k), moves[k])
        rounds.append({"as_of": day.isoformat(), "plan": plan.model_dump(mode="json")})
        nxt = days[k + 1] if k + 1 < len(days) else None
        state = roll_forward(state, rules, plan, day, nxt)
    return {"status": status, "rounds": rounds, "kpis_by_round": [], "diagnosis": []}


def rules_of(violations: list[RoundViolation]) -> set[str]:
    return {v.rule for v in violations}


# =========================================================================== valid
def test_valid_three_round_roadmap_passes():
    """Baseline moves in 2026, then two quiet rounds: no violation."""
    data = tiny_problem()
    rules = horizon_rules({"trajectory": [{"shares": {"2026-01-01": 0.3}}]})
    roadmap = build_roadmap(data, rules, [BASELINE_MOVES, {}, {}])
    assert validate_roadmap(data, rules, roadmap) == []


def test_two_round_roadmap_with_a_move_each_round_passes():
    """Moves in both rounds of a two-round horizon, newcomers kept: valid."""
    data = tiny_problem()
    rules = default_rules(horizon={"rounds": ROUNDS[:2]})
    roadmap = build_roadmap(data, rules, [BASELINE_MOVES, {"S-C13": "O12"}])
    assert validate_roadmap(data, rules, roadmap) == []


# =========================================================================== cross-round rules
def _moves_newcomer_after_one_year() -> list[dict[str, str | None]]:
    # 2027: O11 (new at S-C12 in 2026) moves on to S-C13; K12 comes back to S-C12
    return [BASELINE_MOVES, {"S-C13": "O11", "S-C12": "K12"}, {}]


def test_min_stay_broken_by_moving_a_newcomer_after_one_year():
    """A cadre who took a post in 2026 and moves again in 2027 breaks min_stay (3 years)."""
    data = tiny_problem()
    rules = horizon_rules(min_years_in_post=0)
    roadmap = build_roadmap(data, rules, _moves_newcomer_after_one_year())
    out = validate_roadmap(data, rules, roadmap)
    assert rules_of(out) == {"min_stay"}, out
    (v,) = out
    assert (v.round, v.violation.post_id, v.violation.cadre_id) == (ROUNDS[1], "S-C12", "O11")
    assert str(v).startswith("2027-01-01: min_stay: post S-C12 (Xã 12), cadre O11")
    assert "moves to S-C13" in str(v)


def test_min_stay_over_once_the_years_have_passed():
    """With min_stay_years 1 the same second move is allowed (one calendar year later)."""
    data = tiny_problem()
    rules = horizon_rules({"min_stay_years": 1}, min_years_in_post=0)
    roadmap = build_roadmap(data, rules, _moves_newcomer_after_one_year())
    assert validate_roadmap(data, rules, roadmap) == []


def test_min_stay_does_not_hold_a_retired_cadre():
    """A newcomer who retires before the next round leaves without breaking min_stay."""
    data = tiny_problem(cadres={"O11": {"gender": "M", "birth_date": dt.date(1964, 7, 1)}})
    rules = horizon_rules(
        min_years_in_post=0,
        min_years_to_retirement=0,
        min_years_to_retirement_from_office=0,
        retirement_age={"M": 62, "F": 60},
    )
    # O11 retires on 2026-07-01: S-C12 is vacant in 2027 and K12 fills it again
    roadmap = build_roadmap(data, rules, [BASELINE_MOVES, {"S-C12": "K12", "S-C13": "O12"}, {}])
    assert validate_roadmap(data, rules, roadmap) == []


NEVER_DECREASE = {
    "min_stay_years": 1,
    "trajectory": [{"shares": {"2026-01-01": 0.3}, "never_decrease": True}],
}


def test_never_decrease_broken_when_a_scope_loses_a_non_local_holder():
    """D1 has two non-local secretaries after 2026; one local back in 2028 breaks never_decrease
    even though the 30% target still holds."""
    data = tiny_problem()
    rules = horizon_rules(NEVER_DECREASE, min_years_in_post=1)
    moves = [{**D1_TWO_NON_LOCAL, "S-C22": "O21"}, {}, {"S-C13": "K13"}]
    out = validate_roadmap(data, rules, build_roadmap(data, rules, moves))
    assert rules_of(out) == {"never_decrease"}, out
    (v,) = out
    assert v.round == ROUNDS[2]
    assert "district D1 (Huyện 1): 1 of 3 secretary posts" in str(v)
    assert "fewer than the 2 after the previous round (2027-01-01)" in str(v)


def test_never_decrease_off_allows_the_same_roadmap():
    """The same roadmap is valid when the trajectory does not ask never_decrease."""
    data = tiny_problem()
    traj = [{"shares": {"2026-01-01": 0.3}, "never_decrease": False}]
    rules = horizon_rules({**NEVER_DECREASE, "trajectory": traj}, min_years_in_post=1)
    moves = [{**D1_TWO_NON_LOCAL, "S-C22": "O21"}, {}, {"S-C13": "K13"}]
    assert validate_roadmap(data, rules, build_roadmap(data, rules, moves)) == []


@pytest.mark.parametrize(
    ("days", "expect"),
    [
        ([ROUNDS[0], ROUNDS[2]], "missing 2027-01-01"),
        ([*ROUNDS, dt.date(2029, 1, 1)], "not in the horizon 2029-01-01"),
        ([ROUNDS[1], ROUNDS[0], ROUNDS[2]], "out of order or repeated"),
    ],
    ids=["missing", "extra", "out_of_order"],
)
def test_wrong_rounds_list_is_caught(days: list[dt.date], expect: str):
    """A roadmap must list exactly the horizon's rounds, in order."""
    data = tiny_problem()
    rules = horizon_rules()
    good = build_roadmap(data, rules, [BASELINE_MOVES, {}, {}])
    by_day = {r["as_of"]: r for r in good["rounds"]}
    last = good["rounds"][-1]["plan"]
    rounds = [by_day.get(d.isoformat(), {"as_of": d.isoformat(), "plan": last}) for d in days]
    for r, d in zip(rounds, days, strict=True):
        r["as_of"] = d.isoformat()
    out = validate_roadmap(data, rules, {**good, "rounds": rounds})
    hits = [v for v in out if v.rule == "rounds"]
    assert len(hits) == 1 and hits[0].round is None, out
    assert expect in str(hits[0])
    assert str(hits[0]).startswith("roadmap: rounds: ")


def test_a_normal_rule_broken_in_one_round_is_reported_with_its_date():
    """A move over max_travel_km in the 2027 round is a travel_distance line dated 2027-01-01."""
    data = tiny_problem()
    rules = horizon_rules(max_travel_km=10)
    roadmap = build_roadmap(data, rules, [BASELINE_MOVES, {"S-C21": "O12"}, {}])
    out = validate_roadmap(data, rules, roadmap)
    assert [(v.round, v.rule) for v in out] == [(ROUNDS[1], "travel_distance")], out
    assert str(out[0]).startswith("2027-01-01: travel_distance: post S-C21 (Xã 21), cadre O12")


def test_trajectory_share_is_enforced_per_round():
    """A share of 60% from 2027 makes the quiet 2027 round miss the target in both districts."""
    data = tiny_problem()
    rules = horizon_rules({"trajectory": [{"shares": {"2026-01-01": 0.3, "2027-01-01": 0.6}}]})
    out = validate_roadmap(data, rules, build_roadmap(data, rules, [BASELINE_MOVES, {}, {}]))
    assert {(v.round, v.rule) for v in out} == {(ROUNDS[1], "non_local_target"),
                                                (ROUNDS[2], "non_local_target")}  # fmt: skip
    assert sum(v.round == ROUNDS[1] for v in out) == 2
    assert "need 2 (60%)" in str(out[0])


def test_max_changes_per_round_is_enforced():
    """Two changes in D1 in one round break max_changes_per_round {district, 1}."""
    data = tiny_problem()
    rules = horizon_rules({"max_changes_per_round": {"scope_level": "district", "count": 1}})
    moves = [{**D1_TWO_NON_LOCAL, "S-C22": "O21"}, {}, {}]
    out = validate_roadmap(data, rules, build_roadmap(data, rules, moves))
    assert [(v.round, v.rule) for v in out] == [(ROUNDS[0], "max_changes")], out


def test_infeasible_roadmap_needs_a_diagnosis():
    """Status infeasible with an empty diagnosis is claim_diagnosis; with one it is accepted."""
    data = tiny_problem()
    rules = horizon_rules()
    empty = {"status": "infeasible", "rounds": [], "diagnosis": []}
    out = validate_roadmap(data, rules, empty)
    assert rules_of(out) == {"claim_diagnosis"}
    item = {"rule": "non_local_target", "scope": "D1", "detail": "2026: too few candidates"}
    assert validate_roadmap(data, rules, {**empty, "diagnosis": [item]}) == []


def test_feasible_roadmap_with_an_infeasible_round_is_caught():
    """A feasible roadmap whose round plan says infeasible is a rounds violation."""
    data = tiny_problem()
    rules = horizon_rules()
    roadmap = build_roadmap(data, rules, [BASELINE_MOVES, {}, {}])
    roadmap["rounds"][1]["plan"]["status"] = "infeasible"
    roadmap["rounds"][1]["plan"]["diagnosis"] = [{"rule": "x", "scope": "y", "detail": "z"}]
    out = validate_roadmap(data, rules, roadmap)
    assert (ROUNDS[1], "rounds") in {(v.round, v.rule) for v in out}


# =========================================================================== states
def test_retiring_cadre_disappears_and_the_post_is_vacant_next_round():
    """K13 retires 2026-07-01: gone from the 2027 state, S-C13 vacant there and must be filled."""
    data = tiny_problem(cadres={"K13": {"gender": "M", "birth_date": dt.date(1964, 7, 1)}})
    rules = horizon_rules(retirement_age={"M": 62, "F": 60})
    roadmap = build_roadmap(data, rules, [BASELINE_MOVES, {"S-C13": "O12"}, {}])
    states = roll_states(data, rules, roadmap)
    assert [len(states), "K13" in states[0].cadres.index] == [3, True]
    assert "K13" not in states[1].cadres.index
    assert pd.isna(states[1].posts.at["S-C13", "incumbent_id"])
    assert states[2].posts.at["S-C13", "incumbent_id"] == "O12"
    assert validate_roadmap(data, rules, roadmap) == []
    unfilled = build_roadmap(data, rules, [BASELINE_MOVES, {"S-C13": None}, {}])
    out = validate_roadmap(data, rules, unfilled)
    assert (ROUNDS[1], "fill_every_post", "S-C13") in {
        (v.round, v.rule, v.violation.post_id) for v in out
    }


def test_newcomers_start_their_post_on_the_round_date():
    """After the 2026 round O11 works at C12 since 2026-01-01; released K12 is at the D1 office."""
    data = tiny_problem()
    rules = horizon_rules()
    states = roll_states(data, rules, build_roadmap(data, rules, [BASELINE_MOVES, {}, {}]))
    c = states[1].cadres
    assert (c.at["O11", "current_unit_id"], c.at["O11", "current_since"]) == ("C12", ROUNDS[0])
    assert (c.at["K12", "current_unit_id"], c.at["K12", "current_since"]) == ("D1", ROUNDS[0])


def test_ratings_are_projected_to_the_last_round():
    """Each cadre keeps the latest known rating for 2026 and 2027 (the 2028 round reads them)."""
    data = tiny_problem(ratings=[("O11", 2025, "excellent")])
    rules = horizon_rules()
    state = roll_states(data, rules, build_roadmap(data, rules, [BASELINE_MOVES, {}, {}]))[0]
    r = state.ratings.set_index(["cadre_id", "year"])["rating"]
    assert r[("O11", 2026)] == r[("O11", 2027)] == "excellent"
    assert r[("K11", 2027)] == "good"


# =========================================================================== shape
def test_round_violation_prefixes_the_round_date():
    """str() is '<round date>: <violation>'."""
    v = RoundViolation(ROUNDS[1], Violation("min_stay", "S-C12", "O11", "moved"))
    assert str(v) == "2027-01-01: min_stay: post S-C12, cadre O11: moved"


def test_roadmap_rule_names_are_documented():
    """The cross-round rules are named rounds, min_stay and never_decrease."""
    assert set(ROADMAP_RULES) == {"rounds", "min_stay", "never_decrease"}


@pytest.mark.parametrize(
    "doc",
    [[], {"status": "done", "rounds": []}, {"status": "feasible", "rounds": [{"as_of": "x"}]},
     {"status": "feasible", "rounds": [{"as_of": "2026-01-01", "plan": {"status": "?"}}]}],
    ids=["not_object", "status", "date", "plan"],
)  # fmt: skip
def test_malformed_roadmap_is_an_input_error(doc: Any):
    """A document that is not a roadmap raises RoadmapError (bad input), not violations."""
    with pytest.raises(RoadmapError):
        parse_roadmap(doc)


# =========================================================================== command line
runner = CliRunner()


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """The tiny dataset as CSV files and a rules file with a three-round horizon."""
    write_dataset(tiny_problem(), tmp_path / "tiny")
    rules = tmp_path / "rules.json"
    rules.write_text(
        json.dumps({"horizon": {"rounds": [d.isoformat() for d in ROUNDS]}}), encoding="utf-8"
    )
    return {"data": tmp_path / "tiny", "rules": rules, "dir": tmp_path}


def _validate(files: dict[str, Path], roadmap: dict[str, Any]):
    path = files["dir"] / "roadmap.json"
    path.write_text(json.dumps(roadmap, ensure_ascii=False), encoding="utf-8")
    args = ["validate", files["data"], "--rules", files["rules"], "--plan", path, "--roadmap"]
    return runner.invoke(cli.app, [str(a) for a in args])


def test_cli_validate_roadmap_valid_exits_0(files: dict[str, Path]):
    """`validate --roadmap` on a valid roadmap exits 0 and says so."""
    rules = horizon_rules()
    result = _validate(files, build_roadmap(tiny_problem(), rules, [BASELINE_MOVES, {}, {}]))
    assert result.exit_code == 0, result.output
    assert "valid: 3 round(s)" in result.stdout


def test_cli_validate_roadmap_invalid_exits_1_with_dated_lines(files: dict[str, Path]):
    """Sending a 2026 newcomer away in 2027 exits 1 with one dated line per violation."""
    rules = horizon_rules()
    roadmap = build_roadmap(tiny_problem(), rules, [BASELINE_MOVES, {"S-C12": "K12"}, {}])
    result = _validate(files, roadmap)
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert any(line.startswith("2027-01-01: min_stay: post S-C12") for line in lines), lines
    assert any(line.startswith("2027-01-01: minimum_tenure: ") for line in lines), lines


def test_cli_validate_roadmap_bad_file_exits_2(files: dict[str, Path]):
    """A JSON that is not a roadmap is bad input: exit 2, one line, no traceback."""
    result = _validate(files, {"status": "feasible", "rounds": [{"as_of": "soon"}]})
    assert result.exit_code == 2, result.output
    assert "not a valid roadmap: rounds[0].as_of: 'soon' is not a YYYY-MM-DD date" in (
        result.stderr
    )
    assert "Traceback" not in result.output


# =========================================================================== claims
def _foresight() -> tuple[ProblemData, Rules]:
    """One district; K11 must leave in 2026 (tenure limit); 2027 needs 1 of 3 non-local."""
    data = tiny_problem(districts=1, cadres={"K11": {"current_since": dt.date(2010, 1, 1)}})
    horizon = {
        "rounds": ROUNDS[:2],
        "trajectory": [{"shares": {"2026-01-01": 0.0, "2027-01-01": 0.3}, "never_decrease": True}],
    }
    return data, default_rules(horizon=horizon, time_limit_s=20)


@pytest.fixture(scope="module")
def solved() -> dict[str, Any]:
    """The roadmap model's answer on the foresight case (JSON), valid as it stands."""
    data, rules = _foresight()
    doc = solve_roadmap(data, rules).to_json()
    assert validate_roadmap(data, rules, doc) == [], validate_roadmap(data, rules, doc)
    assert len(doc["kpis_by_round"]) == 2
    return doc


ROADMAP_SABOTAGE: dict[str, Sabotage] = {
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
    },
}
"""``rotation.plan``'s computations, which write every round of the roadmap model's answer,
broken one at a time."""


@pytest.mark.parametrize("name", sorted(ROADMAP_SABOTAGE))
def test_roadmap_with_a_broken_claim_is_caught(name: str, monkeypatch: pytest.MonkeyPatch):
    """A bug in plan building is written into the roadmap's rounds (and kpis_by_round) and the
    roadmap validator reports it, dated, and nothing else."""
    sabotage = ROADMAP_SABOTAGE[name]
    sabotage.apply(monkeypatch)
    data, rules = _foresight()
    out = validate_roadmap(data, rules, solve_roadmap(data, rules).to_json())
    assert rules_of(out) == sabotage.expected, [str(v) for v in out]
    assert all(v.round in ROUNDS[:2] for v in out)


def test_kpis_by_round_absent_or_empty_is_not_claimed(solved: dict[str, Any]):
    data, rules = _foresight()
    without = {k: v for k, v in solved.items() if k != "kpis_by_round"}
    assert validate_roadmap(data, rules, without) == []
    assert validate_roadmap(data, rules, {**without, "kpis_by_round": []}) == []


def _edit_kpis(doc: dict[str, Any], k: int, **fields: Any) -> dict[str, Any]:
    doc = json.loads(json.dumps(doc))
    doc["kpis_by_round"][k].update(fields)
    return doc


@pytest.mark.parametrize(
    ("k", "fields", "line"),
    [
        (0, {"changed_posts": 9}, "kpis_by_round[0].changed_posts 9, recomputed"),
        (1, {"total_travel_km": -1.0}, "kpis_by_round[1].total_travel_km -1.0, recomputed"),
        (1, {"non_local_share": {"overall": 0.0}}, "kpis_by_round[1].non_local_share.overall"),
        (0, {"as_of": "2027-01-01"}, "kpis_by_round[0].as_of '2027-01-01', the round is"),
        (1, {"target_shares": {"secretary": 0.0}}, "kpis_by_round[1].target_shares"),
        (1, {"target_shares": {}}, "kpis_by_round[1].target_shares {}, the shares in force"),
    ],
)
def test_a_wrong_kpis_by_round_entry_is_caught(
    solved: dict[str, Any], k: int, fields: dict[str, Any], line: str
):
    """Each claimed KPI of a round is recomputed from that round's plan and state."""
    data, rules = _foresight()
    out = validate_roadmap(data, rules, _edit_kpis(solved, k, **fields))
    assert [(v.round, v.rule) for v in out] == [(ROUNDS[k], "claim_kpis")], out
    assert out[0].violation.message.startswith(line), str(out[0])


def test_kpis_by_round_must_have_one_object_per_round(solved: dict[str, Any]):
    data, rules = _foresight()
    short = {**solved, "kpis_by_round": solved["kpis_by_round"][:1]}
    (v,) = validate_roadmap(data, rules, short)
    assert (v.round, v.rule) == (None, "claim_kpis") and "1 entries for 2 rounds" in str(v)
    odd = {**solved, "kpis_by_round": [solved["kpis_by_round"][0], 3]}
    (v,) = validate_roadmap(data, rules, odd)
    assert (v.round, v.rule) == (ROUNDS[1], "claim_kpis") and "not an object" in str(v)
    (v,) = validate_roadmap(data, rules, {**solved, "kpis_by_round": {"x": 1}})
    assert (v.round, v.rule) == (None, "claim_kpis")


def test_minimal_round_plans_validate():
    """Rounds whose plans carry only the required fields (holders) are judged on the rules."""
    data = tiny_problem()
    rules = horizon_rules()
    roadmap = build_roadmap(data, rules, [BASELINE_MOVES, {}, {}])
    keep = {"post_id", "unit_id", "position", "cadre_id"}
    for r in roadmap["rounds"]:
        plan = r["plan"]
        r["plan"] = {
            "status": plan["status"],
            "assignments": [{k: a[k] for k in keep} for a in plan["assignments"]],
        }
    assert validate_roadmap(data, rules, roadmap) == []


def test_rolling_reads_units_from_the_data_not_the_claims():
    """A round plan's wrong unit_id is a claim_unit_position in that round only: the next round
    starts with the newcomer at the post's real unit."""
    data = tiny_problem()
    rules = horizon_rules()
    roadmap = build_roadmap(data, rules, [BASELINE_MOVES, {}, {}])
    for a in roadmap["rounds"][0]["plan"]["assignments"]:
        if a["post_id"] == "S-C12":
            a["unit_id"] = "C13"
    states = roll_states(data, rules, roadmap)
    assert states[1].cadres.at["O11", "current_unit_id"] == "C12"
    out = validate_roadmap(data, rules, roadmap)
    assert [(v.round, v.rule) for v in out] == [(ROUNDS[0], "claim_unit_position")], out
