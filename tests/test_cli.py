"""The command line (contract §4): exit codes, messages, files written."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from builders import baseline_plan, default_rules, plan_from, tiny_problem
from typer.testing import CliRunner

from rotation import cli
from rotation.i18n import translator
from rotation.plan import Plan
from rotation.read import read_dataset, write_dataset
from rotation.validate import validate_plan

REPO = Path(__file__).resolve().parents[1]
BUNDLED = REPO / "data" / "hai_duong"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(cli.app, [str(a) for a in args])


@pytest.fixture
def tiny_dir(tmp_path) -> Path:
    path = tmp_path / "tiny"
    write_dataset(tiny_problem(), path)
    return path


def test_status_on_bundled_data():
    """`status` prints the district table with Vietnamese names and 21/24 for the city."""
    result = run("status", BUNDLED)
    assert result.exit_code == 0, result.output
    assert "Thành phố Hải Dương" in result.stdout
    assert "21/24" in result.stdout
    assert "45/207" in result.stdout
    assert "Cảnh báo thời gian giữ chức" in result.stdout
    assert "Nguồn cán bộ đủ điều kiện" in result.stdout
    assert "…" not in "".join(result.stdout.splitlines()[:6])  # headers whole at 80 columns
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    en = run("status", BUNDLED, "--lang", "en")
    assert "Tenure alerts" in en.stdout and "Eligible pool" in en.stdout


def test_bad_data_folder_exits_2_with_located_message(tmp_path, tiny_dir):
    """A bad cell gives exit 2 and a 'file, row N, column C:' line, never a traceback."""
    cadres = tiny_dir / "cadres.csv"
    lines = cadres.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("birth_date")] = "31/02/1980"
    lines[1] = ",".join(cells)
    cadres.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("status", tiny_dir)
    assert result.exit_code == 2
    assert re.search(r"cadres\.csv, row 2, column birth_date: ", result.stderr), result.output
    assert "Traceback" not in result.output


def test_missing_data_folder_exits_2(tmp_path):
    """A data folder that does not exist is a clear message and exit 2."""
    result = run("status", tmp_path / "nowhere")
    assert result.exit_code == 2
    assert "no such file or folder" in result.stderr
    assert "Traceback" not in result.output


def test_unknown_rules_key_exits_2_with_suggestion(tmp_path, tiny_dir):
    """A misspelt rules key gives exit 2 and 'did you mean'."""
    rules = tmp_path / "rules.yaml"
    rules.write_text("max_travel_kms: 50\n", encoding="utf-8")
    result = run("plan", tiny_dir, "--rules", rules, "--out", tmp_path / "out", "--quiet")
    assert result.exit_code == 2
    assert "did you mean 'max_travel_km'" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_missing_rules_file_exits_2(tmp_path, tiny_dir):
    """A --rules path that does not exist gives exit 2 with 'file not found'."""
    result = run("status", tiny_dir, "--rules", tmp_path / "nope.yaml")
    assert result.exit_code == 2 and "file not found" in result.stderr


def test_validate_valid_plan_exits_0(tmp_path, tiny_dir):
    """`validate` accepts the baseline plan: exit 0 and the 'valid:' line."""
    plan_path = tmp_path / "plan.json"
    baseline_plan().to_json(plan_path)
    result = run("validate", tiny_dir, "--plan", plan_path)
    assert result.exit_code == 0, result.output
    assert "valid: 6 assignments, every hard rule holds" in result.stdout


def test_validate_broken_plan_exits_1(tmp_path, tiny_dir):
    """A plan that misses the non-local target gives exit 1, one line per violation."""
    data, rules = tiny_problem(), default_rules()
    plan_path = tmp_path / "plan.json"
    plan_from(data, rules, {}).to_json(plan_path)
    result = run("validate", tiny_dir, "--plan", plan_path)
    assert result.exit_code == 1
    lines = [ln for ln in result.stdout.splitlines() if ln.strip()]
    assert len(lines) == len(validate_plan(data, rules, Plan.from_json(plan_path)))
    assert all(ln.startswith("non_local_target") for ln in lines)


def test_validate_unreadable_plan_exits_2(tmp_path, tiny_dir):
    """A plan file that is not JSON is bad input (exit 2)."""
    bad = tmp_path / "plan.json"
    bad.write_text("{not json", encoding="utf-8")
    result = run("validate", tiny_dir, "--plan", bad)
    assert result.exit_code == 2 and "not a valid plan" in result.stderr


def test_plan_writes_json_and_xlsx_that_validate(tmp_path, tiny_dir):
    """`plan` on the tiny dataset writes plan-1.json and plan-1.xlsx; the JSON validates."""
    out = tmp_path / "out"
    result = run("plan", tiny_dir, "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    assert (out / "plan-1.json").is_file() and (out / "plan-1.xlsx").is_file()
    plan = Plan.from_json(out / "plan-1.json")
    assert plan.status in ("optimal", "feasible")
    assert validate_plan(read_dataset(tiny_dir), default_rules(), plan) == []
    assert translator("vi").kpi("non_local_share") in result.stdout
    check = run("validate", tiny_dir, "--plan", out / "plan-1.json")
    assert check.exit_code == 0, check.output


def test_plan_candidates_side_by_side(tmp_path, tiny_dir):
    """With candidates: 2 the CLI writes two plans and prints them side by side."""
    rules = tmp_path / "rules.yaml"
    rules.write_text("candidates: 2\ncandidate_tolerance: 10\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run("plan", tiny_dir, "--rules", rules, "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    assert (out / "plan-2.json").is_file() and (out / "plan-2.xlsx").is_file()
    assert "Các phương án ứng viên" in result.stdout


def test_infeasible_rules_exit_3_with_diagnosis(tmp_path, tiny_dir):
    """100% non-local with at most one change per district: exit 3, diagnosis in plan-1.json."""
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "non_local_targets: [{position: secretary, scope_level: district, min_share: 1.0}]\n"
        "max_changes: {scope_level: district, count: 1}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = run("plan", tiny_dir, "--rules", rules, "--out", out, "--quiet")
    assert result.exit_code == 3, result.output
    doc = json.loads((out / "plan-1.json").read_text(encoding="utf-8"))
    assert doc["status"] == "infeasible"
    assert doc["diagnosis"] and {"rule", "scope", "detail"} <= set(doc["diagnosis"][0])
    assert "Chẩn đoán" in result.stdout and "Đã ghi chẩn đoán" in result.stdout


def test_units_command_writes_csv(tmp_path):
    """`units --province 'Hải Dương' --legacy` writes the 3-level units table."""
    out = tmp_path / "units.csv"
    result = run("units", "--province", "Hải Dương", "--legacy", "--out", out)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("unit_id,name,level,parent_id,lat,lon")
    assert "Thành phố Hải Dương" in text


def test_units_unknown_province_exits_2(tmp_path):
    """An unknown province name gives exit 2 with the closest names."""
    result = run("units", "--province", "Hai Duongg", "--legacy", "--out", tmp_path / "u.csv")
    assert result.exit_code == 2 and "Hải Dương" in result.stderr


def test_synth_command_writes_readable_dataset(tmp_path):
    """`synth --province … --new` writes a dataset the reader accepts."""
    out = tmp_path / "lai_chau"
    result = run(
        "synth",
        "--province",
        "Lai Châu",
        "--new",
        "--seed",
        "1",
        "--positions",
        "secretary,pc_chair",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    assert {"units.csv", "cadres.csv", "posts.csv"} <= {p.name for p in out.iterdir()}
    data = read_dataset(out)
    assert set(data.posts["position"]) == {"secretary", "pc_chair"}


def test_synth_needs_a_hierarchy(tmp_path):
    """`synth --province` without --legacy/--new is bad input (exit 2)."""
    result = run("synth", "--province", "Lai Châu", "--seed", "1", "--out", tmp_path)
    assert result.exit_code == 2 and "--legacy" in result.stderr


def test_python_dash_m_rotation_runs_the_cli():
    """`python -m rotation --help` runs the same typer app."""
    proc = subprocess.run(
        [sys.executable, "-m", "rotation", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    for command in ("status", "plan", "validate", "units", "synth", "demo"):
        assert command in proc.stdout


def test_plan_candidates_write_compare_xlsx(tmp_path, tiny_dir):
    """With candidates: 2, `plan` also writes compare.xlsx with both plans' columns; a later
    single-plan run removes it."""
    import openpyxl

    rules = tmp_path / "rules.yaml"
    rules.write_text("candidates: 2\ncandidate_tolerance: 10\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run("plan", tiny_dir, "--rules", rules, "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(out / "compare.xlsx")
    cells = {c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row}
    assert {"plan-1", "plan-2"} <= cells
    again = run("plan", tiny_dir, "--out", out, "--quiet")
    assert again.exit_code == 0 and not (out / "compare.xlsx").exists()


def test_plan_lang_en_and_unknown_lang(tmp_path, tiny_dir):
    """--lang en gives an English workbook; an unknown language exits 2 naming the known ones."""
    import openpyxl

    out = tmp_path / "out"
    assert run("plan", tiny_dir, "--out", out, "--quiet", "--lang", "en").exit_code == 0
    assert openpyxl.load_workbook(out / "plan-1.xlsx").sheetnames[0] == "Overview"
    assert run("plan", tiny_dir, "--out", out, "--quiet").exit_code == 0
    assert openpyxl.load_workbook(out / "plan-1.xlsx").sheetnames[0] == "Tổng quan"
    bad = run("plan", tiny_dir, "--out", out, "--quiet", "--lang", "fr")
    assert bad.exit_code == 2 and "vi, en" in bad.output


def test_repair_decline_on_bundled_data(tmp_path):
    """`repair` after a decline: exactly the declined post changes, the output says so, and the
    written plan validates (with the decline as an exclusion)."""
    out = tmp_path / "out"
    assert run("plan", BUNDLED, "--out", out, "--quiet").exit_code == 0
    given = Plan.from_json(out / "plan-1.json")
    moved = next(a for a in given.assignments if a.changed and a.cadre_id)
    fixed = tmp_path / "fixed"
    result = run(
        "repair", BUNDLED, "--plan", out / "plan-1.json", "--event",
        f"declines:{moved.cadre_id}", "--out", fixed, "--lang", "en",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 post(s) changed compared with the given plan" in result.stdout
    assert moved.post_id in result.stdout
    repaired = Plan.from_json(fixed / "plan-1.json")
    assert repaired.holder()[moved.post_id] != moved.cadre_id
    diff = [p for p, c in repaired.holder().items() if given.holder()[p] != c]
    assert diff == [moved.post_id]
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        f"exclude: [{{post_id: {moved.post_id}, cadre_id: {moved.cadre_id}}}]\n", encoding="utf-8"
    )
    check = run("validate", BUNDLED, "--rules", rules, "--plan", fixed / "plan-1.json")
    assert check.exit_code == 0, check.output
    bad = run("repair", BUNDLED, "--plan", out / "plan-1.json", "--event", "x:1", "--out", fixed)
    assert bad.exit_code == 2 and "declines:CADRE" in bad.output


def test_two_level_hierarchy_shown_as_itself(tmp_path):
    """2025 hierarchy (no districts): the province appears once in the terminal tables, the
    scope column and sheet are named for the province."""
    import openpyxl

    lc = tmp_path / "lai_chau"
    made = run("synth", "--province", "Lai Châu", "--new", "--seed", "1", "--out", lc)
    assert made.exit_code == 0, made.output
    status = run("status", lc)
    assert status.exit_code == 0, status.output
    assert status.stdout.count("Tỉnh Lai Châu") == 1
    out = tmp_path / "out"
    planned = run("plan", lc, "--out", out, "--quiet")
    assert planned.exit_code == 0, planned.output
    after = planned.stdout.split("trước / sau", 1)[1]
    assert after.count("Tỉnh Lai Châu") == 1
    wb = openpyxl.load_workbook(out / "plan-1.xlsx")
    assert "Theo tỉnh" in wb.sheetnames and "Theo huyện" not in wb.sheetnames
    rows = list(wb["Theo tỉnh"].iter_rows(values_only=True))
    assert rows[0][0] == "Tỉnh" and [r[0] for r in rows[1:]] == ["Tỉnh Lai Châu"]


@pytest.mark.parametrize(
    ("variable", "default", "users"),
    [
        # pydantic's plugin search reads every installed package's metadata
        ("PYDANTIC_DISABLE_PLUGINS", "__all__", "logfire"),
        # OpenBLAS's spinning pool costs CPU the province workers need
        ("OPENBLAS_NUM_THREADS", "1", "2"),
    ],
)
def test_a_command_sets_its_defaults_and_keeps_the_users(monkeypatch, variable, default, users):
    """The rotation process skips pydantic's plugin search and asks numpy's OpenBLAS for one
    thread, unless the variable is set already, which it then keeps."""
    from rotation import cli_common

    monkeypatch.setattr(cli_common._Process, "short_lived", False)
    monkeypatch.delenv(variable, raising=False)
    cli_common.short_lived_process()
    assert os.environ[variable] == default
    monkeypatch.setenv(variable, users)
    cli_common.short_lived_process()
    assert os.environ[variable] == users


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="threads read from /proc")
def test_a_command_loads_numpy_with_one_blas_thread() -> None:
    """A rotation process started without OPENBLAS_NUM_THREADS has one thread after numpy
    loaded and multiplied matrices (OpenBLAS started no pool)."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    code = (
        "from rotation.cli_common import short_lived_process; short_lived_process(); "
        "import numpy, re; numpy.ones((64, 64)) @ numpy.ones((64, 64)); "
        "print(re.search(r'Threads:\\s+(\\d+)', open('/proc/self/status').read())[1])"
    )
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["1"]


