"""Export cells safe to open (rotation.cells): risky text prefixed in CSV, never a formula in xlsx."""

from __future__ import annotations

import io

import openpyxl
import pytest

from rotation.cells import csv_cell, csv_rows, text_not_formulas, workbook_bytes, xlsx_row


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


def test_xlsx_row_drops_characters_a_workbook_cannot_hold():
    """A stray control character would make openpyxl raise: it is dropped from the export."""
    wb = openpyxl.Workbook()
    wb.active.append(xlsx_row(["a\x00b\x1bc", 1]))
    assert wb.active["A1"].value == "abc"
