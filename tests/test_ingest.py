"""The one dataset reader (rotation.ingest): every source, every guard, from a path and from bytes,
through the command line's reader and through the service's ingest function alike."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from builders import tiny_problem
from tiny import TEXTS, tiny_tables
from typer.testing import CliRunner

from api.ingest import UploadError, ingest_upload, parse
from rotation import cli
from rotation.errors import DataError, LimitError
from rotation.ingest import Limits, cell_text, load_json, read_bytes
from rotation.plan import Plan
from rotation.read import read_dataset, read_dataset_bytes, write_dataset
from rotation.rules import load_rules
from rotation.validate import validate_plan

SMALL = Limits(max_total_bytes=4 * 2**20, max_ratio=100.0, max_entries=20)


# ----------------------------------------------------------------------------- builders
def csv_files(texts: dict[str, str] | None = None) -> dict[str, bytes]:
    return {f"{t}.csv": v.encode("utf-8") for t, v in (texts or TEXTS).items()}


def zip_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, raw in files.items():
            zf.writestr(name, raw)
    return buf.getvalue()


def xlsx_of(tables: dict[str, pd.DataFrame] | None = None) -> bytes:
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xl:
        for name, table in (tables or tiny_tables()).items():
            table.to_excel(xl, sheet_name=name, index=False)
    return buf.getvalue()


def frames(texts: dict[str, str]) -> dict[str, pd.DataFrame]:
    return {
        t: pd.read_csv(io.StringIO(v), dtype=str, keep_default_na=False) for t, v in texts.items()
    }


def json_of() -> bytes:
    tables = {t: f.to_dict(orient="records") for t, f in tiny_tables().items()}
    return json.dumps({"name": "tiny", "tables": tables}, ensure_ascii=False).encode("utf-8")


def rewrite_part(raw: bytes, part: str, edit: Callable[[bytes], bytes]) -> bytes:
    """The workbook with one zip part replaced by ``edit(old)``."""
    src = zipfile.ZipFile(io.BytesIO(raw))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            data = src.read(info)
            zf.writestr(info.filename, edit(data) if info.filename == part else data)
    return buf.getvalue()


def with_extra_part(raw: bytes, name: str, data: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(raw))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            zf.writestr(info.filename, src.read(info))
        zf.writestr(name, data)
    return buf.getvalue()


def sheet_part(raw: bytes, sheet: str) -> str:
    """The zip part holding the named sheet (workbook order: units is sheet1, cadres sheet2…)."""
    order = list(tiny_tables())
    return f"xl/worksheets/sheet{order.index(sheet) + 1}.xml"


LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>\n'
)
XXE = b'<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'


def _after_prolog(data: bytes) -> bytes:
    return data[data.index(b"?>") + 2 :] if data.startswith(b"<?xml") else data


def billion_laughs(raw: bytes) -> bytes:
    part = sheet_part(raw, "cadres")
    return rewrite_part(
        raw, part, lambda d: LAUGHS + _after_prolog(d).replace(b"Nguy", b"&lol3;Nguy", 1)
    )


def xxe(raw: bytes) -> bytes:
    part = sheet_part(raw, "cadres")
    return rewrite_part(raw, part, lambda d: XXE + _after_prolog(d).replace(b"Nguy", b"&xxe;", 1))


def truncated(raw: bytes) -> bytes:
    part = sheet_part(raw, "cadres")
    return rewrite_part(raw, part, lambda d: d[: len(d) // 2])


def formula_book() -> bytes:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(xlsx_of()))
    book["cadres"]["B3"] = "=1+1"  # cadres row 3, column B (full_name)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def with_cell(table: str, old: str, new: str) -> dict[str, str]:
    """The tiny CSV texts with one cell's text replaced."""
    assert old in TEXTS[table]
    return {**TEXTS, table: TEXTS[table].replace(old, new, 1)}


def zip_bomb() -> bytes:
    return zip_of({"units.csv": b"\0" * (3 * 2**20)})


def many_entries() -> bytes:
    return zip_of({**csv_files(), **{f"extra{i}.txt": b"x" for i in range(30)}})


