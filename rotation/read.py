"""Parse and write the contract's dataset (§1); reading files and bytes is :mod:`rotation.ingest`.

:func:`read_dataset` reads a folder of CSV files, a .zip of them, an .xlsx workbook or a JSON
file (one reader with every guard, the same as the service's, see :mod:`rotation.ingest`), then
:func:`parse_tables` checks the text cell by cell. Every problem is collected (file, row, column,
what is wrong) before one :class:`~rotation.errors.DataError` is raised, so a user can fix a
whole file in one go. Rows count as in a spreadsheet: the header is row 1.

Control characters (C0 controls other than tab, newline and carriage return; DEL; C1 controls)
in a column name or a cell are **refused**, with file, row and column — never silently cleaned.
"""

from __future__ import annotations

import io
import math
import os
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import ingest
from .atomic import write_atomic
from .cells import text_not_formulas
from .data import DISCIPLINE_KINDS, GENDERS, LEVELS, RATINGS, ProblemData, empty_frame
from .errors import DataError, Problem
from .ingest import REQUIRED_TABLES, TABLES, Limits
from .profile import phase

__all__ = [
    "REQUIRED_TABLES",
    "TABLES",
    "Limits",
    "parse_read",
    "parse_tables",
    "read_dataset",
    "read_dataset_bytes",
    "write_dataset",
]
SKIP_WHEN_EMPTY = ("discipline", "preferences")  # v1.1 tables: not written when a dataset has none

REQUIRED_COLUMNS: dict[str, list[str]] = {
    "units": ["unit_id", "name", "level", "parent_id"],
    "cadres": [
        "cadre_id",
        "full_name",
        "gender",
        "birth_date",
        "hometown_id",
        "residence_id",
        "current_unit_id",
        "current_since",
    ],
    "posts": ["post_id", "unit_id", "position", "incumbent_id"],
    "ratings": ["cadre_id", "year", "rating"],
    "relations": ["cadre_id", "relative_id", "relation"],
    "travel": ["from_id", "to_id", "km"],
    "roads": ["from_id", "to_id", "km"],
    "discipline": ["cadre_id", "kind", "date"],
    "preferences": ["cadre_id", "unit_id", "rank"],
}
OPTIONAL_COLUMNS: dict[str, list[str]] = {
    "units": ["lat", "lon", "merged_into"],
    "cadres": ["ethnicity", "planned_positions", "movable", "max_travel_km"],
}
DERIVED_COLUMNS = ("province_id", "district_id", "commune_id")
INDEX_COLUMN = {"units": "unit_id", "cadres": "cadre_id", "posts": "post_id"}

TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INT_RE = re.compile(r"^[+-]?\d+$")


# ===================================================================== cell converters
_cell_text = ingest.cell_text  # the one cell converter, for every source


_column_text = ingest.column_text  # a column's cells as text (fast when they already are)


_control_char = ingest.control_character


def _to_date(v: str) -> date:
    try:
        if _DATE_RE.match(v):
            return date.fromisoformat(v)
    except ValueError:
        pass
    raise ValueError(f"{v!r} is not a date (YYYY-MM-DD)")


def _to_bool(v: str) -> bool:
    low = v.lower()
    if low in TRUE_WORDS:
        return True
    if low in FALSE_WORDS:
        return False
    raise ValueError(f"{v!r} is not a boolean (true/false/1/0/yes/no)")


def _to_int(v: str) -> int:
    if not _INT_RE.match(v):
        raise ValueError(f"{v!r} is not a whole number")
    return int(v)


class _FloatIn:
    """A finite number, within [lo, hi] when given; :meth:`bulk` converts a whole column."""

    def __init__(self, lo: float | None, hi: float | None) -> None:
        self.lo, self.hi = lo, hi

    def __call__(self, v: str) -> float:
        lo, hi = self.lo, self.hi
        try:
            x = float(v)
        except ValueError:
            x = math.nan
        if not math.isfinite(x):
            raise ValueError(f"{v!r} is not a number")
        if lo is not None and hi is not None and not lo <= x <= hi:
            raise ValueError(f"{v} is outside [{lo:g}, {hi:g}]")
        if lo is not None and x < lo:
            raise ValueError(f"{v} must be >= {lo:g}")
        return x

    def bulk(self, values: list[str]) -> list[float] | None:
        """Every cell converted when every one is valid (none empty), else None: then the cell
        by cell path reports each bad cell. Same values as ``[self(v) for v in values]``."""
        try:
            xs = np.fromiter(map(float, values), dtype=float, count=len(values))
        except ValueError:
            return None
        ok = np.isfinite(xs)
        if self.lo is not None:
            ok &= xs >= self.lo
        if self.hi is not None:
            ok &= xs <= self.hi
        return xs.tolist() if bool(ok.all()) else None


