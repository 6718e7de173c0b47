"""Statuses defined once: the values of the contract, and how merged parts combine."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rotation.plan import Plan
from rotation.status import (
    JOB_STATUSES,
    PLAN_STATUSES,
    SOLVE_STATUSES,
    has_plan,
    weakest,
)


def test_values_are_the_contract_strings():
    """The JSON values stay the plain strings."""
    assert PLAN_STATUSES == ("optimal", "feasible", "infeasible")
    assert SOLVE_STATUSES == ("optimal", "feasible", "infeasible", "unknown")
    assert set(JOB_STATUSES) == {"queued", "running", "done", "infeasible", "failed", "cancelled"}


def test_a_plan_is_never_unknown():
    """A plan is optimal, feasible or infeasible; 'unknown' is a solve's status only."""
    with pytest.raises(ValidationError, match="status"):
        Plan.model_validate({"status": "unknown"})


@pytest.mark.parametrize(
    ("parts", "merged"),
    [
        (["optimal", "optimal"], "optimal"),
        (["optimal", "feasible"], "feasible"),
        (["feasible", "unknown", "optimal"], "unknown"),
        (["unknown", "infeasible"], "infeasible"),
        ([], "unknown"),
    ],
)
def test_weakest(parts, merged):
    """Merged parts take the weakest status; optimal only when every part is."""
    assert weakest(parts) == merged


def test_has_plan():
    assert has_plan("optimal") and has_plan("feasible")
    assert not has_plan("infeasible") and not has_plan("unknown")
