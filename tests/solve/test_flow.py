"""The pure assignment case (min-cost flow, no model): solve() matches scipy's
linear_sum_assignment optimum exactly, and progress, explain and stop hold on this path too."""

from __future__ import annotations

import datetime as dt
import math
import threading

import numpy as np
import pandas as pd
import pytest
from builders import AS_OF
from scipy.optimize import linear_sum_assignment

from rotation.data import CADRE_COLUMNS, POST_COLUMNS, UNIT_COLUMNS, ProblemData
from rotation.rules import Rules
from rotation.solve import ProgressEvent, solve
from rotation.validate import format_violations, validate_plan

N_POSTS = 300
N_CADRES = 360
PAIRS_PER_POST = 30
FORBIDDEN = 10**7


def assignment_instance(seed: int = 0) -> tuple[ProblemData, np.ndarray]:
    """All posts vacant, each cadre living in a commune of its own; costs only in ``travel``.

    Returns the data and the post × cadre cost matrix (FORBIDDEN where no travel row exists).
    """
    rng = np.random.default_rng(seed)
    cost = np.full((N_POSTS, N_CADRES), FORBIDDEN, dtype=np.int64)
    perm = rng.permutation(N_CADRES)[:N_POSTS]  # a guaranteed perfect matching
    for j in range(N_POSTS):
        cols = {int(perm[j]), *rng.choice(N_CADRES, PAIRS_PER_POST - 1, replace=False).tolist()}
        for c in cols:
            cost[j, c] = int(rng.integers(1, 100))

    post_units = [f"PU{j:03d}" for j in range(N_POSTS)]
    home_units = [f"HU{c:03d}" for c in range(N_CADRES)]
    units = pd.DataFrame(
        {
            "name": ["Tỉnh P"] + [f"Xã {u}" for u in post_units + home_units],
            "level": ["province"] + ["commune"] * (N_POSTS + N_CADRES),
            "parent_id": [None] + ["P"] * (N_POSTS + N_CADRES),
            "lat": math.nan,
            "lon": math.nan,
        },
        index=pd.Index(["P", *post_units, *home_units], name="unit_id"),
    )[UNIT_COLUMNS]
    units["parent_id"] = units["parent_id"].astype(object)
    cadre_ids = [f"C{c:03d}" for c in range(N_CADRES)]
    cadres = pd.DataFrame(
        {
            "full_name": [f"Cán bộ {c}" for c in range(N_CADRES)],
            "gender": ["M" if c % 2 else "F" for c in range(N_CADRES)],
            "birth_date": [dt.date(1980, 1, 1)] * N_CADRES,
            "ethnicity": ["Kinh"] * N_CADRES,
            "hometown_id": home_units,
            "residence_id": home_units,
            "current_unit_id": home_units,
            "current_since": [dt.date(2024, 1, 1)] * N_CADRES,
            "planned_positions": [()] * N_CADRES,
            "movable": True,
            "max_travel_km": math.nan,
        },
        index=pd.Index(cadre_ids, name="cadre_id"),
    )[CADRE_COLUMNS].astype(object)
    cadres["movable"] = cadres["movable"].astype(bool)
    cadres["max_travel_km"] = cadres["max_travel_km"].astype(float)
    posts = pd.DataFrame(
        {"unit_id": post_units, "position": "secretary", "incumbent_id": None},
        index=pd.Index([f"S{j:03d}" for j in range(N_POSTS)], name="post_id"),
    )[POST_COLUMNS].astype(object)
    js, cs = np.nonzero(cost < FORBIDDEN)
    travel = pd.DataFrame(
        {
            "from_id": [home_units[c] for c in cs],
            "to_id": [post_units[j] for j in js],
            "km": cost[js, cs].astype(float),
        }
    )
    data = ProblemData.build(units=units, cadres=cadres, posts=posts, travel=travel, name="lsa")
    return data, cost