def _float_in(lo: float | None = None, hi: float | None = None) -> _FloatIn:
    return _FloatIn(lo, hi)


def _one_of(options: Iterable[str], case: Callable[[str], str]) -> Callable[[str], str]:
    allowed = tuple(options)

    def convert(v: str) -> str:
        if case(v) not in allowed:
            raise ValueError(f"{v!r} is not one of: {', '.join(allowed)}")
        return case(v)

    return convert


def _positions(v: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in v.split(";") if p.strip())


# ===================================================================== one table's checker
@dataclass(frozen=True)
class _Refused:
    """A cell text its converter refused, with the converter's message."""

    message: str


class _Sheet:
    """One table as text columns, with typed-column helpers that record Problems."""

    def __init__(
        self,
        table: str,
        df: pd.DataFrame | ingest.TextColumns,
        file: str,
        problems: list[Problem],
    ):
        self.table, self.file, self.problems = table, file, problems
        if isinstance(df, pd.DataFrame):
            self.n = len(df)
            self.cols = {_cell_text(c): _column_text(df[c].tolist()) for c in df.columns}
        else:  # columns of stripped text (a folder of CSV files); copied: cells get blanked
            self.n = len(next(iter(df.values()), []))
            self.cols = {c: list(v) for c, v in df.items()}
        self.missing: set[str] = set()
        self.warnings: list[str] = []
        self.refused: set[tuple[int, str]] = set()  # (row index, column) already reported
        self._refuse_control_chars()
        for col in REQUIRED_COLUMNS[table]:
            if col not in self.cols:
                self.missing.add(col)
                self.problem(None, col, "required column is missing")
        known = set(REQUIRED_COLUMNS[table]) | set(OPTIONAL_COLUMNS.get(table, []))
        for col in self.cols:
            if col not in known:
                self.warnings.append(f"{file}, column {col}: unknown column ignored")

    def _refuse_control_chars(self) -> None:
        """A control character in a column name or cell is a problem; the column (or cell) is
        then treated as absent (empty) so that it cannot reach a plan or an export."""
        for col in list(self.cols):
            bad = _control_char(col)
            if bad is not None:
                self.problem(None, repr(col), f"column name contains a control character ({bad})")
                del self.cols[col]
                continue
            values = self.cols[col]
            # one scan per column when clean: printable text holds no control character (a
            # check at twice the pattern's speed); text with tabs or line breaks: the pattern
            joined = " ".join(values)
            if joined.isprintable() or _control_char(joined) is None:
                continue
            for i, v in enumerate(values):
                bad = _control_char(v)
                if bad is not None:
                    self.problem(i, col, f"contains a control character ({bad}); remove it")
                    self.refused.add((i, col))
                    values[i] = ""

    def problem(self, i: int | None, col: str | None, message: str) -> None:
        self.problems.append(Problem(self.file, None if i is None else i + 2, col, message))

    def raw(self, col: str) -> list[str]:
        return self.cols.get(col, [""] * self.n)

    def convert(
        self,
        col: str,
        fn: Callable[[str], Any] | None = None,
        required: bool = True,
        default: Any = None,
    ) -> list[Any]:
        """Typed column: empty cells give ``default`` (a problem if required), bad cells too."""
        raw = self.raw(col)
        if raw and "" not in raw:  # no empty cell: a whole-column path when there is one
            if fn is None:
                return list(raw)
            if isinstance(fn, _FloatIn):
                done = fn.bulk(raw)
                if done is not None:
                    return done
        # every converter is a pure function of the text: each distinct cell is converted once
        # (a column of ratings, years, dates or flags repeats a few values thousands of times)
        seen: dict[str, Any] = dict.fromkeys(raw)
        refused = False
        for v in seen:
            if not v:
                seen[v] = default
                continue
            try:
                seen[v] = v if fn is None else fn(v)
            except ValueError as err:
                seen[v], refused = _Refused(str(err)), True
        if not refused and not (required and "" in seen):  # nothing to report: a look-up
            return [seen[v] for v in raw]
        out: list[Any] = []
        for i, v in enumerate(raw):
            x = seen[v]
            if not v:
                if required and col not in self.missing and (i, col) not in self.refused:
                    self.problem(i, col, "required value is empty")
                out.append(default)
            elif type(x) is _Refused:
                self.problem(i, col, x.message)
                out.append(default)
            else:
                out.append(x)
        return out

    def unique(self, col: str, values: list[Any], what: str | None = None) -> None:
        first: dict[Any, int] = {}
        for i, v in enumerate(values):
            if v is None or (isinstance(v, tuple) and None in v):
                continue
            if v in first:
                shown = what or f"{col} {v!r}"
                self.problem(i, col, f"duplicate {shown} (first at row {first[v] + 2})")
            else:
                first[v] = i

    def refs(self, col: str, values: list[str | None], known: set[str] | None, what: str) -> None:
        if known is None:  # the referenced table is itself broken: don't pile up noise
            return
        unknown = set(values) - known  # at C speed: 100k travel rows, almost always none
        unknown.discard(None)
        if not unknown:
            return
        for i, v in enumerate(values):
            if v in unknown:
                self.problem(i, col, f"unknown {what} {v!r}")


