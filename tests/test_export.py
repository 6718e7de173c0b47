"""Plan exports: the .xlsx workbook, CSV and GeoJSON."""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
from builders import baseline_plan, default_rules, tiny_problem, with_cadre, with_unit

from rotation.export import plan_to_csv, plan_to_geojson, write_plan_xlsx
from rotation.i18n import translator
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


def _rows(ws) -> list[dict]:
    header = [c.value for c in ws[1]]
    return [dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)]


def _texts(wb) -> list[str]:
    out = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{ws.title}!{c.coordinate} is a formula"
                if isinstance(c.value, str):
                    out.append(c.value)
    return out


def test_xlsx_for_the_committee_in_vietnamese(tmp_path):
    """The workbook (Vietnamese by default) has the cover, posts, released, scope and
    explanation sheets; every assigned and every replaced cadre appears by id and name; the
    scenario values are on the cover; shares are percentages; no formula cell."""
    data, rules = _vietnamese_problem(), default_rules(max_travel_km=55)
    plan = _explained_plan(data, rules)
    path = write_plan_xlsx(data, rules, plan, tmp_path / "plan-1.xlsx")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [
        "Tổng quan",
        "Chức vụ và người giữ",
        "Thôi giữ chức",
        "Theo huyện",
        "Giải thích",
    ]
    texts = _texts(wb)
    cover = {r[0]: r[1] for r in wb["Tổng quan"].iter_rows(values_only=True) if r[0]}
    assert cover["Bộ dữ liệu"] == data.name
    assert cover[translator("vi").param("as_of")] == rules.as_of.strftime("%d/%m/%Y")
    assert "30" in cover[translator("vi").param("non_local_targets")]
    assert cover[translator("vi").param("max_travel_km")] == "55,0 km"  # differs from the default
    ws = wb["Chức vụ và người giữ"]
    assert ws.freeze_panes == "B2" and ws["A1"].font.bold
    rows = _rows(ws)
    new_id, new_name = "Người được đề xuất: Mã cán bộ", "Người được đề xuất: Họ và tên"
    old_id, old_name = "Người đang giữ chức vụ: Mã cán bộ", "Người đang giữ chức vụ: Họ và tên"
    by_post = {r["Mã chức danh"]: r for r in rows}
    for a in plan.assignments:
        r = by_post[a.post_id]
        assert (r[new_id], r[new_name]) == (a.cadre_id, data.cadre_name(a.cadre_id))
        inc = data.posts.at[a.post_id, "incumbent_id"]
        if isinstance(inc, str):
            assert (r[old_id], r[old_name]) == (inc, data.cadre_name(inc))
        assert r["Thay đổi"] == ("có" if a.changed else "không")
    moved = by_post["S-C12"]
    assert moved["Đơn vị"] == "Phường Cẩm Thượng" and moved[new_name] == "Nguyễn Thị Ánh Hồng"
    assert moved["Người được đề xuất: Năm sinh"] == data.cadres.at["O11", "birth_date"].year
    assert moved["Người được đề xuất: Giới tính"] in ("nam", "nữ")
    assert moved["Đến từ (đơn vị)"] == "Huyện 1"
    assert moved["Giải thích"].startswith("Chọn ")
    assert "không phải người địa phương" in moved["Giải thích"]
    assert "nơi ở quá xa" in moved["Giải thích"]  # the alternative a rule refuses, in words
    released = _rows(wb["Thôi giữ chức"])
    assert {r["Thôi giữ chức: Mã cán bộ"] for r in released} == set(plan.released)
    for r in released:
        assert r["Thôi giữ chức: Họ và tên"] == data.cadre_name(r["Thôi giữ chức: Mã cán bộ"])
    scope = wb["Theo huyện"]
    header = [c.value for c in scope[1]]
    share = header.index("Tỷ lệ (sau)") + 1
    assert scope.cell(row=2, column=share).number_format == "0.0%"
    names = [r[0] for r in scope.iter_rows(min_row=2, values_only=True)]
    assert "Huyện 1" in names and len(names) == len(set(names))
    assert not [t for t in texts if "0.3333" in t]
    assert [p.name for p in tmp_path.iterdir()] == ["plan-1.xlsx"]  # no temp file left


