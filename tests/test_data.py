"""ProblemData's own derived lookups."""

from __future__ import annotations

import random

import pandas as pd
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
