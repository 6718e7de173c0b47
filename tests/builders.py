"""Tiny in-code problem instances for tests: no files, every table typed as ``rotation.data`` says.

The default instance (``tiny_problem()``), measured at ``AS_OF`` = 2026-01-01::

    P  (province)
    ├── D1 (district)  communes C11 C12 C13   posts S-C11 S-C12 S-C13 (secretary)
    └── D2 (district)  communes C21 C22 C23   posts S-C21 S-C22 S-C23 (secretary)

- Incumbents ``K11`` … ``K23``: secretary of their own commune, born and living there (local),
  in post since 2021-01-01 (5 years), aged ~45, planned for ('secretary',), movable.
- Office cadres ``O11``, ``O12`` (at D1) and ``O21``, ``O22`` (at D2): ``Odj`` was born and lives
  in commune ``Cdj`` (so is non-local everywhere else), in the office since 2021-01-01.
- Every cadre is rated ``good`` for 2024 and 2025. No relations, no travel rows.
- Communes of one district are 0.03° of longitude apart (≈ 4 km road at circuity 1.3); the two
  districts are 0.1° of latitude apart (≈ 14.5 km road).

``BASELINE_MOVES`` (O11 → S-C12, O21 → S-C22) is a valid plan under ``default_rules()``: one
non-local secretary per district (the 30% target needs ceil(0.3 × 3) = 1). Tests build it with
:func:`plan_from` and then break one thing.

Bigger instances: ``tiny_problem(districts=…, communes=…, office=…)`` (ids become ``C11-2`` style
once a number reaches 10); ``two_level=True`` hangs communes directly under the province.

Tweak the data with keyword overrides (``tiny_problem(cadres={"K12": {"movable": False}})``) or
with the ``with_*`` helpers on a built instance; both return a fresh :class:`ProblemData`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from rotation.data import CADRE_COLUMNS, POST_COLUMNS, UNIT_COLUMNS, ProblemData
from rotation.plan import Plan, plan_from_holders
from rotation.rules import Rules

AS_OF = dt.date(2026, 1, 1)
SINCE = dt.date(2021, 1, 1)
RATED_YEARS = (2024, 2025)

BASELINE_MOVES: dict[str, str | None] = {"S-C12": "O11", "S-C22": "O21"}
"""A valid set of moves on the default ``tiny_problem()`` under ``default_rules()``."""

_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô"]
_GIVEN_M = ["Văn An", "Văn Bình", "Đức Cường", "Quốc Dũng", "Minh Hải", "Văn Hùng"]
_GIVEN_F = ["Thị Lan", "Thị Mai", "Thu Hà", "Thị Hoa", "Ngọc Anh", "Thị Hương"]


# --------------------------------------------------------------------------- rules
def default_rules(**overrides: Any) -> Rules:
    """The project's default rules measured at ``AS_OF``; keyword overrides as in a rules file
    (e.g. ``max_changes={"scope_level": "district", "count": 1}``)."""
    return Rules.model_validate({"as_of": AS_OF, **overrides})


# --------------------------------------------------------------------------- ids
def district_ids(districts: int = 2) -> list[str]:
    return [f"D{d}" for d in range(1, districts + 1)]


def _ij(d: int, k: int) -> str:
    """'12' for district 1, item 2; '12-3' once a number reaches 10."""
    return f"{d}{k}" if d < 10 and k < 10 else f"{d}-{k}"


def commune_ids(districts: int = 2, communes: int = 3) -> list[str]:
    return [f"C{_ij(d, k)}" for d in range(1, districts + 1) for k in range(1, communes + 1)]


def _name(i: int, gender: str) -> str:
    given = _GIVEN_M if gender == "M" else _GIVEN_F
    return f"{_FAMILY[i % len(_FAMILY)]} {given[i % len(given)]}"


# --------------------------------------------------------------------------- rows
def cadre_row(unit_id: str, home_id: str, *, index: int = 0, **fields: Any) -> dict[str, Any]:
    """A typed cadre row (no ``cadre_id``): working at ``unit_id``, born and living in
    ``home_id``, good defaults for everything else; ``fields`` override any column."""
    gender = "M" if index % 2 == 0 else "F"
    row: dict[str, Any] = {
        "full_name": _name(index, gender),
        "gender": gender,
        "birth_date": dt.date(1981, 1 + index % 12, 1 + index % 28),
        "ethnicity": "Kinh",
        "hometown_id": home_id,
        "residence_id": home_id,
        "current_unit_id": unit_id,
        "current_since": SINCE,
        "planned_positions": ("secretary",),
        "movable": True,
        "max_travel_km": math.nan,
    }
    unknown = set(fields) - set(row)
    if unknown:
        raise KeyError(f"unknown cadre column(s): {sorted(unknown)}")
    row.update(fields)
    row["planned_positions"] = tuple(row["planned_positions"])
    return row


def tiny_tables(
    *, districts: int = 2, communes: int = 3, office: int = 2, two_level: bool = False
) -> dict[str, pd.DataFrame]:
    """The default instance's typed tables (see the module docstring).

    ``two_level``: communes hang directly under the province (the 2025 hierarchy); the
    "district" number stays in the ids only, and office cadres work at the province.
    """
    units: dict[str, dict[str, Any]] = {
        "P": {"name": "Tỉnh P", "level": "province", "parent_id": None, "lat": 20.9, "lon": 106.3}
    }
    cadres: dict[str, dict[str, Any]] = {}
    posts: dict[str, dict[str, Any]] = {}
    i = 0
    for d in range(1, districts + 1):
        did = f"D{d}"
        lat = 20.90 + 0.10 * (d - 1)
        if not two_level:
            units[did] = {
                "name": f"Huyện {d}",
                "level": "district",
                "parent_id": "P",
                "lat": lat,
                "lon": 106.30,
            }
        for k in range(1, communes + 1):
            cid = f"C{_ij(d, k)}"
            units[cid] = {
                "name": f"Xã {_ij(d, k)}",
                "level": "commune",
                "parent_id": "P" if two_level else did,
                "lat": lat,
                "lon": 106.30 + 0.03 * (k - 1),
            }
            cadres[f"K{_ij(d, k)}"] = cadre_row(cid, cid, index=i)
            posts[f"S-{cid}"] = {
                "unit_id": cid,
                "position": "secretary",
                "incumbent_id": f"K{_ij(d, k)}",
            }
            i += 1
        for j in range(1, office + 1):
            home = f"C{_ij(d, (j - 1) % communes + 1)}"
            cadres[f"O{_ij(d, j)}"] = cadre_row("P" if two_level else did, home, index=i)
            i += 1
    ratings = [{"cadre_id": c, "year": y, "rating": "good"} for c in cadres for y in RATED_YEARS]
    return {
        "units": _frame(units, "unit_id", UNIT_COLUMNS),
        "cadres": _frame(cadres, "cadre_id", CADRE_COLUMNS),
        "posts": _frame(posts, "post_id", POST_COLUMNS),
        "ratings": pd.DataFrame(ratings, columns=["cadre_id", "year", "rating"]),
        "relations": pd.DataFrame(columns=["cadre_id", "relative_id", "relation"], dtype=object),
        "travel": pd.DataFrame(columns=["from_id", "to_id", "km"], dtype=object),
    }


def _frame(rows: Mapping[str, Mapping[str, Any]], index: str, columns: list[str]) -> pd.DataFrame:
    df = pd.DataFrame.from_dict(dict(rows), orient="index")
    df = df.reindex(columns=columns).astype(object)
    for col in ("parent_id", "incumbent_id", "ethnicity"):
        if col in columns:
            df[col] = [v if isinstance(v, str) else None for v in df[col]]
    if "lat" in columns:
        df["lat"] = df["lat"].astype(float)
        df["lon"] = df["lon"].astype(float)
    if "max_travel_km" in columns:
        df["max_travel_km"] = df["max_travel_km"].astype(float)
    if "movable" in columns:
        df["movable"] = df["movable"].astype(bool)
    df.index.name = index
    return df


# --------------------------------------------------------------------------- instances
def tiny_problem(
    *,
    districts: int = 2,
    communes: int = 3,
    office: int = 2,
    two_level: bool = False,
    units: Mapping[str, Mapping[str, Any]] | None = None,
    cadres: Mapping[str, Mapping[str, Any]] | None = None,
    posts: Mapping[str, Mapping[str, Any]] | None = None,
    ratings: Iterable[tuple[str, int, str]] | None = None,
    relations: Iterable[tuple[str, str]] | None = None,
    travel: Iterable[tuple[str, str, float]] | None = None,
) -> ProblemData:
    """The default instance, optionally resized and tweaked.

    ``units`` / ``cadres`` / ``posts``: id → column overrides; an id not in the instance adds a
    row (a new cadre needs ``current_unit_id`` and ``hometown_id``; a new post needs
    ``unit_id`` and ``position``, vacant unless ``incumbent_id`` is given; a new unit needs
    every unit column). ``ratings`` rows (cadre_id, year, rating) *replace* that cadre's rating
    for that year (new cadres are rated good for 2024 and 2025 unless given). ``relations``
    (cadre_id, relative_id) and ``travel`` (from_id, to_id, km) rows are added.
    """
    t = tiny_tables(districts=districts, communes=communes, office=office, two_level=two_level)
    data = _from_tables(t)
    for uid, fields in (units or {}).items():
        data = with_unit(data, uid, **fields)
    for cid, fields in (cadres or {}).items():
        data = with_cadre(data, cid, **fields)
    for pid, fields in (posts or {}).items():
        data = with_post(data, pid, **fields)
    for cid, year, rating in ratings or ():
        data = with_rating(data, cid, year, rating)
    for a, b in relations or ():
        data = with_relation(data, a, b)
    for a, b, km in travel or ():
        data = with_travel(data, a, b, km)
    return data


UNIT_TABLE_COLUMNS = [*UNIT_COLUMNS, "merged_into"]  # contract v1.1: optional merged_into


def _unit_table(units: pd.DataFrame) -> pd.DataFrame:
    units = units.copy()
    if "merged_into" not in units.columns:
        units["merged_into"] = None
    return units[UNIT_TABLE_COLUMNS]


def _from_tables(t: Mapping[str, pd.DataFrame]) -> ProblemData:
    return ProblemData.build(
        units=_unit_table(t["units"]),
        cadres=t["cadres"][CADRE_COLUMNS].copy(),
        posts=t["posts"][POST_COLUMNS].copy(),
        ratings=t["ratings"].reset_index(drop=True),
        relations=t["relations"].reset_index(drop=True),
        travel=t["travel"].reset_index(drop=True),
        discipline=t.get("discipline", pd.DataFrame(columns=["cadre_id", "kind", "date"])),
        preferences=t.get("preferences", pd.DataFrame(columns=["cadre_id", "unit_id", "rank"])),
        name="tiny",
    )


def tables_of(data: ProblemData) -> dict[str, pd.DataFrame]:
    """Copies of a dataset's contract tables (without the derived hierarchy columns)."""
    return {
        "units": _unit_table(data.units),
        "cadres": data.cadres[CADRE_COLUMNS].copy(),
        "posts": data.posts[POST_COLUMNS].copy(),
        "ratings": data.ratings.copy(),
        "relations": data.relations.copy(),
        "travel": data.travel.copy(),
        "discipline": data.discipline.copy(),
        "preferences": data.preferences.copy(),
    }


