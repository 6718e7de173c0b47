"""Export cells safe to open: text is written as text, never as a formula (CSV/formula injection).

A spreadsheet program evaluates a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and a
leading tab or carriage return can hide one), so a cadre named ``=HYPERLINK(...)`` must not
become a live formula in an export. Every plan, roadmap, compare and report export goes through
these helpers:

- xlsx: :func:`xlsx_row` for each appended row, or :func:`safe_cell` for one cell (both drop
  characters a workbook cannot hold), and :func:`workbook_bytes` to save — every cell openpyxl
  took for a formula is stored as a string cell instead, marked "quote prefix" as a spreadsheet
  program marks typed text (the text is kept exactly, it is only never evaluated); a
  write-only workbook (nothing to go back over) takes its rows through :func:`append_safe`,
  which does the same as each row is written; the plan workbook (:mod:`rotation.xlsx`,
  :mod:`rotation.export`) writes text as a string cell (never a formula) and marks
  :func:`risky` text "quote prefix" the same way;
- csv: :func:`csv_cell` / :func:`csv_rows` prefix such text with ``'`` (the OWASP advice), so the
  spreadsheet shows it as text; numbers are never changed.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def risky(value: Any) -> bool:
    """Whether ``value`` is text a spreadsheet could take for a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_START)


def csv_cell(value: Any) -> Any:
    """A CSV cell: risky text prefixed with ``'``; anything else unchanged."""
    return f"'{value}" if risky(value) else value


def csv_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows (dicts) with every cell passed through :func:`csv_cell`."""
    return [{k: csv_cell(v) for k, v in r.items()} for r in rows]


def xlsx_value(value: Any) -> Any:
    """A workbook cell value: text without the control characters a workbook cannot hold."""
    if isinstance(value, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def xlsx_row(values: Iterable[Any]) -> list[Any]:
    """One row for ``ws.append``, each value through :func:`xlsx_value`."""
    return [xlsx_value(v) for v in values]


def as_text(cell: Any) -> Any:
    """Make one cell that holds risky text a string cell with a quote prefix (never a formula)."""
    if risky(cell.value):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def safe_cell(ws: Any, row: int, col: int, value: Any) -> Any:
    """Write ``value`` into ``ws`` at (row, col); risky text stays a string cell."""
    cell = ws.cell(row=row, column=col)
    cell.value = xlsx_value(value)
    return as_text(cell)


def append_safe(ws: Any, values: Iterable[Any]) -> None:
    """Append a row to a write-only worksheet; risky text (plain or in a cell) is written as a
    string cell with a quote prefix, never a formula."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import Cell

    row = []
    for v in values:
        if isinstance(v, Cell):
            row.append(as_text(v))
        elif risky(v):
            row.append(as_text(WriteOnlyCell(ws, value=v)))
        else:
            row.append(v)
    ws.append(row)


def text_not_formulas(wb: Any) -> int:
    """Store every formula cell of ``wb`` as a string cell (exports hold no formulas); returns
    how many cells were changed."""
    changed = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
                    changed += 1
                as_text(cell)
    return changed


def workbook_bytes(wb: Any) -> bytes:
    """The workbook saved to bytes, formula-free (:func:`text_not_formulas`; a write-only
    workbook was made formula-free row by row, :func:`append_safe`)."""
    if not wb.write_only:
        text_not_formulas(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
