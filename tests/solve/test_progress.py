"""Typed progress events: one monotonic clock per solve, ``None`` only before a plan or a
bound exists, on the exact pipeline and the plain baseline alike."""

from __future__ import annotations

import threading

import pytest
from builders import default_rules, tiny_problem
from ortools.sat.python import cp_model
from solve_helpers import run

from rotation.solve import Clock, ProgressEvent, Watcher, solver_parameters


def assert_stream(events: list[ProgressEvent]) -> None:
    """Every event is typed, time never goes back, and the gap is there exactly when both the
    objective and the bound are."""
    assert events and all(isinstance(ev, ProgressEvent) for ev in events)
    times = [ev.elapsed_s for ev in events]
    assert times == sorted(times) and times[0] >= 0
    for ev in events:
        assert (ev.gap is None) == (ev.objective is None or ev.bound is None)
        assert ev.gap is None or ev.gap >= 0


@pytest.mark.parametrize("candidates", [1, 3])
def test_exact_pipeline_events(candidates: int):
    """The exact pipeline reports the LP bound first (no objective yet), then plans (and the
    candidate windows), all on one clock; the last plan-1 objective is plan 1's."""
    events: list[ProgressEvent] = []
    rules = default_rules(candidates=candidates, candidate_tolerance=0.5)
    res = run(tiny_problem(), rules, progress=events.append)
    assert_stream(events)
    assert events[0].phase == "bound"
    assert events[0].objective is None and events[0].bound is not None
    first = [
        ev for ev in events if ev.objective is not None and ev.phase in ("first plan", "plan 1")
    ]
    assert first and first[-1].objective == pytest.approx(res.plans[0].objective, abs=1e-3)
    if candidates > 1:
        assert len(res.plans) > 1 and any(ev.phase == "plan 2" for ev in events)


def test_plain_baseline_events_share_one_clock():
    """Plain CP-SAT with candidates: every phase (plan 1, plan 2, …) on the same clock."""
    events: list[ProgressEvent] = []
    res = run(
        tiny_problem(),
        default_rules(candidates=2, candidate_tolerance=0.5, weights={"travel_km": 1}),
        progress=events.append,
        method="plain",
    )
    assert_stream(events)
    assert {ev.phase for ev in events} >= {"plan 1"}
    assert all(ev.objective is not None for ev in events)
    assert res.plans


def test_event_gap_and_rounding():
    """Clock.event computes the relative gap from the unrounded numbers, None without both."""
    clock = Clock()
    ev = clock.event("plan 1", objective=10.00049, bound=9.0)
    assert ev.objective == 10.0 and ev.bound == 9.0
    assert ev.gap == pytest.approx(round(1.00049 / 10.00049, 6))
    assert clock.event("bound", bound=9.0).gap is None
    assert clock.event("start").as_dict() == {
        "phase": "start",
        "elapsed_s": clock.event("start").elapsed_s,
        "objective": None,
        "bound": None,
        "gap": None,
    }


def test_events_as_plain_data_keep_the_order():
    """as_dict gives the keys the API's job progress has always had, in the same order."""
    ev = ProgressEvent("plan 1", 0.5, 3.0, 2.0, 0.333333)
    assert list(ev.as_dict()) == ["phase", "elapsed_s", "objective", "bound", "gap"]


def test_watcher_keeps_the_solve_clock():
    """A Watcher on a clock started earlier reports time since that clock began (so a later
    phase never reports less than an earlier one), and stops the search when asked."""
    from rotation.eligibility import compute_eligibility
    from rotation.model import build_model

    rules = default_rules()
    v = build_model(compute_eligibility(tiny_problem(), rules))
    clock = Clock(t0=Clock().t0 - 100.0)
    events: list[ProgressEvent] = []
    stop = threading.Event()
    stop.set()
    code = solver_parameters(rules, 10.0, 1).Solve(v.cp, Watcher(events.append, stop, "x", clock))
    assert code in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    assert len(events) == 1  # stopped at the first solution
    assert events[0].phase == "x" and events[0].elapsed_s >= 100.0
