"""Scenario sweeps (rotation.sweep, rotation.cli_sweep): variants as rules paths, checked before
anything runs; a small grid on a local Dask cluster — every plan validates, the table matches the
plans, an infeasible variant carries its diagnosis, a killed task is retried, the same grid twice
gives the same results; the command line's exit codes."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from builders import default_rules, tiny_problem
from openpyxl import load_workbook
from typer.testing import CliRunner

from rotation.cli import app
from rotation.data import ProblemData
from rotation.i18n import translator
from rotation.plan import Plan
from rotation.rules import Rules
from rotation.sweep import (
    ADDRESS_ENV,
    CANCELLED,
    DaskEngine,
    Outcome,
    SerialEngine,
    Sweep,
    SweepError,
    SweepStatus,
    Variant,
    VariantResult,
    build_variants,
    flatten_kpis,
    grid,
    mark_dominated,
    parse_key,
    parse_vary,
    plan_kpis,
    read_variants_file,
    run_sweep,
    solve_variant,
    sweep_from_document,
    sweep_job,
    variant_rules,
    write_sweep,
    write_sweep_xlsx,
)
from rotation.validate import validate_plan

ROOT = Path(__file__).resolve().parents[1]
HAI_DUONG = ROOT / "data" / "hai_duong"
SHARE = "non_local_targets[0].min_share"
CAP = "max_changes.count"

cloudpickle = pytest.importorskip("cloudpickle")  # with distributed, the `sweep` extra
# the workers unpickle the test's own task wrapper by value (this module is not importable there)
cloudpickle.register_pickle_by_value(sys.modules[__name__])


# =========================================================================== keys and values
def test_keys_are_paths_into_the_rules() -> None:
    assert parse_key("non_local_targets[0].min_share") == ["non_local_targets", 0, "min_share"]
    assert parse_key("budget_vnd") == ["budget_vnd"]
    for bad in ("", "a..b", "[0].x", "a.0", "a[x]", "a-b"):
        with pytest.raises(SweepError):
            parse_key(bad)


def test_vary_values_are_yaml_scalars_none_is_null() -> None:
    axis = parse_vary("max_changes.count=4, 6,none,null")
    assert axis.key == CAP
    assert axis.values == (4, 6, None, None)
    assert parse_vary("weights.change=0.5,10").values == (0.5, 10)
    assert parse_vary("positions=[secretary, pc_chair],[secretary]").values == (
        ["secretary", "pc_chair"],
        ["secretary"],
    )
    with pytest.raises(SweepError, match="expected KEY=V1"):
        parse_vary("max_changes.count")
    with pytest.raises(SweepError, match="empty value"):
        parse_vary("weights.change=1,,2")


def test_grid_is_the_product_last_axis_fastest() -> None:
    variants = grid([parse_vary(f"{SHARE}=0.3,0.5"), parse_vary(f"{CAP}=1,none")])
    assert [v.id for v in variants] == ["v01", "v02", "v03", "v04"]
    assert [v.values for v in variants] == [
        {SHARE: 0.3, CAP: 1},
        {SHARE: 0.3, CAP: None},
        {SHARE: 0.5, CAP: 1},
        {SHARE: 0.5, CAP: None},
    ]
    with pytest.raises(SweepError, match="more than once"):
        grid([parse_vary(f"{CAP}=1"), parse_vary(f"{CAP}=2")])


def test_variant_rules_set_the_path_in_the_effective_rules() -> None:
    base = default_rules()
    r = variant_rules(base, {"weights.change": 7})
    # the other weights keep their effective values (not the "unnamed weight = 0" of a file)
    assert r.weights.change == 7
    assert r.weights.travel_km == base.weights.travel_km
    assert r.weights.vacancy == base.weights.vacancy
    r = variant_rules(base, {SHARE: 0.55, CAP: 3})
    assert r.non_local_targets[0].min_share == 0.55
    assert r.max_changes is not None
    assert (r.max_changes.scope_level, r.max_changes.count) == ("district", 3)
    # `none` on the cap's count switches the whole cap off
    capped = default_rules(max_changes={"scope_level": "district", "count": 2})
    assert variant_rules(capped, {CAP: None}).max_changes is None
    assert variant_rules(capped, {"max_changes": None}).max_changes is None
    assert variant_rules(base, {"max_travel_km": None}).max_travel_km is None
    assert variant_rules(base, {"budget_vnd": 5_000_000}).budget_vnd == 5_000_000
    assert variant_rules(base, {"weights.support_cost": 2}).weights.support_cost == 2


def test_variant_rules_name_in_a_list_of_one_goes_into_it() -> None:
    base = default_rules()
    r = variant_rules(base, {"non_local_targets.min_share": 0.4})
    assert r.non_local_targets[0].min_share == 0.4
    two = default_rules(
        non_local_targets=[
            {"position": "secretary", "min_share": 0.3},
            {"position": "secretary", "scope_level": "province", "min_share": 0.3},
        ]
    )
    with pytest.raises(SweepError, match=r"list of 2; name the element"):
        variant_rules(two, {"non_local_targets.min_share": 0.4})
    # contract v1.1: max_changes may be a list of caps; a list of one takes `max_changes.count`
    listed = default_rules(max_changes=[{"scope_level": "district", "count": 2}])
    assert [c.count for c in variant_rules(listed, {CAP: 4}).change_caps] == [4]
    with pytest.raises(SweepError, match=r"has 1 element\(s\), no \[3\]"):
        variant_rules(base, {"non_local_targets[3].min_share": 0.4})


def test_bad_keys_and_values_are_all_named_before_running() -> None:
    variants = grid(
        [
            parse_vary("max_chnges.count=1,2"),
            parse_vary(f"{SHARE}=0.3,1.5"),
            parse_vary("weights.change=-1"),
        ]
    )
    with pytest.raises(SweepError) as exc:
        build_variants(default_rules(), variants)
    lines = exc.value.messages
    assert any(
        line.startswith("max_chnges.count: ") and "did you mean 'max_changes'" in line
        for line in lines
    )
    assert any(
        line.startswith(f"{SHARE}=1.5: ") and "less than or equal to 1" in line for line in lines
    )
    assert any(line.startswith("weights.change=-1: ") for line in lines)
    assert not any(f"{SHARE}=0.3" in line for line in lines)  # the good value is not blamed
    assert len(lines) == 3


def test_variants_file_grid_or_list(tmp_path: Path) -> None:
    f = tmp_path / "grid.yaml"
    f.write_text(f"vary:\n  {SHARE}: [0.3, 0.4]\n  weights.change: [1, 50]\n", encoding="utf-8")
    assert len(read_variants_file(f)) == 4
    f.write_text(f"variants:\n  - {{'{SHARE}': 0.3}}\n  - {{{CAP}: 2, budget: 1}}\n", "utf-8")
    vs = read_variants_file(f)
    assert [v.values for v in vs] == [{SHARE: 0.3}, {CAP: 2, "budget": 1}]
    with pytest.raises(SweepError, match="budget: unknown key"):
        build_variants(default_rules(), vs)
    f.write_text("just text\n", encoding="utf-8")
    with pytest.raises(SweepError, match="expected 'vary"):
        read_variants_file(f)


def test_a_roadmap_horizon_can_vary_and_is_checked_before_running() -> None:
    base = default_rules(
        horizon={
            "rounds": ["2026-01-01", "2028-01-01"],
            "trajectory": [{"position": "secretary", "shares": {"2028-01-01": 0.3}}],
        }
    )
    axis = parse_vary("horizon.trajectory[0].shares={2027-01-01: 0.3},{2029-01-01: 0.3}")
    assert axis.values == ({"2027-01-01": 0.3}, {"2029-01-01": 0.3})  # dates as ISO text
    rules = build_variants(base, grid([axis]))
    assert [r.horizon["trajectory"][0]["shares"] for r in rules] == list(axis.values)
    with pytest.raises(SweepError, match=r"horizon.discount=2: horizon.discount: .*less than 1"):
        build_variants(base, grid([parse_vary("horizon.discount=2")]))
    roadmap = {
        "status": "optimal",
        "rounds": [
            {"plan": {"kpis": {"changed_posts": 1}}},
            {"plan": {"kpis": {"changed_posts": 4}}},
        ],
    }
    assert flatten_kpis(plan_kpis(roadmap)) == {"changed_posts": 4}  # the end state


def test_kpis_flattened_and_dominance() -> None:
    flat = flatten_kpis(
        {
            "non_local_share": {"overall": 0.4, "by_scope": {"D1": 0.5}},
            "changed_posts": 3,
            "new_appointees": {"count": 2, "women": 1},
            "note": "text is not a KPI",
            "flag": True,
        }
    )
    assert flat == {
        "non_local_share.overall": 0.4,
        "non_local_share.by_scope.D1": 0.5,
        "changed_posts": 3,
        "new_appointees.count": 2,
        "new_appointees.women": 1,
    }
    cov = "non_local_share.overall"

    def row(vid: str, share: float, moved: int, status: SweepStatus = "optimal") -> VariantResult:
        outcome = Outcome(status=status, plan={}, seconds=0.0)
        return VariantResult(
            Variant(vid, {}), default_rules(), outcome, {cov: share, "changed_posts": moved}
        )

    rows = [
        row("a", 0.3, 10),
        row("b", 0.3, 12),  # same coverage, more moves: dominated by a
        row("c", 0.5, 12),  # more coverage for the same moves as b: on the frontier
        row("d", 0.5, 12),  # a tie with c: neither dominates the other
        row("e", 0.4, 20),  # less coverage and more moves than c: dominated
        row("f", 0.9, 1, "infeasible"),  # no plan: not on any frontier
    ]
    assert mark_dominated(rows, "changed_posts") == {
        "a": False,
        "b": True,
        "c": False,
        "d": False,
        "e": True,
    }
    assert mark_dominated(rows, "support_cost_vnd") == {}


# =========================================================================== the grid on a cluster
def _problem() -> ProblemData:
    """Two districts of 4 communes, 3 office cadres each (see tests/builders.py)."""
    return tiny_problem(communes=4, office=3)


GRID = [parse_vary(f"{SHARE}=0.25,0.5,1.0"), parse_vary(f"{CAP}=1,none")]
"""With at most one change per district, a share above 25% (2 of 4) cannot be reached."""


@pytest.fixture(scope="module")
def engine() -> Iterator[DaskEngine]:
    eng = DaskEngine(workers=2)
    with eng.session():
        yield eng


@pytest.fixture(scope="module")
def swept(engine: DaskEngine, tmp_path_factory: pytest.TempPathFactory) -> tuple[Sweep, Path]:
    out = tmp_path_factory.mktemp("sweep")
    result = run_sweep(_problem(), default_rules(), grid(GRID), engine)
    write_sweep(result, out)
    return result, out


def _by_id(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in doc["variants"]}


def test_every_plan_validates_under_its_own_rules(swept: tuple[Sweep, Path]) -> None:
    result, out = swept
    data = _problem()
    doc = json.loads((out / "sweep.json").read_text(encoding="utf-8"))
    assert len(doc["variants"]) == 6
    for row in doc["variants"]:
        plan = Plan.from_json(out / row["plan"])
        assert plan.rules is not None  # each plan carries its rules
        rules = Rules.model_validate(plan.rules)
        assert rules.non_local_targets[0].min_share == row["values"][SHARE]
        assert (rules.max_changes.count if rules.max_changes else None) == row["values"][CAP]
        assert validate_plan(data, rules, plan) == [], row["id"]
        assert plan.status == row["status"]
    statuses = [r.status for r in result.results]
    assert statuses == ["optimal", "optimal", "infeasible", "optimal", "infeasible", "optimal"]


def test_table_matches_the_plans(swept: tuple[Sweep, Path]) -> None:
    result, out = swept
    doc = json.loads((out / "sweep.json").read_text(encoding="utf-8"))
    wb = load_workbook(out / "sweep.xlsx")
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    rows = {
        r[0]: dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)
    }
    assert set(rows) == {r.id for r in result.results}
    changed_col = translator("vi").kpi("changed_posts")  # Vietnamese by default
    assert changed_col in header and changed_col != "changed_posts"
    for row in doc["variants"]:
        plan = json.loads((out / row["plan"]).read_text(encoding="utf-8"))
        xl = rows[row["id"]]
        if row["status"] == "infeasible":
            assert row["kpis"] is None
            assert xl[changed_col] is None
            continue
        assert row["kpis"] == plan["kpis"]
        assert row["objective"] == plan["objective"]
        assert xl[changed_col] == plan["kpis"]["changed_posts"]
        assert xl[changed_col] == sum(a["changed"] for a in plan["assignments"])
    # the frontier: a feasible variant is dominated exactly when another covers as much for less
    feasible = [r for r in result.results if r.feasible]
    expected = mark_dominated(feasible, "changed_posts")
    assert {r.id: r.dominated["people_moved"] for r in feasible} == expected
    assert (out / "frontier-people_moved.png").stat().st_size > 10_000
    support = next(f for f in doc["frontiers"] if f["name"] == "support_cost")
    if any("support_cost_vnd" in r.kpis for r in feasible):
        assert (out / support["file"]).is_file()
    else:
        assert support["file"] is None and "support_cost_vnd" in support["skipped"]


def test_infeasible_variant_carries_its_diagnosis(swept: tuple[Sweep, Path]) -> None:
    _, out = swept
    doc = _by_id(json.loads((out / "sweep.json").read_text(encoding="utf-8")))
    row = doc["v03"]  # 50% with one change per district
    assert row["values"] == {SHARE: 0.5, CAP: 1}
    assert row["status"] == "infeasible"
    rules = {d["rule"] for d in row["diagnosis"]}
    assert any("max_changes" in r or "non_local_target" in r for r in rules), rules
    assert row["diagnosis_summary"]
    plan = json.loads((out / row["plan"]).read_text(encoding="utf-8"))
    assert plan["diagnosis"] == row["diagnosis"]
    ws = load_workbook(out / "sweep.xlsx").worksheets[0]
    header = [c.value for c in ws[1]]
    col = header.index("Vướng quy định (chẩn đoán)")
    v03 = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] == "v03")
    assert v03[col]


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    """sweep.json without the timings."""
    doc = {k: v for k, v in doc.items() if k != "engine"}
    doc["variants"] = [{k: v for k, v in r.items() if k != "seconds"} for r in doc["variants"]]
    return doc


def test_same_grid_twice_identical_and_same_as_a_plain_loop(
    engine: DaskEngine, swept: tuple[Sweep, Path], tmp_path: Path
) -> None:
    _, first = swept
    again = run_sweep(_problem(), default_rules(), grid(GRID), engine)
    write_sweep(again, tmp_path / "again")
    loop = run_sweep(_problem(), default_rules(), grid(GRID), SerialEngine())
    write_sweep(loop, tmp_path / "loop")
    ref = _comparable(json.loads((first / "sweep.json").read_text(encoding="utf-8")))
    for other in (tmp_path / "again", tmp_path / "loop"):
        assert _comparable(json.loads((other / "sweep.json").read_text(encoding="utf-8"))) == ref
        for p in sorted((first / "plans").glob("*.json")):
            assert (other / "plans" / p.name).read_bytes() == p.read_bytes(), p.name


class CrashOnce:
    """The task, but the first call kills its worker process (as a node dying would)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __call__(self, data: ProblemData, rules_doc: dict[str, Any]) -> Outcome:
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return solve_variant(data, rules_doc)
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        os._exit(1)


