"""The term roadmap's rows as arrays over holding and arrival columns (numpy, one ``passModel``).

The exact roadmap's LP is over stints (:mod:`rotation.roadmap.stints`), which maps the blocks
here that couple pairs (the single-round rows, ``never_decrease``, ``office_wait``) onto its
columns; :func:`term_lp_matrix` writes the whole holding/arrival formulation (the HiGHS MIP
baseline of ``bench/roadmap.py``; the tests check its arrays against the row generators).

Columns (:class:`Columns`): per round its holding literals, its own arrival literals and its
vacancies. Rows: every single-round rule row of every round (``rotation.model.all_rows`` over a
variable-free :class:`~rotation.roadmap.rounds.RoundIndex`, the rows CP-SAT gets) and the
cross-round rules of :mod:`rotation.roadmap.rows`, the per-triple ones as arrays:

- ``arrival``: ``arrive ≥ held now − held before`` always; its two other rows (``arrive ≤ held
  now``, ``arrive + held before ≤ 1``) only cap an arrival from above, so they are written only
  for an arrival some row or the objective pushes up (a negative cost, a positive coefficient in
  a ``≥`` row or a negative one in a ``≤`` row); for every other arrival the LP optimum sits at
  ``max(0, now − before)`` anyway and the rows change nothing;
- ``continue_only`` and ``minimum_stay`` as arrays, equal row for row to the generators
  (``tests/roadmap/test_relaxation.py`` checks it);
- ``office_wait`` and ``never_decrease`` as arrays too, row for row the generators' (a few
  thousand rows).

Leaving a row out of an LP can only lower its optimum, so whatever is dropped, the bound and the
reduced costs stay valid for the exact CP-SAT model over every triple (a relaxation of it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np

from ..model import all_rows, holding_costs, pair_costs, vacancy_costs
from ..model.constraints import Row
from ..rules import Rules
from .horizon import Horizon, stay_until
from .rounds import RoundIndex, RoundTerms
from .rows import SpanRow, TermIndex


class Columns:
    """The LP's columns: per round its holding literals, its own arrival literals, its
    vacancies (a pair without an arrival literal of its own arrives when held)."""

    def __init__(self, rounds: Sequence[RoundTerms]) -> None:
        self.hold_off: list[int] = []
        self.arrive_col: list[np.ndarray] = []  # per round, pair -> column of its arrival
        self.vac_off: list[int] = []
        n = 0
        for r in rounds:
            self.hold_off.append(n)
            amap = n + np.arange(r.n_pairs, dtype=np.int64)
            n += r.n_pairs
            amap[np.asarray(r.arrive_pairs, dtype=np.int64)] = n + np.arange(len(r.arrive_pairs))
            self.arrive_col.append(amap)
            n += len(r.arrive_pairs)
            self.vac_off.append(n)
            n += len(r.elig.posts) if r.allow_vacancies else 0
        self.n = n

    def col(self, k: int, kind: str, j: int) -> int:
        if kind == "hold":
            return self.hold_off[k] + j
        if kind == "arrive":
            return int(self.arrive_col[k][j])
        return self.vac_off[k] + j


# --------------------------------------------------------------------------- objective
@dataclass
class RoundCosts:
    """One round's objective coefficients (scaled integers): per pair while held, per pair on
    arrival (0 where it cannot arrive), per post when vacant (empty without vacancies)."""

    hold: np.ndarray
    arrive: np.ndarray
    vacant: np.ndarray


def round_costs(
    rounds: Sequence[RoundTerms],
    horizon: Horizon,
    rules: Rules,
    previous: dict[str, Any] | None,
    previous_weight: float | None = None,
) -> list[RoundCosts]:
    """The term objective per round as arrays (see
    :func:`rotation.roadmap.model.objective_terms`, which lists the same coefficients)."""
    from .model import previous_rewards

    n_r = len(rounds)
    out: list[RoundCosts] = []
    for k, r in enumerate(rounds):
        f = (1 - horizon.discount) ** k
        hold = holding_costs(r.elig)
        arrive = np.where(r.can_arrive, np.round((pair_costs(r.elig) - hold) * f), 0)
        vac = np.zeros(0, dtype=np.int64)
        if r.allow_vacancies:
            vac = np.round(vacancy_costs(r.elig) * f).astype(np.int64)
        out.append(
            RoundCosts(np.round(hold * f / n_r).astype(np.int64), arrive.astype(np.int64), vac)
        )
    for kp, jp, bonus in previous_rewards(rounds, horizon, rules, previous, previous_weight):
        out[kp].hold[jp] -= bonus
    return out


def cost_vector(costs: list[RoundCosts], cols: Columns) -> np.ndarray:
    c = np.zeros(cols.n)
    for k, rc in enumerate(costs):
        n = len(rc.hold)
        c[cols.hold_off[k] : cols.hold_off[k] + n] += rc.hold
        c[cols.arrive_col[k]] += rc.arrive  # a pair without its own arrival pays on its hold
        c[cols.vac_off[k] : cols.vac_off[k] + len(rc.vacant)] += rc.vacant
    return c


# --------------------------------------------------------------------------- rows as arrays
@dataclass
class Block:
    """Rows ``lo <= A x <= hi`` as coordinates: ``rows`` numbers the block's own rows."""

    rows: np.ndarray
    cols: np.ndarray
    vals: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    @staticmethod
    def empty() -> Block:
        z = np.zeros(0)
        return Block(z.astype(np.int64), z.astype(np.int64), z, z, z)

    @staticmethod
    def of_terms(cols: list[np.ndarray], vals: list[float], lo: float, hi: float) -> Block:
        """Rows of the same shape: row ``i`` is ``Σ_t vals[t] × x[cols[t][i]]``."""
        n = len(cols[0])
        rows = np.tile(np.arange(n, dtype=np.int64), len(cols))
        v = np.concatenate([np.full(n, float(x)) for x in vals])
        return Block(rows, np.concatenate(cols), v, np.full(n, lo), np.full(n, hi))

    @staticmethod
    def concat(blocks: Sequence[Block]) -> Block:
        blocks = [b for b in blocks if len(b.lo)]
        if not blocks:
            return Block.empty()
        offs = np.cumsum([0] + [len(b.lo) for b in blocks[:-1]])
        return Block(
            np.concatenate([b.rows + o for b, o in zip(blocks, offs, strict=True)]),
            np.concatenate([b.cols for b in blocks]),
            np.concatenate([b.vals for b in blocks]),
            np.concatenate([b.lo for b in blocks]),
            np.concatenate([b.hi for b in blocks]),
        )

    def holds(self, v: np.ndarray, tol: float = 1e-6) -> bool:
        """Whether the 0/1 vector ``v`` satisfies every row."""
        ax = np.bincount(self.rows, weights=self.vals * v[self.cols], minlength=len(self.lo))
        return bool(np.all(ax >= self.lo - tol) and np.all(ax <= self.hi + tol))


