"""ProblemData's own derived lookups."""

from __future__ import annotations

import random

import pandas as pd
import pytest
from builders import tiny_problem, with_relation

from rotation.data import CADRE_TABLES, ProblemData


def _by_isin(data: ProblemData, ids: set[str]) -> dict[str, pd.DataFrame]:
    """The rule of cadre_tables spelt out: a row stays when every cadre it names is kept."""
    out = {}
    for name, cols in CADRE_TABLES.items():
        df = getattr(data, name)
        mask = pd.Series(True, index=df.index)
        for c in cols:
            mask &= df[c].isin(ids)
        out[name] = df[mask].reset_index(drop=True)
    return out


def test_cadre_tables_keep_the_rows_of_the_cadres_kept() -> None:
    """Random sets of cadres (none, all, some, with an id that is no cadre here): the rows kept
    are those whose every named cadre is in the set, asked twice (the remembered positions),
    and again after a table is replaced."""
    data = tiny_problem()
    cadres = list(data.cadres.index)
    data = with_relation(with_relation(data, cadres[0], cadres[1]), cadres[2], cadres[-1])
    rng = random.Random(7)
    sets = [set(), set(cadres), {cadres[0]}, {cadres[0], cadres[1], "NOT-A-CADRE"}]
    sets += [set(rng.sample(cadres, rng.randint(1, len(cadres)))) for _ in range(20)]
    assert len(data.ratings) and len(data.relations) >= 2
    for ids in sets * 2:
        got, want = data.cadre_tables(ids), _by_isin(data, ids)
        for name in CADRE_TABLES:
            pd.testing.assert_frame_equal(got[name], want[name], obj=f"{name} {sorted(ids)}")
    data.ratings = data.ratings.iloc[::-1].reset_index(drop=True)  # a new table: worked afresh
    for ids in sets:
        pd.testing.assert_frame_equal(
            data.cadre_tables(ids)["ratings"], _by_isin(data, ids)["ratings"]
        )


def _locality_spelt_out(data, unit_id, level):
    """The contract's "local" unit of one unit, from its row: its commune (the one it merged
    into, when merged), at district level its district when it has one; unknown: itself."""
    units = data.units
    if unit_id not in units.index:
        return unit_id
    commune = units.at[unit_id, "commune_id"]
    base = commune if isinstance(commune, str) else unit_id
    if "merged_into" in units.columns and base in units.index:
        into = units.at[base, "merged_into"]
        base = into if isinstance(into, str) else base
    if level == "commune":
        return base
    district = units.at[unit_id, "district_id"]
    return district if isinstance(district, str) else base


@pytest.mark.parametrize("two_level", [False, True])
@pytest.mark.parametrize("level", ["commune", "district"])
def test_locality_of_is_the_rule_for_every_unit(two_level, level) -> None:
    """locality_of (from the keys worked out once per level) gives, for every unit, unknown
    ids and None included, what the rule gives row by row — merged communes too — and asks
    again give the same; a dataset built anew has its own."""

    merged = {"C13": {"merged_into": "C12"}} if not two_level else {}
    data = tiny_problem(two_level=two_level, units=merged)
    ids = [*data.units.index, "nowhere", None, *reversed(data.units.index)]
    want = [_locality_spelt_out(data, u, level) for u in ids]
    for _ in range(2):
        got = data.locality_of(ids, level)
        assert got.tolist() == want
        assert list(got.index) == list(range(len(ids)))
    if not two_level:
        assert data.locality_of(["C13"], "commune").tolist() == ["C12"]
        other = tiny_problem()
        assert other.locality_of(["C13"], "commune").tolist() == ["C13"]


@pytest.mark.parametrize("two_level", [False, True])
@pytest.mark.parametrize("level", ["commune", "district", "province"])
def test_scope_of_is_the_rule_for_every_unit(two_level, level) -> None:
    """scope_of (keys worked out once per level) gives for every unit what its row says: its
    commune (an unknown unit: itself), its district (none: the province), its province (an
    unknown unit: missing), asked twice."""
    data = tiny_problem(two_level=two_level)
    units = data.units
    ids = [*units.index, "nowhere", None]

    def spelt_out(u):
        if u not in units.index:
            return u if level == "commune" else None
        if level == "commune":
            c = units.at[u, "commune_id"]
            return c if isinstance(c, str) else u
        d = units.at[u, "district_id"]
        if level == "district" and isinstance(d, str):
            return d
        return units.at[u, "province_id"]

    want = [spelt_out(u) for u in ids]
    for _ in range(2):
        got = [None if isinstance(x, float) else x for x in data.scope_of(ids, level)]
        assert got == want


def test_derived_is_remembered_while_the_table_is_the_same_object():
    """``ProblemData.derived`` works a value out once per table object: asked again with the
    same table it is not worked out again; a copy with another table (``replace``) or a table
    replaced in place works it out afresh."""
    from dataclasses import replace

    data = tiny_problem()
    made: list[int] = []

    def make() -> int:
        made.append(1)
        return len(made)

    assert data.derived("n", (data.ratings,), make) == 1
    assert data.derived("n", (data.ratings,), make) == 1
    assert len(made) == 1
    other = replace(data, ratings=data.ratings.copy())
    assert other.derived("n", (other.ratings,), make) == 2
    data.ratings = data.ratings.copy()
    assert data.derived("n", (data.ratings,), make) == 3
