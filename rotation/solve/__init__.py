"""Solving: ``solve(problem, rules) -> Result`` and its parts, one module each.

==================  ========================================================================
``pipeline``        :func:`solve`, the entry point (province split or one problem)
``single``          one problem: eligibility → flow | exact | plain → diagnosis, explanations
``flow``            the pure assignment case by min-cost flow (no model)
``exact``           the exact pipeline: pruning, then CP-SAT on the pairs left, then candidates
``pruning``         LP bound and reduced-cost fixing (:class:`LpPruning`, :class:`Pruned`)
``plain``           the plain CP-SAT baseline on every eligible pair
``candidates``      CP-SAT runs for plan 1 and candidate plans 2..K (cuts, windows)
``province``        independent provinces solved apart (in worker processes) and merged
``coupling``        provinces coupled by a national budget or priority shares: the relaxation
                    first, else Lagrangian decomposition + reduced-cost fixing + one CP-SAT proof
``params``          CP-SAT parameters and the :class:`Watcher` (progress, stop)
``progress``        :class:`ProgressEvent`, :class:`Clock`, the ``Progress`` and stop types
``plans``           chosen pairs → contract :class:`~rotation.plan.Plan`
``result``          :class:`Result`
==================  ========================================================================

Determinism: the same data, rules and ``seed`` give the same plan. Every table is sorted by id
before the model is built, so variable order never depends on file order or hashing; the LP
(HiGHS) is deterministic; the exact pipeline's CP-SAT solves (small, after reduced-cost fixing)
run on one worker with ``random_seed = rules.seed``, which CP-SAT makes deterministic. (Its
parallel mode is not: among equally good plans, two workers may return different ones; the
``plain`` baseline uses ``rules.workers`` workers and is not guaranteed reproducible.) A solve that
stops on the time limit is reproducible only in the plan it had found at that moment.
"""

from typing import TYPE_CHECKING, Any

from .pipeline import solve
from .plans import plan_from_pairs, plan_from_solution
from .progress import Clock, Progress, ProgressEvent, StopFlag
from .province import provinces_in_scope, solve_by_province, split_by_province
from .result import Result
from .single import Method

if TYPE_CHECKING:
    from .params import Watcher, solver_parameters


def __getattr__(name: str) -> Any:
    """CP-SAT's parameters and watcher load OR-Tools: on first use (PEP 562)."""
    if name in ("Watcher", "solver_parameters"):
        from . import params

        return getattr(params, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Clock",
    "Method",
    "Progress",
    "ProgressEvent",
    "Result",
    "StopFlag",
    "Watcher",
    "plan_from_pairs",
    "plan_from_solution",
    "provinces_in_scope",
    "solve",
    "solve_by_province",
    "solver_parameters",
    "split_by_province",
]
