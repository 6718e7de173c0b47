"""Reading and writing datasets: every problem named by file, row and column; round trips."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from tiny import frame, tiny_tables

from rotation.errors import DataError
from rotation.read import parse_tables, read_dataset, write_dataset

Tables = dict[str, pd.DataFrame]
Mutation = Callable[[Tables], None]


def cell(table: str, row: int, column: str, value: str) -> Mutation:
    """Set one cell, addressed as a spreadsheet user would (header = row 1)."""

    def mutate(t: Tables) -> None:
        t[table].loc[row - 2, column] = value

    return mutate


def cells(*mutations: Mutation) -> Mutation:
    """Apply several mutations."""

    def mutate(t: Tables) -> None:
        for m in mutations:
            m(t)

    return mutate


def drop_table(table: str) -> Mutation:
    """Remove a whole table (file or sheet)."""

    def mutate(t: Tables) -> None:
        del t[table]

    return mutate


def drop_column(table: str, column: str) -> Mutation:
    """Remove a column from a table."""

    def mutate(t: Tables) -> None:
        t[table] = t[table].drop(columns=[column])

    return mutate


# fmt: off
BROKEN = [
    ("no units", drop_table("units"), "units.csv", None, None, "required file is missing"),
    ("no posts", drop_table("posts"), "posts.csv", None, None, "required file is missing"),
    ("no level column", drop_column("units", "level"), "units.csv", None, "level",
     "required column is missing"),
    ("no birth_date column", drop_column("cadres", "birth_date"), "cadres.csv", None,
     "birth_date", "required column is missing"),
    ("empty name", cell("cadres", 3, "full_name", ""), "cadres.csv", 3, "full_name",
     "required value is empty"),
    ("empty position", cell("posts", 4, "position", ""), "posts.csv", 4, "position",
     "required value is empty"),
    ("duplicate unit", cell("units", 7, "unit_id", "C2"), "units.csv", 7, "unit_id",
     "duplicate unit_id 'C2' (first at row 6)"),
    ("duplicate cadre", cell("cadres", 5, "cadre_id", "K3"), "cadres.csv", 5, "cadre_id",
     "duplicate cadre_id 'K3' (first at row 4)"),
    ("duplicate post", cell("posts", 4, "post_id", "S2"), "posts.csv", 4, "post_id",
     "duplicate post_id 'S2' (first at row 3)"),
    ("duplicate rating", cell("ratings", 3, "year", "2024"), "ratings.csv", 3, "year",
     "duplicate rating for cadre 'K1' in 2024 (first at row 2)"),
    ("unknown parent", cell("units", 5, "parent_id", "D9"), "units.csv", 5, "parent_id",
     "unknown unit 'D9'"),
    ("unknown hometown", cell("cadres", 2, "hometown_id", "X1"), "cadres.csv", 2,
     "hometown_id", "unknown unit 'X1'"),
    ("unknown residence", cell("cadres", 4, "residence_id", "X2"), "cadres.csv", 4,
     "residence_id", "unknown unit 'X2'"),
    ("unknown current unit", cell("cadres", 5, "current_unit_id", "D7"), "cadres.csv", 5,
     "current_unit_id", "unknown unit 'D7'"),
    ("unknown post unit", cell("posts", 2, "unit_id", "C9"), "posts.csv", 2, "unit_id",
     "unknown unit 'C9'"),
    ("unknown incumbent", cell("posts", 4, "incumbent_id", "K9"), "posts.csv", 4,
     "incumbent_id", "unknown cadre 'K9'"),
    ("unknown rated cadre", cell("ratings", 5, "cadre_id", "K8"), "ratings.csv", 5, "cadre_id",
     "unknown cadre 'K8'"),
    ("unknown relative", cell("relations", 2, "relative_id", "K7"), "relations.csv", 2,
     "relative_id", "unknown cadre 'K7'"),
    ("own relative", cell("relations", 2, "relative_id", "K1"), "relations.csv", 2,
     "relative_id", "cannot be their own relative"),
    ("unknown travel unit", cell("travel", 2, "to_id", "C8"), "travel.csv", 2, "to_id",
     "unknown unit 'C8'"),
    ("bad month", cell("cadres", 2, "birth_date", "1975-13-01"), "cadres.csv", 2, "birth_date",
     "'1975-13-01' is not a date (YYYY-MM-DD)"),
    ("not ISO date", cell("cadres", 3, "current_since", "15/01/2019"), "cadres.csv", 3,
     "current_since", "'15/01/2019' is not a date (YYYY-MM-DD)"),
    ("bad gender", cell("cadres", 2, "gender", "X"), "cadres.csv", 2, "gender",
     "'X' is not one of: M, F"),
    ("bad rating", cell("ratings", 2, "rating", "great"), "ratings.csv", 2, "rating",
     "'great' is not one of: excellent, good, complete, not_complete"),
    ("bad level", cell("units", 5, "level", "ward"), "units.csv", 5, "level",
     "'ward' is not one of: province, district, commune"),
    ("bad boolean", cell("cadres", 2, "movable", "maybe"), "cadres.csv", 2, "movable",
     "'maybe' is not a boolean"),
    ("bad year", cell("ratings", 4, "year", "2024.5"), "ratings.csv", 4, "year",
     "'2024.5' is not a whole number"),
    ("lat not a number", cell("units", 5, "lat", "abc"), "units.csv", 5, "lat",
     "'abc' is not a number"),
    ("lat out of range", cell("units", 5, "lat", "95"), "units.csv", 5, "lat",
     "95 is outside [-90, 90]"),
    ("lon out of range", cell("units", 6, "lon", "200"), "units.csv", 6, "lon",
     "200 is outside [-180, 180]"),
    ("lat without lon", cell("units", 5, "lon", ""), "units.csv", 5, "lon",
     "lon is empty while lat is given"),
    ("negative km", cell("travel", 2, "km", "-3"), "travel.csv", 2, "km", "must be >= 0"),
    ("bad max travel", cell("cadres", 5, "max_travel_km", "far"), "cadres.csv", 5,
     "max_travel_km", "'far' is not a number"),
    ("two posts", cell("posts", 4, "incumbent_id", "K1"), "posts.csv", 4, "incumbent_id",
     "cadre 'K1' already holds post 'S1' (row 2)"),
    ("cycle", cells(cell("units", 3, "parent_id", "D2"), cell("units", 4, "parent_id", "D1")),
     "units.csv", 3, "parent_id", "parents form a cycle: D1 -> D2 -> D1"),
    ("province with parent", cell("units", 2, "parent_id", "D1"), "units.csv", 2, "parent_id",
     "a province has no parent"),
    ("district without parent", cell("units", 4, "parent_id", ""), "units.csv", 4, "parent_id",
     "a district needs a parent_id"),
    ("district under district", cell("units", 4, "parent_id", "D1"), "units.csv", 4,
     "parent_id", "a district's parent is a province"),
    ("commune as parent", cell("units", 7, "parent_id", "C1"), "units.csv", 7, "parent_id",
     "parent 'C1' is a commune"),
    ("commune skips district", cell("units", 7, "parent_id", "HD"), "units.csv", 7,
     "parent_id", "skips the hierarchy"),
    ("hometown not a commune", cell("cadres", 2, "hometown_id", "D1"), "cadres.csv", 2,
     "hometown_id", "'D1' is a district; hometown_id must be a commune"),
    ("residence not a commune", cell("cadres", 3, "residence_id", "HD"), "cadres.csv", 3,
     "residence_id", "'HD' is a province; residence_id must be a commune"),
    ("commune without place", cells(cell("units", 6, "lat", ""), cell("units", 6, "lon", "")),
     "units.csv", 6, "lat", "has no lat/lon and no travel row"),
]
# fmt: on


@pytest.mark.parametrize(
    ("mutate", "file", "row", "column", "fragment"),
    [pytest.param(*case[1:], id=case[0]) for case in BROKEN],
)
def test_broken_input_is_named(
    mutate: Mutation, file: str, row: int | None, column: str | None, fragment: str
) -> None:
    """Each broken input gives a problem naming file, row, column and what is wrong."""
    tables = tiny_tables()
    mutate(tables)
    with pytest.raises(DataError) as err:
        parse_tables(tables)
    text = str(err.value)
    assert fragment in text
    matches = [p for p in err.value.problems if fragment in p.message]
    assert matches, text
    assert (matches[0].file, matches[0].row, matches[0].column) == (file, row, column), text
    assert str(matches[0]).startswith(file + (f", row {row}" if row else "")), text


def test_message_format() -> None:
    """str(Problem) reads 'file, row N, column C: message'."""
    tables = tiny_tables()
    cell("cadres", 4, "birth_date", "1975-13-01")(tables)
    with pytest.raises(DataError) as err:
        parse_tables(tables)
    assert str(err.value) == (
        "cadres.csv, row 4, column birth_date: '1975-13-01' is not a date (YYYY-MM-DD)"
    )


def test_all_problems_collected_at_once() -> None:
    """Two broken cells in different files give exactly two problems."""
    tables = tiny_tables()
    cell("cadres", 2, "gender", "X")(tables)
    cell("ratings", 2, "rating", "great")(tables)
    with pytest.raises(DataError) as err:
        parse_tables(tables)
    assert [(p.file, p.row, p.column) for p in err.value.problems] == [
        ("cadres.csv", 2, "gender"),
        ("ratings.csv", 2, "rating"),
    ]


def test_a_bad_value_repeated_is_named_in_every_cell() -> None:
    """The same bad text in two rows (each text is converted once): two problems, one per row,
    with the same message; a good value shared by two rows types both."""
    tables = tiny_tables()
    cell("cadres", 2, "birth_date", "1975-13-01")(tables)
    cell("cadres", 4, "birth_date", "1975-13-01")(tables)
    with pytest.raises(DataError) as err:
        parse_tables(tables)
    assert [(p.row, p.column, p.message) for p in err.value.problems] == [
        (row, "birth_date", "'1975-13-01' is not a date (YYYY-MM-DD)") for row in (2, 4)
    ]
    tables = tiny_tables()
    cell("cadres", 2, "birth_date", "1970-05-06")(tables)
    cell("cadres", 3, "birth_date", "1970-05-06")(tables)
    data = parse_tables(tables)
    assert data.cadres["birth_date"].iloc[:2].tolist() == [date(1970, 5, 6)] * 2


def test_valid_tables_are_typed() -> None:
    """The tiny dataset parses to the typed tables documented in rotation.data."""
    data = parse_tables(tiny_tables())
    assert data.warnings == []
    assert list(data.units.index) == ["HD", "D1", "D2", "C1", "C2", "C3"]
    assert data.units.index.name == "unit_id"
    assert data.units.at["HD", "parent_id"] is None
    assert data.units.at["C1", "lat"] == 20.91
    k2 = data.cadres.loc["K2"]
    assert k2["birth_date"] == date(1980, 11, 20)
    assert k2["planned_positions"] == ("secretary", "pc_chair")
    assert k2["ethnicity"] is None
    assert bool(k2["movable"])
    assert k2["max_travel_km"] == 40.0
    assert math.isnan(data.cadres.at["K1", "max_travel_km"])
    assert data.cadres.at["K4", "planned_positions"] == ()
    assert data.cadres["movable"].dtype == bool
    assert data.posts.at["S3", "incumbent_id"] is None
    assert data.ratings["year"].tolist() == [2024, 2025, 2024, 2025]
    assert data.travel["km"].tolist() == [18.5]
    assert data.roads is None


def test_optional_tables_may_be_absent() -> None:
    """Without ratings/relations/travel the frames are empty with the right columns."""
    tables = tiny_tables()
    for name in ("ratings", "relations", "travel"):
        del tables[name]
    data = parse_tables(tables)
    assert list(data.ratings.columns) == ["cadre_id", "year", "rating"]
    assert list(data.relations.columns) == ["cadre_id", "relative_id", "relation"]
    assert list(data.travel.columns) == ["from_id", "to_id", "km"]
    assert data.ratings.empty and data.relations.empty and data.travel.empty


def test_unknown_column_is_a_warning() -> None:
    """An unknown column is ignored with a warning, never an error."""
    tables = tiny_tables()
    tables["cadres"]["foo"] = "x"
    data = parse_tables(tables)
    assert data.warnings == ["cadres.csv, column foo: unknown column ignored"]
    assert "foo" not in data.cadres.columns


def test_travel_row_stands_in_for_coordinates() -> None:
    """A used commune without lat/lon is fine when a travel row mentions it."""
    tables = tiny_tables()
    cells(cell("units", 7, "lat", ""), cell("units", 7, "lon", ""))(tables)
    data = parse_tables(tables)
    assert math.isnan(data.units.at["C3", "lat"])


def test_three_level_hierarchy_derives_district() -> None:
    """Province -> district -> commune: each commune knows its district and province."""
    units = parse_tables(tiny_tables()).units
    assert units.at["C1", "district_id"] == "D1"
    assert units.at["C3", "district_id"] == "D2"
    assert units.at["C3", "province_id"] == "HD"
    assert units.at["C3", "commune_id"] == "C3"
    assert units.at["D1", "district_id"] == "D1"


def test_two_level_hierarchy_reads() -> None:
    """Province -> commune (2025 reform): communes have no district."""
    tables = tiny_tables()
    tables["units"] = frame(
        "unit_id,name,level,parent_id,lat,lon\n"
        "HD,Thành phố Hải Phòng,province,,20.94,106.33\n"
        "C1,Phường Thạch Khôi,commune,HD,20.91,106.32\n"
        "C2,Phường Tân Bình,commune,HD,20.93,106.3\n"
        "C3,Xã Nam Hồng,commune,HD,21.01,106.36\n"
    )
    cell("cadres", 5, "current_unit_id", "HD")(tables)
    units = parse_tables(tables).units
    assert units.at["C1", "district_id"] is None
    assert units.at["C1", "province_id"] == "HD"
    assert units.at["C2", "commune_id"] == "C2"


def test_roads_are_read(tmp_path: Path) -> None:
    """roads.csv is read into data.roads with float km."""
    folder = tmp_path / "withroads"
    write_dataset(parse_tables(tiny_tables()), folder)
    (folder / "roads.csv").write_text("from_id,to_id,km\nC1,C2,4.5\nC2,C3,12\n", encoding="utf-8")
    data = read_dataset(folder)
    assert data.roads is not None
    assert data.roads["km"].tolist() == [4.5, 12.0]
    assert data.roads["from_id"].tolist() == ["C1", "C2"]


def test_bom_csv_reads(tmp_path: Path) -> None:
    """CSV files saved with a UTF-8 BOM (Excel 'CSV UTF-8') read cleanly."""
    folder = tmp_path / "bom"
    folder.mkdir()
    for name, table in tiny_tables().items():
        table.to_csv(folder / f"{name}.csv", index=False, encoding="utf-8-sig")
    data = read_dataset(folder)
    assert data.name == "bom"
    assert data.units.index.name == "unit_id"
    assert data.cadres.at["K2", "full_name"] == "Nguyễn Thị Ánh"
    assert data.warnings == []


@pytest.mark.parametrize("target", ["out", "out.xlsx"])
def test_vietnamese_round_trip(tmp_path: Path, target: str) -> None:
    """Vietnamese text and every typed column survive write_dataset then read_dataset."""
    data = parse_tables(tiny_tables())
    path = tmp_path / target
    write_dataset(data, path)
    back = read_dataset(path)
    assert back.cadres.at["K2", "full_name"] == "Nguyễn Thị Ánh"
    assert back.units.at["C1", "name"] == "Phường Thạch Khôi"
    assert back.name == "out"
    for table in ("units", "cadres", "posts", "ratings", "relations", "travel"):
        pd.testing.assert_frame_equal(getattr(back, table), getattr(data, table))


def test_csv_written_format(tmp_path: Path) -> None:
    """CSVs are UTF-8 without BOM, '\\n' endings, ISO dates, true/false, ';'-joined lists."""
    write_dataset(parse_tables(tiny_tables()), tmp_path / "d")
    raw = (tmp_path / "d" / "cadres.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" not in raw
    text = raw.decode("utf-8")
    assert text.splitlines()[0].startswith("cadre_id,full_name,")
    k2 = "K2,Nguyễn Thị Ánh,F,1980-11-20,,C2,C2,C2,2019-01-15,secretary;pc_chair,true,40.0"
    assert k2 in text.splitlines()
    units_header = (tmp_path / "d" / "units.csv").read_text(encoding="utf-8").splitlines()[0]
    assert units_header == "unit_id,name,level,parent_id,lat,lon"
    assert not (tmp_path / "d" / "roads.csv").exists()


def test_write_failure_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure while writing leaves neither a half-written folder nor temporary files."""
    data = parse_tables(tiny_tables())
    calls = {"n": 0}
    real = pd.DataFrame.to_csv

    def flaky(self: pd.DataFrame, *args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", flaky)
    with pytest.raises(OSError, match="disk full"):
        write_dataset(data, tmp_path / "d")
    assert list(tmp_path.iterdir()) == []


def test_missing_sheet_in_workbook(tmp_path: Path) -> None:
    """A workbook without a required sheet names the sheet."""
    path = tmp_path / "data.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        for name in ("units", "cadres"):
            tiny_tables()[name].to_excel(xl, sheet_name=name, index=False)
    with pytest.raises(DataError, match=r"data\.xlsx\[posts\]: required sheet is missing"):
        read_dataset(path)


def test_workbook_problem_names_sheet(tmp_path: Path) -> None:
    """Problems in a workbook are reported as book.xlsx[sheet] with spreadsheet rows."""
    tables = tiny_tables()
    cell("cadres", 3, "birth_date", "1980-02-30")(tables)
    path = tmp_path / "data.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        for name, table in tables.items():
            table.to_excel(xl, sheet_name=name, index=False)
    with pytest.raises(DataError) as err:
        read_dataset(path)
    assert str(err.value) == (
        "data.xlsx[cadres], row 3, column birth_date: '1980-02-30' is not a date (YYYY-MM-DD)"
    )


def test_missing_path() -> None:
    """A path that does not exist is a DataError, not a traceback."""
    with pytest.raises(DataError, match="no such file or folder"):
        read_dataset("/nonexistent/dataset")


@pytest.mark.parametrize(
    ("ids", "years", "repeats"),
    [
        (["K1", "K2", "K1"], [2024, 2024, 2025], False),  # same year, other cadre; same cadre
        (["K1", "K2", "K1"], [2024, 2024, 2024], True),
        (["K2", "K1", "K2", "K1"], [2023, 2024, 2024, 2023], False),
        (["K1", "K1"], [1, 1 + (1 << 20)], True),  # years too far apart: looked through
        (["K1", None, "K1"], [2024, 2024, 2025], True),  # a missing cell: looked through
        (["K1"], [2024], False),
    ],
)
def test_a_repeated_rating_pair_is_found_at_once(ids, years, repeats) -> None:
    """The quick check before the row-by-row duplicate-rating problems: True whenever a
    (cadre, year) repeats, and also where it cannot tell (then the rows are looked through);
    the problems themselves are those of the 'duplicate rating' case above."""
    from rotation.read import _repeats_a_pair

    assert _repeats_a_pair(ids, years) is repeats