def _replace(data: ProblemData, **tables: pd.DataFrame) -> ProblemData:
    t = tables_of(data)
    t.update(tables)
    return _from_tables(t)


def _upsert(df: pd.DataFrame, key: str, fields: Mapping[str, Any], template: dict[str, Any]):
    df = df.copy()
    unknown = set(fields) - set(df.columns)
    if unknown:
        raise KeyError(f"unknown column(s): {sorted(unknown)}")
    if key not in df.index:
        row = {**template, **fields}
        df.loc[key] = [row.get(c) for c in df.columns]
    else:
        for col, value in fields.items():
            df.at[key, col] = tuple(value) if col == "planned_positions" else value
    return df


def with_unit(data: ProblemData, unit_id: str, **fields: Any) -> ProblemData:
    """Change (or add) a unit."""
    units = _upsert(_unit_table(data.units), unit_id, fields, {"lat": math.nan, "lon": math.nan})
    units["lat"] = units["lat"].astype(float)
    units["lon"] = units["lon"].astype(float)
    return _replace(data, units=units)


def with_cadre(data: ProblemData, cadre_id: str, **fields: Any) -> ProblemData:
    """Change (or add, rated good for 2024 and 2025) a cadre; ``fields`` are cadre columns."""
    cadres = data.cadres[CADRE_COLUMNS]
    is_new = cadre_id not in cadres.index
    if is_new:
        unit = fields.pop("current_unit_id")
        home = fields.pop("hometown_id")
        row = cadre_row(unit, home, index=len(cadres), **fields)
        cadres = cadres.copy()
        cadres.loc[cadre_id] = [row[c] for c in CADRE_COLUMNS]
    else:
        cadres = _upsert(cadres, cadre_id, fields, {})
    cadres["movable"] = cadres["movable"].astype(bool)
    cadres["max_travel_km"] = cadres["max_travel_km"].astype(float)
    data = _replace(data, cadres=cadres)
    if is_new:
        for y in RATED_YEARS:
            data = with_rating(data, cadre_id, y, "good")
    return data


