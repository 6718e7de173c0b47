"""Stand-in solve targets for the job tests, imported by name inside the worker process
(``Settings.solve_target = "solve_targets:slow_solve"``; the spawned worker inherits sys.path).

They make the cancel and crash tests deterministic: a solve that runs until it is told to stop,
and one that kills its own process.
"""

from __future__ import annotations

import os
import time
from typing import Any

SAFETY_S = 120.0
"""A slow solve that is never stopped returns (as ``done``) after this long: the test then fails
on the status instead of hanging."""


def slow_solve(data: Any, rules: Any, progress: Any = None, stop: Any = None) -> Any:
    """Solve once at once (tiny data: the best plan so far), then keep "searching", reporting
    progress every 0.1 s, until ``stop`` is set; return that best plan."""
    from rotation.solve import solve

    result = solve(data, rules)  # no stop here: the best-so-far plan must exist before the loop
    best = result.plans[0].objective if result.plans else None
    deadline = time.monotonic() + SAFETY_S
    step = 0
    while time.monotonic() < deadline:
        step += 1
        if progress is not None:
            progress(
                {"phase": "searching", "step": step, "objective": best, "plans": len(result.plans)}
            )
        if stop is not None and stop.wait(0.1):
            break
    return result


def crash_solve(data: Any, rules: Any, progress: Any = None, stop: Any = None) -> Any:
    """Die the hard way, without a word to the API (no exception, no result message)."""
    os._exit(13)


def slow_roadmap(data: Any, rules: Any, progress: Any = None, stop: Any = None) -> Any:
    """The roadmap counterpart of :func:`slow_solve`: the real roadmap at once, then "searching"
    until stopped."""
    from rotation.roadmap.model import solve_roadmap

    result = solve_roadmap(data, rules)
    deadline = time.monotonic() + SAFETY_S
    step = 0
    while time.monotonic() < deadline:
        step += 1
        if progress is not None:
            progress({"phase": "searching", "step": step, "rounds": len(result.rounds)})
        if stop is not None and stop.wait(0.1):
            break
    return result
