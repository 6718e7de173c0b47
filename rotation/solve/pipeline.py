"""``solve(problem, rules) -> Result``: the one entry point; it splits a multi-province problem
by province (``province.py``; with a national budget or priority shares, ``coupling.py``:
relaxation first, then Lagrangian decomposition) and otherwise solves it as one
(``single.py``)."""

from __future__ import annotations

from ..data import ProblemData
from ..rules import Rules
from .progress import Clock, Progress, StopFlag
from .province import couples, separable_provinces, solve_by_province
from .result import Result
from .single import Method, solve_one


def solve(
    problem: ProblemData,
    rules: Rules,
    progress: Progress | None = None,
    stop: StopFlag | None = None,
    explain: bool | None = None,
    method: Method = "exact",
    decompose: bool = True,
) -> Result:
    """Plan the rotation: up to ``rules.candidates`` distinct plans, best first.

    ``progress`` receives :class:`ProgressEvent` s (phase, elapsed_s since the call, objective,
    bound, gap) during the search; setting ``stop`` ends the search and keeps the best plan found
    so far. Explanations (score parts, three best alternatives per post) are added when
    ``explain`` is true (default: when the plan has at most 2,000 posts). All three hold on every
    path: the pure-assignment flow, the exact pipeline, the plain baseline, province by province.

    ``method="exact"`` (default): LP bound → a first plan on the pairs the LP likes → reduced-cost
    fixing (pairs that provably cannot be in a plan within the tolerance are removed) → CP-SAT on
    the rest, proving optimality for the whole problem. ``method="plain"``: CP-SAT on every
    eligible pair (the baseline the benchmarks compare against).
    """
    if method not in ("exact", "plain"):
        raise ValueError(f"method {method!r}: expected 'exact' or 'plain'")
    clock = Clock()
    if decompose and method == "exact" and rules.candidates == 1:
        provinces = separable_provinces(problem, rules)
        if provinces:
            # provinces are independent unless a rule spans the whole plan (a budget, priority
            # shares): then the coupling's relaxation first, else its Lagrangian decomposition
            # (imported only then: it loads scipy.sparse and CP-SAT, 0.1–0.2 s that separate
            # provinces never need before the workers start)
            if couples(rules):
                from .coupling import solve_coupled

                res = solve_coupled(problem, rules, provinces, progress, stop, explain, clock)
            else:
                res = solve_by_province(problem, rules, provinces, progress, stop, explain, clock)
            return _with_rules(res, rules)
    return _with_rules(solve_one(problem, rules, progress, stop, explain, method, clock), rules)


def _with_rules(res: Result, rules: Rules) -> Result:
    """Every plan says which scenario it is (contract v1.1: the effective rules)."""
    res.rules = rules.model_dump(mode="json")
    for p in res.plans:
        p.rules = res.rules
    return res
