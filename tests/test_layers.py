"""Layers: the library (``rotation/``) knows nothing of the web service (``api/``)."""

from __future__ import annotations

import ast
from pathlib import Path

ROTATION = Path(__file__).resolve().parents[1] / "rotation"
WEB = "api"


def web_imports(path: Path) -> list[str]:
    """Every ``import api…`` / ``from api… import`` in one module, as "file:line: statement"."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            if name == WEB or name.startswith(WEB + "."):
                found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and str(node.args[0].value).split(".")[0] == WEB
        ):
            found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_scan_finds_a_web_import(tmp_path):
    """The scan itself sees each way of importing the service."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import api.main\nfrom api.keys import keys_app\nimport importlib\n"
        "importlib.import_module('api.main')\nfrom .api import x\nimport apiary\n",
        encoding="utf-8",
    )
    assert [f.split(":")[1] for f in web_imports(bad)] == ["1", "2", "4"]


def test_library_does_not_import_the_service():
    """No module under rotation/ imports api (the service registers its commands itself)."""
    modules = sorted(ROTATION.rglob("*.py"))
    assert len(modules) > 20
    found = [hit for path in modules for hit in web_imports(path)]
    assert found == [], found
