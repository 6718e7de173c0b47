"""The plan workbook's own writer (rotation.xlsx): what a spreadsheet reads back.

Two kinds of checks: cells written directly and read back with openpyxl (text exactly, numbers,
blanks, formats, panes, filter, widths), and the whole Hai Duong plan workbook compared cell by
cell with the same sheets written by XlsxWriter (the library the writer replaced, kept as a
test-only reference)."""

from __future__ import annotations

import io
import math
import re
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import numpy as np
import openpyxl
import pytest

from rotation.cells import risky
from rotation.export import _Styles, plan_sheets, write_plan_xlsx
from rotation.xlsx import MAX_STRING, Book, column_letter

DATA = Path(__file__).resolve().parents[1] / "data"


def _read(book: Book) -> Any:
    return openpyxl.load_workbook(io.BytesIO(book.to_bytes()))


def test_column_letters() -> None:
    assert [column_letter(c) for c in (1, 2, 26, 27, 52, 53, 702, 703, 16384)] == [
        "A",
        "B",
        "Z",
        "AA",
        "AZ",
        "BA",
        "ZZ",
        "AAA",
        "XFD",
    ]


TEXTS = [
    "Bí thư Đảng ủy xã Đồng Lạc",
    "a & b <c> \"d\" 'e'",
    "_x0041_ stays as typed",
    "_X00e9_ and _x12G4_",
    "tab\there, line\nthere",
    "  leading and trailing  ",
    "carriage\rreturn",
    "bell\x07 and nul\x00",
    '=HYPERLINK("http://x")',
]


@pytest.mark.parametrize("text", TEXTS)
def test_text_reads_back_exactly(text: str) -> None:
    """As Excel reads a shared string: the XML text, then each ``_xHHHH_`` (one pass) the
    character it names; openpyxl reads every text without a control character the same."""
    book = Book()
    book.sheet("S").row(1, [text], [(0, book.xf(quote_prefix=True))])
    raw = book.to_bytes()
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        sst = ElementTree.fromstring(z.read("xl/sharedStrings.xml"))
    (t,) = sst.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}t")
    assert re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m[1], 16)), t.text or "") == text
    cell = openpyxl.load_workbook(io.BytesIO(raw))["S"]["A1"]
    if not re.search(r"[\x00-\x08\x0b-\x1f]", text):
        assert cell.value == text
    assert cell.data_type == "s"  # never a formula
    assert cell.quotePrefix == text.startswith("=")


@pytest.mark.parametrize(
    "texts",
    [
        TEXTS,
        [TEXTS[0], "plain", "Xã _x", "x0041_"],  # nothing to escape, nothing to preserve
        [TEXTS[0], "plain", " spaced"],  # nothing to escape, one to preserve
        [TEXTS[0], "plain", "a &amp; b"],  # one to escape among plain ones
    ],
)
def test_shared_strings_of_many_texts_read_back_in_order(texts: list[str]) -> None:
    """A workbook's shared strings, looked through all at once for what needs escaping, hold
    each text as it would alone: in order, escaped only where needed, spaces kept."""
    book = Book()
    book.sheet("S").row(1, texts, [(0, 0)] * len(texts))
    with zipfile.ZipFile(io.BytesIO(book.to_bytes())) as z:
        sst = ElementTree.fromstring(z.read("xl/sharedStrings.xml"))
    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    items = list(sst.iter(f"{ns}si"))
    assert len(items) == len(texts)
    space = "{http://www.w3.org/XML/1998/namespace}space"
    for si, text in zip(items, texts, strict=True):
        t = si.find(f"{ns}t")
        assert t is not None
        read = re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m[1], 16)), t.text or "")
        assert read == text
        assert (t.get(space) == "preserve") == (text[:1].isspace() or text[-1:].isspace())


def test_numbers_bools_and_blanks() -> None:
    book = Book()
    pct = book.xf(num_format="0.0%")
    values = [3, 2.5, 0.1 + 0.2, np.float64(1 / 3), np.int64(7), True, False, math.nan, None, ""]
    book.sheet("S").row(1, [*values, math.inf], [(0, 0)] * 10 + [(pct, pct)])
    ws = _read(book)["S"]
    got = [c.value for c in ws[1]]
    assert got[:8] == [3, 2.5, 0.1 + 0.2, 1 / 3, 7, True, False, None]
    assert isinstance(got[3], float)
    assert [c.coordinate for c in ws[1]][-1] == "K1"  # the formatted blank is kept
    assert ws["K1"].number_format == "0.0%" and ws["K1"].value is None
    assert ws.max_column == 11  # the unformatted blanks (H, I, J) are cells only in the grid