INF = np.inf


def round_block(rounds: Sequence[RoundIndex], cols: Columns) -> Block:
    """Every single-round rule row of every round (the same rows the CP-SAT model gets)."""
    out: list[Block] = []
    for k, r in enumerate(rounds):
        rows = list(all_rows(r))
        out.append(_rows_block(rows, k, cols))
    return Block.concat(out)


def _rows_block(rows: list[Row], k: int, cols: Columns) -> Block:
    r_idx, c_idx, vals = [], [], []
    lo = np.array([-INF if row.lo is None else float(row.lo) for row in rows])
    hi = np.array([INF if row.hi is None else float(row.hi) for row in rows])
    for i, row in enumerate(rows):
        arrivals = np.asarray(row.arrivals, dtype=np.int64)
        c = np.concatenate(
            [
                cols.hold_off[k] + row.pairs.astype(np.int64),
                cols.vac_off[k] + np.asarray(row.vacs, dtype=np.int64),
                cols.arrive_col[k][arrivals],
            ]
        )
        v = np.concatenate(
            [row.coefs, np.ones(len(row.vacs), dtype=np.int64), row.arrival_weights()]
        )
        r_idx.append(np.full(len(c), i, dtype=np.int64))
        c_idx.append(c)
        vals.append(v.astype(float))
    if not rows:
        return Block.empty()
    return Block(np.concatenate(r_idx), np.concatenate(c_idx), np.concatenate(vals), lo, hi)


def span_block(rows: list[SpanRow], cols: Columns) -> Block:
    """Generator rows of :mod:`rotation.roadmap.rows` as a block."""
    r_idx: list[int] = []
    c_idx: list[int] = []
    vals: list[float] = []
    for i, srow in enumerate(rows):
        for t in srow.terms:
            r_idx.append(i)
            c_idx.append(cols.col(t.round, t.kind, t.pair))
            vals.append(float(t.coef))
    lo = np.array([-INF if s.lo is None else float(s.lo) for s in rows])
    hi = np.array([INF if s.hi is None else float(s.hi) for s in rows])
    return Block(
        np.asarray(r_idx, dtype=np.int64),
        np.asarray(c_idx, dtype=np.int64),
        np.asarray(vals),
        lo,
        hi,
    )


