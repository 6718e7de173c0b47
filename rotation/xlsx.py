"""A small, fast writer of .xlsx workbooks (Office Open XML spreadsheets) for the plan workbook.

Why not a library: the committee's plan workbook of the national structure has about 255,000
cells, and XlsxWriter (the fastest maintained writer measured, twice openpyxl's write-only mode)
spent 1.5 s of its 1.8 s in its per-cell API and XML writer (``bench/README.md``, issue 17).
The plan workbook needs few features — string, number and boolean cells, a handful of cell
formats, column widths, a frozen header, an auto filter — and each is written here the way
XlsxWriter writes it, so every cell, format, width, pane and filter reads back the same
(``tests/test_xlsx.py`` compares both writers cell by cell). Everything else (charts, formulas,
merged cells, comments) is out of scope: the other workbooks (compare, sweep, roadmap) are
written with openpyxl.

Usage::

    book = Book()
    bold = book.xf(font={"bold": True})
    sheet = book.sheet("Tổng quan", widths={1: 42.0}, freeze=(1, 1), autofilter=(10, 3))
    sheet.row(1, ["Phương án", 2.5], formats=[(bold, bold), (0, book.xf(quote_prefix=True))])
    data = book.to_bytes()

Text is always a shared-string cell, never a formula; characters XML cannot hold are written
as ``_xHHHH_`` escapes (as Excel and XlsxWriter do) and a literal ``_xHHHH_`` is protected the
same way, so the text reads back exactly.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Sequence
from numbers import Real
from typing import Any

from .cells import FORMULA_START

MAX_STRING = 32767
"""Excel's longest cell text; longer text is cut there (XlsxWriter does the same)."""
MAX_ROWS, MAX_COLUMNS = 1_048_576, 16_384
"""The size of an Excel sheet."""

_COLUMNS: list[str] = [""]


def column_letter(col: int) -> str:
    """The letters of a 1-based column number: 1 → A, 27 → AA."""
    return _refs(col)[col]


_STYLE_ATTRS: list[str] = [""]


def _style_attrs(n: int) -> list[str]:
    """The ``s`` attribute of a cell by format number, at least up to ``n - 1``: none for the
    default format 0 (as XlsxWriter writes it), `` s="3"`` for format 3."""
    while len(_STYLE_ATTRS) < n:
        _STYLE_ATTRS.append(f' s="{len(_STYLE_ATTRS)}"')
    return _STYLE_ATTRS


def _refs(width: int) -> list[str]:
    """Column letters by 1-based column number, at least up to ``width`` (index 0 unused)."""
    while len(_COLUMNS) <= width:
        n, letters = len(_COLUMNS), ""
        while n:
            n, rem = divmod(n - 1, 26)
            letters = chr(65 + rem) + letters
        _COLUMNS.append(letters)
    return _COLUMNS


_NEEDS_ESCAPE = re.compile(r"[&<>\x00-\x08\x0b-\x1f]|_x[0-9a-fA-F]{4}_")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")
_LITERAL_ESCAPE = re.compile(r"(_x[0-9a-fA-F]{4}_)")


def _text(s: str) -> str:
    """``s`` as XML character data of a shared string (``_xHHHH_`` escapes as Excel reads them)."""
    if _NEEDS_ESCAPE.search(s) is None:
        return s
    s = _LITERAL_ESCAPE.sub(r"_x005F\1", s)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", s)


