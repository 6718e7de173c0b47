"""The solve package's shape: the names other modules import, and no import cycle between its
modules (nor back from the layers below it)."""

from __future__ import annotations

import ast
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "rotation" / "solve"
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")


def sibling_imports(module: str) -> set[str]:
    """The package modules ``module`` imports (``from .x import``, ``from . import x``)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                out.add(node.module.split(".")[0])
            else:
                out.update(a.name for a in node.names)
    return out & set(MODULES)


def test_no_import_cycle_inside_the_package():
    """The modules of rotation/solve/ import each other along a DAG."""
    graph = {m: sibling_imports(m) for m in MODULES}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as err:
        pytest.fail(f"import cycle in rotation/solve: {err.args[1]}")
    assert set(order) == set(MODULES)


def test_lower_layers_do_not_import_solve():
    """Nothing the solve package builds on (model, eligibility, plan, explain, diagnose) imports
    it back, so importing any of them never drags the package in half-initialised."""
    root = PACKAGE.parent
    below = [root / "eligibility.py", root / "plan.py", root / "explain.py"]
    below += sorted((root / "diagnose").glob("*.py")) + sorted((root / "model").glob("*.py"))
    for path in below:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # what runs at import time: module-level statements (a function may import lazily, and
        # a TYPE_CHECKING block never runs)
        for stmt in tree.body:
            if isinstance(stmt, ast.If) and "TYPE_CHECKING" in ast.unparse(stmt.test):
                continue
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(stmt):
                if isinstance(node, ast.ImportFrom):
                    assert "solve" not in (node.module or "").split("."), path.name


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_first(module: str):
    """Each module imports on its own in a fresh interpreter (no order dependence)."""
    code = f"import rotation.solve.{module}"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_public_names():
    """The names the CLI, the API, the roadmap, the benchmarks and the tests import."""
    from rotation.solve import (
        Progress,
        ProgressEvent,
        Result,
        Watcher,
        plan_from_pairs,
        solve,
        solver_parameters,
    )

    assert callable(solve) and callable(plan_from_pairs) and callable(solver_parameters)
    assert Result.__name__ == "Result" and Watcher.__name__ == "Watcher"
    assert ProgressEvent.__name__ == "ProgressEvent" and Progress is not None


def test_unknown_method_is_named():
    """A method other than exact/plain is refused with a message naming it."""
    from builders import default_rules, tiny_problem

    from rotation.solve import solve

    with pytest.raises(ValueError, match="'greedy'"):
        solve(tiny_problem(), default_rules(), method="greedy")  # type: ignore[arg-type]