@dataclass
class ReleaseFacts:
    """What the office-wait rule reads about each cadre (index into ``t.base.cadres``) and
    round: ``start``: held a post before the term (an in-scope or a merged post's incumbent);
    ``active[k]``: retired neither by round ``k`` nor before; ``has_pairs``: a pair in some
    round; ``held_any[k]``: a pair in round ``k``; ``planned[c, q]``: position ``q``
    (``pos_code`` of each post) is on the cadre's planning list; ``too_late[k]``: fewer than
    ``min_years_to_retirement_from_office`` left at round ``k``; ``waiting[k, k2]``: released in
    round ``k``, still waiting in round ``k2`` (less than ``min_years_in_post``)."""

    n_cadres: int
    start: np.ndarray
    active: list[np.ndarray]
    has_pairs: np.ndarray
    held_any: list[np.ndarray]
    planned: np.ndarray
    pos_code: np.ndarray
    too_late: list[np.ndarray]
    waiting: np.ndarray


def release_facts(t: TermIndex) -> ReleaseFacts:
    """:class:`ReleaseFacts` of a term (read by :func:`office_wait_block` and the cadres' flow
    rows, :mod:`rotation.roadmap.paths`)."""
    from ..concepts import retirement_dates, years_between

    base, days, rounds = t.base, t.days, t.rounds
    n_c, n_r = len(base.cadres), len(rounds)
    wait = t.rules.min_years_in_post
    retire = retirement_dates(base, t.rules).tolist()
    from_office = t.rules.min_years_to_retirement_from_office
    too_late = [np.array([years_between(day, d) < from_office for d in retire]) for day in days]
    merged = base.posts.loc[base.posts.index.isin(base.merged_posts), "incumbent_id"]
    start_ids = {c for c in rounds[0].elig.posts["incumbent_id"] if isinstance(c, str)}
    start_ids |= {c for c in merged if isinstance(c, str)}
    start = base.cadres.index.isin(sorted(start_ids))
    gone = np.zeros(n_c, dtype=bool)
    active = []  # per round: not retired by it nor by an earlier round (the generator's break)
    for k in range(n_r):
        gone = gone | base.cadres.index.isin(sorted(t.retired[k]))
        active.append(~gone)
    has_pairs = np.zeros(n_c, dtype=bool)
    for r in rounds:
        has_pairs[r.elig.pair_cadre] = True
    held_any = [np.bincount(r.elig.pair_cadre, minlength=n_c) > 0 for r in rounds]
    position = rounds[0].elig.posts["position"].to_numpy()
    pos_names, pos_code = np.unique(position.astype(str), return_inverse=True)
    planned = np.zeros((n_c, len(pos_names)), dtype=bool)
    for i, pp in enumerate(base.cadres["planned_positions"].tolist()):
        for q in pp or ():
            hit = np.nonzero(pos_names == q)[0]
            if len(hit):
                planned[i, hit[0]] = True
    waiting = np.array(
        [[years_between(days[k], days[k2]) < wait - 1e-9 for k2 in range(n_r)] for k in range(n_r)]
    )
    return ReleaseFacts(
        n_c, start, active, has_pairs, held_any, planned, pos_code, too_late, waiting
    )