def _attr(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _number(v: Any) -> str | None:
    """The ``<v>`` text of a number, None for a value a workbook holds no figure for (NaN, ∞)."""
    if isinstance(v, int):
        return str(v)
    f = float(v)
    if not math.isfinite(f):
        return None
    return str(int(f)) if f.is_integer() and abs(f) < 1e15 else repr(f)


class Book:
    """A workbook being built: sheets, the shared strings and the cell formats."""

    def __init__(self, compresslevel: int = 1) -> None:
        self.compresslevel = compresslevel
        self.sheets: list[Sheet] = []
        self.strings: dict[str, int] = {}
        self.string_refs = 0
        self._fonts: list[tuple[bool, int, str | None]] = [(False, 11, None)]
        self._fills: list[str | None] = [None, "gray125"]
        self._num_formats: dict[str, int] = {}
        self._xfs: dict[tuple[Any, ...], int] = {}
        self._xf_list: list[tuple[int, int, int, tuple[tuple[str, str], ...], bool]] = []
        self.xf()  # index 0: the default format

    # ----------------------------------------------------------------- formats
    def xf(
        self,
        font: dict[str, Any] | None = None,
        fill: str | None = None,
        align: dict[str, Any] | None = None,
        num_format: str | None = None,
        quote_prefix: bool = False,
    ) -> int:
        """The index of a cell format (made on first use): ``font`` with ``bold``,
        ``font_size``, ``font_color`` ("#RRGGBB"); ``fill``: a solid fill colour ("#RRGGBB");
        ``align``: ``text_wrap``, ``valign`` ("top"), ``align`` ("left"); ``num_format``: a
        number format code; ``quote_prefix``: text marked as typed text."""
        f = font or {}
        font_key = (bool(f.get("bold")), int(f.get("font_size", 11)), f.get("font_color"))
        a = align or {}
        align_key = tuple(
            sorted(
                (k, v)
                for k, v in (
                    ("horizontal", a.get("align")),
                    ("vertical", a.get("valign")),
                    ("wrapText", "1" if a.get("text_wrap") else None),
                )
                if v
            )
        )
        key = (font_key, fill, align_key, num_format, quote_prefix)
        if key in self._xfs:
            return self._xfs[key]
        if font_key not in self._fonts:
            self._fonts.append(font_key)
        if fill not in self._fills:
            self._fills.append(fill)
        num_id = 0
        if num_format:
            num_id = self._num_formats.setdefault(num_format, 164 + len(self._num_formats))
        entry = (
            self._fonts.index(font_key),
            self._fills.index(fill),
            num_id,
            align_key,
            quote_prefix,
        )
        self._xf_list.append(entry)
        self._xfs[key] = len(self._xf_list) - 1
        return self._xfs[key]

    # ----------------------------------------------------------------- sheets
    def sheet(
        self,
        title: str,
        widths: dict[int, float] | None = None,
        freeze: tuple[int, int] | None = None,
        autofilter: tuple[int, int] | None = None,
    ) -> Sheet:
        """A new sheet: ``widths`` column (1-based) → width in characters as stored;
        ``freeze``: (rows, columns) frozen at the top left; ``autofilter``: (last row, last
        column), 1-based, of a filter over A1 to there."""
        if not title or len(title) > 31 or any(ch in title for ch in "[]:*?/\\"):
            raise ValueError(f"sheet title {title!r}: 1 to 31 characters, none of []:*?/\\")
        if title.startswith("'") or title.endswith("'"):
            raise ValueError(f"sheet title {title!r}: cannot start or end with an apostrophe")
        if title.casefold() in {x.title.casefold() for x in self.sheets}:
            raise ValueError(f"sheet title {title!r} is already used (case does not count)")
        s = Sheet(self, title, widths or {}, freeze, autofilter)
        self.sheets.append(s)
        return s

    # ----------------------------------------------------------------- output
    def to_bytes(self) -> bytes:
        """The workbook as the bytes of an .xlsx file."""
        buf = io.BytesIO()
        with zipfile.ZipFile(
            buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=self.compresslevel
        ) as z:
            z.writestr("[Content_Types].xml", self._content_types())
            z.writestr("_rels/.rels", _ROOT_RELS)
            z.writestr("docProps/app.xml", _APP)
            z.writestr("docProps/core.xml", _CORE)
            z.writestr("xl/workbook.xml", self._workbook())
            z.writestr("xl/_rels/workbook.xml.rels", self._workbook_rels())
            z.writestr("xl/styles.xml", self._styles())
            for i, sheet in enumerate(self.sheets, start=1):
                z.writestr(f"xl/worksheets/sheet{i}.xml", sheet.xml(selected=i == 1))
            z.writestr("xl/sharedStrings.xml", self._shared_strings())
        return buf.getvalue()

    def _content_types(self) -> str:
        sheets = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, len(self.sheets) + 1)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/docProps/app.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.extended-properties+xml"/>'
            '<Override PartName="/docProps/core.xml" ContentType="application/'
            'vnd.openxmlformats-package.core-properties+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            f"{sheets}"
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            "</Types>"
        )

    def _workbook(self) -> str:
        sheets = "".join(
            f'<sheet name="{_attr(s.title)}" sheetId="{i}" r:id="rId{i}"/>'
            for i, s in enumerate(self.sheets, start=1)
        )
        names = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
            f"{_attr(_quoted_title(s.title))}!$A$1:${column_letter(s.autofilter[1])}"
            f"${s.autofilter[0]}</definedName>"
            for i, s in enumerate(self.sheets)
            if s.autofilter
        )
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<workbookPr defaultThemeVersion="124226"/>'
            '<bookViews><workbookView xWindow="240" yWindow="15" windowWidth="16095" '
            'windowHeight="9660"/></bookViews>'
            f"<sheets>{sheets}</sheets>"
            + (f"<definedNames>{names}</definedNames>" if names else "")
            + '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'
        )

    def _workbook_rels(self) -> str:
        n = len(self.sheets)
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/'
            f'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, n + 1)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f"{rels}"
            f'<Relationship Id="rId{n + 1}" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/styles" Target="styles.xml"/>'
            f'<Relationship Id="rId{n + 2}" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"
        )

    def _styles(self) -> str:
        num_fmts = "".join(
            f'<numFmt numFmtId="{i}" formatCode="{_attr(code)}"/>'
            for code, i in self._num_formats.items()
        )
        fonts = "".join(_font_xml(*f) for f in self._fonts)
        fills = "".join(_fill_xml(f) for f in self._fills)
        xfs = "".join(_xf_xml(*x) for x in self._xf_list)
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            + (
                f'<numFmts count="{len(self._num_formats)}">{num_fmts}</numFmts>'
                if num_fmts
                else ""
            )
            + f'<fonts count="{len(self._fonts)}">{fonts}</fonts>'
            f'<fills count="{len(self._fills)}">{fills}</fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
            "</borders>"
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
            "</cellStyleXfs>"
            f'<cellXfs count="{len(self._xf_list)}">{xfs}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
            "</cellStyles>"
            '<dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium9" '
            'defaultPivotStyle="PivotStyleLight16"/></styleSheet>'
        )

    def _shared_strings(self) -> str:
        strings = list(self.strings)
        # one search of them all (a newline, never escaped, keeps an escape from spanning two)
        escaped = _NEEDS_ESCAPE.search("\n".join(strings)) is not None
        texts = [_text(s) for s in strings] if escaped else strings
        items = "".join(
            f'<si><t xml:space="preserve">{t}</t></si>'
            if t[:1].isspace() or t[-1:].isspace()
            else f"<si><t>{t}</t></si>"
            for t in texts
        )
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{self.string_refs}" uniqueCount="{len(self.strings)}">' + items + "</sst>"
        )