def test_the_collector_is_off_while_a_command_imports(monkeypatch) -> None:
    """In the rotation process the cyclic collector is off inside ``importing()`` blocks
    (nested ones included) and back on after the outermost; a collector the caller had
    switched off stays off; outside the rotation process nothing changes."""
    import gc

    from rotation import cli_common

    monkeypatch.setattr(cli_common._Process, "short_lived", True)
    assert gc.isenabled()
    try:
        with cli_common.importing():
            assert not gc.isenabled()
            with cli_common.importing():
                assert not gc.isenabled()
            assert not gc.isenabled()
        assert gc.isenabled()
        gc.disable()
        with cli_common.importing():
            assert not gc.isenabled()
        assert not gc.isenabled()
        gc.enable()
        monkeypatch.setattr(cli_common._Process, "short_lived", False)
        gc.disable()
        with cli_common.importing():
            assert not gc.isenabled()
        gc.enable()
        with cli_common.importing():
            assert gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()


def test_work_in_background_runs_in_a_child_of_the_rotation_process(monkeypatch, tmp_path):
    """In the rotation process ``in_background`` runs the work in a forked child (what the
    work changes in memory stays there) and ``wait`` returns once it is done; a child that
    fails has its work done again in this process; elsewhere the work runs at once."""
    from rotation import cli_common

    if not hasattr(os, "fork"):
        pytest.skip("no fork on this system")
    parent, seen = os.getpid(), []

    def work(path: Path) -> None:
        seen.append(os.getpid())
        path.write_text(str(os.getpid()), encoding="utf-8")

    monkeypatch.setattr(cli_common._Process, "short_lived", True)
    wait = cli_common.in_background(lambda: work(tmp_path / "a"))
    wait()
    assert seen == [] and int((tmp_path / "a").read_text()) != parent

    def fails_in_the_child() -> None:
        if os.getpid() != parent:
            raise OSError("disk full")
        work(tmp_path / "b")

    cli_common.in_background(fails_in_the_child)()
    assert seen == [parent] and (tmp_path / "b").read_text() == str(parent)

    monkeypatch.setattr(cli_common._Process, "short_lived", False)
    wait = cli_common.in_background(lambda: work(tmp_path / "c"))
    assert seen == [parent, parent] and (tmp_path / "c").exists()
    wait()