def _ids(values: list[str | None]) -> set[str]:
    return {v for v in values if v is not None}


def _text_series(values: list[Any]) -> pd.Series:
    return pd.Series(values, dtype=object)


# ===================================================================== table parsers
def _parse_units(s: _Sheet) -> tuple[pd.DataFrame, dict[str, int]]:
    ids = s.convert("unit_id")
    s.unique("unit_id", ids)
    names = s.convert("name")
    levels = s.convert("level", _one_of(LEVELS, str.lower))
    parents = s.convert("parent_id", required=False)
    lat = s.convert("lat", _float_in(-90, 90), required=False, default=math.nan)
    lon = s.convert("lon", _float_in(-180, 180), required=False, default=math.nan)
    for i, (a, b) in enumerate(zip(s.raw("lat"), s.raw("lon"), strict=True)):
        if bool(a) != bool(b):
            col = "lon" if a else "lat"
            s.problem(i, col, f"{col} is empty while {'lat' if a else 'lon'} is given")
    s.refs("parent_id", parents, _ids(ids) if "unit_id" not in s.missing else None, "unit")
    row_of = {u: i for i, u in reversed(list(enumerate(ids))) if u is not None}
    _check_hierarchy(s, row_of, levels, parents)
    merged = s.convert("merged_into", required=False)
    _check_mergers(s, ids, levels, merged)
    frame = pd.DataFrame(
        {
            "name": _text_series(names),
            "level": _text_series(levels),
            "parent_id": _text_series(parents),
            "lat": pd.Series(lat, dtype=float),
            "lon": pd.Series(lon, dtype=float),
            "merged_into": _text_series(merged),
        }
    )
    frame.index = pd.Index(ids, dtype=object, name="unit_id")
    return frame, row_of


def _check_mergers(
    s: _Sheet, ids: list[str | None], levels: list[str | None], merged: list[str | None]
) -> None:
    """Contract v1.1 ``merged_into``: only a commune merges, into a commune that exists after
    the merge (not itself, not a district, not a commune that is itself merged: no chains)."""
    level_of = {u: lv for u, lv in zip(ids, levels, strict=True) if u is not None}
    merged_of = {u: m for u, m in zip(ids, merged, strict=True) if u is not None}
    for i, (u, lv, m) in enumerate(zip(ids, levels, merged, strict=True)):
        if m is None:
            continue
        if lv != "commune":
            s.problem(i, "merged_into", f"only a commune can be merged ({u!r} is a {lv})")
        elif m == u:
            s.problem(i, "merged_into", f"{u!r} cannot be merged into itself")
        elif m not in level_of:
            s.problem(i, "merged_into", f"unknown unit {m!r}")
        elif level_of[m] != "commune":
            s.problem(i, "merged_into", f"{m!r} is a {level_of[m]}: merge into a commune")
        elif merged_of.get(m) is not None:
            s.problem(
                i,
                "merged_into",
                f"{m!r} is itself merged into {merged_of[m]!r}: name the commune that remains "
                "(no chains of mergers)",
            )


