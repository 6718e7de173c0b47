"""Repair a plan after events: the core is :mod:`rotation.repair`, shared with ``rotation repair``;
the API's worker calls :func:`prepare_repair` and :func:`rebase_plan` around its solve, the
route checks events with :func:`check_events`."""

from __future__ import annotations

from rotation.repair import (
    CHANGE_WEIGHT,
    RepairError,
    check_events,
    prepare_repair,
    rebase_plan,
    repair_plan,
)

__all__ = [
    "CHANGE_WEIGHT",
    "RepairError",
    "check_events",
    "prepare_repair",
    "rebase_plan",
    "repair_plan",
]
