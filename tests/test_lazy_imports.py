"""Start-up cost: the command line's module loads no heavy library before a command needs it,
and the package's names still resolve (PEP 562)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("pandas", "numpy", "pydantic", "networkx", "openpyxl", "ortools", "highspy", "scipy")


def _loaded(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys\nprint(' '.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=True,
    ).stdout.split()
    return {m.split(".")[0] for m in out}


def test_cli_module_loads_no_heavy_library():
    loaded = _loaded("import rotation.cli")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_package_names_resolve_on_first_use():
    import rotation

    assert rotation.Rules.__name__ == "Rules"
    assert rotation.ProblemData.__name__ == "ProblemData"
    assert callable(rotation.load_rules)
    assert {"Rules", "DataError", "load_rules"} <= set(dir(rotation))
    try:
        rotation.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("unknown attribute did not raise")


def test_reading_without_roads_does_not_load_networkx():
    loaded = _loaded(
        "from rotation.read import read_dataset\n"
        "from rotation.geo import distances\n"
        "from rotation.rules import load_rules\n"
        "d = read_dataset('data/hai_duong')\n"
        "distances(d, load_rules({}))"
    )
    assert "networkx" not in loaded


def test_a_plan_and_its_workbook_load_no_cldr_data(tmp_path):
    """Numbers in the printed tables and the workbook need no Babel (its CLDR data costs a
    command ≈ 0.06 s): the four symbols of each language are written out in rotation.i18n.
    The command ends its process at once: the modules are listed by an exit handler."""
    modules = tmp_path / "modules.txt"
    code = (
        "import atexit, sys\n"
        f"atexit.register(lambda: open({str(modules)!r}, 'w').write(' '.join(sys.modules)))\n"
        "from rotation.cli import main\n"
        f"sys.argv = ['rotation', 'plan', 'data/hai_duong', '--out', {str(tmp_path)!r}, '--quiet']\n"
        "main()"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, timeout=300, check=True)
    assert (tmp_path / "plan-1.xlsx").is_file()
    loaded = {m.split(".")[0] for m in modules.read_text().split()}
    assert "rotation" in loaded
    assert "babel" not in loaded


def test_imports_are_frozen_only_in_the_rotation_process(monkeypatch):
    """`importing()` freezes the objects loaded for the collector (gc.freeze) in the `rotation`
    process only; a caller's process (tests, a notebook) keeps its collector as it is."""
    import gc

    from rotation import cli_common

    monkeypatch.setattr(cli_common._Process, "short_lived", False)
    gc.unfreeze()
    with cli_common.importing():
        pass
    assert gc.get_freeze_count() == 0
    cli_common.short_lived_process()
    try:
        with cli_common.importing():
            import json  # noqa: F401
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_a_plan_the_lp_proves_loads_no_cp_sat():
    """Hai Duong's LP optimum is integral and keeps every rule row: the plan is written from
    it, proven by its own bound, and OR-Tools is never loaded."""
    loaded = _loaded(
        "from rotation.read import read_dataset\n"
        "from rotation.rules import load_rules\n"
        "from rotation.solve import solve\n"
        "r = solve(read_dataset('data/hai_duong'), load_rules({}))\n"
        "assert r.status == 'optimal' and r.stats['solved_by'].startswith('LP'), r.stats"
    )
    assert "ortools" not in loaded