class Sheet:
    """One worksheet: rows of cells, added in order with :meth:`row`."""

    def __init__(
        self,
        book: Book,
        title: str,
        widths: dict[int, float],
        freeze: tuple[int, int] | None,
        autofilter: tuple[int, int] | None,
    ) -> None:
        self.book, self.title = book, title
        self.widths, self.freeze, self.autofilter = widths, freeze, autofilter
        self._rows: list[str] = []
        self._last_row = 0
        self._max_col = 0

    def row(self, r: int, values: Sequence[Any], formats: Sequence[tuple[int, int]]) -> None:
        """Row ``r`` (1-based, increasing): ``values[c - 1]`` in column ``c``, one column per
        entry of ``formats`` (values past the end: none); column ``c`` has the formats
        ``formats[c - 1]``: (the format of its value, the format of text a spreadsheet could
        take for a formula, :data:`rotation.cells.FORMULA_START`: normally the same with
        "quote prefix").

        A value is text, a bool, a number or None; empty text, None, a NaN or an infinite
        number is a blank cell, written only where its format is not the default; anything
        else is written as its text."""
        if r <= self._last_row:
            raise ValueError(f"sheet {self.title!r}: row {r} after row {self._last_row}")
        width = len(formats)
        if r > MAX_ROWS or width > MAX_COLUMNS:
            raise ValueError(
                f"sheet {self.title!r}: row {r}, {width} columns: a sheet holds at most "
                f"{MAX_ROWS:,} rows and {MAX_COLUMNS:,} columns"
            )
        strings = self.book.strings
        known = strings.get
        row = str(r)
        refs = _refs(width)
        style = _style_attrs(len(self.book._xf_list))
        if len(values) < width:
            values = [*values, *([None] * (width - len(values)))]
        out = [f'<row r="{row}">']
        add = out.append
        last = texts = 0
        for c, v, (xf, risky_xf) in zip(range(1, width + 1), values, formats, strict=False):
            kind = v.__class__
            if kind is str:
                if v:
                    if v.startswith(FORMULA_START):
                        xf = risky_xf
                    i = known(v)
                    if i is None:
                        if len(v) > MAX_STRING:
                            v = v[:MAX_STRING]
                        i = strings.setdefault(v, len(strings))
                    add(f'<c r="{refs[c]}{row}"{style[xf]} t="s"><v>{i}</v></c>')
                    last, texts = c, texts + 1
                    continue
                v = None
            elif (
                kind is int
                or kind is float
                or (v is not None and not isinstance(v, bool) and isinstance(v, Real))
            ):  # the common numbers first, without the abstract class check
                num = _number(v)
                if num is not None:
                    add(f'<c r="{refs[c]}{row}"{style[xf]}><v>{num}</v></c>')
                    last = c
                    continue
                v = None
            if v is None:
                if xf:
                    add(f'<c r="{refs[c]}{row}" s="{xf}"/>')
                    last = c
            elif isinstance(v, bool):
                add(f'<c r="{refs[c]}{row}"{style[xf]} t="b"><v>{int(v)}</v></c>')
                last = c
            else:
                text = str(v)[:MAX_STRING]
                i = strings.setdefault(text, len(strings))
                add(f'<c r="{refs[c]}{row}"{style[xf]} t="s"><v>{i}</v></c>')
                last, texts = c, texts + 1
        if not last:
            return
        self._last_row = r
        self._max_col = max(self._max_col, last)
        self.book.string_refs += texts
        add("</row>")
        self._rows.append("".join(out))

    def xml(self, selected: bool) -> str:
        """The worksheet part."""
        last = (
            f":{column_letter(self._max_col)}{self._last_row}"
            if self._last_row and (self._last_row > 1 or self._max_col > 1)
            else ""
        )
        dimension = f'<dimension ref="A1{last}"/>'
        tab = ' tabSelected="1"' if selected else ""
        if self.freeze:
            rows, cols = self.freeze
            top_left = f"{column_letter(cols + 1)}{rows + 1}"
            view = (
                f'<sheetView{tab} workbookViewId="0"><pane xSplit="{cols}" ySplit="{rows}" '
                f'topLeftCell="{top_left}" activePane="bottomRight" state="frozen"/>'
                '<selection pane="topRight"/><selection pane="bottomLeft"/>'
                '<selection pane="bottomRight"/></sheetView>'
            )
        else:
            view = f'<sheetView{tab} workbookViewId="0"/>'
        cols_xml = "".join(
            f'<col min="{c}" max="{c}" width="{w!r}" customWidth="1"/>'
            for c, w in sorted(self.widths.items())
        )
        filter_xml = (
            f'<autoFilter ref="A1:{column_letter(self.autofilter[1])}{self.autofilter[0]}"/>'
            if self.autofilter
            else ""
        )
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f"{dimension}<sheetViews>{view}</sheetViews>"
            '<sheetFormatPr defaultRowHeight="15"/>'
            + (f"<cols>{cols_xml}</cols>" if cols_xml else "")
            + "<sheetData>"
            + "".join(self._rows)
            + "</sheetData>"
            + filter_xml
            + '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" '
            'footer="0.3"/></worksheet>'
        )