def _check_hierarchy(
    s: _Sheet, row_of: dict[str, int], levels: list[str | None], parents: list[str | None]
) -> None:
    """Provinces at the top, districts under provinces, communes under a district or (only when
    that province has no districts) directly under the province; no cycles."""
    level = {u: levels[i] for u, i in row_of.items()}
    parent = {u: parents[i] for u, i in row_of.items()}
    has_districts = {parent[u] for u in row_of if level[u] == "district"}
    for u, i in row_of.items():
        lv, p = level[u], parent[u]
        if lv is None:
            continue
        if lv == "province":
            if p is not None:
                s.problem(i, "parent_id", f"a province has no parent, got {p!r}")
            continue
        if p is None:
            if "parent_id" not in s.missing:
                s.problem(i, "parent_id", f"a {lv} needs a parent_id")
            continue
        plv = level.get(p)
        if plv is None:
            continue
        if plv == "commune":
            s.problem(i, "parent_id", f"parent {p!r} is a commune; a commune has no sub-units")
        elif lv == "district" and plv != "province":
            s.problem(i, "parent_id", f"parent {p!r} is a {plv}; a district's parent is a province")
        elif lv == "commune" and plv == "province" and p in has_districts:
            s.problem(
                i,
                "parent_id",
                f"commune directly under province {p!r}, which has districts: this skips the "
                "hierarchy (put the commune under its district)",
            )
    # cycles: follow parents; a walk that meets itself is a cycle (reported once, first row)
    state: dict[str, int] = {}  # 1 = on the current walk, 2 = done
    for start in row_of:
        walk: list[str] = []
        cur: str | None = start
        while cur is not None and cur in row_of and state.get(cur) is None:
            state[cur] = 1
            walk.append(cur)
            cur = parent[cur]
        if cur is not None and state.get(cur) == 1:
            cycle = walk[walk.index(cur) :]
            first = min(cycle, key=row_of.__getitem__)
            k = cycle.index(first)
            ordered = [*cycle[k:], *cycle[:k], first]
            s.problem(row_of[first], "parent_id", f"parents form a cycle: {' -> '.join(ordered)}")
        for u in walk:
            state[u] = 2


def _parse_cadres(s: _Sheet, unit_level: dict[str, str | None] | None) -> pd.DataFrame:
    units = set(unit_level) if unit_level is not None else None
    ids = s.convert("cadre_id")
    s.unique("cadre_id", ids)
    cols: dict[str, list[Any]] = {
        "full_name": s.convert("full_name"),
        "gender": s.convert("gender", _one_of(GENDERS, str.upper)),
        "birth_date": s.convert("birth_date", _to_date),
        "ethnicity": s.convert("ethnicity", required=False),
        "hometown_id": s.convert("hometown_id"),
        "residence_id": s.convert("residence_id"),
        "current_unit_id": s.convert("current_unit_id"),
        "current_since": s.convert("current_since", _to_date),
        "planned_positions": s.convert("planned_positions", _positions, False, ()),
        "movable": s.convert("movable", _to_bool, required=False, default=True),
        "max_travel_km": s.convert("max_travel_km", _float_in(0), False, math.nan),
    }
    for col in ("hometown_id", "residence_id", "current_unit_id"):
        s.refs(col, cols[col], units, "unit")
    if unit_level is not None:
        for col in ("hometown_id", "residence_id"):
            for i, u in enumerate(cols[col]):
                lv = unit_level.get(u) if u is not None else None
                if lv is not None and lv != "commune":
                    s.problem(i, col, f"{u!r} is a {lv}; {col} must be a commune")
    frame = pd.DataFrame({c: _text_series(v) for c, v in cols.items()})
    frame["movable"] = frame["movable"].astype(bool)
    frame["max_travel_km"] = frame["max_travel_km"].astype(float)
    frame.index = pd.Index(ids, dtype=object, name="cadre_id")
    return frame


