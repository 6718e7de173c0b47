"""Liveness."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import RunnerDep
from ..schemas import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def health(runner: RunnerDep) -> Health:
    """Is the service up; how many solves run now."""
    return Health(status="ok", running_jobs=runner.running_count())
