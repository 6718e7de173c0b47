"""The term LP over *stints*: a per-cadre path through the rounds, one column per stay.

A stint ``(pair, first round, last round)`` says: the cadre takes (or, in round 0, keeps) the
post in ``first`` and holds it through ``last``. Every roadmap is a set of stints (each holding
run of a pair is one), so the LP over stints is a relaxation of the exact CP-SAT model; but the
rules that link a pair's rounds are no rows here, they decide which stints exist:

- ``arrival``: a stint arrives in its first round (unless it is an original incumbent's keep
  pair in round 0); holding = the stints covering the round, arriving = the stints starting;
- ``continue_only``: a stint starts only where its pair can arrive (or in round 0) and goes on
  only while the pair exists, round after round;
- ``minimum_stay``: a stint that arrives lasts at least until its stay is over (or until its
  cadre retires); a pair that must be left before that cannot arrive.

What stays a row is what couples pairs: every single-round rule row of every round, written over
holding and arrival columns (:func:`rotation.roadmap.relaxation.round_block`) and mapped onto the
stints by one sparse product, ``office_wait`` and ``never_decrease``. Hai Duong's term LP has
about 7,000 rows instead of 1.2 million, so dual simplex works on a basis of the size of five
single-round LPs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import scipy.sparse as sp

from ..model.lp import _silent_highs, pass_lp, stop_when_asked
from ..rules import Rules
from .horizon import stay_until
from .relaxation import (
    DEFAULT_LP_OPTIONS,
    Block,
    Columns,
    TermLp,
    cost_vector,
    never_decrease_block,
    office_wait_block,
    round_block,
    round_costs,
)
from .rounds import RoundTerms
from .rows import TermIndex


@dataclass
class Stints:
    """Every stint of a term: its first and last round and its pair in its first round;
    ``T``: the (holding/arrival/vacancy column × stint-space column) 0/1 map, the stint space
    being the stints followed by the vacancies."""

    first: np.ndarray
    last: np.ndarray
    pair: np.ndarray
    T: sp.csc_matrix

    def __len__(self) -> int:
        return len(self.first)


def _next_pairs(rounds: Sequence[RoundTerms]) -> list[np.ndarray]:
    """Per round k, pair → the same pair's index in round k + 1 (−1: it does not go on)."""
    out = []
    for k, r in enumerate(rounds):
        nxt = np.full(r.n_pairs, -1, dtype=np.int64)
        if k + 1 < len(rounds):
            r2 = rounds[k + 1]
            has = np.nonzero(r2.prev >= 0)[0]
            nxt[r2.prev[has]] = has
        out.append(nxt)
    return out


def term_stints(t: TermIndex, cols: Columns) -> Stints:
    """Every stint the cross-round rules allow (see the module docstring)."""
    rounds = t.rounds
    n_r = len(rounds)
    nxt = _next_pairs(rounds)
    cadre_ids = t.base.cadres.index
    retired = [cadre_ids.isin(sorted(s)) for s in t.retired]
    first: list[np.ndarray] = []
    last: list[np.ndarray] = []
    pair: list[np.ndarray] = []
    t_rows: list[np.ndarray] = []
    t_cols: list[np.ndarray] = []
    n = 0
    for k1, r in enumerate(rounds):
        starts = np.arange(r.n_pairs) if k1 == 0 else np.nonzero(r.can_arrive)[0]
        arrives = r.can_arrive[starts]
        # the last round the stay binds: the rounds before its end, while the cadre is active
        until = stay_until(t.days[k1], t.horizon.min_stay_years)
        need = np.full(len(starts), k1, dtype=np.int64)
        active = np.ones(len(starts), dtype=bool)
        cad = r.elig.pair_cadre[starts]
        for k2 in range(k1 + 1, n_r):
            if t.days[k2] >= until:
                break
            active &= ~retired[k2][cad]
            need[active] = k2
        need[~arrives] = k1  # an incumbent keeping their post in round 0 owes no stay
        cur = starts.copy()  # the pair's index in round k2 (−1 once it stops)
        path = [cur.copy()]
        for k2 in range(k1, n_r):
            if k2 > k1:
                prev = cur
                cur = np.where(prev >= 0, nxt[k2 - 1][np.maximum(prev, 0)], -1)
                cur[prev < 0] = -1
                path.append(cur.copy())
            alive = cur >= 0
            ok = alive & (need <= k2)
            idx = np.nonzero(ok)[0]
            if not len(idx):
                continue
            ids = n + np.arange(len(idx))
            n += len(idx)
            first.append(np.full(len(idx), k1, dtype=np.int64))
            last.append(np.full(len(idx), k2, dtype=np.int64))
            pair.append(starts[idx])
            for kk in range(k1, k2 + 1):  # holding in every round it covers
                t_rows.append(cols.hold_off[kk] + path[kk - k1][idx])
                t_cols.append(ids)
            own = cols.arrive_col[k1][starts[idx]]
            mine = own != cols.hold_off[k1] + starts[idx]  # an arrival literal of its own
            t_rows.append(own[mine])
            t_cols.append(ids[mine])
        # a stint that must go on through a round where its pair no longer exists: none (the
        # `need <= k2` test above never passes for it), so that pair cannot arrive in round k1
    vac_cols = np.concatenate(
        [
            np.arange(cols.vac_off[k], cols.vac_off[k] + len(r.elig.posts))
            for k, r in enumerate(rounds)
            if r.allow_vacancies
        ]
        or [np.zeros(0, dtype=np.int64)]
    )
    t_rows.append(vac_cols)
    t_cols.append(n + np.arange(len(vac_cols)))
    rr = np.concatenate(t_rows)
    cc = np.concatenate(t_cols)
    T = sp.csc_matrix((np.ones(len(rr)), (rr, cc)), shape=(cols.n, n + len(vac_cols)), dtype=float)
    cat = np.concatenate
    z = [np.zeros(0, dtype=np.int64)]
    return Stints(cat(first + z), cat(last + z), cat(pair + z), T)