def _parse_posts(s: _Sheet, units: set[str] | None, cadres: set[str] | None) -> pd.DataFrame:
    ids = s.convert("post_id")
    s.unique("post_id", ids)
    unit_ids = s.convert("unit_id")
    positions = s.convert("position")
    incumbents = s.convert("incumbent_id", required=False)
    s.refs("unit_id", unit_ids, units, "unit")
    s.refs("incumbent_id", incumbents, cadres, "cadre")
    held: dict[str, int] = {}
    for i, c in enumerate(incumbents):
        if c is None:
            continue
        if c in held:
            j = held[c]
            s.problem(
                i,
                "incumbent_id",
                f"cadre {c!r} already holds post {ids[j]!r} (row {j + 2}); one post per cadre",
            )
        else:
            held[c] = i
    frame = pd.DataFrame(
        {
            "unit_id": _text_series(unit_ids),
            "position": _text_series(positions),
            "incumbent_id": _text_series(incumbents),
        }
    )
    frame.index = pd.Index(ids, dtype=object, name="post_id")
    return frame


def _parse_ratings(s: _Sheet, cadres: set[str] | None) -> pd.DataFrame:
    ids = s.convert("cadre_id")
    years = s.convert("year", _to_int)
    ratings = s.convert("rating", _one_of(RATINGS, str.lower))
    s.refs("cadre_id", ids, cadres, "cadre")
    if _repeats_a_pair(ids, years):
        _duplicate_ratings(s, ids, years)
    return pd.DataFrame(
        {
            "cadre_id": _text_series(ids),
            "year": pd.Series([y if y is not None else 0 for y in years], dtype="int64"),
            "rating": _text_series(ratings),
        }
    )


def _repeats_a_pair(ids: list[str | None], years: list[int | None]) -> bool:
    """Whether some (cadre, year) may come twice: each cadre a number, each pair one integer,
    sorted and compared with its neighbour (national's 89,000 ratings in ≈ 19 ms, under half
    the ≈ 43 ms of a dictionary of pairs). True, to be looked through row by row, also when a cell is
    missing (a problem already) or the years are too far apart for one integer."""
    if len(ids) < 2:
        return False
    if None in ids or None in years:
        return True
    try:
        year = np.array(years, dtype=np.int64)
    except OverflowError:
        return True
    year -= year.min()
    if year.max() >= 1 << 20:
        return True
    code: dict[str | None, int] = {}
    cadre = np.fromiter((code.setdefault(c, len(code)) for c in ids), np.int64, len(ids))
    key = np.sort((cadre << 20) + year)
    return bool((key[1:] == key[:-1]).any())


def _duplicate_ratings(s: _Sheet, ids: list[str | None], years: list[int | None]) -> None:
    """A problem at each rating that repeats a (cadre, year), naming the row it repeats."""
    first: dict[tuple[str, int], int] = {}
    for i, (c, y) in enumerate(zip(ids, years, strict=True)):
        if c is None or y is None:
            continue
        pair = (c, y)
        if pair in first:
            s.problem(
                i,
                "year",
                f"duplicate rating for cadre {pair[0]!r} in {pair[1]} (first at row "
                f"{first[pair] + 2})",
            )
        else:
            first[pair] = i


def _parse_relations(s: _Sheet, cadres: set[str] | None) -> pd.DataFrame:
    a = s.convert("cadre_id")
    b = s.convert("relative_id")
    rel = s.convert("relation")
    s.refs("cadre_id", a, cadres, "cadre")
    s.refs("relative_id", b, cadres, "cadre")
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if x is not None and x == y:
            s.problem(i, "relative_id", f"cadre {x!r} cannot be their own relative")
    return pd.DataFrame(
        {"cadre_id": _text_series(a), "relative_id": _text_series(b), "relation": _text_series(rel)}
    )