def test_the_rotation_process_writes_the_workbook_it_would_write_in_one(tmp_path):
    """``rotation plan`` as its own process (the workbook written by a forked child, beside the
    JSON and the printed tables) writes the same plan and workbook, cell by cell, as the
    command run in this process (everything in one), and says so only once both are done."""
    from test_xlsx import _cells

    here, there = tmp_path / "here", tmp_path / "there"
    assert run("plan", BUNDLED, "--out", here, "--quiet").exit_code == 0
    script = (  # Hai Duong's 203 posts, written beside as a national plan's would be
        "import sys, atexit; import rotation.cli as c; c.BACKGROUND_MIN_POSTS = 1; "
        "real = c.in_background; started = []; "
        "c.in_background = lambda work: started.append(1) or real(work); "
        "atexit.register(lambda: print('beside', len(started), file=sys.stderr)); "
        f"sys.argv = ['rotation', 'plan', {str(BUNDLED)!r}, '--out', {str(there)!r}, '--quiet']; "
        "c.main()"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    assert "beside 1" in proc.stderr
    assert proc.stdout.rstrip().splitlines()[-1].startswith("Đã ghi")
    assert (here / "plan-1.json").read_bytes() == (there / "plan-1.json").read_bytes()
    a = _cells((here / "plan-1.xlsx").read_bytes())
    b = _cells((there / "plan-1.xlsx").read_bytes())
    assert len(a) > 5000 and a == b


def _ending(*args: str) -> subprocess.CompletedProcess[str]:
    """``rotation ARGS`` as its own process, saying on stderr whether it ended at once
    (``os._exit``) and whether its atexit handlers ran."""
    script = (
        "import os, sys, atexit; import rotation.cli as c; real = os._exit; "
        "os._exit = lambda code: (print('ended at once', code, file=sys.stderr), real(code)); "
        "atexit.register(lambda: print('atexit ran', file=sys.stderr)); "
        f"sys.argv = ['rotation', *{list(args)!r}]; c.main()"
    )
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=REPO
    )