@dataclass
class StintLp:
    """The stint LP: ``lo <= A s <= hi``, costs; ``parts``: rows per rule family; ``more``:
    rows added after the first LP (the cadres' paths, :mod:`rotation.roadmap.paths`), kept
    apart so that a MIP stacks them on its own columns only, ``more_lo <= more s <= more_hi``."""

    A: sp.csc_matrix
    lo: np.ndarray
    hi: np.ndarray
    cost: np.ndarray
    parts: dict[str, int]
    more: sp.csc_matrix | None = None
    more_lo: np.ndarray | None = None
    more_hi: np.ndarray | None = None

    def columns(self, idx: np.ndarray) -> tuple[sp.csc_matrix, np.ndarray, np.ndarray]:
        """Every row (``A``'s, then ``more``'s) over the columns ``idx``, and the rows' bounds."""
        if self.more is None or self.more_lo is None or self.more_hi is None:
            return self.A[:, idx], self.lo, self.hi
        A = sp.vstack([self.A[:, idx], self.more[:, idx]], format="csc")
        return A, np.concatenate([self.lo, self.more_lo]), np.concatenate([self.hi, self.more_hi])


def pad_columns(M: sp.csc_matrix, n: int) -> sp.csc_matrix:
    """``M`` with ``n`` empty columns after its own, sharing its arrays (``sp.hstack`` copies
    and checks them all: 1 s for the 7M entries of Nghệ An's stint LP)."""
    indptr = np.concatenate([M.indptr, np.full(n, M.indptr[-1], dtype=M.indptr.dtype)])
    return sp.csc_matrix((M.data, M.indices, indptr), shape=(M.shape[0], M.shape[1] + n))


def stint_lp(
    t: TermIndex,
    cols: Columns,
    stints: Stints,
    rules: Rules,
    previous: dict[str, Any] | None,
    previous_weight: float | None = None,
    with_office_wait: bool = True,
) -> StintLp:
    """The rows that couple pairs, in holding/arrival columns, mapped onto the stints;
    ``with_office_wait=False`` leaves the office-wait rows out (still a relaxation)."""
    parts = {
        "round rules": round_block(t.rounds, cols),  # type: ignore[arg-type]
        "never_decrease": never_decrease_block(t, cols),
    }
    if with_office_wait:
        parts["office_wait"] = office_wait_block(t, cols)
    b = Block.concat(list(parts.values()))
    A = sp.csr_matrix((b.vals, (b.rows, b.cols)), shape=(len(b.lo), cols.n))
    hold_cost = cost_vector(
        round_costs(t.rounds, t.horizon, rules, previous, previous_weight), cols
    )
    A_s = (stints.T.T.tocsr() @ A.T).T  # csr of the transpose = csc, with no conversion
    A_s.sort_indices()
    cost = stints.T.T @ hold_cost
    return StintLp(
        A_s, b.lo, b.hi, np.asarray(cost).ravel(), {k: len(v.lo) for k, v in parts.items()}
    )


