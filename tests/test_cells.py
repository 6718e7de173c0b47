"""Export cells safe to open (rotation.cells): risky text prefixed in CSV, never a formula in xlsx."""

from __future__ import annotations

import io

import openpyxl
import pytest

from rotation.cells import (
    append_safe,
    csv_cell,
    csv_rows,
    text_not_formulas,
    workbook_bytes,
    xlsx_row,
)


@pytest.mark.parametrize("text", ["=1", "+1", "-1", "@x", "\tx", "\rx", '=HYPERLINK("a","b")'])
def test_risky_text_is_prefixed_in_csv(text):
    """Text a spreadsheet could evaluate gets a leading apostrophe."""
    assert csv_cell(text) == "'" + text
    assert csv_rows([{"a": text, "b": 1}]) == [{"a": "'" + text, "b": 1}]


@pytest.mark.parametrize("value", ["x", "", "1", "Nguyễn Văn An", -1.5, -3, None, True])
def test_other_cells_unchanged_in_csv(value):
    """Plain text and every number (negative ones too) are written as they are."""
    assert csv_cell(value) == value


def test_workbook_formulas_become_text():
    """A cell openpyxl took for a formula is saved as a string cell holding the same text."""
    wb = openpyxl.Workbook()
    wb.active.append(xlsx_row(["=SUM(A2:A3)", "plain", 3, "@x"]))
    assert wb.active["A1"].data_type == "f"
    assert text_not_formulas(wb) == 1
    back = openpyxl.load_workbook(io.BytesIO(workbook_bytes(wb)))
    assert back.active["A1"].data_type == "s" and back.active["A1"].value == "=SUM(A2:A3)"
    assert [c.value for c in back.active[1]] == ["=SUM(A2:A3)", "plain", 3, "@x"]


def test_write_only_rows_hold_no_formula():
    """A write-only workbook (rows through append_safe) stores risky text, plain or in a styled
    cell, as string cells with a quote prefix; other values are unchanged."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("s")
    styled = WriteOnlyCell(ws, value="=1+1")
    styled.font = Font(bold=True)
    append_safe(ws, xlsx_row(["=SUM(A2:A3)", "plain", 3, "@x", styled, None, -2]))
    back = openpyxl.load_workbook(io.BytesIO(workbook_bytes(wb)))["s"]
    row = list(back[1])
    assert [c.value for c in row] == ["=SUM(A2:A3)", "plain", 3, "@x", "=1+1", None, -2]
    assert all(c.data_type != "f" for c in row)
    assert [c.quotePrefix for c in row[:5]] == [True, False, False, True, True]
    assert row[4].font.bold


def test_xlsx_row_drops_characters_a_workbook_cannot_hold():
    """A stray control character would make openpyxl raise: it is dropped from the export."""
    wb = openpyxl.Workbook()
    wb.active.append(xlsx_row(["a\x00b\x1bc", 1]))
    assert wb.active["A1"].value == "abc"
