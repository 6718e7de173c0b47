"""Uploads → the contract's tables as text, checked for safety first, all in memory.

An upload is a .xlsx workbook, a .zip of the contract's CSV files, or JSON rows. Nothing is ever
extracted to disk: zip entries are read into memory with size limits (total and per-entry ratio:
the zip-bomb guard), entry names are checked for path traversal, and workbooks with macros or any
cell formula are refused (a formula's cached value may not be what the planner sees).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import posixpath
import zipfile
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from rotation.data import ProblemData
from rotation.errors import DataError
from rotation.read import TABLES, parse_tables

Tables = dict[str, dict[str, Any]]
"""{table: {"columns": [...], "rows": [[text, ...], ...]}} plus "_source": {table: shown name}."""


class UploadError(ValueError):
    """An upload refused before parsing; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Limits:
    """Zip-bomb guards: total uncompressed bytes and the largest per-entry ratio."""

    max_total_bytes: int = 200 * 1024 * 1024
    max_ratio: float = 100.0


@dataclass
class Parsed:
    tables: Tables
    data: ProblemData
    warnings: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------- cells
def cell_text(value: Any) -> str:
    """One cell (str, number, bool, date) as the text the contract's parser expects."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).replace("\ufeff", "").strip()


def frames_of(tables: Tables) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    frames = {
        t: pd.DataFrame(v["rows"], columns=v["columns"], dtype=object)
        for t, v in tables.items()
        if not t.startswith("_")
    }
    return frames, dict(tables.get("_source", {}))


def problem_data(tables: Tables) -> ProblemData:
    """The stored text tables → a checked ProblemData (raises DataError)."""
    frames, source = frames_of(tables)
    return parse_tables(frames, source or None)


def _table(columns: list[str], rows: list[list[Any]]) -> dict[str, Any]:
    width = len(columns)
    out = []
    for r in rows:
        cells = [cell_text(v) for v in r[:width]]
        cells += [""] * (width - len(cells))
        if any(cells):
            out.append(cells)
    return {"columns": [cell_text(c) for c in columns], "rows": out}


def parse(tables: Tables, name: str) -> Parsed:
    """Check the tables with the library's parser; DataError lists every problem."""
    data = problem_data(tables)
    data.name = name
    return Parsed(tables=tables, data=data, warnings=list(data.warnings))


# ----------------------------------------------------------------------------- zip
def _safe_zip(raw: bytes, limits: Limits, what: str) -> zipfile.ZipFile:
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, ValueError, OSError) as err:
        raise UploadError(f"{what}: not a valid zip archive ({err})") from None
    total = 0
    for info in zf.infolist():
        name = info.filename
        norm = posixpath.normpath(name.replace("\\", "/"))
        if (
            name.startswith(("/", "\\"))
            or norm.startswith("..")
            or "/../" in f"/{norm}/"
            or ":" in name.split("/")[0]
        ):
            raise UploadError(f"{what}: entry {name!r} has an unsafe path (path traversal)")
        total += info.file_size
        if total > limits.max_total_bytes:
            raise UploadError(
                f"{what}: uncompressed content exceeds {limits.max_total_bytes // 2**20} MB "
                "(zip bomb guard)",
                413,
            )
        if info.file_size > 1024 * 1024 and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            ratio = info.file_size / max(info.compress_size, 1)
            raise UploadError(
                f"{what}: entry {name!r} compresses {ratio:.0f}:1, "
                f"more than {limits.max_ratio:g}:1 (zip bomb guard)",
                413,
            )
    return zf


def _read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> bytes:
    """Read one entry, never more than its declared size (headers can lie)."""
    with zf.open(info) as f:
        data = f.read(info.file_size + 1)
    if len(data) > info.file_size or len(data) > limits.max_total_bytes:
        raise UploadError(
            f"entry {info.filename!r} is larger than it declares (zip bomb guard)", 413
        )
    return data


def _csv_table(raw: bytes, name: str) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError_one(name, "is not UTF-8 text") from None
    if not text.strip():
        return {"columns": [], "rows": []}
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as err:
        raise DataError_one(name, f"cannot be read: {err}") from None
    return _table(list(df.columns), df.to_numpy().tolist())


def DataError_one(file: str, message: str) -> DataError:
    from rotation.errors import Problem

    return DataError([Problem(file, None, None, message)])


def tables_from_csv_files(files: dict[str, bytes]) -> tuple[Tables, list[str]]:
    """CSV files by name (``units.csv`` …) → tables; unknown files become warnings."""
    tables: Tables = {}
    warnings: list[str] = []
    for name, raw in sorted(files.items()):
        stem = posixpath.basename(name)
        if not stem.lower().endswith(".csv"):
            warnings.append(f"{name}: not a .csv file, ignored")
            continue
        table = stem[:-4]
        if table not in TABLES:
            warnings.append(f"{name}: unknown file ignored")
            continue
        if table in tables:
            raise UploadError(f"{name}: a second {table}.csv in the archive")
        tables[table] = _csv_table(raw, f"{table}.csv")
    tables["_source"] = {t: f"{t}.csv" for t in TABLES}
    return tables, warnings


def tables_from_zip(raw: bytes, limits: Limits) -> tuple[Tables, list[str]]:
    zf = _safe_zip(raw, limits, "upload")
    files: dict[str, bytes] = {}
    for info in zf.infolist():
        if info.is_dir() or posixpath.basename(info.filename).startswith((".", "__MACOSX")):
            continue
        if "__MACOSX" in info.filename:
            continue
        if info.filename.lower().endswith(".csv"):
            files[info.filename] = _read_entry(zf, info, limits)
        else:
            files[info.filename] = b""
    return tables_from_csv_files(files)