def assignment_rules(max_travel_km: float | None) -> Rules:
    return Rules.model_validate(
        {
            "as_of": AS_OF,
            "positions": ["secretary"],
            "non_local_targets": [],
            "max_travel_km": max_travel_km,
            "min_years_in_post": 0,
            "max_years_in_post": None,
            "min_years_to_retirement": 0,
            "min_rating": None,
            "require_planning": False,
            "forbid_relatives_same_unit": False,
            "allow_vacancies": False,
            "same_province": True,
            "weights": {"travel_km": 1},
            "time_limit_s": 60,
        }
    )


@pytest.fixture(scope="module")
def instance() -> tuple[ProblemData, np.ndarray]:
    return assignment_instance()


@pytest.fixture(scope="module")
def optimum(instance: tuple[ProblemData, np.ndarray]) -> float:
    _, cost = instance
    rows, cols = linear_sum_assignment(cost)
    total = int(cost[rows, cols].sum())
    assert total < FORBIDDEN  # the guaranteed matching exists
    return float(total)


def test_assignment_matches_linear_sum_assignment(instance, optimum):
    """With a large travel limit the plan's objective is scipy's optimum and the plan is valid."""
    data, cost = instance
    rules = assignment_rules(10_000.0)
    res = solve(data, rules, explain=False)
    assert res.status == "optimal"
    plan = res.plans[0]
    assert plan.objective == pytest.approx(optimum, abs=1e-6)
    assert plan.kpis.total_travel_km == pytest.approx(optimum, abs=1e-6)
    violations = validate_plan(data, rules, plan)
    assert violations == [], format_violations(violations)
    # every assignment uses a pair that exists in the travel table, at its cost
    for a in plan.assignments:
        j, c = int(a.post_id[1:]), int(a.cadre_id[1:])
        assert cost[j, c] < FORBIDDEN
        assert a.travel_km == cost[j, c]


def test_assignment_without_travel_limit(instance, optimum):
    """max_travel_km None: pairs with no travel row and no coordinates are still unreachable."""
    data, _ = instance
    rules = assignment_rules(None)
    res = solve(data, rules, explain=False)
    assert res.status == "optimal"
    plan = res.plans[0]
    assert all(math.isfinite(a.travel_km) for a in plan.assignments)
    assert plan.objective == pytest.approx(optimum, abs=1e-6)
    violations = validate_plan(data, rules, plan)
    assert violations == [], format_violations(violations)


def test_flow_path_reports_progress(instance, optimum):
    """The min-cost flow path reports one event: the proven plan (objective = bound, gap 0)."""
    data, _ = instance
    events: list[ProgressEvent] = []
    res = solve(data, assignment_rules(10_000.0), explain=False, progress=events.append)
    assert res.stats["solved_by"].startswith("min-cost flow")
    assert [ev.phase for ev in events] == ["min-cost flow"]
    assert events[0].objective == events[0].bound == pytest.approx(optimum, abs=1e-6)
    assert events[0].gap == 0.0


def test_flow_path_explains_by_default(instance):
    """The flow path adds score parts and alternatives like every other path (default: at most
    2,000 posts), and none with explain=False."""
    data, _ = instance
    res = solve(data, assignment_rules(10_000.0))
    assert res.stats["solved_by"].startswith("min-cost flow")
    assert all(a.score is not None and a.alternatives for a in res.plans[0].assignments)
    off = solve(data, assignment_rules(10_000.0), explain=False)
    assert all(a.score is None for a in off.plans[0].assignments)


def test_flow_path_with_stop_returns_the_proven_plan(instance, optimum):
    """A stop set up front: the flow answers at once anyway, so the plan is the proven one."""
    data, _ = instance
    stop = threading.Event()
    stop.set()
    res = solve(data, assignment_rules(10_000.0), explain=False, stop=stop)
    assert res.status == "optimal"
    assert res.plans[0].objective == pytest.approx(optimum, abs=1e-6)