def test_killed_worker_task_is_retried(tmp_path: Path) -> None:
    marker = tmp_path / "crashed"
    variants = [Variant("v1", {SHARE: 0.25}), Variant("v2", {SHARE: 0.5})]
    with DaskEngine(workers=2).session() as eng:
        result = run_sweep(_problem(), default_rules(), variants, eng, task=CrashOnce(marker))
    assert marker.is_file()  # a worker did die
    assert [r.status for r in result.results] == ["optimal", "optimal"]
    ref = run_sweep(_problem(), default_rules(), variants, SerialEngine())
    assert [r.outcome.plan for r in result.results] == [r.outcome.plan for r in ref.results]


def test_a_task_error_is_kept_as_a_failed_variant() -> None:
    def broken(data: ProblemData, rules_doc: dict[str, Any]) -> Outcome:
        raise RuntimeError("solver exploded")

    seen = []
    result = run_sweep(
        _problem(),
        default_rules(),
        [Variant("v1", {SHARE: 0.3})],
        SerialEngine(),
        seen.append,
        broken,
    )
    assert result.results[0].status == "error"
    assert "solver exploded" in (result.results[0].outcome.error or "")
    assert seen[-1].failed == 1 and seen[-1].done == 0 and seen[-1].eta_s == 0.0