def _parse_discipline(s: _Sheet, cadres: set[str] | None) -> pd.DataFrame:
    """Contract v1.1 ``discipline``: cadre_id, kind (reprimand | warning | removal), date (not
    in the future: a measure is recorded after it is taken)."""
    ids = s.convert("cadre_id")
    kinds = s.convert("kind", _one_of(DISCIPLINE_KINDS, str.lower))
    dates = s.convert("date", _to_date)
    s.refs("cadre_id", ids, cadres, "cadre")
    today = date.today()
    for i, d in enumerate(dates):
        if d is not None and d > today:
            s.problem(i, "date", f"{d.isoformat()} is in the future (today is {today.isoformat()})")
    return pd.DataFrame(
        {"cadre_id": _text_series(ids), "kind": _text_series(kinds), "date": _text_series(dates)}
    )


def _parse_preferences(
    s: _Sheet, cadres: set[str] | None, unit_level: dict[str, str | None] | None
) -> pd.DataFrame:
    """Contract v1.1 ``preferences``: cadre_id, unit_id (a commune, or a district = any of its
    communes), rank (1 = first choice)."""
    ids = s.convert("cadre_id")
    units = s.convert("unit_id")
    ranks = s.convert("rank", _to_int)
    s.refs("cadre_id", ids, cadres, "cadre")
    s.refs("unit_id", units, set(unit_level) if unit_level is not None else None, "unit")
    for i, (u, r) in enumerate(zip(units, ranks, strict=True)):
        if r is not None and r < 1:
            s.problem(i, "rank", f"rank must be 1 or more (got {r})")
        lvl = unit_level.get(u) if unit_level is not None and u is not None else None
        if lvl == "province":
            s.problem(i, "unit_id", f"{u!r} is a province: name a commune or a district")
    return pd.DataFrame(
        {
            "cadre_id": _text_series(ids),
            "unit_id": _text_series(units),
            "rank": pd.Series([r if r is not None else 0 for r in ranks], dtype="int64"),
        }
    )


def _planning_list_warnings(cadres: pd.DataFrame, posts: pd.DataFrame, file: str) -> list[str]:
    """Reg. 377-QĐ/TW: a cadre is planned for at most 3 positions, and at most 3 cadres are
    planned for one position of one unit. Data quality, not a plan rule: warnings."""
    out: list[str] = []
    planned = cadres["planned_positions"].tolist()
    sizes = list(map(len, planned))
    ids = cadres.index
    for i, n in enumerate(sizes):
        if n > 3:
            out.append(
                f"{file}, row {i + 2}, column planned_positions: cadre {ids[i]} is planned for "
                f"{n} positions (Regulation 377 allows at most 3)"
            )
    # (unit, position) of every cadre's every planned position, counted at once
    units = cadres["current_unit_id"].to_numpy(dtype=object).repeat(sizes).tolist()
    counts = Counter(zip(units, chain.from_iterable(planned), strict=True))
    post_keys = set(zip(posts["unit_id"], posts["position"], strict=True))
    for (unit, pos), n in sorted(kv for kv in counts.items() if kv[1] > 3):
        if (unit, pos) in post_keys:
            out.append(
                f"{file}, column planned_positions: {n} cadres of {unit} are planned for {pos} "
                "(Regulation 377 allows at most 3 per post)"
            )
    return out


def _parse_distances(s: _Sheet, units: set[str] | None) -> pd.DataFrame:
    a = s.convert("from_id")
    b = s.convert("to_id")
    km = s.convert("km", _float_in(0), default=math.nan)
    s.refs("from_id", a, units, "unit")
    s.refs("to_id", b, units, "unit")
    return pd.DataFrame(
        {"from_id": _text_series(a), "to_id": _text_series(b), "km": pd.Series(km, dtype=float)}
    )


def _check_coordinates(
    s: _Sheet, units: pd.DataFrame, row_of: dict[str, int], used: set[str], linked: set[str]
) -> None:
    """Communes the plan uses need lat/lon unless a travel (or roads) row mentions them."""
    raw_lat, raw_lon = s.raw("lat"), s.raw("lon")
    level = units["level"].tolist()  # one list, not a pandas look-up per unit
    for u in sorted(used, key=lambda x: row_of.get(x, -1)):
        i = row_of.get(u)
        if i is None or level[i] != "commune" or u in linked:
            continue
        if not raw_lat[i] and not raw_lon[i]:
            s.problem(
                i,
                "lat",
                f"commune {u!r} is used (post unit or residence) but has no lat/lon and no "
                "travel row",
            )