def office_wait_block(t: TermIndex, cols: Columns) -> Block:
    """:func:`rotation.roadmap.rows.office_wait` as arrays, in the same row order (by cadre
    id, then release round, then arrival round) and with the same terms: for a cadre released
    in round ``k`` (held a post in ``k − 1`` — before round 0: an incumbent of an in-scope or
    merged post — and none in ``k``) each later round's barred arrivals (still waiting, or a
    position off their planning list) are bounded by ``arrivals(k2) + held(k − 1) − held(k)
    <= 1`` (``<= 0`` in round 0); barred too: an arrival with fewer than
    ``min_years_to_retirement_from_office`` left (Reg. 65)."""
    base, rounds = t.base, t.rounds
    n_c, n_r = len(base.cadres), len(rounds)
    f = release_facts(t)
    start, active, has_pairs, held_any = f.start, f.active, f.has_pairs, f.held_any
    planned, pos_code, too_late = f.planned, f.pos_code, f.too_late
    rank = np.empty(n_c, dtype=np.int64)  # the generator walks cadres in sorted id order
    rank[np.argsort(base.cadres.index.to_numpy().astype(str), kind="stable")] = np.arange(n_c)
    keys: list[np.ndarray] = []  # (cadre rank, k, k2) of each row
    entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (row key index, col, val)
    his: list[np.ndarray] = []
    n_rows = 0
    for k in range(n_r):
        released = has_pairs & active[k] & (held_any[k - 1] if k else start)
        hold_j = np.nonzero(released[rounds[k].elig.pair_cadre])[0]
        was_j = np.nonzero(released[rounds[k - 1].elig.pair_cadre])[0] if k else hold_j[:0]
        for k2 in range(k + 1, n_r):
            r2 = rounds[k2]
            waiting = f.waiting[k, k2]
            cad2 = r2.elig.pair_cadre
            barred = r2.can_arrive & released[cad2]
            if not waiting:
                barred &= ~planned[cad2, pos_code[r2.elig.pair_post]] | too_late[k2][cad2]
            arr_j = np.nonzero(barred)[0]
            who = np.unique(cad2[arr_j])
            if not len(who):
                continue
            row_of = np.full(n_c, -1, dtype=np.int64)
            row_of[who] = n_rows + np.arange(len(who))
            n_rows += len(who)
            keys.append(np.stack([rank[who], np.full(len(who), k), np.full(len(who), k2)], 1))
            his.append(np.full(len(who), 1.0 if k else 0.0))
            parts = [(arr_j, cad2, cols.arrive_col[k2][arr_j], 1.0)]
            parts.append((hold_j, rounds[k].elig.pair_cadre, cols.hold_off[k] + hold_j, -1.0))
            if k:
                parts.append(
                    (was_j, rounds[k - 1].elig.pair_cadre, cols.hold_off[k - 1] + was_j, 1.0)
                )
            for j, cad, c, val in parts:
                rr = row_of[cad[j]]
                ok = rr >= 0
                entries.append((rr[ok], c[ok], np.full(int(ok.sum()), val)))
    if not n_rows:
        return Block.empty()
    key = np.concatenate(keys)
    order = np.lexsort((key[:, 2], key[:, 1], key[:, 0]))
    new_row = np.empty(n_rows, dtype=np.int64)
    new_row[order] = np.arange(n_rows)
    rows = new_row[np.concatenate([e[0] for e in entries])]
    hi = np.concatenate(his)[order]
    return Block(
        rows,
        np.concatenate([e[1] for e in entries]).astype(np.int64),
        np.concatenate([e[2] for e in entries]),
        np.full(n_rows, -INF),
        hi,
    )


def arrival_lower_block(rounds: Sequence[RoundTerms], cols: Columns) -> Block:
    """``arrive − held now + held before ≥ 0`` for every arrival literal of its own."""
    out = []
    for k, r in enumerate(rounds):
        j = np.asarray(r.arrive_pairs, dtype=np.int64)
        if not len(j):
            continue
        now, was = cols.hold_off[k] + j, cols.hold_off[k - 1] + r.prev[j]
        out.append(Block.of_terms([cols.arrive_col[k][j], now, was], [1, -1, 1], 0, INF))
    return Block.concat(out)


def arrival_upper_block(rounds: Sequence[RoundTerms], cols: Columns, pushed: np.ndarray) -> Block:
    """``arrive + held before ≤ 1`` and ``arrive − held now ≤ 0`` for the arrival literals whose
    column is in ``pushed`` (a boolean mask over the columns)."""
    out = []
    for k, r in enumerate(rounds):
        j = np.asarray(r.arrive_pairs, dtype=np.int64)
        if not len(j):
            continue
        j = j[pushed[cols.arrive_col[k][j]]]
        if not len(j):
            continue
        now, was, arr = (
            cols.hold_off[k] + j,
            cols.hold_off[k - 1] + r.prev[j],
            cols.arrive_col[k][j],
        )
        out.append(Block.of_terms([arr, was], [1, 1], -INF, 1))
        out.append(Block.of_terms([arr, now], [1, -1], -INF, 0))
    return Block.concat(out)