def test_xlsx_cover_spells_the_scenario_out(tmp_path):
    """Caps (a list, with an override by unit name), priority shares, support tiers and weights
    that differ from the defaults are on the cover in words."""
    data = _vietnamese_problem()
    rules = default_rules(
        max_changes=[
            {"scope_level": "district", "count": 2, "count_by_scope": {"D1": 3}},
            {"scope_level": "commune", "count": 1},
        ],
        priority_shares=[{"group": "women", "min_share": 0.25}],
        support={"tiers": [{"min_km": 20, "vnd_per_month": 2500000}]},
        weights={"travel_km": 1, "change": 40},
    )
    path = write_plan_xlsx(data, rules, _explained_plan(data, rules), tmp_path / "p.xlsx")
    cover = {
        r[0]: r[1] for r in openpyxl.load_workbook(path)["Tổng quan"].iter_rows(values_only=True)
    }
    t = translator("vi")
    assert cover[t.param("max_changes")] == (
        "tối đa 2 chức danh thay đổi mỗi huyện (Huyện 1: 3); tối đa 1 chức danh thay đổi mỗi xã"
    )
    assert cover[t.param("priority_shares")] == "nữ: tối thiểu 25,0 % số cán bộ nhận chức vụ mới"
    assert cover[t.param("support")] == "từ 20 km: 2.500.000 đ mỗi tháng"
    assert cover[f"{t.param('weights')}: {t.rule('change')}"] == "40"


def test_xlsx_in_english(tmp_path):
    """``lang='en'``: English sheet names and headers."""
    data, rules = _vietnamese_problem(), default_rules()
    path = write_plan_xlsx(data, rules, _explained_plan(data, rules), tmp_path / "p.xlsx", "en")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [
        "Overview",
        "Posts and holders",
        "Released",
        "By district",
        "Explanations",
    ]
    assert _rows(wb["Posts and holders"])[0]["Explanation"].startswith(("Chose ", "Kept "))


def test_xlsx_of_infeasible_plan_has_diagnosis(tmp_path):
    """An infeasible plan's workbook carries a diagnosis sheet, rule and scope in words."""
    data, rules = tiny_problem(), default_rules()
    plan = Plan(
        status="infeasible",
        objective=None,
        bound=None,
        diagnosis=[DiagnosisItem(rule="max_changes", scope="D1", detail="Huyện 1: 1")],
    )
    wb = openpyxl.load_workbook(write_plan_xlsx(data, rules, plan, tmp_path / "x.xlsx"))
    assert "Chẩn đoán" in wb.sheetnames
    t = translator("vi")
    assert [c.value for c in wb["Chẩn đoán"][2]] == [t.rule("max_changes"), "Huyện 1", "Huyện 1: 1"]


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


def test_xlsx_formula_like_names_stay_text(tmp_path):
    """A cadre whose name looks like a formula is a string cell wherever the workbook names
    them (posts, explanations), never a formula."""
    data, rules = _vietnamese_problem(), default_rules()
    evil = '=HYPERLINK("http://x","y")'
    data.cadres.loc["O11", "full_name"] = evil
    plan = _explained_plan(data, rules)
    wb = openpyxl.load_workbook(write_plan_xlsx(data, rules, plan, tmp_path / "p.xlsx"))
    texts = _texts(wb)  # asserts no formula cell
    assert evil in texts and f"O11 {evil}" in texts