# ===================================================================== the parser
def parse_tables(
    tables: Mapping[str, pd.DataFrame | ingest.TextColumns], source: dict[str, str] | None = None
) -> ProblemData:
    """Check and type the contract's tables given as DataFrames of text (one per table name), or
    as their columns of stripped text (:data:`rotation.ingest.TextColumns`).

    ``source`` maps a table name to the name shown in messages (default ``<table>.csv``).
    Raises :class:`DataError` listing every problem; unknown columns only add warnings.
    """
    names = {t: (source or {}).get(t, f"{t}.csv") for t in TABLES}
    problems: list[Problem] = []
    warnings: list[str] = []
    for t in REQUIRED_TABLES:
        if t not in tables:
            kind = "file" if names[t].endswith(".csv") else "sheet"
            problems.append(Problem(names[t], None, None, f"required {kind} is missing"))
    sheets = {t: _Sheet(t, tables[t], names[t], problems) for t in TABLES if t in tables}
    for s in sheets.values():
        warnings.extend(s.warnings)

    def ok_ids(t: str, col: str, values: Iterable[Any]) -> set[str] | None:
        if t not in sheets or col in sheets[t].missing:
            return None
        return {v for v in values if v is not None}

    units = row_of = None
    if "units" in sheets:
        units, row_of = _parse_units(sheets["units"])
    unit_ids = ok_ids("units", "unit_id", units.index if units is not None else ())
    unit_level = (
        dict(zip(units.index, units["level"], strict=True))
        if units is not None and unit_ids is not None
        else None
    )
    cadres = _parse_cadres(sheets["cadres"], unit_level) if "cadres" in sheets else None
    cadre_ids = ok_ids("cadres", "cadre_id", cadres.index if cadres is not None else ())
    posts = _parse_posts(sheets["posts"], unit_ids, cadre_ids) if "posts" in sheets else None
    optional: dict[str, pd.DataFrame | None] = {}
    if "ratings" in sheets:
        optional["ratings"] = _parse_ratings(sheets["ratings"], cadre_ids)
    if "relations" in sheets:
        optional["relations"] = _parse_relations(sheets["relations"], cadre_ids)
    for t in ("travel", "roads"):
        if t in sheets:
            optional[t] = _parse_distances(sheets[t], unit_ids)
    if "discipline" in sheets:
        optional["discipline"] = _parse_discipline(sheets["discipline"], cadre_ids)
    if "preferences" in sheets:
        optional["preferences"] = _parse_preferences(sheets["preferences"], cadre_ids, unit_level)
    if units is not None and row_of is not None and unit_ids is not None:
        used: set[str] = set()
        if posts is not None:
            used |= {u for u in posts["unit_id"] if u is not None}
        if cadres is not None:
            used |= {u for u in cadres["residence_id"] if u is not None}
        linked: set[str] = set()
        for t in ("travel", "roads"):
            frame = optional.get(t)
            if frame is not None:
                linked |= set(frame["from_id"].dropna()) | set(frame["to_id"].dropna())
        _check_coordinates(sheets["units"], units, row_of, used, linked)

    if problems:
        order = {names[t]: k for k, t in enumerate(TABLES)}
        problems.sort(key=lambda p: (order.get(p.file, 99), p.row or 0))
        raise DataError(problems)
    assert units is not None and cadres is not None and posts is not None
    data = ProblemData.build(
        units=units,
        cadres=cadres,
        posts=posts,
        ratings=optional.get("ratings", empty_frame(REQUIRED_COLUMNS["ratings"])),
        relations=optional.get("relations", empty_frame(REQUIRED_COLUMNS["relations"])),
        travel=optional.get("travel", empty_frame(REQUIRED_COLUMNS["travel"])),
        roads=optional.get("roads"),
        discipline=optional.get("discipline", empty_frame(REQUIRED_COLUMNS["discipline"])),
        preferences=optional.get("preferences", empty_frame(REQUIRED_COLUMNS["preferences"])),
    )
    data.warnings.extend(warnings)
    data.warnings.extend(_planning_list_warnings(cadres, posts, names["cadres"]))
    return data


