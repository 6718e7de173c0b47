"""Repair a plan after events: the core is :mod:`rotation.repair`, shared with ``rotation repair``;
the API's worker calls :func:`repair_holders` (as the command line does) around its configured
solve target, the route checks events with :func:`check_events`."""

from __future__ import annotations

from rotation.repair import (
    CHANGE_WEIGHT,
    RepairError,
    check_events,
    repair_holders,
    repair_plan,
)

__all__ = [
    "CHANGE_WEIGHT",
    "RepairError",
    "check_events",
    "repair_holders",
    "repair_plan",
]
