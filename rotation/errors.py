"""Errors that name the thing: file, row, column and what is wrong."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem in the input. ``row`` is the 1-based data row as a spreadsheet user counts it
    (the header is row 1, so the first data row is row 2); None when the whole file or column."""

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column}")
        return f"{', '.join(parts)}: {self.message}"


class DataError(ValueError):
    """Invalid input data; ``problems`` lists every problem found (not just the first)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class LimitError(DataError):
    """Input over a size limit (bytes, entries, compression ratio): refused before it is read.

    The service answers 413 for it, other DataErrors 422; the command line exits 2 for both."""