# ===================================================================== files
def parse_read(read: ingest.Read, name: str | None = None) -> ProblemData:
    """Parse what :mod:`rotation.ingest` read; files it could not read are reported with the
    other tables' problems (and are not also reported as missing)."""
    with phase("read"):
        frames, source = ingest.frames_of(read.tables)
    bad = {p.file for p in read.problems}
    try:
        with phase("validate data"):
            data = parse_tables(frames, source or None)
    except DataError as err:
        problems = [*read.problems]
        problems += [p for p in err.problems if not (p.file in bad and p.row is None)]
        raise DataError(problems) from None
    if read.problems:
        raise DataError(list(read.problems))
    data.name = name if name is not None else read.name
    data.warnings.extend(read.warnings)
    return data


def read_dataset(path: str | Path, limits: Limits | None = None) -> ProblemData:
    """Read a folder of CSV files, a .zip of CSV files, an .xlsx workbook (sheets named like the
    tables) or a .json file of tables; the dataset is named after the path's stem."""
    path = Path(path)
    with phase("read"):
        read = ingest.read_path(path, limits)
    return parse_read(read, name=path.stem)


def read_dataset_bytes(raw: bytes, filename: str, limits: Limits | None = None) -> ProblemData:
    """The same from a file's bytes (.zip, .xlsx or .json, told by ``filename``'s suffix)."""
    with phase("read"):
        read = ingest.read_bytes(raw, filename, limits)
    return parse_read(read)


def _format(value: Any) -> str:
    """One cell as text: ISO dates, true/false, ';'-joined lists, round-trippable floats."""
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        x = float(value)
        return "" if math.isnan(x) else repr(x)
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, datetime | pd.Timestamp):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return ";".join(str(v) for v in value)
    if value is pd.NaT:
        return ""
    return str(value)


def _text_tables(data: ProblemData) -> dict[str, pd.DataFrame]:
    """The contract's tables as DataFrames of text, ids as the first column."""
    out: dict[str, pd.DataFrame] = {}
    for t in TABLES:
        frame = getattr(data, t)
        if frame is None or (t in SKIP_WHEN_EMPTY and frame.empty):
            continue
        if t == "units" and "merged_into" in frame.columns and frame["merged_into"].isna().all():
            frame = frame.drop(columns=["merged_into"])  # a v1 dataset stays a v1 file
        if t in INDEX_COLUMN:
            frame = frame.drop(columns=[c for c in DERIVED_COLUMNS if c in frame.columns])
            frame = frame.rename_axis(INDEX_COLUMN[t]).reset_index()
        out[t] = pd.DataFrame(
            {c: pd.Series([_format(v) for v in frame[c].tolist()], dtype=object) for c in frame}
        )
    return out


def write_dataset(data: ProblemData, path: str | Path) -> None:
    """Write the tables as a folder of CSVs, or one workbook when ``path`` ends with .xlsx.

    Written to a temporary file/folder first and moved into place, so a failure never leaves
    half-written data. This is data interchange, read back exactly by :func:`read_dataset`: in
    the workbook, text that starts like a formula is a string cell (never a formula); CSV cells
    are not prefixed (plan exports are, see :mod:`rotation.cells`).
    """
    path = Path(path)
    tables = _text_tables(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".xlsx":
        buf = io.BytesIO()
        with pd.ExcelWriter(buf, engine="openpyxl") as xl:
            for t, frame in tables.items():
                frame.to_excel(xl, sheet_name=t, index=False)
            text_not_formulas(xl.book)  # a name like "=1+1" stays text, read back as written
        write_atomic(path, buf.getvalue())
        return
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=path.parent))
    try:
        for t, frame in tables.items():
            frame.to_csv(tmp_dir / f"{t}.csv", index=False, encoding="utf-8", lineterminator="\n")
        if not path.exists():
            tmp_dir.rename(path)
            return
        # an existing folder: move each finished file in; drop table files no longer written
        for t in TABLES:
            target = path / f"{t}.csv"
            if t in tables:
                os.replace(tmp_dir / f"{t}.csv", target)
            elif target.exists():
                target.unlink()
    finally:
        if tmp_dir.exists():
            shutil.rmtree(tmp_dir, ignore_errors=True)