def continue_only_block(rounds: Sequence[RoundTerms], cols: Columns) -> Block:
    """``held now − held before ≤ 0`` for a pair that cannot arrive (``held now ≤ 0`` when it
    did not exist the round before): :func:`rotation.roadmap.rows.continue_only`."""
    out = []
    for k, r in enumerate(rounds):
        if k == 0:
            continue
        j = np.nonzero(~r.can_arrive)[0]
        prev = r.prev[j]
        has, alone = j[prev >= 0], j[prev < 0]
        if len(has):
            out.append(
                Block.of_terms(
                    [cols.hold_off[k] + has, cols.hold_off[k - 1] + r.prev[has]], [1, -1], -INF, 0
                )
            )
        if len(alone):
            out.append(Block.of_terms([cols.hold_off[k] + alone], [1], -INF, 0))
    return Block.concat(out)


def minimum_stay_block(t: TermIndex, cols: Columns) -> Block:
    """``held in round k2 − arrive in round k ≥ 0`` while the stay begun in round k lasts and
    the cadre has not retired: :func:`rotation.roadmap.rows.minimum_stay`."""
    cadre_ids = t.base.cadres.index
    retired = [cadre_ids.isin(sorted(s)) for s in t.retired]
    out = []
    for k, r in enumerate(t.rounds):
        j = np.nonzero(r.can_arrive)[0]
        until = stay_until(t.days[k], t.horizon.min_stay_years)
        alive = np.ones(len(j), dtype=bool)
        cad = r.elig.pair_cadre[j]
        arr = cols.arrive_col[k][j]
        for k2 in range(k + 1, len(t.rounds)):
            if t.days[k2] >= until:
                break
            alive &= ~retired[k2][cad]
            r2 = t.rounds[k2]
            gids = r.gids[j]
            pos = np.searchsorted(r2.gids, gids)
            pos = np.minimum(pos, max(len(r2.gids) - 1, 0))
            found = (r2.gids[pos] == gids) if len(r2.gids) else np.zeros(len(j), dtype=bool)
            there = alive & found
            gone = alive & ~found
            if there.any():
                out.append(
                    Block.of_terms([arr[there], cols.hold_off[k2] + pos[there]], [-1, 1], 0, INF)
                )
            if gone.any():
                out.append(Block.of_terms([arr[gone]], [-1], 0, INF))
    return Block.concat(out)


def never_decrease_block(t: TermIndex, cols: Columns) -> Block:
    """``non-local holders(k) − non-local holders(k − 1) ≥ 0`` per scope and round ``k ≥ 1``,
    for each trajectory target with ``never_decrease``: :func:`rotation.roadmap.rows.never_decrease`
    as arrays, in the same row order."""
    e0 = t.rounds[0].elig
    n_r = len(t.rounds)
    out = []
    for target in t.horizon.trajectory:
        if not target.never_decrease:
            continue
        idx = np.nonzero((e0.posts["position"] == target.position).to_numpy())[0]
        units = e0.posts["unit_id"].to_numpy()[idx]
        scopes = np.asarray(t.base.scope_of(list(units), target.scope_level), dtype=str)
        names, sid = np.unique(scopes, return_inverse=True)  # sorted, as the generator
        scope_of_post = np.full(len(e0.posts), -1, dtype=np.int64)
        scope_of_post[idx] = sid
        n_s = len(names)
        r_idx, c_idx, vals = [], [], []
        for kk, r in enumerate(t.rounds):
            s_of = scope_of_post[r.elig.pair_post]
            j = np.nonzero((s_of >= 0) & r.elig.pair_non_local)[0]
            for k, sign in ((kk, 1.0), (kk + 1, -1.0)):  # row of round k: +now, −before
                if 1 <= k < n_r:
                    r_idx.append(s_of[j] * (n_r - 1) + (k - 1))
                    c_idx.append(cols.hold_off[kk] + j)
                    vals.append(np.full(len(j), sign))
        n_rows = n_s * (n_r - 1)
        if n_rows == 0:
            continue
        out.append(
            Block(
                np.concatenate(r_idx or [np.zeros(0, dtype=np.int64)]).astype(np.int64),
                np.concatenate(c_idx or [np.zeros(0, dtype=np.int64)]).astype(np.int64),
                np.concatenate(vals or [np.zeros(0)]),
                np.zeros(n_rows),
                np.full(n_rows, INF),
            )
        )
    return Block.concat(out)