def with_post(data: ProblemData, post_id: str, **fields: Any) -> ProblemData:
    """Change (or add; vacant unless ``incumbent_id`` is given) a post."""
    posts = _upsert(data.posts[POST_COLUMNS], post_id, fields, {"incumbent_id": None})
    return _replace(data, posts=posts)


def with_rating(data: ProblemData, cadre_id: str, year: int, rating: str | None) -> ProblemData:
    """Set a cadre's rating for one year (``None`` removes it: the year is then missing)."""
    r = data.ratings
    r = r[~((r["cadre_id"] == cadre_id) & (r["year"] == year))]
    if rating is not None:
        r = pd.concat(
            [r, pd.DataFrame([{"cadre_id": cadre_id, "year": year, "rating": rating}])],
            ignore_index=True,
        )
    return _replace(data, ratings=r.reset_index(drop=True))


def with_relation(
    data: ProblemData, cadre_id: str, relative_id: str, relation: str = "sibling"
) -> ProblemData:
    """Add one relation row (relations are symmetric: one row is enough)."""
    row = pd.DataFrame([{"cadre_id": cadre_id, "relative_id": relative_id, "relation": relation}])
    rel = pd.concat([data.relations, row], ignore_index=True)
    return _replace(data, relations=rel)


def with_travel(data: ProblemData, from_id: str, to_id: str, km: float) -> ProblemData:
    """Add a travel row: ``km`` overrides the computed distance for that pair (both ways)."""
    row = pd.DataFrame([{"from_id": from_id, "to_id": to_id, "km": float(km)}])
    return _replace(data, travel=pd.concat([data.travel, row], ignore_index=True))


