"""The roadmap workbook and the `rotation roadmap` command."""

from __future__ import annotations

import datetime as dt
import importlib
import json
from pathlib import Path
from typing import Any

import pytest
from builders import BASELINE_MOVES, tiny_problem
from openpyxl import load_workbook
from test_roadmap_validate import ROUNDS, build_roadmap, horizon_rules
from typer.testing import CliRunner

from rotation import cli
from rotation.read import read_dataset, write_dataset
from rotation.roadmap.export import window_ends, write_roadmap_xlsx
from rotation.roadmap.validate import validate_roadmap

runner = CliRunner()


def _rows(ws) -> list[dict[str, Any]]:
    values = list(ws.iter_rows(values_only=True))
    return [dict(zip(values[0], r, strict=True)) for r in values[1:]]


def _day(v: Any) -> dt.date:
    return v.date() if isinstance(v, dt.datetime) else v


@pytest.fixture
def workbook(tmp_path: Path):
    """The workbook of a 3-round roadmap where K13 retires mid-2026 and O12 fills S-C13 in 2027,
    under a trajectory rising to 60% in 2028 (met by swaps in D1 and D2)."""
    data = tiny_problem(cadres={"K13": {"gender": "M", "birth_date": dt.date(1964, 7, 1)}})
    rules = horizon_rules(
        {"trajectory": [{"shares": {"2026-01-01": 0.3, "2028-01-01": 0.6}}]},
        retirement_age={"M": 62, "F": 60},
        max_years_in_post=6.9,
    )
    moves = [BASELINE_MOVES, {"S-C13": "O12"}, {"S-C11": "K23", "S-C23": "K11", "S-C21": "O22"}]
    roadmap = build_roadmap(data, rules, moves)
    assert validate_roadmap(data, rules, roadmap) == []
    path = write_roadmap_xlsx(data, rules, roadmap, tmp_path / "out" / "roadmap.xlsx")
    return load_workbook(path), data, tmp_path / "out"


def test_workbook_has_the_sheets_with_bold_frozen_headers(workbook):
    """status (what it rests on), timeline, kpis and vacancy_forecast, each with a bold frozen header; no temp file left."""
    wb, _, out = workbook
    assert wb.sheetnames == ["status", "timeline", "kpis", "vacancy_forecast"]
    status = [c.value for c in wb["status"][2]]
    assert status[0] in ("optimal", "feasible")
    assert status[1] == "Not proven: no bound known."  # a hand-built roadmap has no stats
    for ws in wb:
        assert ws.freeze_panes == "A2"
        assert all(c.font.bold for c in ws[1])
    assert sorted(p.name for p in out.iterdir()) == ["roadmap.xlsx"]


def test_timeline_lists_changed_posts_with_vietnamese_names(workbook):
    """One row per changed post per round, names intact (Xã, Huyện, Nguyễn …)."""
    wb, data, _ = workbook
    rows = _rows(wb["timeline"])
    got = [(_day(r["round"]), r["post_id"], r["cadre_id"]) for r in rows]
    assert got[:3] == [(ROUNDS[0], "S-C12", "O11"), (ROUNDS[0], "S-C22", "O21"),
                       (ROUNDS[1], "S-C13", "O12")]  # fmt: skip
    assert len(rows) == 6
    first = rows[0]
    assert first["full_name"] == data.cadre_name("O11")
    assert (first["unit_name"], first["moved_from"], first["moved_to"]) == (
        "Xã 12",
        "Huyện 1",
        "Xã 12",
    )
    assert first["non_local"] is True and first["travel_km"] == pytest.approx(4.05, abs=0.01)
    names = {r["full_name"] for r in rows}
    assert any(ch in "".join(names) for ch in "ễạịơưđ")


def test_kpis_sheet_shows_the_target_in_force_each_round(workbook):
    """Per round and district: posts, non-local, share, the trajectory's share, changes."""
    wb, _, _ = workbook
    rows = _rows(wb["kpis"])
    d1 = {_day(r["round"]): r for r in rows if r["scope_id"] == "D1"}
    assert [d1[d]["target_share"] for d in ROUNDS] == [0.3, 0.3, 0.6]
    assert [d1[d]["non_local"] for d in ROUNDS] == [1, 2, 3]
    assert [d1[d]["changes"] for d in ROUNDS] == [1, 1, 1]
    assert d1[ROUNDS[0]]["scope_name"] == "Huyện 1" and d1[ROUNDS[2]]["required"] == 2
    total = [r for r in rows if r["scope_level"] == "all"]
    assert [r["changes"] for r in total] == [2, 1, 3]


def test_vacancy_forecast_lists_retirements_and_tenure_limits(workbook):
    """K13 retiring 2026-07-01 shows in the 2026 window; incumbents since 2021 reach
    max_years_in_post 6.9 in the 2027 window (on 2027-12-01)."""
    wb, data, _ = workbook
    rows = _rows(wb["vacancy_forecast"])
    retire = [r for r in rows if r["reason"] == "retirement"]
    assert [(_day(r["round"]), r["cadre_id"], _day(r["due_date"])) for r in retire] == [
        (ROUNDS[0], "K13", dt.date(2026, 7, 1))
    ]
    assert retire[0]["full_name"] == data.cadre_name("K13") and retire[0]["unit_name"] == "Xã 13"
    tenure = {(_day(r["round"]), r["cadre_id"]) for r in rows if r["reason"] == "max_tenure"}
    # K12, K22 were released in 2026, K13 retired; the 2028 round moves the other three on
    assert tenure == {(ROUNDS[1], "K11"), (ROUNDS[1], "K21"), (ROUNDS[1], "K23")}
    due = {_day(r["due_date"]) for r in rows if r["reason"] == "max_tenure"}
    assert due == {dt.date(2027, 12, 1)}


