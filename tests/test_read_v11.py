"""Contract v1.1 tables read and checked: discipline, preferences, units.merged_into, and the
planning-list limits of Regulation 377 as warnings."""

from __future__ import annotations

import pandas as pd
import pytest
from tiny import frame, tiny_tables

from rotation.errors import DataError
from rotation.read import parse_tables, read_dataset, write_dataset
from rotation.rules import RulesError, load_rules

DISCIPLINE = "cadre_id,kind,date\nK1,reprimand,2025-03-01\nK4,warning,2024-01-10\n"
PREFERENCES = "cadre_id,unit_id,rank\nK4,C3,1\nK4,D2,2\n"


def _v11() -> dict[str, pd.DataFrame]:
    t = tiny_tables()
    t["discipline"] = frame(DISCIPLINE)
    t["preferences"] = frame(PREFERENCES)
    t["units"]["merged_into"] = ""
    return t


def test_v11_tables_are_typed() -> None:
    data = parse_tables(_v11())
    assert data.discipline["kind"].tolist() == ["reprimand", "warning"]
    assert str(data.discipline["date"].iloc[0]) == "2025-03-01"
    assert data.preferences["rank"].tolist() == [1, 2]
    assert data.merged_posts == set()


def test_merger_is_read_and_round_trips(tmp_path) -> None:
    t = _v11()
    t["units"].loc[t["units"]["unit_id"] == "C2", "merged_into"] = "C1"
    data = parse_tables(t)
    assert data.merged_posts == {"S2"}
    write_dataset(data, tmp_path / "d")
    again = read_dataset(tmp_path / "d")
    assert again.merged_posts == {"S2"}
    assert len(again.discipline) == 2 and len(again.preferences) == 2


def test_v1_dataset_writes_no_v11_files(tmp_path) -> None:
    """A dataset without the v1.1 tables is written as v1 (no empty extra files or columns)."""
    write_dataset(parse_tables(tiny_tables()), tmp_path / "d")
    assert not (tmp_path / "d" / "discipline.csv").exists()
    assert "merged_into" not in (tmp_path / "d" / "units.csv").read_text().splitlines()[0]


def _set(t: dict[str, pd.DataFrame], table: str, row: int, col: str, value: str) -> None:
    t[table].loc[row - 2, col] = value


# (case id, table, spreadsheet row, column, value, fragment)
BROKEN = [
    ("unknown discipline kind", "discipline", 2, "kind", "scolding", "is not one of"),
    ("discipline date in the future", "discipline", 2, "date", "2999-01-01", "in the future"),
    ("discipline date not a date", "discipline", 3, "date", "2024-13-01", "not a date"),
    ("discipline unknown cadre", "discipline", 2, "cadre_id", "K99", "K99"),
    ("merged into a missing unit", "units", 6, "merged_into", "C9", "unknown unit 'C9'"),
    ("merged into a district", "units", 6, "merged_into", "D1", "merge into a commune"),
    ("merged into itself", "units", 6, "merged_into", "C2", "into itself"),
    ("district merged", "units", 3, "merged_into", "D2", "only a commune can be merged"),
    ("preference unknown cadre", "preferences", 2, "cadre_id", "K99", "K99"),
    ("preference unknown unit", "preferences", 2, "unit_id", "X1", "X1"),
    ("preference on a province", "preferences", 2, "unit_id", "HD", "is a province"),
    ("preference rank zero", "preferences", 3, "rank", "0", "rank must be 1 or more"),
]


@pytest.mark.parametrize(
    ("table", "row", "col", "value", "fragment"), [pytest.param(*c[1:], id=c[0]) for c in BROKEN]
)
def test_broken_v11_input_is_named(
    table: str, row: int, col: str, value: str, fragment: str
) -> None:
    """Each broken v1.1 cell is one problem naming file, row and column."""
    t = _v11()
    _set(t, table, row, col, value)
    with pytest.raises(DataError) as err:
        parse_tables(t)
    hits = [p for p in err.value.problems if fragment in p.message]
    assert hits, str(err.value)
    assert (hits[0].file, hits[0].row, hits[0].column) == (f"{table}.csv", row, col)


def test_chain_of_mergers_is_refused() -> None:
    t = _v11()
    _set(t, "units", 5, "merged_into", "C2")  # C1 → C2
    _set(t, "units", 6, "merged_into", "C3")  # C2 → C3: a chain
    with pytest.raises(DataError, match="no chains of mergers"):
        parse_tables(t)


def test_planning_list_limits_are_warnings() -> None:
    """Reg. 377: more than 3 planned positions per cadre, or more than 3 cadres of one unit
    planned for its post, are data-quality warnings with file/row (the data still reads)."""
    t = tiny_tables()
    _set(t, "cadres", 2, "planned_positions", "secretary;pc_chair;inspection_chair;chief")
    extra = frame(
        "cadre_id,full_name,gender,birth_date,ethnicity,hometown_id,residence_id,current_unit_id,"
        "current_since,planned_positions,movable,max_travel_km\n"
        + "".join(
            f"X{i},Người {i},M,1980-01-01,Kinh,C1,C1,C1,2020-01-01,secretary,true,\n"
            for i in range(4)
        )
    )
    t["cadres"] = pd.concat([t["cadres"], extra], ignore_index=True)
    data = parse_tables(t)
    text = "\n".join(data.warnings)
    assert "cadres.csv, row 2, column planned_positions" in text and "4 positions" in text
    assert "cadres of C1 are planned for secretary" in text


@pytest.mark.parametrize(
    ("rules", "fragment"),
    [
        (
            {
                "support": {
                    "tiers": [
                        {"min_km": 40, "vnd_per_month": 1},
                        {"min_km": 15, "vnd_per_month": 2},
                    ]
                }
            },
            "increasing order",
        ),
        (
            {"support": {"tiers": [{"min_km": 15, "vnd_per_month": -1}]}},
            "support.tiers.0.vnd_per_month",
        ),
        ({"budget_vnd": -5}, "budget_vnd"),
        ({"discipline_months": {"reprimand": -1}}, "discipline_months.reprimand"),
        ({"discipline_months": {"scolding": 3}}, "unknown key 'scolding'"),
        ({"priority_shares": [{"group": "elders", "min_share": 0.2}]}, "priority_shares.0.group"),
        (
            {"priority_shares": [{"group": "women", "min_share": 1.5}]},
            "priority_shares.0.min_share",
        ),
        (
            {"max_changes": {"scope_level": "commune", "count": 1, "count_by_scope": {"C1": -2}}},
            "count_by_scope",
        ),
    ],
)
def test_bad_v11_rules_name_the_field(rules: dict, fragment: str) -> None:
    with pytest.raises(RulesError) as err:
        load_rules(rules)
    assert fragment in str(err.value)


def test_examples_rules_yaml_is_exactly_the_defaults() -> None:
    """examples/rules.yaml says it spells out the defaults: it must equal Rules()."""
    from pathlib import Path

    from rotation.rules import Rules

    path = Path(__file__).resolve().parent.parent / "examples" / "rules.yaml"
    assert load_rules(path) == Rules()