# --------------------------------------------------------------------------- plans
def in_scope_posts(data: ProblemData, rules: Rules) -> list[str]:
    """Post ids whose position the rules let the plan change, sorted (merged communes' posts
    are gone: not in a plan)."""
    posts = data.posts[data.posts["position"].isin(rules.positions)]
    return sorted(set(posts.index) - data.merged_posts)


def plan_from(
    data: ProblemData,
    rules: Rules,
    holders: Mapping[str, str | None] | None = None,
    *,
    status: str = "feasible",
    objective: float = 0.0,
) -> Plan:
    """A plan whose claims are all correct, from the holders after the plan.

    ``holders``: post_id → cadre_id (or None = left vacant). Every in-scope post not named keeps
    its incumbent; a named out-of-scope post is also listed (to build a broken plan on purpose).
    Claims (previous post, changed, non-local, km), ``released`` and KPIs come from
    :func:`rotation.plan.assignment_facts` / :func:`compute_kpis`.
    """
    holders = dict(holders or {})
    unknown = set(holders) - set(data.posts.index)
    if unknown:
        raise KeyError(f"unknown post(s): {sorted(unknown)}")
    post_ids = sorted(set(in_scope_posts(data, rules)) | set(holders))
    held = {pid: holders.get(pid, _incumbent(data, pid)) for pid in post_ids}
    plan = plan_from_holders(data, rules, held, status, objective, objective)
    # released: incumbents of in-scope posts holding no post at all (out-of-scope ones included)
    holding = {c for c in held.values() if c is not None}
    holding |= set(data.posts[~data.posts.index.isin(post_ids)]["incumbent_id"].dropna())
    before = [*in_scope_posts(data, rules), *sorted(data.merged_posts)]
    plan.released = sorted({c for pid in before if (c := _incumbent(data, pid))} - holding)
    return plan


def _incumbent(data: ProblemData, post_id: str) -> str | None:
    inc = data.posts.at[post_id, "incumbent_id"]
    return inc if isinstance(inc, str) else None


def baseline_plan(data: ProblemData | None = None, rules: Rules | None = None) -> Plan:
    """``BASELINE_MOVES`` on the (default) tiny instance: valid under ``default_rules()``."""
    data = data if data is not None else tiny_problem()
    rules = rules if rules is not None else default_rules()
    return plan_from(data, rules, BASELINE_MOVES)


def two_smallest_provinces() -> ProblemData:
    """The two smallest provinces of the 2025 structure (38 + 40 communes), a synthetic
    roster of secretaries."""
    from rotation.read import parse_tables
    from rotation.synth import synthesize_units
    from rotation.units import build_national_units

    units = build_national_units()
    communes = units[units["level"] != "province"].groupby("parent_id").size().sort_values()
    keep = list(communes.index[:2])
    units = units[units["unit_id"].isin(keep) | units["parent_id"].isin(keep)]
    return parse_tables(synthesize_units(units, 1, ["secretary"], legacy=False))
