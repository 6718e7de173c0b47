"""Progress events and the stop flag, as every solve path reports and honours them.

One :class:`Clock` per solve: every event's ``elapsed_s`` is seconds since the solve began
(``time.perf_counter``, monotonic), so a stream of events never goes back in time, whichever
phase (bound, first plan, plan k, province k/n) sends them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class ProgressEvent:
    """Where a search stands. ``objective`` (weight units) and ``gap`` (relative, 0-1) are
    ``None`` until a plan exists; ``bound`` is ``None`` until a lower bound is known."""

    phase: str
    elapsed_s: float
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """The event as plain data (the API's job progress), keys in field order."""
        return asdict(self)


Progress = Callable[[ProgressEvent], None]
"""A progress callback: called from the solving thread, it must return quickly."""


class StopFlag(Protocol):
    """What ``stop`` must offer: a ``threading.Event`` or a ``multiprocessing`` event."""

    def is_set(self) -> bool: ...


def stopped(stop: StopFlag | None) -> bool:
    return stop is not None and stop.is_set()


def relative_gap(objective: float, bound: float) -> float:
    """|objective − bound| / max(1, |objective|): 0 when the plan is proven best."""
    return abs(objective - bound) / max(1.0, abs(objective))


class Clock:
    """Seconds since the solve began, the time base of every event of that solve."""

    def __init__(self, t0: float | None = None) -> None:
        self.t0 = time.perf_counter() if t0 is None else t0

    def elapsed(self) -> float:
        return round(time.perf_counter() - self.t0, 3)

    def event(
        self, phase: str, objective: float | None = None, bound: float | None = None
    ) -> ProgressEvent:
        """An event now; the gap is computed when both objective and bound are known."""
        gap = None
        if objective is not None and bound is not None:
            gap = round(relative_gap(objective, bound), 6)
        return ProgressEvent(
            phase=phase,
            elapsed_s=self.elapsed(),
            objective=None if objective is None else round(objective, 3),
            bound=None if bound is None else round(bound, 3),
            gap=gap,
        )
