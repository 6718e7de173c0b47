"""The meeting report (rotation.meeting, ``rotation report``): the .docx has the Vietnamese
headings and tables of the plan, the PDF's first page renders with its diacritics, the chart and
map are drawn, an infeasible plan shows its diagnosis."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import docx
import matplotlib.image
import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from rotation.cli_meeting import register
from rotation.meeting import write_report
from rotation.plan import Plan
from rotation.read import read_dataset
from rotation.rules import load_rules
from rotation.solve import solve

REPO = Path(__file__).resolve().parents[1]
BUNDLED = REPO / "data" / "hai_duong"


@pytest.fixture(scope="session")
def poppler() -> str:
    """pdftoppm/pdftotext, installed by scripts/sysdeps.sh when missing (CI runs this test)."""
    if shutil.which("pdftoppm") is None:
        done = subprocess.run(
            ["sh", str(REPO / "scripts" / "sysdeps.sh")], capture_output=True, text=True
        )
        if done.returncode != 0:
            pytest.fail(f"scripts/sysdeps.sh could not install poppler-utils: {done.stderr}")
    path = shutil.which("pdftoppm")
    assert path is not None
    return path


@pytest.fixture(scope="module")
def data():
    return read_dataset(BUNDLED)


@pytest.fixture(scope="module")
def rules():
    return load_rules(REPO / "tests" / "data" / "variant_rules.yaml")


@pytest.fixture(scope="module")
def plan(data, rules) -> Plan:
    p = solve(data, rules).plan
    assert p.status == "optimal"
    return p


@pytest.fixture(scope="module")
def infeasible(data):
    r = load_rules(REPO / "examples" / "kim_thanh_infeasible.yaml")
    p = solve(data, r).plan
    assert p.status == "infeasible"
    return r, p


@pytest.fixture(scope="module")
def docx_report(tmp_path_factory, data, rules, plan):
    out = tmp_path_factory.mktemp("docx") / "report.docx"
    return write_report(data, rules, plan, out, lang="vi")


@pytest.fixture(scope="module")
def pdf_report(tmp_path_factory, data, rules, plan):
    out = tmp_path_factory.mktemp("pdf") / "report.pdf"
    return write_report(data, rules, plan, out, lang="vi")


def _headings(document) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name.startswith(("Heading", "Title"))]


def _table_after(document, heading: str):
    """The first table following the paragraph whose text is ``heading``."""
    body = document.element.body
    seen = False
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if (
            tag == "p"
            and "".join(t.text or "" for t in child.iter() if t.tag.endswith("}t")) == heading
        ):
            seen = True
        elif tag == "tbl" and seen:
            return docx.table.Table(child, document)
    raise AssertionError(f"no table after {heading!r}")


def test_docx_has_the_vietnamese_headings(docx_report, plan):
    """Title, summary, chart, map, changes, released, scenario: each a Vietnamese heading."""
    d = docx.Document(str(docx_report.report))
    heads = _headings(d)
    changed = sum(a.changed for a in plan.assignments)
    assert heads[0] == "Phương án luân chuyển, điều động cán bộ: Bí thư Đảng ủy"
    for h in [
        "Tóm tắt",
        "Tỷ lệ không phải người địa phương: trước và sau phương án",
        "Bản đồ điều động",
        "Người không phải người địa phương theo từng huyện",
        f"Các thay đổi ({changed} chức danh)",
        f"Cán bộ thôi giữ chức vụ ({len(plan.released)})",
        "Kịch bản",
    ]:
        assert h in heads
    assert len(d.inline_shapes) == 2  # the chart and the map


def test_docx_changes_table_is_the_plan(data, docx_report, plan):
    """One row per changed post: unit, current holder → proposed holder by id and name."""
    d = docx.Document(str(docx_report.report))
    changed = [a for a in plan.assignments if a.changed]
    table = _table_after(d, f"Các thay đổi ({len(changed)} chức danh)")
    header = [c.text for c in table.rows[0].cells]
    assert header[:4] == ["Chức danh", "Đơn vị", "Người đang giữ chức vụ", "Người được đề xuất"]
    rows = [[c.text for c in r.cells] for r in table.rows[1:]]
    assert len(rows) == len(changed)
    got = {(r[2], r[3]) for r in rows}
    for a in changed:
        inc = data.posts.at[a.post_id, "incumbent_id"]
        assert (
            f"{data.cadre_name(inc)} ({inc})",
            f"{data.cadre_name(a.cadre_id)} ({a.cadre_id})",
        ) in got
    assert {r[0] for r in rows} == {"Bí thư Đảng ủy"}


def test_docx_released_and_scenario_tables(data, docx_report, plan, rules):
    """Every released incumbent by name and id; the scenario names as_of, target and weights."""
    d = docx.Document(str(docx_report.report))
    released = _table_after(d, f"Cán bộ thôi giữ chức vụ ({len(plan.released)})")
    ids = [r.cells[1].text for r in released.rows[1:]]
    assert ids == plan.released
    assert [r.cells[0].text for r in released.rows[1:]] == [data.cadre_name(c) for c in ids]
    scenario = {r.cells[0].text: r.cells[1].text for r in _table_after(d, "Kịch bản").rows[1:]}
    assert scenario["Ngày tính"] == "01/01/2026"
    assert scenario["Chỉ tiêu không phải người địa phương"] == (
        "Bí thư Đảng ủy, mỗi huyện: tối thiểu 30,0 % không phải người địa phương"
    )
    assert scenario["Khoảng cách đi lại tối đa"] == "60,0 km"
    assert (
        scenario["Trọng số: Thay đổi người giữ chức vụ"] == "10"
    )  # tests/data/variant_rules.yaml: 10
    summary = {r.cells[0].text: r.cells[1].text for r in d.tables[0].rows}
    assert summary["Trạng thái"] == "tối ưu"
    assert summary["Số chức danh thay đổi người giữ"] == str(plan.kpis.changed_posts)
    assert summary["Người không phải người địa phương: hiện nay → sau phương án"] == (
        "45 → 80 (21,7 % → 39,4 %)"
    )


def test_chart_and_map_pictures_exist(docx_report):
    """The chart and map are written beside the report as real pictures (not blank)."""
    for png in (docx_report.chart, docx_report.map):
        assert png is not None and png.is_file()
        img = matplotlib.image.imread(str(png))
        assert img.shape[0] > 300 and img.shape[1] > 600
        grey = img[..., :3].mean(axis=2)
        assert (grey < 0.5).mean() > 0.002  # bars, arrows, labels


def test_pdf_first_page_renders_with_vietnamese_text(tmp_path, poppler, pdf_report):
    """pdftoppm renders page 1 with ink on it; pdftotext reads back the diacritics."""
    prefix = tmp_path / "page"
    subprocess.run(
        [poppler, "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf_report.report), str(prefix)],
        check=True,
    )
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 1
    img = matplotlib.image.imread(str(pages[0]))
    grey = img[..., :3].mean(axis=2)
    dark = float((grey < 0.5).mean())
    assert 0.01 < dark < 0.5, dark
    text = subprocess.run(
        [
            str(Path(poppler).with_name("pdftotext")),
            "-f",
            "1",
            "-l",
            "1",
            str(pdf_report.report),
            "-",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    text = " ".join(text.split())
    assert "Tóm tắt" in text
    assert "Bí thư Đảng ủy" in text
    assert "Tỉnh Hải Dương" in text
    assert "39,4 %" in text


def test_infeasible_report_shows_the_diagnosis(tmp_path, data, infeasible):
    """No plan: the report says so, lists each conflicting rule by its label, draws no map."""
    rules, plan = infeasible
    files = write_report(data, rules, plan, tmp_path / "none.docx", lang="vi")
    assert files.map is None and files.chart is not None
    d = docx.Document(str(files.report))
    heads = _headings(d)
    assert "Không có phương án đáp ứng mọi quy định: nguyên nhân" in heads
    assert not any(h.startswith("Các thay đổi") for h in heads)
    table = _table_after(d, "Không có phương án đáp ứng mọi quy định: nguyên nhân")
    rows = [[c.text for c in r.cells] for r in table.rows[1:]]
    assert len(rows) == len(plan.diagnosis)
    for r, item in zip(rows, plan.diagnosis, strict=True):
        assert r[2] == item.detail_in("vi")  # the Vietnamese wording
        assert "max_changes" not in r[0] and r[0]
        assert r[1] == data.unit_name(item.scope)


def test_english_report(tmp_path, data, infeasible):
    """--lang en: the same report in English."""
    rules, plan = infeasible
    files = write_report(data, rules, plan, tmp_path / "none.pdf", lang="en")
    assert files.report.is_file()
    assert files.title == "Rotation plan: Party secretary"
    assert dict(files.summary)["Status"] == "no plan exists"


def test_unknown_suffix_is_an_error(tmp_path, data, rules, plan):
    with pytest.raises(ValueError, match=r"must end in \.docx or \.pdf"):
        write_report(data, rules, plan, tmp_path / "report.odt")


@pytest.fixture
def cli_app() -> typer.Typer:
    app = typer.Typer()
    app.command("noop")(lambda: None)
    register(app)
    return app


def test_cli_report_writes_pdf(tmp_path, cli_app, plan):
    """`rotation report DATA --plan P --rules R --out report.pdf` exits 0 and prints the summary."""
    p = tmp_path / "plan-1.json"
    plan.to_json(p)
    out = tmp_path / "report.pdf"
    res = CliRunner().invoke(
        cli_app,
        [
            "report",
            str(BUNDLED),
            "--plan",
            str(p),
            "--rules",
            str(REPO / "tests" / "data" / "variant_rules.yaml"),
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert out.read_bytes().startswith(b"%PDF")
    assert "Số chức danh thay đổi người giữ" in res.output
    assert (tmp_path / "report-map.png").is_file()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"out": "report.odt"}, "must end in .docx or .pdf"),
        ({"lang": "fr"}, "unknown language 'fr'"),
        ({"plan": "missing.json"}, "missing.json: no such file"),
        ({"post": "P99999-secretary"}, "1 post(s) not in the data (P99999-secretary)"),
    ],
)
def test_cli_report_bad_input_exits_2(tmp_path, cli_app, plan, change, message):
    doc = plan.model_copy(deep=True)
    if "post" in change:
        doc.assignments[0].post_id = change["post"]
    p = tmp_path / "plan-1.json"
    doc.to_json(p)
    args = [
        "report",
        str(BUNDLED),
        "--plan",
        str(tmp_path / change.get("plan", "plan-1.json")),
        "--out",
        str(tmp_path / change.get("out", "report.docx")),
        "--lang",
        change.get("lang", "vi"),
    ]
    res = CliRunner().invoke(cli_app, args)
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert "Traceback" not in res.output


def test_released_are_incumbents_without_a_post(plan, data):
    """Sanity of the fixture the tables rely on: released cadres hold no post in the plan."""
    holders = {a.cadre_id for a in plan.assignments}
    assert plan.released and not set(plan.released) & holders
    assert np.all([c in data.incumbent_post.index for c in plan.released])


def test_two_level_hierarchy_names_the_province_once(tmp_path):
    """2025 structure (no districts): the scope table is headed 'Tỉnh' and lists the province
    once; the map is coloured by province."""
    from rotation.rules import Rules
    from rotation.synth import synthesize, write_tables

    write_tables(synthesize("Lai Châu", False, 1, ["secretary"]), tmp_path / "lc")
    data = read_dataset(tmp_path / "lc")
    rules = Rules.model_validate({})
    plan = solve(data, rules).plan
    assert plan.status == "optimal"
    files = write_report(data, rules, plan, tmp_path / "lc.docx")
    d = docx.Document(str(files.report))
    assert "Người không phải người địa phương theo từng tỉnh" in _headings(d)
    table = _table_after(d, "Người không phải người địa phương theo từng tỉnh")
    assert [r.cells[0].text for r in table.rows] == ["Tỉnh", "Tỉnh Lai Châu"]
    assert any(p.text.endswith("màu theo tỉnh.") for p in d.paragraphs)


def test_decomposed_names_print_composed(tmp_path, poppler, data, rules, plan):
    """A name stored with combining accents (NFD) prints as composed letters (NFC) in the PDF."""
    import dataclasses
    import unicodedata

    moved = next(a for a in plan.assignments if a.changed and a.cadre_id)
    nfd = dataclasses.replace(data, cadres=data.cadres.copy())
    name = "Nguyễn Thị Tuyết Nhung"
    nfd.cadres.loc[moved.cadre_id, "full_name"] = unicodedata.normalize("NFD", name)
    files = write_report(nfd, rules, plan, tmp_path / "nfd.pdf")
    text = subprocess.run(
        [str(Path(poppler).with_name("pdftotext")), str(files.report), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # the name wraps inside its table cell: look for both halves, composed
    assert "Nguyễn Thị Tuyết" in text
    assert f"Nhung ({moved.cadre_id})" in text
    assert not any(unicodedata.combining(ch) for ch in text)


def test_cli_report_uses_the_rules_the_plan_carries(tmp_path, cli_app, plan, rules):
    """Without --rules, the report's scenario is the plan's own ``rules`` (contract §3.1)."""
    doc = {**plan.model_dump(mode="json"), "rules": rules.model_dump(mode="json")}
    p = tmp_path / "plan-1.json"
    Plan.model_validate(doc).to_json(p)
    out = tmp_path / "report.docx"
    res = CliRunner().invoke(cli_app, ["report", str(BUNDLED), "--plan", str(p), "--out", str(out)])
    assert res.exit_code == 0, res.output
    d = docx.Document(str(out))
    scenario = {r.cells[0].text: r.cells[1].text for r in _table_after(d, "Kịch bản").rows[1:]}
    assert scenario["Trọng số: Thay đổi người giữ chức vụ"] == "10"


def test_cli_report_bad_rules_in_the_plan_exit_2(tmp_path, cli_app, plan):
    """A plan whose ``rules`` field is not valid rules: exit 2 naming the plan file and key."""
    doc = {**plan.model_dump(mode="json"), "rules": {"max_travel_kms": 50}}
    p = tmp_path / "plan-1.json"
    Plan.model_validate(doc).to_json(p)
    res = CliRunner().invoke(
        cli_app, ["report", str(BUNDLED), "--plan", str(p), "--out", str(tmp_path / "r.docx")]
    )
    assert res.exit_code == 2
    assert f"{p} (its rules)" in res.output
    assert "did you mean 'max_travel_km'?" in res.output