def _quoted_title(title: str) -> str:
    """A sheet name as a formula reference names it: quoted (inner quotes doubled)."""
    return "'" + title.replace("'", "''") + "'"


def _font_xml(bold: bool, size: int, color: str | None) -> str:
    b = "<b/>" if bold else ""
    c = f'<color rgb="FF{color.lstrip("#").upper()}"/>' if color else '<color theme="1"/>'
    return f'<font>{b}<sz val="{size}"/>{c}<name val="Calibri"/><family val="2"/>' + (
        '<scheme val="minor"/></font>' if not bold and size == 11 and not color else "</font>"
    )


def _fill_xml(fill: str | None) -> str:
    if fill is None:
        return '<fill><patternFill patternType="none"/></fill>'
    if fill == "gray125":
        return '<fill><patternFill patternType="gray125"/></fill>'
    rgb = "FF" + fill.lstrip("#").upper()
    return (
        f'<fill><patternFill patternType="solid"><fgColor rgb="{rgb}"/>'
        '<bgColor indexed="64"/></patternFill></fill>'
    )


def _xf_xml(font: int, fill: int, num: int, align: tuple[tuple[str, str], ...], quote: bool) -> str:
    attrs = f'numFmtId="{num}" fontId="{font}" fillId="{fill}" borderId="0" xfId="0"'
    if quote:
        attrs += ' quotePrefix="1"'
    if num:
        attrs += ' applyNumberFormat="1"'
    if font:
        attrs += ' applyFont="1"'
    if fill:
        attrs += ' applyFill="1"'
    if align:
        inner = " ".join(f'{k}="{v}"' for k, v in align)
        return f'<xf {attrs} applyAlignment="1"><alignment {inner}/></xf>'
    return f"<xf {attrs}/>"


_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
    'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
    '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/extended-properties" Target="docProps/app.xml"/>'
    "</Relationships>"
)
_APP = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    "<Application>rotation</Application></Properties>"
)
_CORE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
    'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "<dc:creator>rotation</dc:creator></cp:coreProperties>"
)
