"""Benchmark instances as (ProblemData, rules dict), built once and cached under bench/.cache."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import pandas as pd

from rotation.data import CADRE_TABLES

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(__file__).resolve().parent / ".cache"
ORLIB = ROOT.parent / "shared" / "benchmarks" / "orlib-assign"
ORLIB_OPT = {"assignp800": 2239, "assignp1500": 5839, "assignp3000": 18696, "assignp5000": 48533}

ORLIB_RULES = {
    "positions": ["secretary"],
    "weights": {"travel_km": 1},
    "non_local_targets": [],
    "max_travel_km": 1e6,  # None makes unreachable (inf km) pairs eligible: library bug, see README
    "min_years_in_post": 0,
    "max_years_in_post": None,
    "min_rating": None,
    "require_planning": False,
    "min_years_to_retirement": 0,
    "allow_vacancies": False,
    "forbid_relatives_same_unit": False,
}


def _hai_duong():
    from rotation.read import read_dataset

    return read_dataset(ROOT / "data" / "hai_duong"), {}


def _nghe_an():
    from rotation.read import parse_tables
    from rotation.synth import synthesize

    pos = ["secretary", "pc_chair"]
    t = synthesize("Nghệ An", True, 1, pos)
    rules = {
        "positions": pos,
        "non_local_targets": [
            {"position": p, "scope_level": "district", "min_share": 0.30} for p in pos
        ],
    }
    return parse_tables(t), rules


NATIONAL_POS = ["secretary", "pc_chair", "inspection_chair"]
NATIONAL_RULES = {
    "positions": NATIONAL_POS,
    "non_local_targets": [
        {"position": p, "scope_level": "province", "min_share": 0.30}
        for p in ("secretary", "pc_chair")
    ],
}


def national_tables():
    from rotation.synth import synthesize_national

    return synthesize_national(1, NATIONAL_POS)


def restrict_provinces(tables: dict[str, pd.DataFrame], k: int) -> dict[str, pd.DataFrame]:
    """The national tables restricted to the first ``k`` provinces (by unit order)."""
    units = tables["units"]
    provs = units.loc[units["level"] == "province", "unit_id"].tolist()[:k]
    keep_units = set(provs) | set(units.loc[units["parent_id"].isin(provs), "unit_id"])
    out = dict(tables)
    out["units"] = units[units["unit_id"].isin(keep_units)].reset_index(drop=True)
    cad = tables["cadres"]
    cad = cad[cad["current_unit_id"].isin(keep_units)].reset_index(drop=True)
    out["cadres"] = cad
    ids = set(cad["cadre_id"])
    out["posts"] = tables["posts"][tables["posts"]["unit_id"].isin(keep_units)].reset_index(
        drop=True
    )
    for name, cols in CADRE_TABLES.items():  # every table of cadres' rows (v1.1 ones too)
        if name in tables:
            df = tables[name]
            m = df[cols[0]].isin(ids)
            for c in cols[1:]:
                m &= df[c].isin(ids)
            out[name] = df[m].reset_index(drop=True)
    return out


def _national_k(k: int):
    from rotation.read import parse_tables

    return parse_tables(restrict_provinces(national_tables(), k)), NATIONAL_RULES


def _national():
    from rotation.read import parse_tables

    return parse_tables(national_tables()), NATIONAL_RULES


def read_orlib(name: str) -> tuple[int, list[tuple[int, int, int]]]:
    toks = (ORLIB / f"{name}.txt").read_text().split()
    n = int(toks[0])
    vals = list(map(int, toks[1:]))
    return n, [(vals[i], vals[i + 1], vals[i + 2]) for i in range(0, len(vals), 3)]


def orlib_tables(name: str) -> dict[str, pd.DataFrame]:
    """Rows → posts at commune R{i}; columns → cadres living at commune C{j}, working at the
    province office P; costs → travel rows C{j} → R{i}."""
    n, triples = read_orlib(name)
    unit_ids = ["P"] + [f"R{i}" for i in range(1, n + 1)] + [f"C{j}" for j in range(1, n + 1)]
    units = pd.DataFrame(
        {
            "unit_id": unit_ids,
            "name": ["Province P"]
            + [f"Row {i}" for i in range(1, n + 1)]
            + [f"Col {j}" for j in range(1, n + 1)],
            "level": ["province"] + ["commune"] * (2 * n),
            "parent_id": [""] + ["P"] * (2 * n),
            "lat": [""] * (2 * n + 1),
            "lon": [""] * (2 * n + 1),
        }
    )
    cadres = pd.DataFrame(
        {
            "cadre_id": [f"K{j:05d}" for j in range(1, n + 1)],
            "full_name": [f"Cadre {j}" for j in range(1, n + 1)],
            "gender": ["M"] * n,
            "birth_date": ["1990-01-01"] * n,
            "ethnicity": ["Kinh"] * n,
            "hometown_id": [f"C{j}" for j in range(1, n + 1)],
            "residence_id": [f"C{j}" for j in range(1, n + 1)],
            "current_unit_id": ["P"] * n,
            "current_since": ["2020-01-01"] * n,
            "planned_positions": [""] * n,
            "movable": ["true"] * n,
            "max_travel_km": [""] * n,
        }
    )
    posts = pd.DataFrame(
        {
            "post_id": [f"Q{i:05d}" for i in range(1, n + 1)],
            "unit_id": [f"R{i}" for i in range(1, n + 1)],
            "position": ["secretary"] * n,
            "incumbent_id": [""] * n,
        }
    )
    travel = pd.DataFrame(
        {
            "from_id": [f"C{j}" for _, j, _ in triples],
            "to_id": [f"R{i}" for i, _, _ in triples],
            "km": [str(c) for _, _, c in triples],
        }
    )
    return {"units": units, "cadres": cadres, "posts": posts, "travel": travel}


def _orlib(name: str):
    from rotation.read import parse_tables

    return parse_tables(orlib_tables(name)), ORLIB_RULES


BUILDERS = {
    "hai_duong": _hai_duong,
    "nghe_an_2pos": _nghe_an,
    "national_2025": _national,
    **{k: (lambda k=k: _orlib(k)) for k in ORLIB_OPT},
    **{f"national_{k}prov": (lambda k=k: _national_k(k)) for k in (1, 3, 8, 17)},
}


SOURCES = ("rotation/data.py", "rotation/read.py", "rotation/ingest.py", "rotation/synth.py")


def _fingerprint() -> str:
    """A hash of the code that builds the instances and of the bundled data: a cache entry made
    by other code (a ProblemData without a field added since) is never loaded."""
    h = hashlib.sha256()
    for rel in (*SOURCES, "bench/instances.py"):
        h.update((ROOT / rel).read_bytes())
    for f in sorted((ROOT / "data" / "hai_duong").glob("*.csv")):
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def load(name: str):
    """(ProblemData, rules dict) for a named instance, from the pickle cache when present."""
    CACHE.mkdir(exist_ok=True)
    f = CACHE / f"{name}-{_fingerprint()}.pkl"
    if f.exists():
        with f.open("rb") as fh:
            return pickle.load(fh)
    obj = BUILDERS[name]()
    with f.open("wb") as fh:
        pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return obj
