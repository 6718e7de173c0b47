"""Read a dataset's tables as text — from a path or from bytes — with every guard, in memory.

The one reader for the command line and the service (the parser of the tables is
:func:`rotation.read.parse_tables`; this module only turns files into text tables). Sources:

- a folder of the contract's CSV files (``units.csv`` …);
- a ``.zip`` of those CSV files (folders inside the archive are ignored, only base names count);
- an ``.xlsx`` workbook, one sheet per table;
- JSON tables, ``{"name": ..., "tables": {"units": [{column: value, ...}, ...], ...}}``.

Guards, the same for every caller (each refusal is a :class:`~rotation.errors.DataError` whose
:class:`~rotation.errors.Problem` names the file, and the row and column where there is one;
size refusals are a :class:`~rotation.errors.LimitError`):

- nothing is extracted to disk; zip entries are read into memory within :class:`Limits` (total
  uncompressed bytes, per-entry compression ratio, number of entries: the zip-bomb guard), never
  more than an entry declares;
- entry names that climb out of the archive (absolute, ``..``, drive letters) are refused
  (path traversal);
- workbooks with macros (``vbaProject.bin``, ``.xlsm``) and any formula cell are refused (a
  formula's cached value may not be what the planner sees);
- every XML part of a workbook is checked with ``defusedxml`` before openpyxl reads it: a DTD,
  an entity declaration (the "billion laughs" expansion) or an external entity (XXE) is refused;
  XML that is not well-formed (e.g. a truncated sheet) is a clear error, not a crash;
- JSON is parsed without ``NaN``/``Infinity`` (and without numbers that overflow to infinity),
  with a bounded nesting depth (:attr:`Limits.max_json_depth`); a cell is a text, number,
  boolean or null.

Control characters in cells are refused by the parser (:func:`rotation.read.parse_tables`), so
they are refused whatever the source.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError, LimitError, Problem

TABLES = (
    "units",
    "cadres",
    "posts",
    "ratings",
    "relations",
    "travel",
    "roads",
    "discipline",  # contract v1.1
    "preferences",  # contract v1.1
)
REQUIRED_TABLES = ("units", "cadres", "posts")

Tables = dict[str, dict[str, Any]]
"""{table: {"columns": [...], "rows": [[text, ...], ...]}} plus "_source": {table: shown name}.

