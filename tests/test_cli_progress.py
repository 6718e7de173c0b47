"""The live progress line of ``rotation plan``: every event renders, including those without a
plan yet (objective, bound or gap None), and a multi-province plan gets through (the national
dataset used to crash here)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from rich.console import Console
from typer.testing import CliRunner

from rotation import cli
from rotation.solve import ProgressEvent
from rotation.synth import synthesize_units, write_tables
from rotation.units import build_national_units


def render(line: cli._ProgressLine) -> str:
    out = io.StringIO()
    Console(width=200, file=out).print(line)
    return out.getvalue()


@pytest.mark.parametrize(
    ("event", "shown"),
    [
        (None, "(no plan yet)"),
        (ProgressEvent("bound", 0.1, None, 12.5, None), "bound: best –  bound 12.500  gap –"),
        (ProgressEvent("province 1/34", 0.2), "province 1/34: best –  bound –  gap –"),
        (ProgressEvent("plan 1", 0.3, 15.0, 12.5, 1 / 6), "best 15.000  bound 12.500  gap 16.7%"),
    ],
)
def test_line_renders_every_event(event: ProgressEvent | None, shown: str):
    """None shows as a dash; numbers as before."""
    line = cli._ProgressLine()
    if event is not None:
        line.update(event)
    assert shown in render(line)


def test_plan_on_two_provinces_shows_the_line(tmp_path: Path):
    """`rotation plan` (no --quiet) on a two-province dataset: exit 0, the last province's
    event on the line, no traceback."""
    units = build_national_units()
    communes = units[units["level"] != "province"].groupby("parent_id").size().sort_values()
    keep = list(communes.index[:2])
    units = units[units["unit_id"].isin(keep) | units["parent_id"].isin(keep)]
    write_tables(synthesize_units(units, 1, ["secretary"], legacy=False), tmp_path / "two")
    rules = tmp_path / "rules.yaml"
    target = {"position": "secretary", "scope_level": "province", "min_share": 0.3}
    rules.write_text(yaml.safe_dump({"non_local_targets": [target]}))
    result = CliRunner().invoke(
        cli.app,
        ["plan", str(tmp_path / "two"), "--rules", str(rules), "--out", str(tmp_path / "out")],
    )
    assert result.exit_code == 0, result.output
    assert "province 2/2: best" in result.output
    assert "Traceback" not in result.output
    assert (tmp_path / "out" / "plan-1.json").exists()