def test_long_text_is_cut_at_excels_limit() -> None:
    book = Book()
    book.sheet("S").row(1, ["x" * (MAX_STRING + 10)], [(0, 0)])
    assert _read(book)["S"]["A1"].value == "x" * MAX_STRING


def test_formats_panes_filter_widths() -> None:
    book = Book()
    header = book.xf(
        font={"bold": True, "font_color": "#FFFFFF"},
        fill="#305496",
        align={"text_wrap": True, "valign": "top"},
    )
    title = book.xf(font={"bold": True, "font_size": 14})
    wrap = book.xf(align={"align": "left", "text_wrap": True})
    km = book.xf(num_format="#,##0.0")
    s = book.sheet("Chức vụ", widths={1: 12.5, 3: 90}, freeze=(1, 1), autofilter=(3, 3))
    s.row(1, ["Mã", "Tên", "Km"], [(header, header)] * 3)
    s.row(2, ["T", "x", 12.25], [(title, title), (wrap, wrap), (km, km)])
    s.row(3, ["P1", "y", 3], [(0, 0)] * 3)
    book.sheet("Second").row(2, ["only row 2"], [(0, 0)])
    wb = _read(book)
    ws = wb["Chức vụ"]
    assert wb.sheetnames == ["Chức vụ", "Second"]
    h = ws["A1"]
    assert h.font.b and h.font.color.rgb.endswith("FFFFFF")
    assert h.fill.fill_type == "solid" and h.fill.fgColor.rgb.endswith("305496")
    assert h.alignment.wrap_text and h.alignment.vertical == "top"
    assert ws["A2"].font.b and ws["A2"].font.sz == 14
    assert ws["B2"].alignment.horizontal == "left" and ws["B2"].alignment.wrap_text
    assert ws["C2"].number_format == "#,##0.0" and ws["C2"].value == 12.25
    assert not ws["A3"].font.b and ws["A3"].number_format == "General"
    assert ws.freeze_panes == "B2"
    assert ws.auto_filter.ref == "A1:C3"
    assert ws.column_dimensions["A"].width == 12.5 and ws.column_dimensions["C"].width == 90
    assert wb["Second"]["A2"].value == "only row 2" and wb["Second"]["A1"].value is None


def test_rows_must_come_in_order() -> None:
    book = Book()
    s = book.sheet("S")
    s.row(2, ["b"], [(0, 0)])
    with pytest.raises(ValueError, match="row 1 after row 2"):
        s.row(1, ["a"], [(0, 0)])


def test_the_package_parts() -> None:
    book = Book()
    book.sheet("A", autofilter=(1, 1)).row(1, ["x"], [(0, 0)])
    book.sheet("B").row(1, ["x"], [(0, 0)])
    with zipfile.ZipFile(io.BytesIO(book.to_bytes())) as z:
        names = z.namelist()
        assert names[0] == "[Content_Types].xml"
        assert {"xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"} <= set(names)
        sst = z.read("xl/sharedStrings.xml").decode()
        assert 'count="2" uniqueCount="1"' in sst  # one string, referenced twice
        wb = z.read("xl/workbook.xml").decode()
        assert "_xlnm._FilterDatabase" in wb and "'A'!$A$1:$A$1" in wb


