"""Plan exports: the .xlsx workbook, CSV and GeoJSON."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
from builders import baseline_plan, default_rules, tiny_problem, with_cadre, with_unit

from rotation.export import plan_to_csv, plan_to_geojson, write_plan_xlsx
from rotation.plan import DiagnosisItem, Plan


def _vietnamese_problem():
    data = with_unit(tiny_problem(), "C12", name="Phường Cẩm Thượng")
    return with_cadre(data, "O11", full_name="Nguyễn Thị Ánh Hồng")


def _explained_plan(data, rules) -> Plan:
    plan = baseline_plan(data, rules)
    for a in plan.assignments:
        a.score = {"travel_km": a.travel_km, "change": 10.0 if a.changed else 0.0}
        a.alternatives = [
            {
                "cadre_id": "O12",
                "cadre_name": data.cadre_name("O12"),
                "cost_difference": 3.5,
                "why_not": "costs +3.5 more",
                "failed_rule": None,
            },
            {
                "cadre_id": "O22",
                "cadre_name": data.cadre_name("O22"),
                "cost_difference": None,
                "why_not": "travel_distance: 70 km",
                "failed_rule": "travel_distance",
            },
        ]
    return plan


def test_xlsx_has_sheets_and_vietnamese_text(tmp_path):
    """The workbook opens with openpyxl, has every sheet, and keeps Vietnamese names intact."""
    data, rules = _vietnamese_problem(), default_rules()
    path = write_plan_xlsx(data, rules, _explained_plan(data, rules), tmp_path / "plan-1.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["assignments", "kpis", "by_district", "explanations"]
    ws = wb["assignments"]
    header = [c.value for c in ws[1]]
    assert header[:6] == ["post_id", "unit_id", "unit_name", "position", "cadre_id", "full_name"]
    assert ws["A1"].font.bold and ws.freeze_panes == "A2"
    rows = [dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)]
    moved = next(r for r in rows if r["post_id"] == "S-C12")
    assert moved["unit_name"] == "Phường Cẩm Thượng"
    assert moved["full_name"] == "Nguyễn Thị Ánh Hồng"
    assert moved["moved_from"] == "Huyện 1" and moved["moved_to"] == "Phường Cẩm Thượng"
    assert moved["changed"] is True and moved["non_local"] is True
    assert moved["score_change"] == 10 and moved["alt1_cadre_id"] == "O12"
    assert moved["alt2_why_not"] == "travel_distance: 70 km"
    by = [r for r in wb["by_district"].iter_rows(min_row=2, values_only=True)]
    assert any("Huyện 1" in r for r in by)
    assert wb["explanations"].max_row == 1 + 2 * len(rows)
    assert [p.name for p in tmp_path.iterdir()] == ["plan-1.xlsx"]  # no temp file left


def test_xlsx_of_infeasible_plan_has_diagnosis(tmp_path):
    """An infeasible plan's workbook carries a diagnosis sheet."""
    data, rules = tiny_problem(), default_rules()
    plan = Plan(
        status="infeasible",
        objective=None,
        bound=None,
        diagnosis=[DiagnosisItem(rule="max_changes", scope="D1", detail="Huyện 1: 1")],
    )
    wb = openpyxl.load_workbook(write_plan_xlsx(data, rules, plan, tmp_path / "x.xlsx"))
    assert "diagnosis" in wb.sheetnames
    assert [c.value for c in wb["diagnosis"][2]] == ["max_changes", "D1", "Huyện 1: 1"]


def test_csv_has_names():
    """The CSV lists every assignment with unit and cadre names."""
    data, rules = _vietnamese_problem(), default_rules()
    plan = baseline_plan(data, rules)
    df = pd.read_csv(io.StringIO(plan_to_csv(data, plan)), dtype=str, keep_default_na=False)
    assert len(df) == len(plan.assignments)
    assert "Nguyễn Thị Ánh Hồng" in set(df["full_name"])


def test_geojson_has_point_features():
    """One Point feature per post at its commune's [lon, lat], with plan attributes."""
    data, rules = tiny_problem(), default_rules()
    plan = baseline_plan(data, rules)
    gj = plan_to_geojson(data, plan)
    assert gj["type"] == "FeatureCollection"
    assert len(gj["features"]) == len(plan.assignments)
    f = next(f for f in gj["features"] if f["properties"]["post_id"] == "S-C12")
    assert f["geometry"]["type"] == "Point"
    lon, lat = f["geometry"]["coordinates"]
    assert (lat, lon) == (data.units.at["C12", "lat"], data.units.at["C12", "lon"])
    assert f["properties"]["cadre_id"] == "O11" and f["properties"]["non_local"] is True
    assert f["properties"]["scope_name"] == "Huyện 1"


# --------------------------------------------------------------------------- formula injection
HOSTILE = {
    "O11": '=HYPERLINK("http://evil.example","click")',
    "O21": "+1+cmd|' /C calc'!A0",
    "K12": "-1",
    "K22": "@SUM(A1:A9)",
}


def _hostile_dataset(tmp_path):
    """A dataset whose names start like formulas, written to disk and read back by the reader."""
    from rotation.read import read_dataset, write_dataset

    data = with_unit(tiny_problem(), "C12", name="=1+1")
    data = with_unit(data, "C22", name="@x")
    for cid, name in HOSTILE.items():
        data = with_cadre(data, cid, full_name=name)
    write_dataset(data, tmp_path / "hostile")
    back = read_dataset(tmp_path / "hostile")
    assert back.cadres.at["O11", "full_name"] == HOSTILE["O11"]
    return back


def _no_formula_cells(path) -> list[str]:
    """Every text cell of the workbook (asserting none is a formula)."""
    wb = openpyxl.load_workbook(path)
    texts = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{ws.title}!{c.coordinate} is a formula: {c.value!r}"
                if isinstance(c.value, str):
                    texts.append(c.value)
    return texts


def test_exports_never_hold_formulas(tmp_path):
    """Solve on hostile names: the plan workbook holds them as text (no formula cell), the CSV
    prefixes them with ', and the dataset workbook round-trips them exactly."""
    from rotation.cells import FORMULA_START
    from rotation.read import read_dataset, write_dataset
    from rotation.solve import solve

    data, rules = _hostile_dataset(tmp_path), default_rules()
    plan = solve(data, rules).plan
    assert plan.status in ("optimal", "feasible")
    xlsx = write_plan_xlsx(data, rules, plan, tmp_path / "plan-1.xlsx")
    texts = _no_formula_cells(xlsx)
    shown = {data.cadre_name(a.cadre_id) for a in plan.assignments if a.cadre_id}
    shown |= {data.unit_name(a.unit_id) for a in plan.assignments}
    hostile_shown = {t for t in shown if t.startswith(FORMULA_START)}
    assert hostile_shown, "the plan shows at least one hostile name"
    assert hostile_shown <= set(texts)

    frame = pd.read_csv(io.StringIO(plan_to_csv(data, plan)), dtype=str, keep_default_na=False)
    cells = [v for col in ("unit_name", "full_name", "moved_from", "moved_to") for v in frame[col]]
    assert not [v for v in cells if v.startswith(FORMULA_START)]
    assert {f"'{t}" for t in hostile_shown} <= set(cells)

    write_dataset(data, tmp_path / "hostile.xlsx")
    texts = _no_formula_cells(tmp_path / "hostile.xlsx")
    assert set(HOSTILE.values()) <= set(texts)
    back = read_dataset(tmp_path / "hostile.xlsx")
    assert back.cadres.at["O11", "full_name"] == HOSTILE["O11"]
    assert back.units.at["C12", "name"] == "=1+1"