A folder read by :func:`read_path` holds its tables column by column instead,
``{"columns": [...], "cols": [[text, ...], ...]}`` (one list per column, empty rows dropped): the
parser takes the columns as they are, with no rows built only to be split into columns again.
Tables that are stored or sent (the service's) always have ``"rows"``."""

MACRO_SUFFIXES = (".xlsm", ".xltm", ".xlam")
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""Control characters refused in names and cells: C0 but tab, newline and CR; DEL; C1."""
FORMATS = "a folder of CSV files, a .zip of CSV files, an .xlsx workbook or a .json file"


@dataclass(frozen=True)
class Limits:
    """What a dataset may hold before it is refused (:class:`LimitError`).

    ``max_total_bytes``: uncompressed bytes of all files (zip entries, workbook parts, CSV files);
    ``max_ratio``: largest compression ratio of an entry over 1 MB; ``max_entries``: entries in
    an archive; ``max_json_depth``: nesting of JSON arrays and objects (a JSON dataset needs 4).
    """

    max_total_bytes: int = 200 * 1024 * 1024
    max_ratio: float = 100.0
    max_entries: int = 10_000
    max_json_depth: int = 16


@dataclass
class Read:
    """What was read: text ``tables`` (with ``"_source"``), ``warnings`` (unknown files, sheets)
    and ``problems`` (files that could not be read at all; their tables are absent)."""

    tables: Tables
    warnings: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    name: str = "dataset"


def _refuse(file: str, message: str) -> DataError:
    return DataError([Problem(file, None, None, message)])


def _too_large(file: str, message: str) -> LimitError:
    return LimitError([Problem(file, None, None, message)])


# ----------------------------------------------------------------------------- cells
def control_character(text: str) -> str | None:
    """The first refused control character in ``text`` as ``U+XXXX``, or None."""
    m = CONTROL_RE.search(text)
    return None if m is None else f"U+{ord(m.group()):04X}"


def check_name(name: str, what: str) -> str:
    """A dataset name: a text of at most 200 characters without control characters."""
    bad = control_character(name)
    if len(name) > 200 or bad is not None:
        why = f"contains a control character ({bad})" if bad else "is longer than 200 characters"
        raise _refuse(what, f"the dataset name {why}")
    return name


def cell_text(value: Any) -> str:
    """One cell (text, number, boolean, date, or empty) as the stripped text the parser expects.

    Booleans are ``true``/``false``; whole floats are written without ``.0``; a date-time at
    midnight is its ISO date; a NaN, NaT or None is the empty text; a BOM is dropped.
    """
    if type(value) is str:  # the common case first: every CSV cell
        return value.replace("\ufeff", "").strip()
    if value is None or value is pd.NaT:
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


def column_text(values: list[Any]) -> list[str]:
    """A column's cells as text (:func:`cell_text` of each), a new list. When every cell is a
    ``str`` without a BOM (every cell of a CSV file, almost always) this is one ``strip`` per
    cell, checked at C speed on the joined column."""
    try:
        bom = "\ufeff" in "".join(values)
    except TypeError:  # a number, a date, None: not text yet
        bom = True
    if not bom:
        return list(map(str.strip, values))
    return [v.replace("\ufeff", "").strip() if type(v) is str else cell_text(v) for v in values]


def text_table(columns: list[Any], rows: list[list[Any]]) -> dict[str, Any]:
    """Header and rows → a text table; rows padded or cut to the header, empty rows dropped."""
    width = len(columns)
    out = []
    for r in rows:
        cells = [
            v.replace("\ufeff", "").strip() if type(v) is str else cell_text(v) for v in r[:width]
        ]  # the str case inlined: this loop sees every cell of an upload
        cells += [""] * (width - len(cells))
        if any(cells):
            out.append(cells)
    return {"columns": [cell_text(c) for c in columns], "rows": out}


TextColumns = dict[str, list[str]]
"""A table as its columns of stripped text, by column name (:func:`csv_table`, columnar)."""


def frames_of(
    tables: Tables,
) -> tuple[dict[str, pd.DataFrame | TextColumns], dict[str, str]]:
    """Text tables → (tables for :func:`~rotation.read.parse_tables`, shown names): a DataFrame of
    text for a table of rows, the columns themselves for a table read column by column."""
    frames: dict[str, pd.DataFrame | TextColumns] = {}
    for t, v in tables.items():
        if t.startswith("_"):
            continue
        if "cols" in v:
            frames[t] = dict(zip(v["columns"], v["cols"], strict=True))
        else:
            frames[t] = pd.DataFrame(v["rows"], columns=v["columns"], dtype=object)
    return frames, dict(tables.get("_source", {}))


# ----------------------------------------------------------------------------- csv
def csv_table(raw: bytes, name: str, columnar: bool = False) -> dict[str, Any]:
    """One CSV file's bytes (UTF-8, BOM allowed) → a text table (``columnar``: its columns, see
    :data:`Tables`); DataError if unreadable."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse(name, "is not UTF-8 text") from None
    if not text.strip():
        return {"columns": [], "cols": []} if columnar else {"columns": [], "rows": []}
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as err:
        raise _refuse(name, f"cannot be read: {err}") from None
    header, texts = _text_columns(list(df.columns), [df[c].tolist() for c in df.columns])
    if columnar:
        return {"columns": header, "cols": texts}
    return {"columns": header, "rows": [list(r) for r in zip(*texts, strict=True)]}


def _text_columns(columns: list[Any], cols: list[list[Any]]) -> tuple[list[str], list[list[str]]]:
    """Equally long columns → (header, columns as text without the empty rows), column by column
    (a loop per column, not per cell, when the cells are already text): the cells of
    :func:`text_table`, several times faster."""
    header = [cell_text(c) for c in columns]
    texts = [column_text(c) for c in cols]
    if not texts:
        return header, []
    if any("" not in t for t in texts):  # a column with no empty cell: no row is empty
        return header, texts
    filled = np.zeros(len(texts[0]), dtype=bool)
    for t in texts:
        filled |= np.asarray(t, dtype=object) != ""
    if not filled.all():
        keep = np.flatnonzero(filled).tolist()
        texts = [[t[i] for i in keep] for t in texts]
    return header, texts