def _pass_csc(
    h: Any, A: sp.csc_matrix, cost: np.ndarray, lo: np.ndarray, hi: np.ndarray, integer: bool
) -> None:
    """``lo <= A x <= hi``, ``x`` in [0, 1] (integer if ``integer``), minimise ``cost · x``,
    into HiGHS by its array overload of ``passModel`` (:func:`rotation.model.lp.pass_lp`:
    0.17 s instead of 1.1 s for the 7.2M nonzeros of Hai Duong's stint LP)."""
    if not A.has_sorted_indices:
        A = A.sorted_indices()
    n = A.shape[1]
    pass_lp(h, cost, np.zeros(n), np.ones(n), lo, hi, A.indptr, A.indices, A.data, integer)


def solve_stint_lp(
    m: StintLp,
    time_limit: float = float("inf"),
    options: dict[str, Any] | None = None,
    stop: threading.Event | None = None,
) -> TermLp:
    """HiGHS on the stint LP (``options``: :data:`DEFAULT_LP_OPTIONS`); ``stop``: see
    :func:`rotation.model.lp.stop_when_asked`."""
    return open_stint_lp(m, time_limit, options, stop)[0]


def open_stint_lp(
    m: StintLp,
    time_limit: float = float("inf"),
    options: dict[str, Any] | None = None,
    stop: threading.Event | None = None,
) -> tuple[TermLp, Any]:
    """:func:`solve_stint_lp`, and the HiGHS instance holding the LP and its optimal basis, so
    that rows can be added and the LP solved again from that basis (:func:`resolve_with_rows`)."""
    t0 = time.perf_counter()
    h = _silent_highs()
    stop_when_asked(h, stop)
    for key, value in (options or DEFAULT_LP_OPTIONS).items():
        h.setOptionValue(key, value)
    if np.isfinite(time_limit):
        h.setOptionValue("time_limit", float(time_limit))
    _pass_csc(h, m.A, m.cost, m.lo, m.hi, integer=False)
    h.run()
    return _lp_result(h, m.A.shape[1], time.perf_counter() - t0), h


def resolve_with_rows(
    h: Any,
    new_cost: np.ndarray,
    rows: sp.csr_matrix,
    lo: np.ndarray,
    hi: np.ndarray,
    time_limit: float = float("inf"),
) -> TermLp:
    """Add ``len(new_cost)`` columns in [0, 1] (no entries yet) and the rows ``lo <= rows x <=
    hi`` (over every column, the new ones last) to the LP in ``h``, and solve it again from its
    basis (dual simplex: the old basis stays dual feasible)."""
    t0 = time.perf_counter()
    n_new = len(new_cost)
    if n_new:
        z = np.zeros(n_new)
        none = np.zeros(n_new, dtype=np.int32)
        h.addCols(n_new, new_cost, z, np.ones(n_new), 0, none, none[:0], z[:0])
    rows = rows.tocsr()
    rows.sort_indices()
    starts = rows.indptr[:-1].astype(np.int32)
    h.addRows(rows.shape[0], lo, hi, rows.nnz, starts, rows.indices.astype(np.int32), rows.data)
    if np.isfinite(time_limit):
        h.setOptionValue("time_limit", float(max(time_limit, 0.1)))
    h.run()
    return _lp_result(h, rows.shape[1], time.perf_counter() - t0)


def _lp_result(h: Any, n: int, secs: float) -> TermLp:
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        infeasible = status == highspy.HighsModelStatus.kInfeasible
        return TermLp(False, np.inf, np.zeros(n), np.zeros(n), secs, not infeasible)
    sol = h.getSolution()
    return TermLp(
        True,
        float(h.getInfo().objective_function_value),
        np.asarray(sol.col_value),
        np.asarray(sol.col_dual),
        secs,
        columns=n,
    )


@dataclass
class StintMip:
    """A HiGHS MIP over some stints: ``status`` "optimal" (proven over those stints),
    "feasible" (stopped with a solution), "infeasible" or "unknown"; ``s``: the 0/1 solution over
    the whole stint space (``None`` without one); ``objective``, ``bound``: scaled units."""

    status: str
    s: np.ndarray | None
    objective: float
    bound: float
    seconds: float


