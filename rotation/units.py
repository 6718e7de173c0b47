"""Real Vietnamese administrative units (names, official codes, centroids) as contract ``units``
tables, read from the SQLite file shipped with the ``vietnamadminunits`` package (MIT licence,
https://github.com/tranngocminhhieu/vietnamadminunits).

Two hierarchies, chosen by ``legacy``:

- legacy (before 1 July 2025): province → district → commune (63 provinces, ~10,000 communes);
- new (from 1 July 2025): province → commune (34 provinces, 3,321 communes).

``unit_id`` is the official code: province '30', district '288', commune '10507'. ``lat``/``lon``
are centroids in decimal degrees (WGS84). Province names are matched case- and
accent-insensitively ("Hải Dương", "hai duong", "HaiDuong", "Tỉnh Hải Dương", code "30").
"""

from __future__ import annotations

import difflib
import json
import re
import sqlite3
import unicodedata
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd

UNIT_TABLE_COLUMNS = ["unit_id", "name", "level", "parent_id", "lat", "lon"]
"""Contract §1 ``units`` columns, in order."""

LEVEL_ORDER = {"province": 0, "district": 1, "commune": 2}


# --------------------------------------------------------------------------- database access
def dataset_path() -> Path:
    """Path of the package's SQLite file (located through the installed package, not a venv)."""
    ref = resources.files("vietnamadminunits").joinpath("data", "dataset.db")
    return Path(str(ref))


@lru_cache(maxsize=4)
def _table(legacy: bool) -> pd.DataFrame:
    """The whole admin-units table of one hierarchy (cached; ~10,000 rows at most)."""
    table = "admin_units_legacy" if legacy else "admin_units"
    cols = [
        "province",
        "provinceShort",
        "provinceCode",
        "provinceLat",
        "provinceLon",
        "provinceKey",
        "provinceShortKey",
        "provinceAlias",
        "ward",
        "wardCode",
        "wardLat",
        "wardLon",
    ]
    if legacy:
        cols += ["district", "districtShort", "districtCode", "districtLat", "districtLon"]
    with sqlite3.connect(f"file:{dataset_path()}?mode=ro", uri=True) as con:
        df = pd.read_sql_query(f"SELECT {', '.join(cols)} FROM {table}", con)
    return df