def test_window_of_the_last_round_repeats_the_previous_interval():
    """Forecast windows end at the next round; the last one interval after it."""
    assert window_ends(ROUNDS) == [ROUNDS[1], ROUNDS[2], dt.date(2029, 1, 1)]
    assert window_ends(ROUNDS[:1]) == [dt.date(2027, 1, 1)]


def test_infeasible_roadmap_gets_a_diagnosis_sheet(tmp_path: Path):
    """An infeasible roadmap writes its diagnosis on its own sheet."""
    rules = horizon_rules()
    doc = {
        "status": "infeasible",
        "rounds": [],
        "diagnosis": [{"rule": "non_local_target", "scope": "Huyện 1", "detail": "2026: thiếu"}],
    }
    wb = load_workbook(write_roadmap_xlsx(tiny_problem(), rules, doc, tmp_path / "r.xlsx"))
    assert wb.sheetnames == ["status", "timeline", "kpis", "vacancy_forecast", "diagnosis"]
    assert _rows(wb["diagnosis"]) == [doc["diagnosis"][0]]


# =========================================================================== command line
def _model_ready() -> None:
    """The `roadmap` command needs the roadmap model: fail loudly (never skip) without it."""
    try:
        model = importlib.import_module("rotation.roadmap.model")
    except ImportError as exc:
        pytest.fail(f"rotation.roadmap.model is missing ({exc}): `rotation roadmap` cannot run")
    if not hasattr(model, "solve_roadmap"):
        pytest.fail("rotation.roadmap.model has no solve_roadmap: `rotation roadmap` cannot run")


def _run(tmp_path: Path, horizon: dict[str, Any], **rules: Any):
    write_dataset(tiny_problem(), tmp_path / "tiny")
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"time_limit_s": 10, "horizon": horizon, **rules}), "utf-8")
    args = ["roadmap", tmp_path / "tiny", "--rules", path, "--out", tmp_path / "out", "--quiet"]
    return runner.invoke(cli.app, [str(a) for a in args]), path


ROUND_TEXT = [d.isoformat() for d in ROUNDS]


def test_cli_roadmap_writes_json_and_workbook_and_validates(tmp_path: Path):
    """`rotation roadmap` exits 0, prints a per-round table, writes a roadmap that validates."""
    _model_ready()
    result, rules_path = _run(tmp_path, {"rounds": ROUND_TEXT})
    assert result.exit_code == 0, result.output
    for day in ROUND_TEXT:
        assert day in result.stdout
    assert (
        "Proven optimal over every eligible" in result.stdout or "Not proven: gap" in result.stdout
    )
    out = tmp_path / "out"
    doc = json.loads((out / "roadmap.json").read_text(encoding="utf-8"))
    assert [r["as_of"] for r in doc["rounds"]] == ROUND_TEXT
    assert load_workbook(out / "roadmap.xlsx").sheetnames[:4] == [
        "status",
        "timeline",
        "kpis",
        "vacancy_forecast",
    ]
    from rotation.rules import load_rules

    data = read_dataset(tmp_path / "tiny")
    assert validate_roadmap(data, load_rules(rules_path), doc) == []
    check = runner.invoke(
        cli.app,
        [str(a) for a in ("validate", tmp_path / "tiny", "--rules", rules_path,
                          "--plan", out / "roadmap.json", "--roadmap")],
    )  # fmt: skip
    assert check.exit_code == 0, check.output


def test_cli_roadmap_infeasible_exits_3_with_diagnosis(tmp_path: Path):
    """Nobody can travel 1 km: the 30% target cannot be met; exit 3, diagnosis printed and
    written as roadmap.json (status infeasible)."""
    _model_ready()
    result, _ = _run(tmp_path, {"rounds": ROUND_TEXT}, max_travel_km=1)
    assert result.exit_code == 3, result.output
    doc = json.loads((tmp_path / "out" / "roadmap.json").read_text(encoding="utf-8"))
    assert doc["status"] == "infeasible" and doc["diagnosis"]
    assert "Diagnosis" in result.stdout


def test_cli_roadmap_bad_horizon_exits_2(tmp_path: Path):
    """An unknown horizon key is bad input: exit 2 naming horizon.<key>, no traceback."""
    result, _ = _run(tmp_path, {"rounds": ROUND_TEXT, "min_stay": 3})
    assert result.exit_code == 2, result.output
    assert "horizon.min_stay" in result.stderr
    assert "Traceback" not in result.output


def test_roadmap_workbook_holds_hostile_names_as_text(tmp_path: Path):
    """A holder named like a formula is a string cell in every sheet, never a formula."""
    name = '=HYPERLINK("http://evil.example","x")'
    data = tiny_problem(cadres={"O11": {"full_name": name}})
    rules = horizon_rules({"trajectory": [{"shares": {"2026-01-01": 0.3}}]})
    roadmap = build_roadmap(data, rules, [BASELINE_MOVES, {}, {}])
    path = write_roadmap_xlsx(data, rules, roadmap, tmp_path / "roadmap.xlsx")
    wb = load_workbook(path)
    found = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{ws.title}!{c.coordinate}"
                found += [c.value] if c.value == name else []
    assert found, "the hostile holder appears in the timeline"
