"""The cadres' ways through the term (rotation.roadmap.paths): every roadmap is a flow of the
network, so the rows cut off no roadmap; they tighten the stint LP where office waits split it;
and the exact roadmap with them is the plain optimum."""

from __future__ import annotations

import datetime as dt

import highspy
import numpy as np
import pytest
import scipy.sparse as sp
from builders import tiny_problem
from ortools.sat.python import cp_model
from test_exact import _plain_optimum, _rules

from rotation.model import SCALE
from rotation.model.lp import _silent_highs, pass_lp
from rotation.roadmap.exact import solve_roadmap_exact, term_setup
from rotation.roadmap.model import build_roadmap_model, greedy_roadmap, pair_of
from rotation.roadmap.paths import path_rows, stint_cadres
from rotation.roadmap.relaxation import release_facts
from rotation.roadmap.stints import (
    Stints,
    open_stint_lp,
    resolve_with_rows,
    stint_lp,
    term_stints,
)
from rotation.rules import Rules


def _stint_vector(setup, stints: Stints, holders: list[dict[str, str | None]]) -> np.ndarray:
    """A roadmap (post → cadre per round) as its stints: each maximal run of rounds in which a
    cadre holds the same pair (a post and its cadre) is one stint."""
    index = {
        (int(f), int(last), int(p)): i
        for i, (f, last, p) in enumerate(zip(stints.first, stints.last, stints.pair, strict=True))
    }
    rounds = setup.rounds
    held = [
        {j for pid, cid in h.items() if cid and (j := pair_of(r, pid, cid)) is not None}
        for r, h in zip(rounds, holders, strict=True)
    ]
    s = np.zeros(stints.T.shape[1])
    for k, r in enumerate(rounds):
        for j in held[k]:
            if k and r.prev[j] >= 0 and int(r.prev[j]) in held[k - 1]:
                continue  # the stay goes on from the round before
            last, cur = k, j
            while last + 1 < len(rounds):
                nxt = np.nonzero(rounds[last + 1].prev == cur)[0]
                if not len(nxt) or int(nxt[0]) not in held[last + 1]:
                    break
                last, cur = last + 1, int(nxt[0])
            s[index[(k, last, j)]] = 1
    return s


def _admits_flow(setup, stints: Stints, s: np.ndarray) -> bool:
    """Whether the flow rows of every cadre with a stint have arcs that carry the stints ``s``."""
    cadres = np.unique(stint_cadres(setup.term, stints))
    pr = path_rows(setup.term, stints, release_facts(setup.term), cadres, len(s))
    need = pr.rhs - pr.S @ s
    P = pr.P.tocsc()
    P.sort_indices()
    n = P.shape[1]
    h = _silent_highs()  # feasibility: P a = need, 0 <= a <= 1
    pass_lp(h, np.zeros(n), np.zeros(n), np.ones(n), need, need, P.indptr, P.indices, P.data)
    h.run()
    return h.getModelStatus() == highspy.HighsModelStatus.kOptimal


def _released_case(since: int, communes: int, rounds: int, share: float) -> tuple:
    data = tiny_problem(
        districts=1, communes=communes, cadres={"K11": {"current_since": dt.date(since, 1, 1)}}
    )
    days = [f"{2026 + k}-01-01" for k in range(rounds)]
    return data, _rules(days, {days[-1]: share})


CASES = [(2010, 3, 3, 0.5), (2010, 2, 3, 0.3), (2018, 3, 3, 0.5), (2023, 3, 2, 0.0)]


@pytest.mark.parametrize("case", CASES)
def test_every_roadmap_is_a_flow_of_the_cadres_network(case):
    """The exact roadmap and the round-by-round one both pass through the network: the rows are
    valid for every roadmap, so the LP with them is still a relaxation."""
    data, rules = _released_case(*case)
    setup = term_setup(data, rules)
    stints = term_stints(setup.term, setup.cols)
    roadmaps = []
    greedy = greedy_roadmap(data, rules)
    if greedy.status == "optimal":
        roadmaps.append([p.holder() for _, p in greedy.rounds])
    exact = solve_roadmap_exact(data, rules)
    if exact.status == "optimal":
        roadmaps.append([p.holder() for _, p in exact.rounds])
    assert roadmaps
    for holders in roadmaps:
        s = _stint_vector(setup, stints, holders)
        assert _admits_flow(setup, stints, s)