def read_csv_files(files: dict[str, bytes], columnar: bool = False) -> Read:
    """CSV files by name (``units.csv`` or ``folder/units.csv``) → text tables (``columnar``:
    column by column, see :data:`Tables`).

    Files that are not the contract's tables become warnings; an unreadable file becomes a
    problem (the other tables are still read, so every problem can be reported at once).
    """
    read = Read(tables={})
    for name, raw in sorted(files.items()):
        base = posixpath.basename(name)
        if not base.lower().endswith(".csv"):
            read.warnings.append(f"{name}: not a .csv file, ignored")
            continue
        table = base[:-4]
        if table not in TABLES:
            read.warnings.append(f"{name}: unknown file ignored")
            continue
        if table in read.tables or any(p.file == f"{table}.csv" for p in read.problems):
            raise _refuse(name, f"a second {table}.csv in the dataset")
        try:
            read.tables[table] = csv_table(raw, f"{table}.csv", columnar)
        except DataError as err:
            read.problems.extend(err.problems)
    read.tables["_source"] = {t: f"{t}.csv" for t in TABLES}
    return read


def read_folder(path: Path, limits: Limits) -> Read:
    """A folder of the contract's CSV files (other files are ignored with a warning)."""
    files: dict[str, bytes] = {}
    total = 0
    for file in sorted(path.glob("*.csv")):
        if not file.is_file():
            continue
        if file.stem in TABLES:
            total += file.stat().st_size
            if total > limits.max_total_bytes:
                raise _too_large(
                    file.name, f"the CSV files exceed {limits.max_total_bytes // 2**20} MB"
                )
            try:
                files[file.name] = file.read_bytes()
            except OSError as err:
                raise _refuse(file.name, f"cannot be read: {err}") from None
        else:
            files[file.name] = b""
    read = read_csv_files(files, columnar=True)  # parsed at once, never stored
    read.name = path.name
    return read


# ----------------------------------------------------------------------------- zip
def _unsafe_name(name: str) -> bool:
    norm = posixpath.normpath(name.replace("\\", "/"))
    return (
        name.startswith(("/", "\\"))
        or norm.startswith("..")
        or "/../" in f"/{norm}/"
        or ":" in name.split("/")[0]
    )


def open_zip(raw: bytes, limits: Limits, what: str) -> zipfile.ZipFile:
    """An archive checked before anything is read: entry count, names, sizes and ratios."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, ValueError, OSError) as err:
        raise _refuse(what, f"not a valid zip archive ({err})") from None
    infos = zf.infolist()
    if len(infos) > limits.max_entries:
        raise _too_large(what, f"more than {limits.max_entries} entries (zip bomb guard)")
    total = 0
    for info in infos:
        name = info.filename
        if _unsafe_name(name):
            raise _refuse(what, f"entry {name!r} has an unsafe path (path traversal)")
        total += info.file_size
        if total > limits.max_total_bytes:
            raise _too_large(
                what,
                f"uncompressed content exceeds {limits.max_total_bytes // 2**20} MB "
                "(zip bomb guard)",
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1024 * 1024 and ratio > limits.max_ratio:
            raise _too_large(
                what,
                f"entry {name!r} compresses {ratio:.0f}:1, more than {limits.max_ratio:g}:1 "
                "(zip bomb guard)",
            )
    return zf


def read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, what: str) -> bytes:
    """One entry's bytes, never more than it declares (headers can lie)."""
    try:
        with zf.open(info) as f:
            data = f.read(info.file_size + 1)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
        raise _refuse(what, f"entry {info.filename!r} cannot be read ({err})") from None
    if len(data) > info.file_size:
        raise _too_large(
            what, f"entry {info.filename!r} is larger than it declares (zip bomb guard)"
        )
    return data


def read_zip(raw: bytes, limits: Limits, what: str = "upload.zip") -> Read:
    """A .zip of the contract's CSV files (macOS metadata and hidden files are skipped)."""
    zf = open_zip(raw, limits, what)
    files: dict[str, bytes] = {}
    for info in zf.infolist():
        base = posixpath.basename(info.filename)
        if info.is_dir() or base.startswith(".") or "__MACOSX" in info.filename:
            continue
        is_csv = info.filename.lower().endswith(".csv")
        files[info.filename] = read_entry(zf, info, what) if is_csv else b""
    return read_csv_files(files)


