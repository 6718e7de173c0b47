"""Variants side by side (rotation.compare, ``rotation compare``): two plans of the bundled data
made with different rules, a plan of another dataset, the workbook's cells."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import openpyxl
import pytest
import typer
from typer.testing import CliRunner

from rotation.cli_meeting import register
from rotation.compare import (
    PlanMismatch,
    compare_plans,
    format_kpi,
    safe_cell,
    write_compare_xlsx,
)
from rotation.i18n import translator
from rotation.plan import Plan
from rotation.read import read_dataset
from rotation.rules import Rules, load_rules
from rotation.solve import solve

REPO = Path(__file__).resolve().parents[1]
BUNDLED = REPO / "data" / "hai_duong"


@pytest.fixture(scope="module")
def data():
    return read_dataset(BUNDLED)


@pytest.fixture(scope="module")
def two_rules() -> list[Rules]:
    """The documented defaults (a move costs 50 km) and the example file (a move costs 10 km)."""
    return [Rules.model_validate({}), load_rules(REPO / "tests" / "data" / "variant_rules.yaml")]


@pytest.fixture(scope="module")
def two_plans(data, two_rules) -> list[Plan]:
    return [solve(data, r).plan for r in two_rules]


@pytest.fixture
def cli_app() -> typer.Typer:
    app = typer.Typer()
    app.command("noop")(lambda: None)  # two commands: typer keeps subcommand names
    register(app)
    return app


def test_differing_posts_are_exactly_those_whose_holders_differ(data, two_plans):
    """Every post listed differs, every post that differs is listed, with names from the data."""
    c = compare_plans(data, two_plans, ["defaults", "example"])
    h1, h2 = two_plans[0].holder(), two_plans[1].holder()
    expected = sorted(p for p in h1 if h1[p] != h2[p])
    assert expected, "the two scenarios should differ somewhere"
    assert [d.post_id for d in c.differences] == expected
    for d in c.differences:
        assert [h.cadre_id for h in d.holders] == [h1[d.post_id], h2[d.post_id]]
        for h in d.holders:
            assert h.cadre_name == data.cadre_name(h.cadre_id)
        assert d.unit_name == data.unit_name(data.posts.at[d.post_id, "unit_id"])
        assert d.incumbent.cadre_id == data.posts.at[d.post_id, "incumbent_id"]


def test_kpis_side_by_side_match_each_plan(data, two_plans):
    """KPI rows carry each plan's own numbers: coverage overall and by scope, changes, km."""
    c = compare_plans(data, two_plans)
    by_key = {(r.key, r.scope_id): r.values for r in c.kpis}
    assert by_key[("changed_posts", None)] == [p.kpis.changed_posts for p in two_plans]
    assert by_key[("released", None)] == [len(p.released) for p in two_plans]
    assert by_key[("total_travel_km", None)] == [p.kpis.total_travel_km for p in two_plans]
    assert by_key[("objective", None)] == [p.objective for p in two_plans]
    assert by_key[("non_local_share", None)] == [p.kpis.non_local_share.overall for p in two_plans]
    scopes = {s for s, _ in [(r.scope_id, r) for r in c.kpis] if s is not None}
    assert scopes == set(two_plans[0].kpis.non_local_share.by_scope)
    assert by_key[("non_local_share.by_scope", "288")] == [
        p.kpis.non_local_share.by_scope["288"] for p in two_plans
    ]


def test_scenario_differences_from_given_rules(data, two_plans, two_rules):
    """Given the rules, the comparison lists the keys whose values differ, and only those."""
    c = compare_plans(data, two_plans, rules=two_rules)
    assert c.scenario_known
    rows = {r.key: r.values for r in c.scenario}
    assert rows["weights.change"] == [50.0, 10.0]
    assert set(rows) == {"weights.change"}  # the variant differs in that one value only
    assert "as_of" not in rows and "max_travel_km" not in rows


