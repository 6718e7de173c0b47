"""The baseline the benchmarks compare against: plain CP-SAT on every eligible pair, with
``rules.workers`` workers (not guaranteed reproducible among equally good plans)."""

from __future__ import annotations

import time
from typing import Any

from ..eligibility import Eligibility
from ..model import build_model
from ..plan import Plan
from ..rules import Rules
from ..status import SolveStatus
from .candidates import solve_candidates
from .progress import Clock, Progress, StopFlag


def solve_plain(
    elig: Eligibility,
    rules: Rules,
    stats: dict[str, Any],
    progress: Progress | None,
    stop: StopFlag | None,
    deadline: float,
    clock: Clock,
) -> tuple[SolveStatus, list[Plan]]:
    """Up to ``rules.candidates`` plans on the full model and plan 1's status."""
    plans: list[Plan] = []
    t1 = time.perf_counter()
    v = build_model(elig)
    stats["build_s"] = round(time.perf_counter() - t1, 3)
    stats["model_pairs"] = elig.n_pairs
    status = solve_candidates(
        v,
        rules,
        plans,
        stats,
        progress,
        stop,
        deadline,
        clock,
        workers=rules.workers,
        wanted=rules.candidates,
    )
    return status, plans