# ----------------------------------------------------------------- against XlsxWriter
def _xlsxwriter_bytes(sheets: list[Any]) -> bytes:
    """The same sheets through XlsxWriter: each cell written with the format its column and
    row give it, as rotation.export wrote the plan workbook before rotation.xlsx."""
    xlsxwriter = pytest.importorskip("xlsxwriter")
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(
        buf, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    formats: dict[tuple[Any, ...], Any] = {}

    def fmt(style: tuple[Any, ...], quoted: bool) -> Any:
        font, fill, align, number = style
        props = {
            **_Styles.FONTS.get(font or "", {}),
            **({"pattern": 1, "bg_color": _Styles.FILLS[fill]} if fill else {}),
            **_Styles.ALIGNS.get(align or "", {}),
            **({"num_format": number} if number else {}),
            **({"quote_prefix": True} if quoted else {}),
        }
        key = (style, quoted)
        if key not in formats:
            formats[key] = wb.add_format(props) if props else None
        return formats[key]

    for sheet in sheets:
        ws = wb.add_worksheet(sheet.title[:31])
        ncols = max((len(r) for r in sheet.rows), default=0)
        for col, w in sorted(sheet._column_widths(ncols).items()):
            ws.set_column(col - 1, col - 1, w - 5 / 7 if w >= 1 + 5 / 7 else w)
        if sheet.table:
            ws.freeze_panes(1, 1)
            ws.autofilter(0, 0, max(len(sheet.rows), 1) - 1, max(ncols, 1) - 1)
        spread = [*sheet.wide, *([sheet.left_wrap] if sheet.left_wrap else [])]
        for r, values in enumerate(sheet.rows, start=1):
            header = sheet.table and r == 1
            width = ncols if header else max([len(values), *spread])
            for c in range(1, width + 1):
                v = values[c - 1] if c <= len(values) else None
                style = sheet._style_of(r, c)
                f = fmt(style, risky(v))
                if v is None or v == "" or (isinstance(v, float) and not math.isfinite(v)):
                    if f is not None:
                        ws.write_blank(r - 1, c - 1, None, f)
                elif isinstance(v, str):
                    ws.write_string(r - 1, c - 1, v, f)
                elif isinstance(v, bool):
                    ws.write_boolean(r - 1, c - 1, v, f)
                else:
                    ws.write_number(r - 1, c - 1, v, f)
    wb.close()
    return buf.getvalue()


def _cells(raw: bytes) -> dict[str, Any]:
    wb = openpyxl.load_workbook(io.BytesIO(raw))
    out: dict[str, Any] = {"sheets": wb.sheetnames}
    for ws in wb.worksheets:
        out[f"{ws.title}:view"] = (ws.freeze_panes, ws.auto_filter.ref, ws.dimensions)
        out[f"{ws.title}:widths"] = {  # in pixels; a <col> element may span columns
            i: round(d.width * 7)
            for d in ws.column_dimensions.values()
            if d.customWidth
            for i in range(d.min, d.max + 1)
        }
        for row in ws.iter_rows():
            for c in row:
                f, fill, al = c.font, c.fill, c.alignment
                v = round(c.value, 12) if isinstance(c.value, float) else c.value
                out[f"{ws.title}!{c.coordinate}"] = (
                    v,
                    c.data_type if c.value is not None else None,
                    c.number_format,
                    bool(f.b),
                    (f.color.rgb[-6:] if f.color is not None and f.color.type == "rgb" else None),
                    f.sz or 11.0,
                    fill.fill_type,
                    fill.fgColor.rgb[-6:] if fill.fill_type else None,
                    bool(al.wrap_text),
                    al.vertical,
                    al.horizontal,
                    bool(c.quotePrefix),
                )
    return out


def test_plan_workbook_reads_as_xlsxwriters(tmp_path) -> None:
    from rotation.read import read_dataset
    from rotation.rules import load_rules
    from rotation.solve import solve
    from rotation.validate import validate_plan

    data, rules = read_dataset(DATA / "hai_duong"), load_rules(None)
    plan = solve(data, rules).plan
    assert validate_plan(data, rules, plan) == []
    ours = write_plan_xlsx(data, rules, plan, tmp_path / "plan.xlsx").read_bytes()
    theirs = _xlsxwriter_bytes(plan_sheets(data, rules, plan))
    a, b = _cells(ours), _cells(theirs)
    assert len(a) > 5000
    diff = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    assert not diff, [(k, a.get(k), b.get(k)) for k in diff[:5]]


@pytest.mark.parametrize(
    ("titles", "message"),
    [
        (["Chức vụ", "chức VỤ"], "already used"),
        (["a" * 32], "1 to 31 characters"),
        (["a/b"], "none of"),
        ([""], "1 to 31 characters"),
        (["'quoted'"], "apostrophe"),
    ],
)
def test_sheet_titles_excel_refuses_are_refused(titles: list[str], message: str) -> None:
    book = Book()
    with pytest.raises(ValueError, match=message):
        for t in titles:
            book.sheet(t)


def test_a_sheet_holds_what_excel_holds() -> None:
    s = Book().sheet("S")
    s.row(1_048_576, ["last row"], [(0, 0)])
    with pytest.raises(ValueError, match="at most 1,048,576 rows"):
        Book().sheet("S").row(1_048_577, ["x"], [(0, 0)])
    with pytest.raises(ValueError, match="16,384 columns"):
        Book().sheet("S").row(1, ["x"], [(0, 0)] * 16_385)