class _Set:
    def is_set(self) -> bool:
        return True


def test_a_stopped_sweep_runs_no_further_variant() -> None:
    result = run_sweep(
        _problem(),
        default_rules(),
        grid([parse_vary(f"{SHARE}=0.25,0.5")]),
        SerialEngine(),
        stop=_Set(),
    )
    assert [r.status for r in result.results] == ["unknown", "unknown"]
    assert all(r.outcome.error == CANCELLED for r in result.results)


def test_service_job_and_stored_sweep_workbook(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ADDRESS_ENV, raising=False)  # no cluster: one variant after another
    events = []
    job = sweep_job(
        _problem(), default_rules(), {"vary": {SHARE: [0.25, 0.5], CAP: [1]}}, events.append
    )
    assert job["kind"] == "sweep" and job["status"] == "optimal"
    doc = job["sweep"]
    assert [r["status"] for r in doc["variants"]] == ["optimal", "infeasible"]
    assert [p["status"] for p in job["plans"]] == ["optimal", "infeasible"]
    assert events[-1].done == 2
    with pytest.raises(SweepError, match="'vary' must map"):
        sweep_job(_problem(), default_rules(), {"vary": {SHARE: 0.3}})
    # the stored form (document + plans) gives the same workbook rows as the live sweep
    assert [r["plan_rank"] for r in doc["variants"]] == [1, 2]
    plans = {r["id"]: job["plans"][r["plan_rank"] - 1] for r in doc["variants"]}
    again = sweep_from_document(json.loads(json.dumps(doc)), plans)
    path = write_sweep_xlsx(again, tmp_path / "stored.xlsx", lang="en")
    rows = list(load_workbook(path).worksheets[0].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["v01", "v02"]
    header = rows[0]
    changed = rows[1][header.index(translator("en").kpi("changed_posts"))]
    assert changed == job["plans"][0]["kpis"]["changed_posts"]


# =========================================================================== command line
runner = CliRunner()


def test_cli_bad_key_exits_2_naming_it_before_running(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = runner.invoke(
        app,
        [
            "sweep",
            str(HAI_DUONG),
            "--vary",
            "max_chnges.count=1,2",
            "--vary",
            f"{SHARE}=2",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 2
    text = res.output + (res.stderr if res.stderr_bytes is not None else "")
    assert "max_chnges.count" in text and "did you mean 'max_changes'" in text
    assert f"{SHARE}=2" in text
    assert "Traceback" not in text
    assert not out.exists()


def test_cli_unreachable_address_exits_2(tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        [
            "sweep",
            str(HAI_DUONG),
            "--vary",
            f"{SHARE}=0.3",
            "--address",
            "tcp://127.0.0.1:9",
            "--out",
            str(tmp_path / "out"),
            "--quiet",
        ],
    )
    assert res.exit_code == 2
    assert "cannot connect" in res.output + (res.stderr if res.stderr_bytes is not None else "")


def test_cli_sweep_writes_the_table(tmp_path: Path) -> None:
    out = tmp_path / "out"
    res = runner.invoke(
        app,
        [
            "sweep",
            str(HAI_DUONG),
            "--vary",
            f"{SHARE}=0.3,0.4",
            "--workers",
            "0",
            "--out",
            str(out),
            "--lang",
            "en",
        ],
    )
    assert res.exit_code == 0, res.output
    doc = json.loads((out / "sweep.json").read_text(encoding="utf-8"))
    assert [r["values"] for r in doc["variants"]] == [{SHARE: 0.3}, {SHARE: 0.4}]
    shares = [r["kpis"]["non_local_share"]["overall"] for r in doc["variants"]]
    assert shares[0] >= 0.3 and shares[1] >= 0.4
    assert "2/2 done" in res.output
    ws = load_workbook(out / "sweep.xlsx").worksheets[0]
    assert ws.cell(row=1, column=1).value == "Variant"


def test_cli_names_the_same_address_variable():
    """The command line names the cluster variable without loading the engine: the same name."""
    from rotation import cli_sweep, sweep

    assert cli_sweep.ADDRESS_ENV == sweep.ADDRESS_ENV