def test_xlsx_layout_the_committee_sees(tmp_path):
    """Widths as set (cover 42/70, explanation columns 90, content widths 8–40), a frozen and
    filtered header in white bold on blue, km and money number formats, wrapped explanation
    text, and formula-like text marked as typed text (quote prefix)."""
    data, rules = _vietnamese_problem(), default_rules()
    data.cadres.loc["O11", "full_name"] = "=1+1"
    plan = _explained_plan(data, rules)
    wb = openpyxl.load_workbook(write_plan_xlsx(data, rules, plan, tmp_path / "p.xlsx"))

    def width(ws, col):  # a <col> element may cover several columns
        for d in ws.column_dimensions.values():
            if d.min <= col <= d.max and d.customWidth:
                return d.width
        return None

    cover = wb["Tổng quan"]
    assert (width(cover, 1), width(cover, 2)) == (42, 70)
    assert cover["A1"].font.bold and cover["A1"].font.sz == 14
    assert cover["B2"].alignment.wrap_text and cover["B2"].alignment.horizontal == "left"
    posts = wb["Chức vụ và người giữ"]
    header = [c.value for c in posts[1]]
    ncols, nrows = len(header), posts.max_row
    assert nrows == len(plan.assignments) + 1
    assert posts.auto_filter.ref == f"A1:{posts.cell(1, ncols).column_letter}{nrows}"
    assert posts.freeze_panes == "B2"
    a1 = posts["A1"]
    assert a1.font.bold and a1.font.color.rgb[-6:] == "FFFFFF"
    assert a1.fill.fill_type == "solid" and a1.fill.fgColor.rgb[-6:] == "305496"
    assert a1.alignment.wrap_text and a1.alignment.vertical == "top"
    assert width(posts, ncols) == 90 and posts.cell(2, ncols).alignment.wrap_text
    assert all(8 <= width(posts, c) <= 40 for c in range(1, ncols))
    km, money = header.index("Khoảng cách (km)") + 1, ncols - 1
    assert posts.cell(2, km).number_format == "#,##0.0"
    assert posts.cell(2, money).number_format == "#,##0"
    quoted = [c for row in posts.iter_rows(min_row=2) for c in row if c.value == "=1+1"]
    assert quoted and all(c.data_type == "s" and c.quotePrefix for c in quoted)
    plain = [c for row in posts.iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
    assert not any(c.quotePrefix for c in plain if c.value != "=1+1")


def test_xlsx_missing_figure_is_a_blank_cell(tmp_path):
    """A figure that is not a number (NaN) is a blank cell with its format, never an error or
    formula cell."""
    data, rules = _vietnamese_problem(), default_rules()
    plan = _explained_plan(data, rules)
    plan.objective = float("nan")
    wb = openpyxl.load_workbook(write_plan_xlsx(data, rules, plan, tmp_path / "p.xlsx"))
    _texts(wb)  # asserts no formula cell
    cover = wb["Tổng quan"]
    label = translator("vi").kpi("objective")
    (row,) = [r for r in cover.iter_rows() if r[0].value == label]
    assert row[1].value is None and row[1].number_format == "#,##0.0"


def test_latest_rating_is_the_last_row_of_the_latest_year():
    """The workbook's "latest rating" is the cadre's rating of its latest year, the last row
    of that year when it repeats, whatever the table's order; an unrated cadre has none."""
    from dataclasses import replace

    from rotation.export import _Lookups

    data = tiny_problem()
    ids = list(data.cadres.index)
    a, b, c = ids[0], ids[1], ids[2]
    rows = [
        (a, 2025, "good"),
        (a, 2023, "excellent"),
        (b, 2024, "complete"),
        (a, 2025, "excellent"),  # the same year again: this later row counts
        (b, 2022, "excellent"),
        (a, 2024, "not_complete"),
    ]
    ratings = pd.DataFrame(rows, columns=["cadre_id", "year", "rating"])
    look = _Lookups(replace(data, ratings=ratings))
    assert look.latest_rating(a) == ("excellent", 2025)
    assert look.latest_rating(b) == ("complete", 2024)
    assert look.latest_rating(c) is None
    assert _Lookups(replace(data, ratings=ratings.iloc[:0])).latest_rating(a) is None