# ----------------------------------------------------------------------------- xlsx
def check_xml_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo, what: str) -> None:
    """Refuse a workbook part that declares a DTD or entities, or whose prolog is not XML.

    A DTD comes before the root element, so parsing up to the root's start tag is enough; the
    rest of the part is parsed by openpyxl (itself hardened by ``defusedxml`` once installed).
    """
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import iterparse

    try:
        with zf.open(info) as f:
            for _event, _elem in iterparse(
                f, events=("start",), forbid_dtd=True, forbid_entities=True
            ):
                break
    except DefusedXmlException:
        raise _refuse(
            what,
            f"part {info.filename!r} declares a DTD or entities (entity expansion or external "
            "entity); refused — save the workbook again from a spreadsheet program",
        ) from None
    except ParseError as err:
        raise _refuse(what, f"part {info.filename!r} is not well-formed XML ({err})") from None
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise _refuse(what, f"part {info.filename!r} cannot be read ({err})") from None


def _looks_like_xml(zf: zipfile.ZipFile, info: zipfile.ZipInfo, what: str) -> bool:
    """Whether a part is XML, whatever its name says (openpyxl follows content types, not
    names): it starts, after blanks or a byte-order mark, with ``<`` (UTF-8 or UTF-16)."""
    if info.filename.lower().endswith((".xml", ".rels", ".vml")):
        return True
    try:
        with zf.open(info) as f:
            head = f.read(64)
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise _refuse(what, f"part {info.filename!r} cannot be read ({err})") from None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def _sheet_rows(ws: Any, what: str) -> Iterator[list[Any]]:
    """A sheet's rows as values; a formula cell is a DataError naming its row and column (the
    header's name for the column when there is one, and its letter)."""
    header: list[str] = []
    for r, row in enumerate(ws.iter_rows(), start=1):
        values = []
        for k, cell in enumerate(row):
            if getattr(cell, "data_type", None) == "f":
                letter = getattr(cell, "column_letter", "?")
                name = header[k] if k < len(header) and header[k] else ""
                col = f"{name} ({letter})" if name else letter
                raise DataError(
                    [Problem(what, r, col, "cell contains a formula; paste values only")]
                )
            values.append(cell.value)
        if r == 1:
            header = [cell_text(v) for v in values]
        yield values


def read_xlsx(raw: bytes, limits: Limits, what: str = "upload.xlsx") -> Read:
    """A workbook, one sheet per table (names stripped; other sheets are warnings)."""
    import openpyxl

    zf = open_zip(raw, limits, what)
    infos = zf.infolist()
    if any(i.filename.lower().endswith("vbaproject.bin") for i in infos):
        raise _refuse(
            what,
            "the workbook contains macros (vbaProject.bin); save it as a plain .xlsx without "
            "macros",
        )
    for info in infos:
        if not info.is_dir() and _looks_like_xml(zf, info, what):
            check_xml_part(zf, info, what)
    read = Read(tables={})
    try:
        wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=False)
    except Exception as err:  # a broken workbook is the user's problem, not a crash
        raise _refuse(what, f"cannot be read as a workbook ({err})") from None
    shown = what
    try:
        for ws in wb.worksheets:
            shown = f"{what}[{ws.title}]"
            key = ws.title.strip()
            if key not in TABLES:
                read.warnings.append(f"{shown}: unknown sheet ignored")
                continue
            if key in read.tables:
                raise _refuse(shown, f"a second sheet named {key!r}")
            rows = list(_sheet_rows(ws, shown))
            if not rows:
                read.tables[key] = {"columns": [], "rows": []}
                continue
            header = rows[0]
            while header and (header[-1] is None or header[-1] == ""):
                header = header[:-1]
            read.tables[key] = text_table(header, rows[1:])
    except DataError:
        raise
    except Exception as err:  # e.g. a truncated sheet: openpyxl's parser fails mid-way
        message = f"cannot be read as a workbook ({type(err).__name__}: {err})"
        raise _refuse(shown, message) from None
    finally:
        wb.close()
    read.tables["_source"] = {t: f"{what}[{t}]" for t in TABLES}
    return read


# ----------------------------------------------------------------------------- json
def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    x = float(text)
    if not math.isfinite(x):
        raise ValueError(f"{text} is out of range (not a finite number)")
    return x


