"""Uploads → the contract's tables as text: the library's one reader plus HTTP status codes.

Reading and every guard (zip bombs, path traversal, macros, formula cells, hardened XML, strict
JSON, control characters) live in :mod:`rotation.ingest` and :mod:`rotation.read`, the same for
the command line; this module keeps the names the routes import and maps refusals to HTTP:
a size limit (:class:`~rotation.errors.LimitError`) is 413, any other refusal 422 (a
:class:`~rotation.errors.DataError` listing every problem), an unknown upload type 415.
Nothing is ever written to disk.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from rotation import ingest
from rotation.data import ProblemData
from rotation.errors import LimitError
from rotation.ingest import Limits, Tables, cell_text, frames_of
from rotation.read import TABLES, parse_read, parse_tables

from .upload import parse_multipart

__all__ = [
    "TABLES",
    "Limits",
    "Parsed",
    "Tables",
    "UploadError",
    "cell_text",
    "frames_of",
    "hierarchy",
    "ingest_upload",
    "parse",
    "problem_data",
    "summary",
    "tables_from_csv_files",
    "tables_from_json",
    "tables_from_xlsx",
    "tables_from_zip",
]

T = TypeVar("T")


class UploadError(ValueError):
    """An upload refused before parsing; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Parsed:
    tables: Tables
    data: ProblemData
    warnings: list[str] = field(default_factory=list)


def _http(read: Callable[[], T]) -> T:
    """Run a reader; a size limit becomes UploadError(413), other refusals stay DataErrors."""
    try:
        return read()
    except LimitError as err:
        raise UploadError("; ".join(str(p) for p in err.problems), 413) from None


def _checked(read: ingest.Read) -> tuple[Tables, list[str]]:
    """Tables and warnings; files that could not be read are reported with every other problem."""
    if read.problems:
        parse_read(read)  # raises the DataError listing them with the other tables' problems
    return read.tables, read.warnings


def problem_data(tables: Tables) -> ProblemData:
    """The stored text tables → a checked ProblemData (raises DataError)."""
    frames, source = frames_of(tables)
    return parse_tables(frames, source or None)


def parse(tables: Tables, name: str) -> Parsed:
    """Check the tables with the library's parser; DataError lists every problem."""
    data = problem_data(tables)
    data.name = name
    return Parsed(tables=tables, data=data, warnings=list(data.warnings))


def tables_from_csv_files(files: dict[str, bytes]) -> tuple[Tables, list[str]]:
    """CSV files by name (``units.csv`` …) → tables; unknown files become warnings."""
    return _checked(ingest.read_csv_files(files))


def tables_from_zip(raw: bytes, limits: Limits) -> tuple[Tables, list[str]]:
    """A .zip of CSV files → tables (zip-bomb and traversal guards: :mod:`rotation.ingest`)."""
    return _checked(_http(lambda: ingest.read_zip(raw, limits, "upload")))


def tables_from_xlsx(raw: bytes, filename: str, limits: Limits) -> tuple[Tables, list[str]]:
    """Workbook → tables; refuses macros, formula cells, DTDs/entities, malformed XML."""
    return _checked(_http(lambda: ingest.read_xlsx(raw, limits, filename)))


def tables_from_json(body: dict[str, Any]) -> Tables:
    """{"tables": {"units": [{col: value}, ...], ...}} (already parsed) → tables."""
    return ingest.tables_from_json(body)


def ingest_upload(raw: bytes, content_type: str, limits: Limits) -> tuple[str, Tables, list[str]]:
    """An upload body → (name, tables, warnings), whatever its type.

    ``multipart/form-data`` with a ``file`` field (.xlsx or .zip; the optional ``name`` field
    names the dataset), or ``application/json`` ``{"name": ..., "tables": {...}}`` parsed
    strictly (no NaN/Infinity, bounded nesting: a deep body is a 422, not a RecursionError).
    Raises UploadError (413 limits, 415 type, 422), DataError (422) or HTTPException.
    """
    if content_type.startswith("multipart/form-data"):
        parts = parse_multipart(raw, content_type)
        if "file" not in parts:
            raise UploadError("multipart form needs a 'file' field (.xlsx or .zip)")
        filename, data = parts["file"]
        filename = filename or "upload"
        name = parts.get("name", (None, b""))[1].decode("utf-8", "replace").strip()
        lower = filename.lower()
        stem = filename.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        if lower.endswith(ingest.MACRO_SUFFIXES):
            raise UploadError(f"{filename}: macro-enabled workbooks are refused; save as .xlsx")
        if lower.endswith(".xlsx"):
            tables, warnings = tables_from_xlsx(data, filename, limits)
        elif lower.endswith(".zip"):
            tables, warnings = tables_from_zip(data, limits)
        else:
            raise UploadError(f"{filename}: expected an .xlsx workbook or a .zip of CSV files", 415)
        return ingest.check_name(name or stem, "name"), tables, warnings
    if content_type.startswith("application/json") or not content_type:
        read = _http(lambda: ingest.read_json(raw, limits, "body"))
        return read.name, read.tables, read.warnings
    raise UploadError(
        f"unsupported content type {content_type!r}: send multipart/form-data "
        "(field 'file') or application/json",
        415,
    )


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

    rules = Rules.model_validate({})
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
        from rotation.report import status_table

        table = status_table(data, rules)
        rows = json.loads(table.reset_index(drop=True).to_json(orient="records"))
        extra = {"status_table": rows}  # numbers as numbers, NaN as null
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
