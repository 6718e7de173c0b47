"""Distances in km between units: travel rows win; else shortest road paths when a ``roads``
table is given; else great-circle distance × the ``circuity_factor`` rule.

Distances are cached per dataset (on the ProblemData object, per circuity/cutoff setting).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .data import ProblemData
from .rules import Rules

if TYPE_CHECKING:  # networkx (a third of a second to import) loads only for a road network
    import networkx as nx

EARTH_RADIUS_KM = 6371.0088


def haversine_km(
    lat1: np.ndarray | float,
    lon1: np.ndarray | float,
    lat2: np.ndarray | float,
    lon2: np.ndarray | float,
) -> np.ndarray:
    """Great-circle distance in km (broadcasting numpy arrays of degrees)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


class Distances:
    """km between units for one dataset and one (circuity, cutoff) setting."""

    def __init__(self, data: ProblemData, circuity: float = 1.3, road_cutoff_km: float = 150.0):
        self.data = data
        self.circuity = circuity
        self.cutoff = road_cutoff_km
        self._tf, self._tt, self._tkm = _travel_rows(data.travel)
        self._codes: tuple[pd.Index, np.ndarray, np.ndarray] | None = None
        self._travel_from: dict[str, dict[str, float]] = {}
        self._by_origin: tuple[np.ndarray, dict[str, slice]] | None = None
        self._graph: nx.Graph | None = None
        self._road_rows: dict[str, dict[str, float]] = {}
        if data.roads is not None and len(data.roads):
            import networkx as nx

            g = nx.Graph()
            for a, b, km in data.roads[["from_id", "to_id", "km"]].itertuples(index=False):
                if g.has_edge(a, b):
                    km = min(km, g[a][b]["km"])
                g.add_edge(a, b, km=float(km))
            self._graph = g
        self._lat = data.units["lat"].astype(float)
        self._lon = data.units["lon"].astype(float)
        self._coords = {
            u: (la, lo)
            for u, la, lo in zip(data.units.index, self._lat, self._lon, strict=True)
            if not (math.isnan(la) or math.isnan(lo))
        }

    # -------------------------------------------------------------------- one pair
    def travel_km(self, from_id: str, to_id: str) -> float | None:
        """The travel table's km from ``from_id`` to ``to_id`` (either direction when only one
        is given), None without a row. Each origin's rows become a dict on its first look-up:
        the validator and the keep pairs ask about a few origins, and a dict of every row
        would cost more than all their look-ups (0.3 s for OR-Library's 100k rows)."""
        row = self._travel_from.get(from_id)
        if row is None:
            if self._by_origin is None:
                self._by_origin = _group_rows(self._tf)
            order, slices = self._by_origin
            sl = slices.get(from_id)
            if sl is None:
                return None
            rows = order[sl]
            row = dict(zip(self._tt[rows].tolist(), self._tkm[rows].tolist(), strict=True))
            self._travel_from[from_id] = row
        return row.get(to_id)

    def km(self, from_id: str, to_id: str) -> float:
        """Distance in km; ``inf`` when no travel row, no road path and no coordinates.

        The one-pair path of :meth:`matrix` (same precedence), without building arrays: the
        validator and explanations call it per assignment."""
        hit = self.travel_km(from_id, to_id)
        if hit is not None:
            return hit
        if from_id == to_id:
            return 0.0
        if self._graph is not None and from_id in self._graph:
            row = self._road_rows.get(from_id)
            if row is None:
                import networkx as nx

                row = nx.single_source_dijkstra_path_length(
                    self._graph, from_id, cutoff=self.cutoff, weight="km"
                )
                self._road_rows[from_id] = row
            if to_id in self._graph:
                return float(row.get(to_id, math.inf))
        lat1, lon1 = self._coords.get(from_id, (math.nan, math.nan))
        lat2, lon2 = self._coords.get(to_id, (math.nan, math.nan))
        d = float(
            haversine_km(np.float64(lat1), np.float64(lon1), np.float64(lat2), np.float64(lon2))
        )
        return math.inf if math.isnan(d) else d * self.circuity

    # -------------------------------------------------------------------- many pairs
    def matrix(self, from_ids: list[str] | pd.Index, to_ids: list[str] | pd.Index) -> np.ndarray:
        """km array [from, to] (float64, inf = unreachable); repeated ids are computed once."""
        uf, inv_f = np.unique(np.asarray(list(from_ids), dtype=object), return_inverse=True)
        ut, inv_t = np.unique(np.asarray(list(to_ids), dtype=object), return_inverse=True)
        f, t = uf.tolist(), ut.tolist()
        lat_f = self._lat.reindex(f).to_numpy()
        lon_f = self._lon.reindex(f).to_numpy()
        lat_t = self._lat.reindex(t).to_numpy()
        lon_t = self._lon.reindex(t).to_numpy()
        out = self._great_circle(lat_f, lon_f, lat_t, lon_t)
        if self._graph is not None:
            self._apply_roads(f, t, out)
        same = pd.Index(f).get_indexer(t)  # a unit to itself: 0 km
        on = same >= 0
        out[same[on], np.flatnonzero(on)] = 0.0
        if len(self._tkm):
            fi, tj = self._travel_positions(f), self._travel_positions(t, to=True)
            hit = (fi >= 0) & (tj >= 0)
            out[fi[hit], tj[hit]] = self._tkm[hit]
        return out[inv_f][:, inv_t]

    def _great_circle(
        self, lat_f: np.ndarray, lon_f: np.ndarray, lat_t: np.ndarray, lon_t: np.ndarray
    ) -> np.ndarray:
        """km [from, to] by great circle × circuity, ``inf`` where either end has no
        coordinates; computed only between units that have them (cost data such as
        OR-Library's has none: no trigonometry on a matrix of NaN)."""
        has_f = ~(np.isnan(lat_f) | np.isnan(lon_f))
        has_t = ~(np.isnan(lat_t) | np.isnan(lon_t))
        if has_f.all() and has_t.all():
            out = haversine_km(lat_f[:, None], lon_f[:, None], lat_t[None, :], lon_t[None, :])
            out = out * self.circuity
            out[np.isnan(out)] = math.inf
            return out
        out = np.full((len(lat_f), len(lat_t)), math.inf)
        fi, tj = np.flatnonzero(has_f), np.flatnonzero(has_t)
        if len(fi) and len(tj):
            out[np.ix_(fi, tj)] = self._great_circle(lat_f[fi], lon_f[fi], lat_t[tj], lon_t[tj])
        return out

    def _travel_positions(self, ids: list[str], to: bool = False) -> np.ndarray:
        """For each travel row, the position in ``ids`` (distinct) of its from (``to``: its to)
        unit, -1 when not there: ``pd.Index(ids).get_indexer`` of the column, with the
        column's units hashed once per dataset instead of once per call (the explanations call
        this once per block of posts, on travel tables of 100,000 rows and more)."""
        if self._codes is None:
            units = pd.Index(pd.unique(np.concatenate([self._tf, self._tt])))
            self._codes = (units, units.get_indexer(self._tf), units.get_indexer(self._tt))
        units, code_from, code_to = self._codes
        where = np.full(len(units), -1, dtype=np.intp)
        at = units.get_indexer(ids)
        known = at >= 0
        where[at[known]] = np.flatnonzero(known)
        return where[code_to if to else code_from]

    def pairs(
        self, from_ids: np.ndarray, to_ids: np.ndarray, limit: float = math.inf
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Reachable (i, j, km) with km <= ``limit`` between ``from_ids[i]`` and ``to_ids[j]``.

        Dense where both ends have coordinates (or a road graph exists); elsewhere only travel
        rows can give a distance, so those pairs come from the travel table alone — on sparse
        cost data (thousands of units without coordinates) this never builds the full matrix.
        """
        f = np.asarray(from_ids, dtype=object)
        t = np.asarray(to_ids, dtype=object)
        if self._graph is not None:
            has_f, has_t = np.ones(len(f), bool), np.ones(len(t), bool)
        else:
            has_f = np.array([u in self._coords for u in f], dtype=bool)
            has_t = np.array([u in self._coords for u in t], dtype=bool)
        out_i, out_j, out_km = [], [], []
        fi_c, tj_c = np.nonzero(has_f)[0], np.nonzero(has_t)[0]
        if len(fi_c) and len(tj_c):
            km = self.matrix(f[fi_c], t[tj_c])
            ii, jj = np.nonzero(km <= limit + 1e-9)
            out_i.append(fi_c[ii])
            out_j.append(tj_c[jj])
            out_km.append(km[ii, jj])
        if len(self._tkm) and (not has_f.all() or not has_t.all()):
            # travel rows for pairs with an end lacking coordinates, expanded to every index
            rows = pd.DataFrame({"a": self._tf, "b": self._tt, "km": self._tkm})
            rows = rows[rows["km"] <= limit + 1e-9]
            fdf = pd.DataFrame({"a": f, "i": np.arange(len(f)), "hf": has_f})
            tdf = pd.DataFrame({"b": t, "j": np.arange(len(t)), "ht": has_t})
            m = rows.merge(fdf, on="a").merge(tdf, on="b")
            m = m[~(m["hf"] & m["ht"])]
            out_i.append(m["i"].to_numpy())
            out_j.append(m["j"].to_numpy())
            out_km.append(m["km"].to_numpy(dtype=float))
        # a unit to itself is 0 km even without coordinates (unless a travel row says otherwise);
        # with coordinates the dense block above already has it
        f_at: dict[object, list[int]] = {}
        for i in np.nonzero(~has_f)[0].tolist():
            f_at.setdefault(f[i], []).append(i)
        same = [
            (i, j)
            for j in np.nonzero(~has_t)[0].tolist()
            for i in f_at.get(t[j], [])
            if self.travel_km(t[j], t[j]) is None
        ]
        if same:
            out_i.append(np.array([x[0] for x in same]))
            out_j.append(np.array([x[1] for x in same]))
            out_km.append(np.zeros(len(same)))
        if not out_i:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        return (
            np.concatenate(out_i).astype(np.int64),
            np.concatenate(out_j).astype(np.int64),
            np.concatenate(out_km).astype(float),
        )

    def _apply_roads(self, f: list[str], t: list[str], out: np.ndarray) -> None:
        import networkx as nx

        assert self._graph is not None
        g = self._graph
        tj = {u: j for j, u in enumerate(t)}
        in_graph_t = np.array([u in g for u in t])
        for i, a in enumerate(f):
            if a not in g:
                continue
            row = self._road_rows.get(a)
            if row is None:
                row = nx.single_source_dijkstra_path_length(g, a, cutoff=self.cutoff, weight="km")
                self._road_rows[a] = row
            # units in the road graph but beyond the cutoff are unreachable by road
            out[i, in_graph_t] = math.inf
            for b, km in row.items():
                j = tj.get(b)
                if j is not None:
                    out[i, j] = km


def _travel_rows(travel: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The travel table as (from ids, to ids, km), symmetric unless both directions are given
    (a given direction always wins; of repeated rows the last wins), one entry per ordered
    pair: each reversed row first, then each given row, an entry placed where its pair first
    appeared. Vectorised: a dict of tuples takes ≈ 1.5 µs a row with the garbage collector
    walking the heap as it grows."""
    a = travel["from_id"].astype(str).to_numpy(dtype=object)
    b = travel["to_id"].astype(str).to_numpy(dtype=object)
    km = travel["km"].astype(float).to_numpy()
    frm, to, d = np.concatenate([b, a]), np.concatenate([a, b]), np.concatenate([km, km])
    if not len(frm):
        return frm, to, d
    codes, uniques = pd.factorize(np.concatenate([a, b]))
    ca, cb = codes[: len(a)].astype(np.int64), codes[len(a) :].astype(np.int64)
    key = pd.Index(np.concatenate([cb, ca]) * len(uniques) + np.concatenate([ca, cb]))
    repeated = key.duplicated(keep="first")  # hashing, not sorting
    if not repeated.any():  # every pair once (one direction given): the rows as they come
        return frm, to, d
    firsts = np.flatnonzero(~repeated)
    lasts = np.flatnonzero(~key.duplicated(keep="last"))
    value_of = pd.Index(key[lasts]).get_indexer(key[firsts])
    return frm[firsts], to[firsts], d[lasts][value_of]


def _group_rows(ids: np.ndarray) -> tuple[np.ndarray, dict[str, slice]]:
    """The rows grouped by id: an order of the rows (by id, stable) and each id's slice of it."""
    codes, uniques = pd.factorize(ids, sort=True)
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=len(uniques))
    ends = np.cumsum(counts)
    slices = {
        u: slice(int(e - c), int(e))
        for u, c, e in zip(uniques.tolist(), counts.tolist(), ends.tolist(), strict=True)
    }
    return order, slices


def distances(data: ProblemData, rules: Rules) -> Distances:
    """The cached :class:`Distances` for this dataset and the rules' circuity/cutoff."""
    cache: dict[tuple[float, float], Distances] = data.__dict__.setdefault("_distance_cache", {})
    key = (rules.circuity_factor, rules.road_cutoff_km)
    if key not in cache:
        cache[key] = Distances(data, rules.circuity_factor, rules.road_cutoff_km)
    return cache[key]
