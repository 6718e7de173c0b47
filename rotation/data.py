"""The problem data: the contract's tables (§1) as typed pandas DataFrames, validated on build.

Tables are kept as DataFrames (not per-row Python objects) so eligibility and the model can work
vectorised on tens of thousands of cadres. Column names are exactly the contract's.

Types after :func:`ProblemData.build` (the reader produces these; tests may build them directly):

- ``units``: index ``unit_id`` (str); ``name`` str, ``level`` in LEVELS, ``parent_id`` str or None,
  ``lat``/``lon`` float (NaN when absent); derived ``province_id``, ``district_id`` (None in the
  2-level hierarchy) and ``commune_id`` (None above commune level).
- ``cadres``: index ``cadre_id``; ``full_name``, ``gender`` ('M'/'F'), ``birth_date`` (date),
  ``ethnicity`` (str or None), ``hometown_id``, ``residence_id``, ``current_unit_id``,
  ``current_since`` (date), ``planned_positions`` (tuple[str, ...]), ``movable`` (bool),
  ``max_travel_km`` (float, NaN = none).
- ``posts``: index ``post_id``; ``unit_id``, ``position``, ``incumbent_id`` (str or None).
- ``ratings``: ``cadre_id``, ``year`` (int), ``rating``.
- ``relations``: ``cadre_id``, ``relative_id``, ``relation``.
- ``travel``: ``from_id``, ``to_id``, ``km`` (float).
- ``roads`` (optional): ``from_id``, ``to_id``, ``km``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

import numpy as np
import pandas as pd

T = TypeVar("T")
LEVELS = ("province", "district", "commune")
GENDERS = ("M", "F")
RATINGS = ("excellent", "good", "complete", "not_complete")
DISCIPLINE_KINDS = ("reprimand", "warning", "removal")  # khiển trách, cảnh cáo, cách chức
"""Ratings from best to worst (Regulation 366-QĐ/TW)."""
RATING_RANK = {r: i for i, r in enumerate(reversed(RATINGS))}
"""not_complete=0 … excellent=3: higher is better."""

UNIT_COLUMNS = ["name", "level", "parent_id", "lat", "lon"]
CADRE_COLUMNS = [
    "full_name",
    "gender",
    "birth_date",
    "ethnicity",
    "hometown_id",
    "residence_id",
    "current_unit_id",
    "current_since",
    "planned_positions",
    "movable",
    "max_travel_km",
]
POST_COLUMNS = ["unit_id", "position", "incumbent_id"]
CADRE_TABLES: dict[str, tuple[str, ...]] = {
    "ratings": ("cadre_id",),
    "relations": ("cadre_id", "relative_id"),
    "discipline": ("cadre_id",),
    "preferences": ("cadre_id",),
}
"""The tables whose rows belong to cadres, with the columns naming them: a part of a dataset
(a province, a repair's copy) keeps the rows whose every named cadre it keeps."""


def empty_frame(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


class ColumnLookup:
    """One table's cells by row id and column, each column a dict made on first use: the
    explanations and the diagnosis ask a few columns of the same rows hundreds of times, where
    a pandas row lookup (a Series made per call) cost more than the checks it fed. The table's
    index must be unique (the contract's ids are); an unknown id raises ``KeyError``, as
    ``.loc`` does."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame
        self._columns: dict[str, dict[Any, Any]] = {}

    def __call__(self, row_id: Any, column: str) -> Any:
        cells = self._columns.get(column)
        if cells is None:
            frame = self._frame
            cells = self._columns[column] = dict(
                zip(frame.index, frame[column].tolist(), strict=True)
            )
        return cells[row_id]


def _same_objects(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


@dataclass
class ProblemData:
    """A planner's dataset, checked: every reference resolves, the hierarchy is a tree."""

    units: pd.DataFrame
    cadres: pd.DataFrame
    posts: pd.DataFrame
    ratings: pd.DataFrame = field(
        default_factory=lambda: empty_frame(["cadre_id", "year", "rating"])
    )
    relations: pd.DataFrame = field(
        default_factory=lambda: empty_frame(["cadre_id", "relative_id", "relation"])
    )
    travel: pd.DataFrame = field(default_factory=lambda: empty_frame(["from_id", "to_id", "km"]))
    discipline: pd.DataFrame = field(
        default_factory=lambda: empty_frame(["cadre_id", "kind", "date"])
    )
    """Contract v1.1: disciplinary measures (kind reprimand | warning | removal, date)."""
    preferences: pd.DataFrame = field(
        default_factory=lambda: empty_frame(["cadre_id", "unit_id", "rank"])
    )
    """Contract v1.1: cadres' wishes (unit = a commune, or a district = any of its communes)."""
    roads: pd.DataFrame | None = None
    name: str = "dataset"
    warnings: list[str] = field(default_factory=list)
    person_facts_given: tuple[Any, tuple[pd.DataFrame, ...], pd.DataFrame] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    """The cadres' person facts handed to a part of a dataset when it was split off (see
    ``rotation.concepts.give_person_facts``): the rules they are for, the tables they were given
    for, the facts; None: work them out. Not carried by ``dataclasses.replace`` (a copy with
    other tables works its facts out)."""
    _derived: dict[str, tuple[tuple[pd.DataFrame, ...], Any]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    """:meth:`derived`'s memory (not data)."""

    def derived(self, name: str, tables: tuple[pd.DataFrame, ...], make: Callable[[], T]) -> T:
        """``make()``, worked out once while ``tables`` are the same objects: a memory for what
        is derived from some tables and asked again (the wishes' ranks by eligibility and then
        the plan's KPIs; the cadre positions of each cadre table by every province split off)."""
        known = self._derived.get(name)
        if known is not None and _same_objects(known[0], tables):
            return known[1]
        value = make()
        self._derived[name] = (tables, value)
        return value

    def cadre_tables(self, cadre_ids: set[str]) -> dict[str, pd.DataFrame]:
        """Every table of :data:`CADRE_TABLES` restricted to ``cadre_ids`` (a relation needs
        both ends), index reset: the one place a part of the dataset takes its cadres' rows.

        A row's cadres are found by their position among ``cadres`` (worked out once per
        table, :meth:`_cadre_positions`), so splitting 34 provinces off a national dataset does
        not hash the whole ratings table 34 times; ids that are not cadres of this dataset take
        the plain ``isin`` path, with the same rows."""
        index = self.cadres.index
        wanted = index.get_indexer(list(cadre_ids)) if cadre_ids else np.zeros(0, np.int64)
        member: np.ndarray | None = None
        if index.is_unique and not (wanted < 0).any():
            member = np.zeros(len(index) + 1, dtype=bool)  # the last slot: a non-cadre, never
            member[wanted] = True
        out = {}
        for name, cols in CADRE_TABLES.items():
            df = getattr(self, name)
            if member is not None:
                codes = self._cadre_positions(name, df, cols)
                mask = member[codes[0]]
                for c in codes[1:]:
                    mask = mask & member[c]
            else:
                mask = df[cols[0]].isin(cadre_ids).to_numpy()
                for col in cols[1:]:
                    mask = mask & df[col].isin(cadre_ids).to_numpy()
            out[name] = df[mask].reset_index(drop=True)
        return out

    def _cadre_positions(
        self, name: str, df: pd.DataFrame, cols: tuple[str, ...]
    ) -> list[np.ndarray]:
        """Per named column of table ``name``: each row's cadre position in ``cadres`` (a
        non-cadre: ``len(cadres)``), remembered while the table and the cadres are the same
        objects (:meth:`derived`)."""

        def positions() -> list[np.ndarray]:
            n = len(self.cadres)
            codes = []
            for col in cols:
                pos = self.cadres.index.get_indexer(df[col].to_numpy())
                codes.append(np.where(pos < 0, n, pos))
            return codes

        return self.derived(f"cadre positions of {name}", (df, self.cadres), positions)

    # ----------------------------------------------------------------- derived lookups
    @cached_property
    def incumbent_post(self) -> pd.Series:
        """cadre_id → the post_id the cadre holds now (only cadres holding a post)."""
        held = self.posts["incumbent_id"].dropna()
        return pd.Series(held.index.to_numpy(), index=held.to_numpy(), dtype=object)

    @cached_property
    def has_districts(self) -> bool:
        return bool((self.units["level"] == "district").any())

    @cached_property
    def _unit_keys(self) -> dict[tuple[str, str], dict[Any, Any]]:
        """:meth:`_per_unit`'s memory, per column and level (not data)."""
        return {}

    @cached_property
    def _unit_names(self) -> dict[str, str]:
        return dict(zip(self.units.index, (str(x) for x in self.units["name"]), strict=True))

    @cached_property
    def _cadre_names(self) -> dict[str, str]:
        names = self.cadres["full_name"]
        return dict(zip(self.cadres.index, (str(x) for x in names), strict=True))

    def unit_name(self, unit_id: str | None) -> str:
        """The unit's name (its id when unknown); from a dict built on first use, as a pandas
        lookup per name cost more than the rest of turning a solution into a plan."""
        name = self._unit_names.get(unit_id) if unit_id is not None else None
        return str(unit_id) if name is None else name

    def cadre_name(self, cadre_id: str | None) -> str:
        """The cadre's full name (the id when unknown), from a dict built on first use."""
        name = self._cadre_names.get(cadre_id) if cadre_id is not None else None
        return str(cadre_id) if name is None else name

    def scope_of(self, unit_ids: pd.Series | list[str], scope_level: str) -> pd.Series:
        """The unit at ``scope_level`` above each unit (a commune, a district or the province).

        In the 2-level hierarchy (no districts) a ``district`` scope falls back to the province:
        the hierarchy comes from the data, so the same rules work on both.
        """
        key = self._per_unit(self._scope_column, scope_level)
        if scope_level == "commune":  # an unknown unit is its own commune
            return pd.Series([key.get(u, u) for u in unit_ids], dtype=object)
        return pd.Series([key.get(u, np.nan) for u in unit_ids], dtype=object)

    def _scope_column(self, scope_level: str) -> list[Any]:
        """Each unit's unit at ``scope_level`` (:meth:`scope_of`), in the order of ``units``."""
        units = self.units
        if scope_level == "commune":
            own = units.index.to_numpy()
            com = units["commune_id"].to_numpy()
            return [c if isinstance(c, str) else u for c, u in zip(com, own, strict=True)]
        out = units["province_id"].tolist()
        if scope_level == "province":
            return out
        dist = units["district_id"].to_numpy()
        return [d if isinstance(d, str) else p for d, p in zip(dist, out, strict=True)]

    def _per_unit(self, column: Callable[[str], list[Any]], level: str) -> dict[Any, Any]:
        """unit id → ``column(level)``'s entry, worked out once per column and level: the
        targets' groups and eligibility ask a dataset for the same units' scope and locality
        a dozen times over."""
        key = (column.__name__, level)
        known = self._unit_keys.get(key)
        if known is None:
            units = self.units.index.tolist()
            known = self._unit_keys[key] = dict(zip(units, column(level), strict=True))
        return known

    def locality_of(self, unit_ids: pd.Series | list[str], local_level: str) -> pd.Series:
        """The unit that defines "local" at ``local_level`` for each unit.

        ``commune``: the commune itself (the commune it was merged into, when merged).
        ``district``: its district; in the 2-level hierarchy there is none, so the commune
        itself is used (never the whole province).
        """
        key = self._per_unit(self._locality_column, local_level)
        return pd.Series([key.get(u, u) for u in unit_ids], dtype=object)  # unknown: its own

    def _locality_column(self, local_level: str) -> list[Any]:
        """Each unit's "local" unit at ``local_level`` (:meth:`locality_of`), in the order of
        ``units``."""
        units = self.units
        own = units.index.to_numpy()
        commune = units["commune_id"].to_numpy()
        base = [c if isinstance(c, str) else u for c, u in zip(commune, own, strict=True)]
        if "merged_into" in units.columns:
            # a commune merged into X counts as X for "local" (contract v1.1)
            into = units["merged_into"].reindex(base).to_numpy()
            base = [m if isinstance(m, str) else b for m, b in zip(into, base, strict=True)]
        if local_level == "commune":
            return base
        dist = units["district_id"].to_numpy()
        return [d if isinstance(d, str) else b for d, b in zip(dist, base, strict=True)]

    # ----------------------------------------------------------------- building
    @classmethod
    def build(cls, **tables: object) -> ProblemData:
        """Build from already-typed tables and derive the hierarchy columns.

        The reader (``rotation.read``) checks every row with file/row/column messages first;
        this only derives and asserts structure, so tests can build tiny instances in code.
        """
        data = cls(**tables)  # type: ignore[arg-type]
        data.units = derive_hierarchy(data.units)
        if "merged_into" not in data.units.columns:
            data.units["merged_into"] = None
        return data

    @cached_property
    def merged_posts(self) -> set[str]:
        """Posts of communes merged into another (contract v1.1): not filled by a plan."""
        merged = self.units.index[self.units["merged_into"].map(lambda m: isinstance(m, str))]
        return set(self.posts.index[self.posts["unit_id"].isin(merged)])


def derive_hierarchy(units: pd.DataFrame) -> pd.DataFrame:
    """Add ``province_id``, ``district_id`` and ``commune_id`` by walking parents (a tree)."""
    units = units.copy()
    parent = units["parent_id"].to_dict()
    level = units["level"].to_dict()
    prov: dict[str, str | None] = {}
    dist: dict[str, str | None] = {}
    comm: dict[str, str | None] = {}
    for uid in units.index:
        p = d = c = None
        cur: str | None = uid
        seen = 0
        while cur is not None and cur in level and seen <= len(LEVELS):
            lv = level[cur]
            if lv == "province":
                p = cur
            elif lv == "district":
                d = cur
            elif lv == "commune":
                c = cur
            nxt = parent.get(cur)
            cur = nxt if isinstance(nxt, str) and nxt else None
            seen += 1
        prov[uid], dist[uid], comm[uid] = p, d, c
    units["province_id"] = pd.Series(prov, dtype=object)
    units["district_id"] = pd.Series(dist, dtype=object)
    units["commune_id"] = pd.Series(comm, dtype=object)
    return units