# ----------------------------------------------------------------------------- xlsx
def tables_from_xlsx(raw: bytes, filename: str, limits: Limits) -> tuple[Tables, list[str]]:
    """Workbook → tables; refuses macros (vbaProject.bin) and any formula cell."""
    import openpyxl

    zf = _safe_zip(raw, limits, filename)
    names = [i.filename for i in zf.infolist()]
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise UploadError(
            f"{filename}: the workbook contains macros (vbaProject.bin); "
            "save it as a plain .xlsx without macros"
        )
    try:
        wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=False)
    except Exception as err:  # a broken workbook is the user's problem, not a crash
        raise UploadError(f"{filename}: cannot be read as a workbook ({err})") from None
    tables: Tables = {}
    warnings: list[str] = []
    try:
        for ws in wb.worksheets:
            key = ws.title.strip()
            if key not in TABLES:
                warnings.append(f"{filename}[{ws.title}]: unknown sheet ignored")
                continue
            rows: list[list[Any]] = []
            for r, row in enumerate(ws.iter_rows(), start=1):
                values = []
                for cell in row:
                    v = cell.value
                    if getattr(cell, "data_type", None) == "f" or (
                        isinstance(v, str) and v.startswith("=") and len(v) > 1
                    ):
                        col = getattr(cell, "column_letter", "?")
                        raise UploadError(
                            f"{filename}[{ws.title}], row {r}, column {col}: cell contains a "
                            "formula; paste values only"
                        )
                    values.append(v)
                rows.append(values)
            if not rows:
                tables[key] = {"columns": [], "rows": []}
                continue
            header = rows[0]
            while header and (header[-1] is None or header[-1] == ""):
                header = header[:-1]
            tables[key] = _table([cell_text(h) for h in header], rows[1:])
    finally:
        wb.close()
    tables["_source"] = {t: f"{filename}[{t}]" for t in TABLES}
    return tables, warnings


# ----------------------------------------------------------------------------- json
def tables_from_json(body: dict[str, Any]) -> Tables:
    """{"tables": {"units": [{col: value}, ...], ...}} → tables."""
    raw = body.get("tables")
    if not isinstance(raw, dict):
        raise UploadError("'tables' must be an object of table name → list of rows")
    tables: Tables = {}
    for t, rows in raw.items():
        if t not in TABLES:
            continue
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise UploadError(f"tables.{t} must be a list of objects (one per row)")
        if not rows and t not in ("units", "cadres", "posts"):
            continue  # an empty optional table is the same as none
        columns: list[str] = []
        for r in rows:
            for c in r:
                if c not in columns:
                    columns.append(str(c))
        for r in rows:
            for c, v in r.items():
                if isinstance(v, dict | list):
                    raise UploadError(
                        f"tables.{t}, column {c}: a cell must be a text, number, "
                        "boolean or null, not an object or list"
                    )
        tables[t] = _table(columns, [[r.get(c) for c in columns] for r in rows])
    tables["_source"] = {t: f"tables.{t}" for t in TABLES}
    return tables


# ----------------------------------------------------------------------------- summary
def hierarchy(data: ProblemData) -> dict[str, list[str | None]]:
    u = data.units
    return {
        str(uid): [str(lv), _s(p), _s(d)]
        for uid, lv, p, d in zip(
            u.index, u["level"], u["province_id"], u["district_id"], strict=True
        )
    }


def _s(v: Any) -> str | None:
    return v if isinstance(v, str) else None


def summary(data: ProblemData, warnings: list[str]) -> dict[str, Any]:
    """Counts and coverage per scope (district, or province in the 2-level hierarchy)."""
    from rotation.concepts import is_local
    from rotation.rules import Rules

    rules = Rules()
    posts = data.posts
    level = "district" if data.has_districts else "province"
    scopes = data.scope_of(posts["unit_id"].tolist(), level).tolist()
    per: dict[str, dict[str, Any]] = {}
    cad = data.cadres
    for (_pid, row), scope in zip(posts.iterrows(), scopes, strict=True):
        s = per.setdefault(
            str(scope),
            {
                "scope": str(scope),
                "name": data.unit_name(scope),
                "posts": 0,
                "vacant": 0,
                "non_local": 0,
            },
        )
        s["posts"] += 1
        inc = row["incumbent_id"]
        if not isinstance(inc, str):
            s["vacant"] += 1
        elif inc in cad.index:
            c = cad.loc[inc]
            if not is_local(data, c["hometown_id"], c["residence_id"], row["unit_id"], rules):
                s["non_local"] += 1
    for s in per.values():
        filled = s["posts"] - s["vacant"]
        s["non_local_share"] = round(s["non_local"] / filled, 6) if filled else 0.0
    try:  # the report helper, when present, adds its own per-scope status table
        from rotation.report import status_table  # type: ignore[import-not-found]

        table = status_table(data, rules)
        extra = {"status_table": table.reset_index().astype(str).to_dict(orient="records")}
    except Exception:
        extra = {}
    provinces = [str(u) for u in data.units.index[data.units["level"] == "province"]]
    return {
        "name": data.name,
        "provinces": provinces,
        "units": len(data.units),
        "cadres": len(cad),
        "posts": len(posts),
        "vacant_posts": int(posts["incumbent_id"].isna().sum()),
        "positions": {str(k): int(v) for k, v in posts["position"].value_counts().items()},
        "scope_level": level,
        "coverage": sorted(per.values(), key=lambda s: s["scope"]),
        "warnings": warnings[:100],
        **extra,
    }