def json_depth_ok(doc: Any, limit: int) -> bool:
    """Whether arrays and objects in ``doc`` nest at most ``limit`` deep (iterative walk)."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return False
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return True


def load_json(raw: bytes | str, limits: Limits, what: str = "JSON") -> Any:
    """Strict JSON: no NaN/Infinity, finite numbers, nesting at most ``limits.max_json_depth``.

    Any refusal is a DataError naming ``what`` (never a RecursionError).
    """
    deep = f"nested deeper than {limits.max_json_depth} levels"
    try:
        doc = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise _refuse(what, f"malformed JSON: {deep}") from None
    except (ValueError, UnicodeDecodeError) as err:
        raise _refuse(what, f"malformed JSON: {err}") from None
    if not json_depth_ok(doc, limits.max_json_depth):
        raise _refuse(what, f"malformed JSON: {deep}")
    return doc


def tables_from_json(body: Any, what: str = "tables") -> Tables:
    """``{"tables": {"units": [{column: value}, ...], ...}}`` → text tables.

    Unknown tables are skipped, an empty optional table is the same as none; a cell must be a
    text, number, boolean or null.
    """
    raw = body.get("tables") if isinstance(body, dict) else None
    if not isinstance(raw, dict):
        raise _refuse(what, "'tables' must be an object of table name → list of rows")
    tables: Tables = {}
    for t, rows in raw.items():
        if t not in TABLES:
            continue
        shown = f"{what}.{t}"
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise _refuse(shown, "must be a list of objects (one per row)")
        if not rows and t not in REQUIRED_TABLES:
            continue
        columns: list[str] = []
        for r in rows:
            for c in r:
                if c not in columns:
                    columns.append(str(c))
        for i, r in enumerate(rows):
            for c, v in r.items():
                if isinstance(v, dict | list):
                    raise DataError(
                        [
                            Problem(
                                shown,
                                i + 2,
                                str(c),
                                "a cell must be a text, number, boolean or null, not an "
                                "object or list",
                            )
                        ]
                    )
        tables[t] = text_table(columns, [[r.get(c) for c in columns] for r in rows])
    tables["_source"] = {t: f"{what}.{t}" for t in TABLES}
    return tables


def read_json(raw: bytes | str, limits: Limits, what: str = "dataset.json") -> Read:
    """A JSON dataset file or body: ``{"name": ..., "tables": {...}}``."""
    body = load_json(raw, limits, what)
    if not isinstance(body, dict):
        raise _refuse(what, "the JSON must be an object with 'name' and 'tables'")
    name = body.get("name") or "dataset"
    if not isinstance(name, str):
        raise _refuse(what, "'name' must be a text of at most 200 characters")
    return Read(tables=tables_from_json(body), name=check_name(name, what))


# ----------------------------------------------------------------------------- entry points
def read_bytes(raw: bytes, filename: str, limits: Limits | None = None) -> Read:
    """A dataset file's bytes; the format comes from ``filename``'s suffix (.zip, .xlsx, .json)."""
    limits = limits or Limits()
    lower = filename.lower()
    stem = posixpath.basename(filename.replace("\\", "/")).rsplit(".", 1)[0] or "dataset"
    if lower.endswith(MACRO_SUFFIXES):
        raise _refuse(filename, "macro-enabled workbooks are refused; save as .xlsx")
    if len(raw) > limits.max_total_bytes:
        raise _too_large(filename, f"larger than {limits.max_total_bytes // 2**20} MB")
    if lower.endswith(".xlsx"):
        read = read_xlsx(raw, limits, filename)
    elif lower.endswith(".zip"):
        read = read_zip(raw, limits, filename)
    elif lower.endswith(".json"):
        return read_json(raw, limits, filename)  # named by its "name" (or "dataset")
    else:
        raise _refuse(filename, f"unknown format: expected {FORMATS}")
    read.name = stem
    return read


def read_path(path: str | Path, limits: Limits | None = None) -> Read:
    """A dataset on disk: a folder of CSV files, or a .zip, .xlsx or .json file."""
    limits = limits or Limits()
    path = Path(path)
    if path.is_dir():
        return read_folder(path, limits)
    if not path.exists():
        raise _refuse(str(path), "no such file or folder")
    if not path.is_file() or not path.name.lower().endswith(
        (".zip", ".xlsx", ".json", *MACRO_SUFFIXES)
    ):
        raise _refuse(path.name, f"expected {FORMATS}")
    if path.stat().st_size > limits.max_total_bytes:
        raise _too_large(path.name, f"larger than {limits.max_total_bytes // 2**20} MB")
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise _refuse(path.name, f"cannot be read: {err}") from None
    read = read_bytes(raw, path.name, limits)
    read.name = path.stem
    return read
