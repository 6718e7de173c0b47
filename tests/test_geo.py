"""Distances: great-circle × circuity, travel rows win, road graphs with a cutoff, caching."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from builders import tiny_problem

from rotation.data import ProblemData
from rotation.geo import distances, haversine_km
from rotation.rules import load_rules


def test_known_pair_hanoi_hai_phong():
    """Hà Nội (21.0285, 105.8542) to Hải Phòng (20.8449, 106.6881) is about 89 km as the crow flies."""
    km = float(haversine_km(21.0285, 105.8542, 20.8449, 106.6881))
    assert km == pytest.approx(89.3, abs=1.0)


def test_circuity_factor_scales_great_circle():
    """Without travel rows the distance is great-circle × the circuity rule."""
    data = tiny_problem()
    a, b = "C11", "C12"
    u = data.units
    gc = float(haversine_km(u.at[a, "lat"], u.at[a, "lon"], u.at[b, "lat"], u.at[b, "lon"]))
    assert distances(data, load_rules({"circuity_factor": 1.0})).km(a, b) == pytest.approx(gc)
    assert distances(data, load_rules({"circuity_factor": 1.5})).km(a, b) == pytest.approx(1.5 * gc)


def test_travel_rows_win_and_are_symmetric():
    """A travel row overrides the computed distance, in both directions unless both are given."""
    data = tiny_problem(travel=[("C11", "C12", 42.0)])
    d = distances(data, load_rules({}))
    assert d.km("C11", "C12") == 42.0
    assert d.km("C12", "C11") == 42.0


def test_given_direction_wins_and_the_last_repeat_wins():
    """Both directions given: each holds its own km; a repeated row: the last one counts; the
    one-pair look-up and the matrix agree; a unit with no row falls back to coordinates."""
    rows = [
        ("C11", "C12", 42.0),
        ("C12", "C11", 40.0),
        ("C11", "C21", 10.0),
        ("C11", "C21", 12.0),
        ("C21", "C21", 3.0),
    ]
    data = tiny_problem(travel=rows)
    d = distances(data, load_rules({}))
    assert (d.km("C11", "C12"), d.km("C12", "C11")) == (42.0, 40.0)
    assert (d.km("C11", "C21"), d.km("C21", "C11")) == (12.0, 12.0)
    assert d.km("C21", "C21") == 3.0 and d.travel_km("C12", "C21") is None
    m = d.matrix(["C11", "C12", "C21"], ["C11", "C12", "C21"])
    assert m[0, 1] == 42.0 and m[1, 0] == 40.0 and m[0, 2] == 12.0 and m[2, 0] == 12.0
    assert m[2, 2] == 3.0 and m[0, 0] == 0.0
    assert m[1, 2] == pytest.approx(d.km("C12", "C21")) and math.isfinite(m[1, 2])


def _with_roads(data: ProblemData, rows: list[tuple[str, str, float]]) -> ProblemData:
    roads = pd.DataFrame(rows, columns=["from_id", "to_id", "km"])
    return ProblemData.build(
        units=data.units[["name", "level", "parent_id", "lat", "lon"]],
        cadres=data.cadres,
        posts=data.posts,
        ratings=data.ratings,
        relations=data.relations,
        travel=data.travel,
        roads=roads,
    )


def test_road_graph_shortest_path_and_cutoff():
    """With a roads table distances are shortest road paths; beyond the cutoff, unreachable."""
    data = _with_roads(
        tiny_problem(), [("C11", "C12", 10.0), ("C12", "C13", 15.0), ("C11", "C13", 40.0)]
    )
    d = distances(data, load_rules({}))
    assert d.km("C11", "C13") == 25.0  # via C12, not the direct 40 km road
    short = distances(data, load_rules({"road_cutoff_km": 20.0}))
    assert math.isinf(short.km("C11", "C13"))
    assert short.km("C11", "C12") == 10.0


def test_distances_cached_per_dataset_and_setting():
    """The same dataset and setting reuse one distance object; another setting gets its own."""
    data = tiny_problem()
    r = load_rules({})
    assert distances(data, r) is distances(data, r)
    assert distances(data, r) is not distances(data, load_rules({"circuity_factor": 1.1}))


@pytest.mark.parametrize("missing", [(), ("C12",), ("C11", "C21"), "all"])
def test_matrix_without_coordinates_agrees_with_the_one_pair_path(missing) -> None:
    """Units without coordinates (some, or all of them as in OR-Library's cost data) are
    infinitely far unless a travel row or the unit itself says otherwise; every other pair
    keeps its great-circle km: the matrix equals the one-pair look-up entry by entry."""
    data = tiny_problem(travel=[("C11", "C12", 42.0), ("C13", "C21", 7.0)])
    units = data.units.copy()
    gone = list(units.index) if missing == "all" else list(missing)
    units.loc[gone, ["lat", "lon"]] = float("nan")
    if missing == ("C12",):
        units.loc["C13", "lon"] = float("nan")  # half a coordinate is none
    data = ProblemData.build(
        units=units[["name", "level", "parent_id", "lat", "lon"]],
        cadres=data.cadres,
        posts=data.posts,
        ratings=data.ratings,
        relations=data.relations,
        travel=data.travel,
    )
    d = distances(data, load_rules({"circuity_factor": 1.2}))
    ids = list(data.units.index)
    m = d.matrix(ids, ids[::-1])
    for i, a in enumerate(ids):
        for j, b in enumerate(ids[::-1]):
            assert m[i, j] == pytest.approx(d.km(a, b), rel=1e-12), (a, b)
    far = math.isinf(m[ids.index("C12"), ids[::-1].index("C22")])
    assert far == ("C12" in gone)  # no travel row between them: coordinates decide
