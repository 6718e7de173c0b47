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
    span_block,
)
from rotation.roadmap.rows import continue_only, minimum_stay, never_decrease


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