def normalize_name(text: str) -> str:
    """Lower-case ASCII letters and digits only: 'Tỉnh Hải Dương' → 'tinhhaiduong'."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    plain = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return re.sub(r"[^a-z0-9]", "", plain.lower())


@lru_cache(maxsize=4)
def _province_keys(legacy: bool) -> dict[str, str]:
    """Every accepted normalized spelling → provinceCode."""
    df = _table(legacy).drop_duplicates("provinceCode")
    keys: dict[str, str] = {}
    for row in df.itertuples(index=False):
        code = str(row.provinceCode)
        names = [row.province, row.provinceShort, row.provinceKey, row.provinceShortKey, code]
        if isinstance(row.provinceAlias, str) and row.provinceAlias:
            names += list(json.loads(row.provinceAlias))
        for n in names:
            if isinstance(n, str) and n:
                keys[normalize_name(n)] = code
                keys.setdefault("tp" + normalize_name(n), code)
    return keys


def list_provinces(legacy: bool) -> list[str]:
    """Short province names ('Hải Dương', …) of one hierarchy, sorted accent-insensitively."""
    names = _table(legacy)["provinceShort"].drop_duplicates().tolist()
    return sorted(names, key=lambda n: (normalize_name(n), n))


def province_code(province: str, legacy: bool) -> str:
    """Official code of ``province`` (any spelling, or the code itself).

    Raises ``ValueError`` listing the closest province names when nothing matches.
    """
    key = normalize_name(province)
    keys = _province_keys(legacy)
    if key in keys:
        return keys[key]
    names = list_provinces(legacy)
    by_key = {normalize_name(n): n for n in names}
    close = difflib.get_close_matches(key, list(by_key), n=5, cutoff=0.5)
    hint = ", ".join(by_key[c] for c in close) if close else ", ".join(names)
    which = "legacy (63-province)" if legacy else "2025 (34-province)"
    other = (
        ""
        if key not in _province_keys(not legacy)
        else (
            f"; {province!r} exists in the {'2025' if legacy else 'legacy'} list: use "
            f"{'--new (legacy=False)' if legacy else '--legacy (legacy=True)'}"
        )
    )
    raise ValueError(
        f"unknown province {province!r} in the {which} list; close names: {hint}{other}"
    )


def _fmt_coord(x: float) -> float:
    """Centroid coordinate in degrees, rounded to 6 decimals (~0.1 m)."""
    return round(float(x), 6)


# --------------------------------------------------------------------------- units tables
def build_units(province: str, legacy: bool) -> pd.DataFrame:
    """Contract ``units`` table of one province: ``unit_id, name, level, parent_id, lat, lon``.

    legacy=True gives province → district → commune (3 levels), False the 2025 province →
    commune structure (2 levels). ``parent_id`` is '' for the province. A commune without its
    own centroid takes its district's (legacy island districts without communes keep only the
    district row). Rows are ordered province, districts, communes, each by code.
    """
    code = province_code(province, legacy)
    df = _table(legacy)
    df = df[df["provinceCode"] == code]
    first = df.iloc[0]
    rows: list[dict[str, object]] = [
        {
            "unit_id": code,
            "name": first["province"],
            "level": "province",
            "parent_id": "",
            "lat": _fmt_coord(first["provinceLat"]),
            "lon": _fmt_coord(first["provinceLon"]),
        }
    ]
    if legacy:
        dist = df.drop_duplicates("districtCode").sort_values("districtCode")
        for r in dist.itertuples(index=False):
            rows.append(
                {
                    "unit_id": str(r.districtCode),
                    "name": r.district,
                    "level": "district",
                    "parent_id": code,
                    "lat": _fmt_coord(r.districtLat),
                    "lon": _fmt_coord(r.districtLon),
                }
            )
    wards = df[df["wardCode"].notna() & df["ward"].notna()].sort_values("wardCode")
    for r in wards.itertuples(index=False):
        lat, lon = r.wardLat, r.wardLon
        if pd.isna(lat) or pd.isna(lon):
            lat, lon = (r.districtLat, r.districtLon) if legacy else (r.provinceLat, r.provinceLon)
        rows.append(
            {
                "unit_id": str(r.wardCode),
                "name": r.ward,
                "level": "commune",
                "parent_id": str(r.districtCode) if legacy else code,
                "lat": _fmt_coord(lat),
                "lon": _fmt_coord(lon),
            }
        )
    out = pd.DataFrame(rows, columns=UNIT_TABLE_COLUMNS)
    return sort_units(out)


def sort_units(units: pd.DataFrame) -> pd.DataFrame:
    """Units ordered by level (province, district, commune) then ``unit_id``; fresh index."""
    rank = units["level"].map(LEVEL_ORDER)
    order = sorted(range(len(units)), key=lambda i: (rank.iloc[i], units["unit_id"].iloc[i]))
    return units.iloc[order].reset_index(drop=True)


def build_national_units() -> pd.DataFrame:
    """Units of all 34 provinces in the 2025 two-level structure (34 + 3,321 rows)."""
    codes = sorted(_table(False)["provinceCode"].unique().tolist())
    frames = [build_units(c, legacy=False) for c in codes]
    return sort_units(pd.concat(frames, ignore_index=True))


def district_short_names(province: str) -> dict[str, str]:
    """Legacy district code → short name ('288' → 'Hải Dương') for one province."""
    code = province_code(province, legacy=True)
    df = _table(True)
    df = df[df["provinceCode"] == code].drop_duplicates("districtCode")
    return {str(c): str(n) for c, n in zip(df["districtCode"], df["districtShort"], strict=True)}
