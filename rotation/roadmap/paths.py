"""Each cadre's way through the term as a flow: the office-wait rule, tightened for the LP.

``office_wait`` (:func:`rotation.roadmap.rows.office_wait`) is exact for 0/1 roadmaps, but as LP
rows it is weak: ``arrivals(k2) + held(k − 1) − held(k) <= 1`` lets half a stay end and half a
new one start, so the LP pays for a return from an office at half price. On Nghệ An × 2 those
rows are most of the stint LP's gap: without them the LP is 0.013% from the integer optimum;
with them, 0.065%.

Here a cadre's term is one unit of flow through a small network, and every stint of the cadre
is an arc of it, so the LP holds each cadre to a mix of whole ways through the term:

- ``free(b)``: in no post of the term yet and never released (round ``b``), the start of a cadre
  who held no post before the term; ``ended(b)``: a stay ended before round ``b`` (``ended(0)``:
  held a post before the term, the start of the incumbents);
- from ``free(b)`` or ``ended(b)`` the cadre may take any post in round ``b``; from
  ``ended(b)`` they may also be released to an office: ``office(b, b)``, then
  ``office(b, b′)`` round after round;
- from ``office(k, b′)`` they may take a post in round ``b′`` only once the wait is over
  (``min_years_in_post``) and only a post the rule still allows from an office (on their
  planning list, with ``min_years_to_retirement_from_office`` left);
- every stint leaves the round it starts from and arrives at ``ended(last + 1)``; the term's
  end is the sink.

Every roadmap is such a flow (its cadres' stays in order, each release followed by an arrival
the office-wait rows allow), so the rows are valid for every roadmap and the LP with them is
still a relaxation; the office-wait rows stay as they are (the flow remembers only the latest
release). The rows are added only for the cadres whose stints the LP splits
(:func:`split_cadres`): that is where the LP can gain.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from .relaxation import ReleaseFacts, TermLp, release_facts
from .rows import TermIndex
from .stints import StintLp, Stints, pad_columns, resolve_with_rows


@dataclass
class PathRows:
    """Flow rows for some cadres: ``S`` (rows × stint space) and ``P`` (rows × the block's own
    arc columns), every row ``S s + P a = rhs``."""

    S: sp.csr_matrix
    P: sp.csr_matrix
    rhs: np.ndarray

    @property
    def n_arcs(self) -> int:
        return int(self.P.shape[1])


class _Net:
    """The node and arc numbering of one cadre's network over ``n_r`` rounds (the same for every
    cadre); sink nodes have number −1 (no row)."""

    def __init__(self, n_r: int, waiting: np.ndarray) -> None:
        self.n_r = n_r
        n = 0

        def block(m: int) -> np.ndarray:
            nonlocal n
            out = n + np.arange(m)
            n += m
            return out

        self.free = block(n_r)
        self.ended = block(n_r)  # ended(b), b < n_r; ended(n_r) is the sink
        self.any_hub = block(n_r)  # a post of any kind may be taken in round b
        self.office_hub = block(n_r)  # a post an office allows may be taken in round b
        self.office = np.full((n_r, n_r), -1, dtype=np.int64)  # office(k, b), k <= b
        for k in range(n_r):
            self.office[k, k:] = block(n_r - k)
        self.n_nodes = n
        arcs: list[tuple[int, int]] = []
        for b in range(n_r):
            nxt = b + 1 < n_r
            arcs.append((self.free[b], self.free[b + 1] if nxt else -1))
            arcs.append((self.free[b], self.any_hub[b]))
            arcs.append((self.ended[b], self.any_hub[b]))
            arcs.append((self.ended[b], self.office[b, b]))
            arcs.append((self.any_hub[b], self.office_hub[b]))
            for k in range(b + 1):
                arcs.append((self.office[k, b], self.office[k, b + 1] if nxt else -1))
                if k < b and not waiting[k, b]:
                    arcs.append((self.office[k, b], self.office_hub[b]))
        self.arcs = np.array(arcs, dtype=np.int64)

    def end_of(self, last: np.ndarray) -> np.ndarray:
        """The node a stint ending in round ``last`` arrives at (−1: the term's end)."""
        b = last + 1
        return np.where(b < self.n_r, self.ended[np.minimum(b, self.n_r - 1)], -1)


def split_cadres(t: TermIndex, stints: Stints, x: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    """The cadres (indices into ``t.base.cadres``) with a stint the LP solution ``x`` splits."""
    n = len(stints)
    frac = np.nonzero((x[:n] > tol) & (x[:n] < 1 - tol))[0]
    return np.unique(stint_cadres(t, stints)[frac])


def stint_cadres(t: TermIndex, stints: Stints) -> np.ndarray:
    """The cadre (index into ``t.base.cadres``) of every stint."""
    out = np.empty(len(stints), dtype=np.int64)
    for k, r in enumerate(t.rounds):
        on = stints.first == k
        out[on] = r.elig.pair_cadre[stints.pair[on]]
    return out


def path_rows(
    t: TermIndex, stints: Stints, facts: ReleaseFacts, cadres: np.ndarray, n_space: int
) -> PathRows:
    """The flow rows of ``cadres`` (see the module docstring) over the stint space (``n_space``
    columns: the stints, then the vacancies) and their own arc columns."""
    n_r = len(t.rounds)
    net = _Net(n_r, facts.waiting)
    slot = np.full(facts.n_cadres, -1, dtype=np.int64)
    slot[cadres] = np.arange(len(cadres))
    who = stint_cadres(t, stints)
    mine = np.nonzero(slot[who] >= 0)[0]
    base_row = slot[who[mine]] * net.n_nodes
    first, last = stints.first[mine], stints.last[mine]
    # the node each stint leaves: a post an office allows from the office hub, any other from
    # the any-post hub (round 0's keep pairs, which are no arrival, too)
    allowed = np.zeros(len(mine), dtype=bool)
    keep0 = np.zeros(len(mine), dtype=bool)
    for k, r in enumerate(t.rounds):
        on = np.nonzero(first == k)[0]
        if not len(on):
            continue
        p = stints.pair[mine[on]]
        c = r.elig.pair_cadre[p]
        post = r.elig.pair_post[p]
        allowed[on] = facts.planned[c, facts.pos_code[post]] & ~facts.too_late[k][c]
        if k == 0:
            keep0[on] = ~r.can_arrive[p]
    hub = np.where(allowed & ~keep0, net.office_hub[first], net.any_hub[first])
    end = net.end_of(last)
    s_rows = [base_row + hub]
    s_cols = [mine]
    s_vals = [np.full(len(mine), -1.0)]
    to_end = end >= 0
    s_rows.append(base_row[to_end] + end[to_end])
    s_cols.append(mine[to_end])
    s_vals.append(np.ones(int(to_end.sum())))
    n_c = len(cadres)
    n_rows = n_c * net.n_nodes
    S = sp.csr_matrix(
        (np.concatenate(s_vals), (np.concatenate(s_rows), np.concatenate(s_cols))),
        shape=(n_rows, n_space),
    )
    n_a = len(net.arcs)
    arc_ids = np.arange(n_c * n_a)
    offs = np.repeat(np.arange(n_c) * net.n_nodes, n_a)
    src = np.tile(net.arcs[:, 0], n_c)
    dst = np.tile(net.arcs[:, 1], n_c)
    into = dst >= 0
    P = sp.csr_matrix(
        (
            np.concatenate([-np.ones(len(src)), np.ones(int(into.sum()))]),
            (
                np.concatenate([offs + src, offs[into] + dst[into]]),
                np.concatenate([arc_ids, arc_ids[into]]),
            ),
        ),
        shape=(n_rows, n_c * n_a),
    )
    rhs = np.zeros(n_rows)  # inflow − outflow = −supply
    start = facts.start[cadres]
    rhs[np.arange(n_c) * net.n_nodes + np.where(start, net.ended[0], net.free[0])] = -1.0
    return PathRows(S, P, rhs)


@dataclass
class Tightened:
    """The stint LP with the flow rows of ``cadres``: the stint space grows by the arcs
    (``stints.T`` has no entry for them: an arc holds no post), ``mat`` by the rows."""

    stints: Stints
    mat: StintLp
    lp: TermLp
    cadres: int
    seconds: float


def tighten(
    t: TermIndex, stints: Stints, mat: StintLp, lp: TermLp, h: Any, time_limit: float
) -> Tightened | None:
    """Add the flow rows of the cadres whose stints the LP splits and solve the LP again from its
    basis (``h``: :func:`rotation.roadmap.stints.open_stint_lp`); ``None`` when the LP splits no
    cadre's stints or the LP does not solve again in time."""
    t0 = time.perf_counter()
    cadres = split_cadres(t, stints, lp.x)
    if not len(cadres):
        return None
    n_space = mat.A.shape[1]
    pr = path_rows(t, stints, release_facts(t), cadres, n_space)
    rows = sp.hstack([pr.S, pr.P]).tocsr()
    lp2 = resolve_with_rows(h, np.zeros(pr.n_arcs), rows, pr.rhs, pr.rhs, time_limit)
    if not lp2.feasible:
        return None
    grown = Stints(stints.first, stints.last, stints.pair, pad_columns(stints.T, pr.n_arcs))
    mat2 = StintLp(
        pad_columns(mat.A, pr.n_arcs),
        mat.lo,
        mat.hi,
        np.concatenate([mat.cost, np.zeros(pr.n_arcs)]),
        {**mat.parts, "cadre paths": len(pr.rhs)},
        rows.tocsc(),
        pr.rhs,
        pr.rhs,
    )
    return Tightened(grown, mat2, lp2, len(cadres), time.perf_counter() - t0)


__all__ = ["PathRows", "Tightened", "path_rows", "split_cadres", "stint_cadres", "tighten"]