def traversal() -> bytes:
    return zip_of({"../units.csv": TEXTS["units"].encode(), **csv_files()})


def deep_json() -> bytes:
    return b'{"tables": {"units": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}"


def nan_json() -> bytes:
    return json_of().replace(b'"lat": "20.94"', b'"lat": NaN', 1)


def infinity_json() -> bytes:
    return json_of().replace(b'"lat": "20.94"', b'"lat": Infinity', 1)


def overflow_json() -> bytes:
    return json_of().replace(b'"lat": "20.94"', b'"lat": 1e400', 1)


def control_json() -> bytes:
    return json_of().replace("Nguyễn Văn An".encode(), b"Nguy\\u001b[31mn", 1)


# ----------------------------------------------------------------------------- guard table
# (case id, filename, bytes builder, HTTP status the service answers, message fragment)
GUARDS: list[tuple[str, str, Callable[[], bytes], int, str]] = [
    ("zip-bomb", "d.zip", zip_bomb, 413, "zip bomb"),
    ("zip-entries", "d.zip", many_entries, 413, "entries"),
    ("zip-traversal", "d.zip", traversal, 422, "path traversal"),
    ("not-a-zip", "d.zip", lambda: b"PK\x03\x04 not really", 422, "not a valid zip"),
    ("xlsx-macros", "d.xlsx", lambda: with_extra_part(xlsx_of(), "xl/vbaProject.bin", b"x"), 422, "macros"),
    ("xlsx-formula", "d.xlsx", formula_book, 422, "d.xlsx[cadres], row 3, column full_name (B): cell contains a formula"),
    ("xlsx-billion-laughs", "d.xlsx", lambda: billion_laughs(xlsx_of()), 422, "DTD or entities"),
    ("xlsx-xxe", "d.xlsx", lambda: xxe(xlsx_of()), 422, "DTD or entities"),
    ("xlsx-dtd-in-odd-part", "d.xlsx", lambda: with_extra_part(xlsx_of(), "xl/custom.dat", XXE + b"<r>&xxe;</r>"), 422, "part 'xl/custom.dat' declares a DTD"),
    ("xlsx-truncated", "d.xlsx", lambda: truncated(xlsx_of()), 422, "d.xlsx[cadres]: cannot be read as a workbook"),
    ("json-deep", "d.json", deep_json, 422, "nested deeper than"),
    ("json-nan", "d.json", nan_json, 422, "NaN is not a JSON number"),
    ("json-infinity", "d.json", infinity_json, 422, "Infinity is not a JSON number"),
    ("json-overflow", "d.json", overflow_json, 422, "not a finite number"),
    ("json-control", "d.json", control_json, 422, "row 2, column full_name: contains a control character (U+001B)"),
    ("zip-nul", "d.zip", lambda: zip_of(csv_files(with_cell("cadres", "Văn An", "Văn\x00An"))), 422, "cadres.csv, row 2, column full_name: contains a control character (U+0000)"),
    ("xlsx-control", "d.xlsx", lambda: xlsx_of(frames(with_cell("units", "Nam Hồng", "Nam\x7fHồng"))), 422, "d.xlsx[units], row 7, column name: contains a control character (U+007F)"),
]  # fmt: skip
IDS = [g[0] for g in GUARDS]


