"""The CP-SAT model: variables, one constraint function per rule, the objective."""

from .constraints import HARD_CONSTRAINTS, Guard, no_guard
from .objective import SCALE, pair_costs, set_objective, vacancy_costs
from .variables import Variables


def build_model(elig, guard: Guard = no_guard) -> Variables:
    """Variables + every hard rule + the objective for one eligibility set."""
    v = Variables(elig)
    for rule in HARD_CONSTRAINTS:
        rule(v, guard)
    set_objective(v)
    return v


__all__ = ["SCALE", "Variables", "build_model", "pair_costs", "set_objective", "vacancy_costs"]
