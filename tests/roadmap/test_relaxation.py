"""The term LP's rows as arrays (rotation.roadmap.relaxation) are the cross-round generators'
rows (rotation.roadmap.rows), row for row; the stint LP (rotation.roadmap.stints) is a
relaxation of the exact model: its bound never exceeds plain CP-SAT's optimum."""

from __future__ import annotations

import datetime as dt

import numpy as np
from builders import default_rules, tiny_problem

from rotation.roadmap.model import build_roadmap_model
from rotation.roadmap.relaxation import (
    Block,
    Columns,
    continue_only_block,
    minimum_stay_block,
    never_decrease_block,
    office_wait_block,
    span_block,
)
from rotation.roadmap.rows import continue_only, minimum_stay, never_decrease, office_wait


def _model(rounds: int = 3):
    data = tiny_problem(
        districts=2, communes=3, cadres={"K11": {"current_since": dt.date(2018, 1, 1)}}
    )
    days = [f"{2026 + k}-01-01" for k in range(rounds)]
    horizon = {
        "rounds": days,
        "min_stay_years": 2,
        "trajectory": [
            {"position": "secretary", "scope_level": "district", "shares": {days[1]: 0.3}}
        ],
    }
    rules = default_rules(horizon=horizon, time_limit_s=30)
    return build_roadmap_model(data, rules, candidates_per_post=None)


def _rows(b: Block) -> list[tuple[tuple[tuple[int, float], ...], float, float]]:
    out = []
    for i in range(len(b.lo)):
        mine = b.rows == i
        terms = tuple(sorted(zip(b.cols[mine].tolist(), b.vals[mine].tolist(), strict=True)))
        out.append((terms, float(b.lo[i]), float(b.hi[i])))
    return out


def test_array_rows_are_the_generators_rows():
    m = _model()
    cols = Columns(m.rounds)
    pairs = [
        (continue_only_block(m.rounds, cols), continue_only),
        (minimum_stay_block(m.term, cols), minimum_stay),
    ]
    for block, rule in pairs:
        assert len(block.lo) > 0
        assert sorted(_rows(block)) == sorted(_rows(span_block(list(rule(m.term)), cols)))
    nd = never_decrease_block(m.term, cols)
    assert len(nd.lo) > 0
    assert _rows(nd) == _rows(span_block(list(never_decrease(m.term)), cols))  # same order
    assert np.isfinite(nd.lo).all()
    ow = office_wait_block(m.term, cols)
    assert len(ow.lo) > 0
    assert _rows(ow) == _rows(span_block(list(office_wait(m.term)), cols))  # same order


def test_stint_lp_bound_never_exceeds_the_exact_optimum():
    from ortools.sat.python import cp_model

    from rotation.model import SCALE
    from rotation.roadmap.stints import solve_stint_lp, stint_lp, term_stints

    m = _model()
    cols = Columns(m.rounds)
    stints = term_stints(m.term, cols)
    assert len(stints) > sum(r.n_pairs for r in m.rounds) // 2
    lp = solve_stint_lp(stint_lp(m.term, cols, stints, m.rules, None))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(m.cp) == cp_model.OPTIMAL
    assert lp.feasible and lp.bound <= solver.objective_value + 1e-6
    assert lp.bound / SCALE > 0  # a bound that says something (travel and changes cost)


def test_back_to_back_stints_of_one_pair_are_no_roadmap():
    """Two stints of one pair, the second starting the round after the first ends, are one
    stay with no arrival between: :func:`stint_holders` refuses them, :func:`repeated_stays`
    writes the row they break, and the merged stint passes both."""
    from rotation.roadmap.exact import stint_holders, term_setup
    from rotation.roadmap.stints import repeated_stays, term_stints

    m = _model()
    t = term_setup(m.base, m.rules)
    stints = term_stints(t.term, t.cols)
    r0, r1, r2 = t.rounds
    nxt0 = {int(j): int(i) for i, j in enumerate(r1.prev) if j >= 0}
    nxt1 = {int(j): int(i) for i, j in enumerate(r2.prev) if j >= 0}
    found = None
    for a in np.nonzero((stints.first == 0) & (stints.last == 1))[0]:
        p0 = int(stints.pair[a])
        p2 = nxt1.get(nxt0.get(p0, -1), -1)
        if r0.elig.pair_keep[p0] or p2 < 0 or not r2.can_arrive[p2]:
            continue
        b = np.nonzero((stints.first == 2) & (stints.pair == p2))[0]
        whole = np.nonzero((stints.first == 0) & (stints.last == 2) & (stints.pair == p0))[0]
        if len(b) and len(whole):
            found = (a, b[0], whole[0])
            break
    assert found is not None
    a, b, whole = found
    split = np.zeros(stints.T.shape[1])
    split[[a, b]] = 1
    assert stint_holders(t, stints, split) is None
    rows = repeated_stays(stints, t.cols, t.rounds, split)
    assert rows.shape[0] == 1 and (rows @ split).max() == 2  # the row "<= 1" is broken
    merged = np.zeros(stints.T.shape[1])
    merged[whole] = 1
    assert (rows @ merged).max() <= 1
    holders = stint_holders(t, stints, merged)
    assert holders is not None
    post = r0.elig.post_id(int(r0.elig.pair_post[int(stints.pair[whole])]))
    cadre = r0.elig.cadre_id(int(r0.elig.pair_cadre[int(stints.pair[whole])]))
    assert [h[post] for h in holders] == [cadre] * 3