def test_plan_ends_at_once_with_its_files_written_and_code_kept(tmp_path, tiny_dir):
    """``rotation plan`` ends without taking the interpreter down once its files are written:
    the same exit code (0 with a plan, 3 without), the whole output, the atexit handlers run,
    the files complete; a command that does not say its files are written ends as usual."""
    from test_xlsx import _cells

    from rotation.rules import load_rules

    out = tmp_path / "out"
    proc = _ending("plan", str(BUNDLED), "--out", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "ended at once 0" in proc.stderr and "atexit ran" in proc.stderr
    assert proc.stdout.rstrip().splitlines()[-1].startswith("Đã ghi")
    plan = Plan.from_json(out / "plan-1.json")
    assert plan.status == "optimal" and len(plan.assignments) == 203
    assert validate_plan(read_dataset(BUNDLED), load_rules({}), plan) == []

    assert len(_cells((out / "plan-1.xlsx").read_bytes())) > 5000

    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "non_local_targets: [{position: secretary, scope_level: district, min_share: 1.0}]\n"
        "max_changes: {scope_level: district, count: 1}\n",
        encoding="utf-8",
    )
    infeasible = tmp_path / "infeasible"
    proc = _ending("plan", str(tiny_dir), "--rules", str(rules), "--out", str(infeasible))
    assert proc.returncode == 3, proc.stderr
    assert "ended at once 3" in proc.stderr and "atexit ran" in proc.stderr
    assert json.loads((infeasible / "plan-1.json").read_text(encoding="utf-8"))["diagnosis"]

    proc = _ending("status", str(tiny_dir))
    assert proc.returncode == 0, proc.stderr
    assert "ended at once" not in proc.stderr and "atexit ran" in proc.stderr


def test_a_command_line_runs_with_only_its_command_and_reads_the_same() -> None:
    """``rotation plan …`` gives click the plan command alone (typer works out each command's
    parameters); every library command's help and its usage error read exactly as in the
    whole app, and a command line that does not start with a library command gets the whole
    app (an option, a misspelt name, a plugin's command, nothing)."""
    from rotation import cli

    names = list(cli.command_names())
    assert "plan" in names and len(names) > 5
    for name in names:
        one = cli.one_command_app([name, "--help"])
        assert one is not None and len(one.registered_commands) == 1, name
        for args in ([name, "--help"], [name, "--no-such-option"]):
            got = CliRunner().invoke(one, args, prog_name="rotation")
            want = CliRunner().invoke(cli.app, args, prog_name="rotation")
            assert (got.exit_code, got.output) == (want.exit_code, want.output), args
    for args in ([], ["--help"], ["pln"], ["serve"], ["--help", "plan"]):
        assert cli.one_command_app(args) is None, args