def solve_stint_mip(
    m: StintLp,
    keep: np.ndarray,
    time_limit: float,
    start: np.ndarray | None = None,
    extra: sp.csr_matrix | None = None,
    stop: threading.Event | None = None,
) -> StintMip:
    """HiGHS MIP of the stint LP's rows over the stints ``keep`` marks (the others fixed at 0);
    ``start``: a known 0/1 solution over the stint space (its kept part is passed as the first
    incumbent); ``extra``: more rows over the stint space, each ``<= 1``. Costs are integers
    (scaled), so an absolute gap below 1 is a proof over these stints. ``stop``: see
    :func:`rotation.model.lp.stop_when_asked`."""
    t0 = time.perf_counter()
    idx = np.nonzero(keep)[0]
    A, lo, hi = m.columns(idx)
    if extra is not None and extra.shape[0]:
        A = sp.vstack([A, extra.tocsc()[:, idx]])
        lo = np.concatenate([lo, np.full(extra.shape[0], -np.inf)])
        hi = np.concatenate([hi, np.ones(extra.shape[0])])
    h = _silent_highs()
    stop_when_asked(h, stop)
    for key, value in MIP_OPTIONS.items():
        h.setOptionValue(key, value)
    h.setOptionValue("time_limit", float(max(time_limit, 0.1)))
    # ("threads" is left alone: HiGHS fixes it at its first run in a process)
    _pass_csc(h, A.tocsc(), m.cost[idx], lo, hi, integer=True)
    if start is not None and np.all(start[~keep] < 0.5):
        sol = highspy.HighsSolution()
        sol.col_value = list(np.round(start[idx]))
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    secs = time.perf_counter() - t0
    status = h.getModelStatus()
    info = h.getInfo()
    if status == highspy.HighsModelStatus.kInfeasible:
        return StintMip("infeasible", None, np.inf, np.inf, secs)
    has = int(info.primal_solution_status) == int(highspy.SolutionStatus.kSolutionStatusFeasible)
    s = None
    if has:
        s = np.zeros(len(keep))
        s[idx] = np.round(np.asarray(h.getSolution().col_value))
    optimal = status == highspy.HighsModelStatus.kOptimal and has
    return StintMip(
        "optimal" if optimal else "feasible" if has else "unknown",
        s,
        float(info.objective_function_value) if has else np.inf,
        float(info.mip_dual_bound),
        secs,
    )


MIP_OPTIONS: dict[str, Any] = {
    "mip_rel_gap": 0.0,
    "mip_abs_gap": 0.5,  # integer costs: below 1 is optimal
    "presolve": "off",  # measured: presolve took 2-3 s of a 3 s solve on Hai Duong
}
"""HiGHS options of :func:`solve_stint_mip` (bench/README.md, issue 14)."""


def repeated_stays(
    stints: Stints, cols: Columns, rounds: Sequence[RoundTerms], s: np.ndarray
) -> sp.csr_matrix:
    """Rows ``arrive(k, j) + held(k − 1, j) <= 1`` (over the stint space) for each pair that a
    0/1 stint solution ``s`` holds in round k − 1 and starts a new stint of in round k: two
    back-to-back stints of one pair are one stay with no arrival in between, so such a solution
    is no roadmap; every roadmap keeps these rows (its stints are its maximal holding runs)."""
    v = stints.T @ s
    arr_rows: list[int] = []
    was_rows: list[int] = []
    for k in range(1, len(rounds)):
        r = rounds[k]
        j = np.asarray(r.arrive_pairs, dtype=np.int64)
        if not len(j):
            continue
        a = cols.arrive_col[k][j]
        w = cols.hold_off[k - 1] + r.prev[j]
        bad = (v[a] > 0.5) & (v[w] > 0.5)
        arr_rows += a[bad].tolist()
        was_rows += w[bad].tolist()
    n = len(arr_rows)
    R = sp.csr_matrix(
        (np.ones(2 * n), (np.tile(np.arange(n), 2), np.array(arr_rows + was_rows))),
        shape=(n, cols.n),
    )
    return (R @ stints.T).tocsr()


__all__ = [
    "MIP_OPTIONS",
    "StintLp",
    "StintMip",
    "Stints",
    "open_stint_lp",
    "pad_columns",
    "repeated_stays",
    "resolve_with_rows",
    "solve_stint_lp",
    "solve_stint_mip",
    "stint_lp",
    "term_stints",
]
