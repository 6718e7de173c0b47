"""The CP-SAT model: pair index, one row-producing function per rule, the objective.

OR-Tools' CP-SAT is loaded with :class:`Variables` (on first use of the name, PEP 562, or by
:func:`build_model`): the rows, the costs and the LP need none of it, and a plan the LP proves
(an integral optimum) is written without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..eligibility import Eligibility
from .constraints import HARD_CONSTRAINTS, Row, all_rows
from .index import PairIndex
from .objective import (
    SCALE,
    holding_costs,
    objective_expr,
    pair_costs,
    set_objective,
    vacancy_costs,
)

if TYPE_CHECKING:
    from .variables import Variables


def __getattr__(name: str) -> Any:
    if name == "Variables":
        from .variables import Variables

        return Variables
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_model(elig: Eligibility, diagnosing: bool = False, objective: bool = True) -> Variables:
    """Variables + every hard rule (+ the objective) for one eligibility set."""
    from .variables import Variables

    v = Variables(elig, diagnosing=diagnosing)
    v.add_rules()
    if objective:
        set_objective(v)
    return v


__all__ = [
    "HARD_CONSTRAINTS",
    "SCALE",
    "PairIndex",
    "Row",
    "Variables",
    "all_rows",
    "build_model",
    "holding_costs",
    "objective_expr",
    "pair_costs",
    "set_objective",
    "vacancy_costs",
]
