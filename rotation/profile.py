"""Where the time goes: named phases with their seconds (wall and CPU) and the peak memory at
their end.

Switched on by ``rotation … --profile`` or ``ROTATION_PROFILE=1``; otherwise :func:`phase` costs
one attribute lookup. Phases of the same name add up (a multi-province solve runs eligibility
once per province); the table lists them in the order they first started::

    with phase("read"):
        tables = ingest.read_path(path)

CPU seconds are the process's (every thread's: CP-SAT's workers count) user + system time in the
phase, so on a busy machine they show the work done where wall seconds show the wait as well.
Peak memory is the process's peak resident set so far (``getrusage``), so it only grows; the
phase where it jumps is the one that needed the memory. Phases run in worker processes (a
multi-province solve with ``workers > 1``) are not seen, only the parent's phase around them.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TextIO

ENV = "ROTATION_PROFILE"
PHASES = (
    "import",
    "read",
    "validate data",
    "eligibility",
    "LP",
    "first plan",
    "pruning",
    "proof",
    "explanations",
    "write",
)
"""The phases the command line reports, in pipeline order (others may be added)."""

_T0 = time.perf_counter()
"""When this module was first imported: the fallback start of the ``import`` phase."""


@dataclass
class PhaseTime:
    """One phase: total seconds, how many times it ran, peak RSS (bytes) at its last end, CPU
    seconds of the process in it."""

    name: str
    seconds: float = 0.0
    count: int = 0
    peak_bytes: int = 0
    cpu_seconds: float = 0.0


@dataclass
class Profile:
    """The phases recorded in this process (see the module docstring)."""

    enabled: bool = False
    phases: dict[str, PhaseTime] = field(default_factory=dict)

    def add(self, name: str, seconds: float, cpu_seconds: float = 0.0) -> None:
        p = self.phases.setdefault(name, PhaseTime(name))
        p.seconds += seconds
        p.cpu_seconds += cpu_seconds
        p.count += 1
        p.peak_bytes = peak_rss_bytes()


PROFILE = Profile(enabled=os.environ.get(ENV, "") not in ("", "0"))


_imported_at: list[tuple[float, float]] = []
"""The process's age and CPU seconds when :func:`mark_imported` was called (the end of the
``import`` phase)."""


def enable(on: bool = True) -> None:
    """Start (or stop) recording phases; the ``import`` phase is recorded when it was marked."""
    PROFILE.enabled = on
    if on and _imported_at and "import" not in PROFILE.phases:
        PROFILE.add("import", *_imported_at[0])


def enabled() -> bool:
    return PROFILE.enabled


@contextlib.contextmanager
def phase(name: str) -> Iterator[None]:
    """Time the block as phase ``name`` when profiling is on (an exception still records it)."""
    if not PROFILE.enabled:
        yield
        return
    t, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        PROFILE.add(name, time.perf_counter() - t, time.process_time() - cpu)


def record(name: str, seconds: float, cpu_seconds: float = 0.0) -> None:
    """Add a phase measured elsewhere (e.g. the LP's own clock; its CPU seconds when known)."""
    if PROFILE.enabled:
        PROFILE.add(name, seconds, cpu_seconds)


def peak_rss_bytes() -> int:
    """The process's peak resident set size so far, in bytes (0 where it cannot be read)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def process_age_s() -> float:
    """Seconds since this process started (Linux ``/proc``), else since this module loaded."""
    try:
        with open("/proc/self/stat") as fh:
            start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as fh:
            uptime = float(fh.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return time.perf_counter() - _T0


def mark_imported() -> None:
    """End the ``import`` phase (process start → now); call it first thing in ``main``. Cheap,
    so it is called whether or not profiling is on (``--profile`` switches it on later)."""
    if not _imported_at:
        _imported_at.append((process_age_s(), time.process_time()))
    if PROFILE.enabled:
        enable()


def table() -> list[PhaseTime]:
    """The phases recorded, in the order they first ran."""
    return list(PROFILE.phases.values())


def format_table(
    rows: list[PhaseTime], total_s: float | None = None, total_cpu_s: float | None = None
) -> str:
    """A plain-text table: phase, seconds, share of the total, runs, CPU seconds, peak memory
    (MiB); ``other`` is the part of the total (and of ``total_cpu_s``) outside every phase."""
    total = total_s if total_s is not None else sum(r.seconds for r in rows)
    cpu = total_cpu_s if total_cpu_s is not None else sum(r.cpu_seconds for r in rows)
    width = max([len(r.name) for r in rows] + [len("phase")])
    lines = [
        f"{'phase':<{width}}  {'seconds':>8}  {'share':>6}  {'runs':>4}  {'cpu s':>8}  "
        f"{'peak MiB':>8}"
    ]
    for r in rows:
        share = 100 * r.seconds / total if total > 0 else 0.0
        lines.append(
            f"{r.name:<{width}}  {r.seconds:8.3f}  {share:5.1f}%  {r.count:4d}  "
            f"{r.cpu_seconds:8.3f}  {r.peak_bytes / 2**20:8.1f}"
        )
    other = total - sum(r.seconds for r in rows)
    other_cpu = max(0.0, cpu - sum(r.cpu_seconds for r in rows))
    if total_s is not None and other > 0.0005:
        lines.append(
            f"{'other':<{width}}  {other:8.3f}  {100 * other / total:5.1f}%  {'':>4}  "
            f"{other_cpu:8.3f}"
        )
    lines.append(
        f"{'total':<{width}}  {total:8.3f}  {'':>6}  {'':>4}  {cpu:8.3f}  "
        f"{peak_rss_bytes() / 2**20:8.1f}"
    )
    return "\n".join(lines)


def report(stream: TextIO | None = None) -> None:
    """Print the table of phases (when profiling is on) with the process's whole run as total."""
    if not PROFILE.enabled or not PROFILE.phases:
        return
    out = stream if stream is not None else sys.stderr
    text = format_table(table(), total_s=process_age_s(), total_cpu_s=time.process_time())
    print(text, file=out, flush=True)
