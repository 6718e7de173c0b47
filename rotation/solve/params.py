"""CP-SAT parameters and the watcher that reports progress and honours ``stop``; shared by the
single plan, its candidates and the term roadmap."""

from __future__ import annotations

from ortools.sat.python import cp_model

from ..model import SCALE
from ..rules import Rules
from .progress import Clock, Progress, StopFlag


def solver_parameters(
    rules: Rules, time_limit: float | None = None, workers: int | None = None
) -> cp_model.CpSolver:
    """CP-SAT parameters. One worker (the exact pipeline's small models) is deterministic;
    ``rules.workers`` workers (the plain baseline) may return a different optimum among ties."""
    solver = cp_model.CpSolver()
    p = solver.parameters
    p.max_time_in_seconds = float(time_limit if time_limit is not None else rules.time_limit_s)
    p.num_workers = workers if workers is not None else rules.workers
    p.random_seed = rules.seed
    p.log_search_progress = False
    if p.num_workers == 1:
        p.linearization_level = 2  # the single worker needs the full LP relaxation to prove
    return solver


class Watcher(cp_model.CpSolverSolutionCallback):
    """Reports progress on each improving solution and stops the search when asked.

    ``clock`` is the solve's clock (a new one when absent), so ``elapsed_s`` keeps counting
    across the phases of one solve.
    """

    def __init__(
        self,
        progress: Progress | None,
        stop: StopFlag | None,
        label: str,
        clock: Clock | None = None,
    ) -> None:
        super().__init__()
        self.progress = progress
        self.stop = stop
        self.label = label
        self.clock = clock if clock is not None else Clock()

    def on_solution_callback(self) -> None:
        if self.progress is not None:
            self.progress(
                self.clock.event(
                    self.label,
                    objective=self.ObjectiveValue() / SCALE,
                    bound=self.BestObjectiveBound() / SCALE,
                )
            )
        if self.stop is not None and self.stop.is_set():
            self.StopSearch()
