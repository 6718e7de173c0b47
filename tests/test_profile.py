"""``rotation plan --profile`` / ``ROTATION_PROFILE=1``: seconds and peak memory per phase."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from builders import default_rules, tiny_problem

from rotation import profile
from rotation.read import write_dataset
from rotation.solve import solve

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def recording():
    """Profiling on for one test, with a clean table, and off again afterwards."""
    saved = dict(profile.PROFILE.phases)
    profile.PROFILE.phases.clear()
    profile.enable()
    yield profile.PROFILE
    profile.enable(False)
    profile.PROFILE.phases.clear()
    profile.PROFILE.phases.update(saved)


def test_phase_records_nothing_when_off():
    profile.enable(False)
    before = dict(profile.PROFILE.phases)
    with profile.phase("never"):
        pass
    assert profile.PROFILE.phases == before


def test_phases_add_up_and_keep_their_first_order(recording):
    with profile.phase("b"):
        pass
    with profile.phase("a"):
        pass
    with profile.phase("b"):
        pass
    rows = profile.table()
    assert [r.name for r in rows] == ["b", "a"]
    assert rows[0].count == 2 and rows[1].count == 1
    assert all(r.seconds >= 0 and r.peak_bytes > 0 for r in rows)


def test_a_failing_block_is_still_recorded(recording):
    with pytest.raises(RuntimeError), profile.phase("boom"):
        raise RuntimeError("x")
    assert profile.PROFILE.phases["boom"].count == 1


def test_solve_records_the_pipeline_phases(recording):
    solve(tiny_problem(), default_rules())
    names = set(recording.phases)
    assert "eligibility" in names
    assert names & {"LP", "min-cost flow"}


def test_table_names_every_phase_and_the_total():
    rows = [profile.PhaseTime("read", 0.25, 1, 2**20), profile.PhaseTime("LP", 0.75, 2, 2**21)]
    text = profile.format_table(rows, total_s=2.0)
    lines = text.splitlines()
    assert lines[0].split()[:2] == ["phase", "seconds"]
    assert lines[1].split()[:4] == ["read", "0.250", "12.5%", "1"]
    assert lines[2].split()[:4] == ["LP", "0.750", "37.5%", "2"]
    assert lines[3].split()[:2] == ["other", "1.000"]
    assert lines[-1].startswith("total") and "2.000" in lines[-1]


def _plan(tmp_path: Path, *args: str, env: dict[str, str] | None = None):
    data = tmp_path / "tiny"
    write_dataset(tiny_problem(), data)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "rotation",
            "plan",
            str(data),
            "--out",
            str(tmp_path / "out"),
            "--quiet",
            *args,
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        timeout=300,
        check=False,
    )


def _phases(stderr: str) -> list[str]:
    lines = stderr.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["phase", "seconds"])
    return [re.split(r"\s{2,}", line)[0] for line in lines[start + 1 :]]


@pytest.mark.parametrize("how", ["flag", "env"])
def test_plan_prints_the_phase_table(tmp_path, how):
    env = {"PYTHONPATH": str(REPO), "ROTATION_PROFILE": "1" if how == "env" else "0"}
    res = _plan(tmp_path, *(["--profile"] if how == "flag" else []), env=env)
    assert res.returncode == 0, res.stderr
    phases = _phases(res.stderr)
    for name in ("import", "read", "validate data", "eligibility", "write", "total"):
        assert name in phases, res.stderr
    assert (tmp_path / "out" / "plan-1.json").is_file()


def test_no_table_without_the_flag(tmp_path):
    res = _plan(tmp_path, env={"PYTHONPATH": str(REPO), "ROTATION_PROFILE": "0"})
    assert res.returncode == 0, res.stderr
    assert "peak MiB" not in res.stderr