def _multipart(filename: str, raw: bytes) -> tuple[bytes, str]:
    b = "----rotation-test-boundary"
    head = (
        f'--{b}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + raw + f"\r\n--{b}--\r\n".encode(), f"multipart/form-data; boundary={b}"


def api_status(filename: str, raw: bytes, limits: Limits = SMALL) -> tuple[int, str]:
    """What the service answers: its ingest function, then its parser (as the route does)."""
    if filename.endswith(".json"):
        body, ctype = raw, "application/json"
    else:
        body, ctype = _multipart(filename, raw)
    try:
        name, tables, _ = ingest_upload(body, ctype, limits)
        parse(tables, name)
    except UploadError as err:
        return err.status, str(err)
    except DataError as err:
        return 422, "\n".join(str(p) for p in err.problems)
    return 201, ""


@pytest.mark.parametrize(("case", "filename", "build", "status", "fragment"), GUARDS, ids=IDS)
def test_guard_from_bytes(case, filename, build, status, fragment) -> None:
    """read_dataset_bytes refuses each attack with a DataError naming the file (no crash)."""
    with pytest.raises(DataError) as err:
        read_dataset_bytes(build(), filename, SMALL)
    assert fragment in str(err.value)
    assert isinstance(err.value, LimitError) == (status == 413)


@pytest.mark.parametrize(("case", "filename", "build", "status", "fragment"), GUARDS, ids=IDS)
def test_guard_from_path(tmp_path: Path, case, filename, build, status, fragment) -> None:
    """read_dataset (the command line's reader) refuses each attack the same way from a file."""
    path = tmp_path / filename
    path.write_bytes(build())
    with pytest.raises(DataError) as err:
        read_dataset(path, SMALL)
    assert fragment in str(err.value)


@pytest.mark.parametrize(("case", "filename", "build", "status", "fragment"), GUARDS, ids=IDS)
def test_guard_through_api_ingest(case, filename, build, status, fragment) -> None:
    """The service's ingest function answers 413 for limits and 422 otherwise, with the message."""
    got, message = api_status(filename, build())
    assert got == status
    assert fragment in message


def test_valid_sources_give_the_same_dataset(tmp_path: Path) -> None:
    """A folder, a .zip, an .xlsx and a .json of the same tables read to the same data."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    for name, raw in csv_files().items():
        (folder / name).write_bytes(raw)
    (tmp_path / "tiny.zip").write_bytes(zip_of(csv_files()))
    (tmp_path / "tiny.xlsx").write_bytes(xlsx_of())
    (tmp_path / "tiny.json").write_bytes(json_of())
    ref = read_dataset(folder)
    for suffix in (".zip", ".xlsx", ".json"):
        other = read_dataset(tmp_path / f"tiny{suffix}")
        assert other.name == "tiny"
        for t in ("units", "cadres", "posts", "ratings", "relations", "travel"):
            pd.testing.assert_frame_equal(getattr(other, t), getattr(ref, t), obj=f"{suffix} {t}")


def _messy(texts: dict[str, str]) -> dict[str, str]:
    """The tables with a BOM, blank lines, empty rows of commas and padded cells."""
    out = {}
    for t, v in texts.items():
        lines = v.splitlines()
        body = [f"  {ln.replace(',', ' , ')}  " for ln in lines[1:]]
        blank = ",".join([""] * len(lines[0].split(",")))
        out[t] = "\ufeff" + "\n".join([lines[0], blank, *body[:1], "", *body[1:], blank]) + "\n"
    return out


def _folder(tmp_path: Path, texts: dict[str, str]) -> Path:
    folder = tmp_path / "messy"
    folder.mkdir()
    for name, raw in csv_files(texts).items():
        (folder / name).write_bytes(raw)
    return folder


def test_folder_read_by_columns_equals_zip_read_by_rows(tmp_path: Path) -> None:
    """A folder is read column by column, a .zip row by row (the service's stored form): the
    same messy CSV files (BOM, blank lines, empty rows, padded cells) give the same data."""
    texts = _messy(TEXTS)
    by_rows = read_dataset_bytes(zip_of(csv_files(texts)), "messy.zip")
    by_cols = read_dataset(_folder(tmp_path, texts))
    for t in ("units", "cadres", "posts", "ratings", "relations", "travel"):
        pd.testing.assert_frame_equal(getattr(by_cols, t), getattr(by_rows, t), obj=t)
    assert by_cols.cadres.at["K1", "full_name"] == "Nguyễn Văn An"  # stripped, no BOM


def test_folder_and_zip_give_the_same_problems(tmp_path: Path) -> None:
    """Bad cells after blank rows: the same problem lines (row numbers of the rows kept) from
    the column-by-column folder read as from the row-by-row .zip read."""
    texts = _messy(with_cell("cadres", "Nguyễn Văn An", "Nguyễn\x07An"))
    texts["ratings"] = texts["ratings"].replace("excellent", "superb", 1)
    with pytest.raises(DataError) as rows:
        read_dataset_bytes(zip_of(csv_files(texts)), "messy.zip")
    with pytest.raises(DataError) as cols:
        read_dataset(_folder(tmp_path, texts))
    assert [str(p) for p in cols.value.problems] == [str(p) for p in rows.value.problems]
    shown = str(cols.value)
    assert "cadres.csv, row" in shown and "control character (U+0007)" in shown
    assert "ratings.csv, row" in shown and "'superb'" in shown


def test_same_workbook_same_answer_both_paths(tmp_path: Path) -> None:
    """One workbook through the command line's reader and through the service: same tables."""
    raw = xlsx_of()
    path = tmp_path / "book.xlsx"
    path.write_bytes(raw)
    cli = read_dataset(path)
    body, ctype = _multipart("book.xlsx", raw)
    name, tables, _ = ingest_upload(body, ctype, Limits())
    api = parse(tables, name).data
    assert name == cli.name == "book"
    for t in ("units", "cadres", "posts", "ratings", "relations", "travel"):
        pd.testing.assert_frame_equal(getattr(api, t), getattr(cli, t))


def test_same_bad_workbook_same_problems_both_paths(tmp_path: Path) -> None:
    """A workbook with a bad date gives the same problem lines through both paths."""
    tables = tiny_tables()
    tables["cadres"].loc[1, "birth_date"] = "1980-02-30"
    raw = xlsx_of(tables)
    path = tmp_path / "book.xlsx"
    path.write_bytes(raw)
    with pytest.raises(DataError) as cli:
        read_dataset(path)
    status, message = api_status("book.xlsx", raw, Limits())
    assert status == 422
    assert message == str(cli.value)
    assert "book.xlsx[cadres], row 3, column birth_date" in message


def test_text_that_looks_like_a_formula_is_read_as_text(tmp_path: Path) -> None:
    """Names such as '=HYPERLINK(...)' in a CSV are data, kept exactly (exports make them safe)."""
    texts = with_cell("cadres", "Nguyễn Văn An", '"=HYPERLINK(""http://x"",""y"")"')
    data = read_dataset_bytes(zip_of(csv_files(texts)), "d.zip")
    assert data.cadres.at["K1", "full_name"] == '=HYPERLINK("http://x","y")'


def test_tab_and_newline_inside_a_cell_are_allowed() -> None:
    """Tab and newline are not refused as control characters (a multi-line note is fine)."""
    texts = with_cell("units", "Xã Nam Hồng", '"Xã Nam\tHồng\nmới"')
    data = read_dataset_bytes(zip_of(csv_files(texts)), "d.zip")
    assert data.units.at["C3", "name"] == "Xã Nam\tHồng\nmới"


def test_control_character_in_column_name_is_refused() -> None:
    """A header with a control character names the column (shown escaped) and the file."""
    texts = with_cell("posts", "position", "posi\x01tion")
    with pytest.raises(DataError) as err:
        read_dataset_bytes(zip_of(csv_files(texts)), "d.zip")
    lines = str(err.value).splitlines()
    assert (
        "posts.csv, column 'posi\\x01tion': column name contains a control character (U+0001)"
        in lines
    )
    assert "posts.csv, column position: required column is missing" in lines


def test_unknown_format_and_missing_path(tmp_path: Path) -> None:
    """A file of another kind and a path that does not exist are DataErrors naming them."""
    (tmp_path / "x.csv").write_text("a,b\n")
    with pytest.raises(DataError, match="expected a folder of CSV files"):
        read_dataset(tmp_path / "x.csv")
    with pytest.raises(DataError, match="no such file or folder"):
        read_dataset(tmp_path / "nope.zip")
    with pytest.raises(DataError, match="macro-enabled"):
        read_bytes(b"", "book.xlsm")


def test_unreadable_csv_reported_with_other_problems() -> None:
    """A CSV that is not UTF-8 is one problem; the other tables are still checked."""
    files = csv_files()
    files["ratings.csv"] = b"cadre_id,year,rating\nK1,2024,t\xf4t\n"  # Latin-1, not UTF-8
    files["posts.csv"] = TEXTS["posts"].replace("S1,C1,secretary,K1", "S1,C9,secretary,K1").encode()
    with pytest.raises(DataError) as err:
        read_dataset_bytes(zip_of(files), "d.zip")
    text = str(err.value)
    assert "ratings.csv: is not UTF-8 text" in text
    assert "posts.csv, row 2, column unit_id: unknown unit 'C9'" in text
    assert "ratings.csv: required" not in text


@pytest.mark.parametrize(
    ("value", "text"),
    [(True, "true"), (False, "false"), (3.0, "3"), (2.5, "2.5"), (None, ""), (float("nan"), ""),
     (pd.NaT, ""), (pd.Timestamp("2020-01-02"), "2020-01-02"), ("\ufeff x ", "x"), (7, "7")],
)  # fmt: skip
def test_one_cell_converter(value, text) -> None:
    """The one converter for every source: booleans are true/false whatever the source."""
    assert cell_text(value) == text


def test_json_depth_bound_is_exact() -> None:
    """Nesting up to the limit is accepted, one more level is refused."""
    limits = Limits(max_json_depth=3)
    assert load_json(b"[[[1]]]", limits) == [[[1]]]
    with pytest.raises(DataError, match="nested deeper than 3 levels"):
        load_json(b"[[[[1]]]]", limits)


# ----------------------------------------------------------------------------- command line
@pytest.mark.parametrize("suffix", [".zip", ".json", ".xlsx"])
def test_cli_plan_accepts_every_format(tmp_path: Path, suffix: str) -> None:
    """`rotation plan` solves a .zip, .json or .xlsx dataset; the plan validates on the same file."""
    write_dataset(tiny_problem(), tmp_path / "csv")  # a dataset with a valid plan
    files = {p.name: p.read_bytes() for p in sorted((tmp_path / "csv").glob("*.csv"))}
    path = tmp_path / f"tiny{suffix}"
    if suffix == ".zip":
        path.write_bytes(zip_of(files))
    elif suffix == ".xlsx":
        write_dataset(tiny_problem(), path)
    else:
        tables = {
            n[:-4]: pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False).to_dict(
                "records"
            )
            for n, raw in files.items()
        }
        path.write_text(json.dumps({"tables": tables}, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli.app, ["plan", str(path), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    plan = Plan.from_json(out / "plan-1.json")
    assert validate_plan(read_dataset(path), load_rules({}), plan) == []


CLI_CASES = [g for g in GUARDS if g[0] in ("zip-bomb", "xlsx-billion-laughs", "xlsx-xxe", "xlsx-truncated", "json-deep")]  # fmt: skip


@pytest.mark.parametrize(("case", "filename", "build", "status", "fragment"), CLI_CASES, ids=[g[0] for g in CLI_CASES])  # fmt: skip
def test_cli_refuses_attacks_with_exit_2(tmp_path: Path, case, filename, build, status, fragment):
    """The command line answers an attack with exit 2 and the message, never a traceback."""
    path = tmp_path / filename
    path.write_bytes(build())
    result = CliRunner().invoke(cli.app, ["status", str(path)])
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr
    assert "Traceback" not in result.output


def test_dataset_name_with_control_character_is_refused() -> None:
    """The dataset's own name (JSON 'name', or the form's name field) is checked too."""
    body = json_of().replace(b'"name": "tiny"', b'"name": "ti\\u0000ny"', 1)
    status, message = api_status("d.json", body, Limits())
    assert (
        status == 422 and "body: the dataset name contains a control character (U+0000)" in message
    )
    raw, ctype = _multipart("d.zip", zip_of(csv_files()))
    b = ctype.split("boundary=")[1]
    field = f'--{b}\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\x07y\r\n'.encode()
    with pytest.raises(
        DataError, match=r"name: the dataset name contains a control character \(U\+0007\)"
    ):
        ingest_upload(field + raw, ctype, Limits())