def test_scenario_from_the_plans_own_rules_field(data, two_plans, two_rules):
    """Plans that carry their rules (contract §3.1 ``rules``) are compared on them."""
    carrying = [
        Plan.model_validate({**p.model_dump(mode="json"), "rules": r.model_dump(mode="json")})
        for p, r in zip(two_plans, two_rules, strict=True)
    ]
    c = compare_plans(data, carrying)
    assert c.scenario_known
    assert {r.key for r in c.scenario} == {
        r.key for r in compare_plans(data, two_plans, rules=two_rules).scenario
    }
    bare = [p.model_copy(update={"rules": None}) for p in two_plans]
    assert not compare_plans(data, bare).scenario_known


def test_post_not_in_the_data_is_a_clear_error(data, two_plans):
    """A plan of another dataset (post ids the data lacks) → PlanMismatch naming plan and post."""
    other = two_plans[1].model_copy(deep=True)
    other.assignments[0].post_id = "P99999-secretary"
    with pytest.raises(
        PlanMismatch, match=r"other: 1 post\(s\) not in the data \(P99999-secretary\)"
    ):
        compare_plans(data, [two_plans[0], other], ["first", "other"])
    assert issubclass(PlanMismatch, ValueError)


def test_different_post_sets_are_a_clear_error(data, two_plans):
    """Plans covering different posts of the same data cannot be compared."""
    fewer = two_plans[1].model_copy(deep=True)
    dropped = fewer.assignments.pop(3).post_id
    with pytest.raises(PlanMismatch, match=rf"plan different posts: 1 only in a \({dropped}\)"):
        compare_plans(data, [two_plans[0], fewer], ["a", "b"])


def test_workbook_content_and_no_formula_cells(tmp_path, data, two_plans):
    """The workbook lists every differing post with names; formula-like text stays text."""
    evil = dataclasses.replace(data, cadres=data.cadres.copy())
    c0 = compare_plans(data, two_plans)
    victim = c0.differences[0].holders[1].cadre_id
    evil.cadres.loc[victim, "full_name"] = '=HYPERLINK("http://x","y")'
    c = compare_plans(evil, two_plans, ["-plan 1", "@plan 2"])
    path = write_compare_xlsx(c, tmp_path / "compare.xlsx", lang="vi")
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Chỉ số", "Kịch bản", "Chức danh khác nhau"]
    cells = [cell for ws in wb.worksheets for row in ws.iter_rows() for cell in row]
    assert [cell.coordinate for cell in cells if cell.data_type == "f"] == []
    diff = wb["Chức danh khác nhau"]
    assert [cell.value for cell in diff[1]][4:] == ["-plan 1", "@plan 2"]
    listed = [row[0] for row in diff.iter_rows(min_row=2, values_only=True)]
    assert listed == [d.post_id for d in c.differences]
    texts = {str(v) for row in diff.iter_rows(min_row=2, values_only=True) for v in row}
    assert f'{victim} =HYPERLINK("http://x","y")' in texts
    for d in c.differences:
        for h in d.holders:
            assert f"{h.cadre_id} {h.cadre_name}" in texts
    kpis = wb["Chỉ số"]
    labels = [row[0].value for row in kpis.iter_rows(min_row=2)]
    assert "Số chức danh thay đổi người giữ" in labels
    changed = next(
        row
        for row in kpis.iter_rows(min_row=2)
        if row[0].value == "Số chức danh thay đổi người giữ"
    )
    assert [cell.value for cell in changed[1:]] == [p.kpis.changed_posts for p in two_plans]
    share = next(
        row
        for row in kpis.iter_rows(min_row=2)
        if row[0].value == "Tỷ lệ không phải người địa phương"
    )
    assert share[1].number_format == "0.0%"
    assert kpis.freeze_panes == "B2"


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "plain"])
def test_safe_cell_never_writes_a_formula(tmp_path, text):
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    safe_cell(ws, 1, 1, text)
    wb.save(tmp_path / "x.xlsx")
    cell = openpyxl.load_workbook(tmp_path / "x.xlsx").active["A1"]
    assert cell.data_type == "s"
    assert cell.value == text


