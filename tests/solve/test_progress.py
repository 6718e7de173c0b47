"""Typed progress events: one monotonic clock per solve, ``None`` only before a plan or a
bound exists, on the exact pipeline and the plain baseline alike."""

from __future__ import annotations

import threading

import pytest
from builders import default_rules, tiny_problem
from solve_helpers import run

from rotation.solve import Clock, ProgressEvent, Watcher, solve


def assert_stream(events: list[ProgressEvent]) -> None:
    """Every event is typed, time never goes back, and the gap is there exactly when both the
    objective and the bound are."""
    assert events and all(isinstance(ev, ProgressEvent) for ev in events)
    times = [ev.elapsed_s for ev in events]
    assert times == sorted(times) and times[0] >= 0
    for ev in events:
        assert (ev.gap is None) == (ev.objective is None or ev.bound is None)
        assert ev.gap is None or ev.gap >= 0


def test_exact_pipeline_events():
    """The exact pipeline reports the LP bound first (no objective yet), then plans; the last
    objective is the plan's."""
    events: list[ProgressEvent] = []
    res = run(tiny_problem(), default_rules(), progress=events.append)
    assert_stream(events)
    assert events[0].phase == "bound"
    assert events[0].objective is None and events[0].bound is not None
    found = [ev for ev in events if ev.objective is not None]
    assert found and found[-1].objective == pytest.approx(res.plans[0].objective, abs=1e-3)


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
    """A Watcher built on an earlier clock reports time since that clock began."""
    clock = Clock(t0=Clock().t0 - 100.0)
    events: list[ProgressEvent] = []
    res = solve(
        tiny_problem(),
        default_rules(),
        progress=events.append,
        stop=threading.Event(),
    )
    assert res.plans
    w = Watcher(events.append, None, "x", clock)
    assert w.clock is clock and clock.elapsed() >= 100.0