class _Collect(cp_model.CpSolverSolutionCallback):
    """Every roadmap CP-SAT enumerates (up to ``limit``), as post → cadre per round."""

    def __init__(self, model, limit: int) -> None:
        super().__init__()
        self.model, self.limit, self.found = model, limit, []

    def on_solution_callback(self) -> None:
        self.found.append(self.model.holders(self))
        if len(self.found) >= self.limit:
            self.stop_search()


def _office_returns(setup, holders) -> int:
    """How many times a cadre takes a post again after a round in an office."""
    ids = [{cid for cid in h.values() if cid} for h in holders]
    return sum(
        1
        for k in range(2, len(holders))
        for c in ids[k]
        if c not in ids[k - 1] and any(c in ids[kk] for kk in range(k - 1))
    )


def test_every_feasible_roadmap_of_a_small_term_is_a_flow():
    """Every roadmap of a small term (CP-SAT enumerates them over the rules as written, the
    office-wait rows included), some with a return from an office after the wait, has a flow:
    no roadmap is cut off."""
    data = tiny_problem(districts=1, communes=3)
    days = [f"{2026 + k}-01-01" for k in range(4)]
    rules = _rules(days, {days[-1]: 0.0})
    setup = term_setup(data, rules)
    stints = term_stints(setup.term, setup.cols)
    m = build_roadmap_model(data, rules, candidates_per_post=None)
    m.cp.clear_objective()
    solver = cp_model.CpSolver()
    solver.parameters.enumerate_all_solutions = True
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 60
    got = _Collect(m, 400)
    solver.solve(m.cp, got)
    assert len(got.found) >= 50
    assert sum(_office_returns(setup, h) for h in got.found) > 0
    for holders in got.found:
        assert _admits_flow(setup, stints, _stint_vector(setup, stints, holders))


def test_a_split_stay_is_no_flow():
    """The network is not empty of meaning: a stint vector that has a cadre in two places in
    one round (two stints at once) has no flow."""
    data, rules = _released_case(2010, 3, 3, 0.5)
    setup = term_setup(data, rules)
    stints = term_stints(setup.term, setup.cols)
    who = stint_cadres(setup.term, stints)
    c = np.bincount(who[stints.first == 0]).argmax()  # a cadre with two stints in round 0
    two = np.nonzero((who == c) & (stints.first == 0))[0][:2]
    s = np.zeros(stints.T.shape[1])
    s[two] = 1
    assert not _admits_flow(setup, stints, s)


def _bounds(rules: Rules, data) -> tuple[float, float]:
    """The stint LP's bound without and with every cadre's flow rows."""
    setup = term_setup(data, rules)
    stints = term_stints(setup.term, setup.cols)
    mat = stint_lp(setup.term, setup.cols, stints, rules, None)
    lp, h = open_stint_lp(mat)
    cadres = np.unique(stint_cadres(setup.term, stints))
    pr = path_rows(setup.term, stints, release_facts(setup.term), cadres, mat.A.shape[1])
    rows = sp.hstack([pr.S, pr.P]).tocsr()
    lp2 = resolve_with_rows(h, np.zeros(pr.n_arcs), rows, pr.rhs, pr.rhs)
    return lp.bound, lp2.bound


@pytest.mark.parametrize("case", CASES)
def test_the_flow_rows_never_lower_the_bound_nor_pass_the_optimum(case):
    data, rules = _released_case(*case)
    plain = _plain_optimum(data, rules)
    if plain is None:
        pytest.skip("infeasible instance")
    before, after = _bounds(rules, data)
    assert after >= before - 1e-6
    assert after / SCALE <= plain + 1e-6