def test_infeasible_plan_has_an_empty_column(data, two_plans):
    """An infeasible variant is compared too: its KPIs are absent, not zero."""
    inf = Plan(status="infeasible", objective=None, bound=None)
    c = compare_plans(data, [two_plans[0], inf], ["ok", "none"])
    by_key = {(r.key, r.scope_id): r.values for r in c.kpis}
    assert by_key[("changed_posts", None)] == [two_plans[0].kpis.changed_posts, None]
    assert c.differences == []


def test_cli_compare_writes_workbook_and_prints_summary(tmp_path, data, two_plans, cli_app):
    """`rotation compare A.json B.json --data D --out compare.xlsx` exits 0 and summarises."""
    a, b = tmp_path / "defaults.json", tmp_path / "example.json"
    two_plans[0].to_json(a)
    two_plans[1].to_json(b)
    out = tmp_path / "compare.xlsx"
    res = CliRunner().invoke(
        cli_app,
        ["compare", str(a), str(b), "--data", str(BUNDLED), "--out", str(out), "--lang", "en"],
    )
    assert res.exit_code == 0, res.output
    assert out.is_file()
    n = len(compare_plans(data, two_plans).differences)
    assert f"{n} posts whose holder differs" in res.output
    assert "Posts changing holder" in res.output
    assert openpyxl.load_workbook(out).sheetnames == ["KPIs", "Scenario", "Posts that differ"]


def test_cli_compare_other_dataset_exits_2(tmp_path, two_plans, cli_app):
    """A plan naming posts the data lacks → exit 2 with a line naming the plan and the post."""
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    two_plans[0].to_json(a)
    doc = json.loads(two_plans[1].to_json())
    doc["assignments"][0]["post_id"] = "P99999-secretary"
    b.write_text(json.dumps(doc), encoding="utf-8")
    res = CliRunner().invoke(
        cli_app,
        ["compare", str(a), str(b), "--data", str(BUNDLED), "--out", str(tmp_path / "c.xlsx")],
    )
    assert res.exit_code == 2
    assert "b: 1 post(s) not in the data (P99999-secretary)" in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "c.xlsx").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lang", "fr"], "unknown language 'fr'"),
        (["--out", "compare.csv"], "is written as .xlsx"),
    ],
)
def test_cli_compare_bad_options_exit_2(tmp_path, two_plans, cli_app, args, message):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    two_plans[0].to_json(a)
    two_plans[1].to_json(b)
    base = ["compare", str(a), str(b), "--data", str(BUNDLED), "--out", str(tmp_path / "c.xlsx")]
    res = CliRunner().invoke(cli_app, base + args)
    assert res.exit_code == 2
    assert message in res.output


def test_kpis_present_in_every_plan_are_compared(data, two_plans):
    """KPIs beyond the contract's (support cost, new appointees by group) appear when every
    plan has them, with the money formatted; a KPI only one plan has is left out."""
    docs = [p.model_dump(mode="json") for p in two_plans]
    for i, doc in enumerate(docs):
        doc["kpis"]["support_cost_vnd"] = 72_000_000 * (i + 1)
        doc["kpis"]["new_appointees"] = {"count": 10 + i, "women": 3, "young": 2, "minority": 0}
    docs[0]["kpis"]["only_here"] = 1.5
    plans = [Plan.model_validate(d) for d in docs]
    c = compare_plans(data, plans)
    rows = {r.key: r for r in c.kpis}
    assert rows["support_cost_vnd"].values == [72_000_000, 144_000_000]
    assert rows["support_cost_vnd"].kind == "money"
    assert rows["new_appointees.count"].values == [10, 11]
    assert rows["new_appointees.women"].values == [3, 3]
    assert "only_here" not in rows
    assert format_kpi(translator("vi"), "money", 144_000_000) == "144.000.000 đ"
