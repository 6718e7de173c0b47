"""The CP-SAT model: pair index, one row-producing function per rule, the objective."""

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
from .variables import Variables


def build_model(elig: Eligibility, diagnosing: bool = False, objective: bool = True) -> Variables:
    """Variables + every hard rule (+ the objective) for one eligibility set."""
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
