"""rotation: plan cadre rotations so communes get non-local leaders, within every rule.

Data flows one way: read → validate → eligibility → model → plan → report.

The names below are imported on first use (PEP 562), so ``rotation --help`` and the modules that
need none of them (``rotation.profile``, ``rotation.errors``) do not load pandas and pydantic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .data import ProblemData
    from .errors import DataError, Problem
    from .rules import Rules, RulesError, load_rules

__all__ = ["DataError", "Problem", "ProblemData", "Rules", "RulesError", "load_rules"]
__version__ = "0.1.0"

_WHERE = {
    "ProblemData": ".data",
    "DataError": ".errors",
    "Problem": ".errors",
    "Rules": ".rules",
    "RulesError": ".rules",
    "load_rules": ".rules",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])