def pushed_up(blocks: Sequence[Block], cost: np.ndarray) -> np.ndarray:
    """Columns that the objective or some row may push up: a negative cost, a positive
    coefficient in a row with a lower bound or a negative one in a row with an upper bound."""
    up = cost < 0
    for b in blocks:
        has_lo = np.isfinite(b.lo)[b.rows]
        has_hi = np.isfinite(b.hi)[b.rows]
        hit = ((b.vals > 0) & has_lo) | ((b.vals < 0) & has_hi)
        up[b.cols[hit]] = True
    return up


@dataclass
class TermMatrix:
    """``lo <= A x <= hi`` (a :class:`Block`), the cost vector, and what it holds."""

    block: Block
    cost: np.ndarray
    parts: dict[str, int]  # rows per part (stats)
    arrival_rows: np.ndarray  # the row defining each own arrival literal (arrive ≥ now − before)
    arrival_cols: np.ndarray  # ... and that literal's column

    @property
    def lo(self) -> np.ndarray:
        return self.block.lo

    def holds(self, v: np.ndarray) -> bool:
        return self.block.holds(v)


def term_lp_matrix(
    rounds: Sequence[RoundIndex],
    term: TermIndex,
    cols: Columns,
    rules: Rules,
    previous: dict[str, Any] | None,
    full: bool = False,
    previous_weight: float | None = None,
) -> TermMatrix:
    """The LP relaxation's rows and objective (see the module docstring); ``full``: every
    cross-round row, ``arrival``'s upper rows for every arrival too (the same rows as the CP-SAT
    model, for a HiGHS MIP)."""
    cost = cost_vector(round_costs(rounds, term.horizon, rules, previous, previous_weight), cols)
    parts: dict[str, Block] = {
        "round rules": round_block(rounds, cols),
        "arrival": arrival_lower_block(rounds, cols),
        "continue_only": continue_only_block(rounds, cols),
        "min_stay": minimum_stay_block(term, cols),
        "office_wait": office_wait_block(term, cols),
        "never_decrease": never_decrease_block(term, cols),
    }
    others = [b for name, b in parts.items() if name != "arrival"]  # the row that defines it
    pushed = np.ones(cols.n, dtype=bool) if full else pushed_up(others, cost)
    parts["arrival (caps)"] = arrival_upper_block(rounds, cols, pushed)
    first = len(parts["round rules"].lo)
    arr = parts["arrival"]
    arrival_cols = np.concatenate(  # in arrival_lower_block's order: round by round
        [np.zeros(0, dtype=np.int64)]
        + [
            cols.arrive_col[k][np.asarray(r.arrive_pairs, dtype=np.int64)]
            for k, r in enumerate(rounds)
        ]
    )
    return TermMatrix(
        Block.concat(list(parts.values())),
        cost,
        {k: len(b.lo) for k, b in parts.items()},
        first + np.arange(len(arr.lo), dtype=np.int64),
        arrival_cols,
    )


def highs_lp(m: TermMatrix, integer: bool = False) -> highspy.HighsLp:
    """The matrix as a HiGHS model (column-wise, every column in [0, 1])."""
    return _highs_model(m.block, m.cost, integer)


def _highs_model(b: Block, cost: np.ndarray, integer: bool = False) -> highspy.HighsLp:
    n = len(cost)
    order = np.lexsort((b.rows, b.cols))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, len(b.lo)
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.ones(n)
    lp.row_lower_ = b.lo
    lp.row_upper_ = b.hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.searchsorted(b.cols[order], np.arange(n + 1)).astype(np.int32)
    lp.a_matrix_.index_ = b.rows[order].astype(np.int32)
    lp.a_matrix_.value_ = b.vals[order]
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n
    return lp


DEFAULT_LP_OPTIONS: dict[str, Any] = {"solver": "simplex", "simplex_strategy": 1, "presolve": "off"}


@dataclass
class TermLp:
    """An LP's bound (scaled units), solution and reduced costs."""

    feasible: bool
    bound: float  # scaled objective units
    x: np.ndarray
    reduced_cost: np.ndarray
    seconds: float
    stopped: bool = False  # the time limit (not infeasibility) ended the LP
    columns: int = 0


__all__ = [
    "DEFAULT_LP_OPTIONS",
    "Block",
    "Columns",
    "RoundCosts",
    "TermLp",
    "TermMatrix",
    "arrival_lower_block",
    "arrival_upper_block",
    "continue_only_block",
    "cost_vector",
    "highs_lp",
    "minimum_stay_block",
    "never_decrease_block",
    "office_wait_block",
    "pushed_up",
    "round_costs",
    "term_lp_matrix",
]
