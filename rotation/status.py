"""Statuses, defined once for plans, solve results, roadmaps and jobs.

They are ``Literal`` types, so the JSON values stay the plain strings of the contract
(``"optimal"``, ``"feasible"``, …) and mypy checks every comparison and assignment.
"""

from __future__ import annotations

from typing import Literal, get_args

PlanStatus = Literal["optimal", "feasible", "infeasible"]
"""A plan's status: proven best, valid but not proven best, or no plan (a diagnosis)."""

SolveStatus = Literal["optimal", "feasible", "infeasible", "unknown"]
"""A solve's (or a roadmap's) status: ``unknown`` = the time limit passed with no plan and no
proof that none exists."""

JobStatus = Literal["queued", "running", "done", "infeasible", "failed", "cancelled"]
"""A service job's status (the API's polling and event stream)."""

PLAN_STATUSES: tuple[PlanStatus, ...] = get_args(PlanStatus)
SOLVE_STATUSES: tuple[SolveStatus, ...] = get_args(SolveStatus)
JOB_STATUSES: tuple[JobStatus, ...] = get_args(JobStatus)


def has_plan(status: SolveStatus) -> bool:
    """True when the status comes with a plan that satisfies every hard rule."""
    return status in ("optimal", "feasible")


def weakest(statuses: list[SolveStatus]) -> SolveStatus:
    """The status of a plan merged from independent parts: infeasible if any part is, then
    unknown, then feasible; optimal only if every part is (and there is at least one)."""
    order: tuple[SolveStatus, ...] = ("infeasible", "unknown", "feasible")
    for s in order:
        if s in statuses:
            return s
    return "optimal" if statuses else "unknown"
