"""The rows as one sparse matrix, and LPs over part of it: a block of provinces, a conflict's scope.

A diagnosis solves many small LPs (a deletion filter step, a nearest value). Over the whole
problem each costs a whole LP; over a conflict's scope (its posts and every pair of the cadres who
may reach them) it costs a small one. The scope's LP is a **relaxation** of the whole: every
row keeps its columns inside the scope, and its bounds are widened by the most the columns
outside could contribute (each column lies in [0, 1]): ``lo − Σ max(a, 0)`` and
``hi − Σ min(a, 0)`` over the outside columns. So a set of rows infeasible in the scope's LP is
infeasible in the whole, and a value optimised there is at least as good as the whole LP's
(checked against the whole before it is used).

Independent blocks (:func:`blocks`): provinces joined by no row (no rule crosses a province line,
except a plan-wide one such as the budget) are solved separately, exactly.

Every LP is a HiGHS model built once per scope and re-solved with rows switched on or off by
their bounds (warm-started from the previous basis), with the same options as
:func:`rotation.model.lp._diagnosis_highs`: dual simplex, no presolve, seed 0 — deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import highspy
import numpy as np

from ..model import PairIndex, Row
from ..model.lp import _diagnosis_highs, _row_columns

if TYPE_CHECKING:  # scipy.sparse (70 ms) loads when a diagnosis runs, not with every solve
    import scipy.sparse as sp

TOL = 1e-6
INF = highspy.kHighsInf


@dataclass
class RowsMatrix:
    """``lo <= A x <= hi`` over the pair columns then the vacancy columns (every one in [0, 1]);
    ``col_post``: the post of each column; ``weight``: a relaxable row's slack weight in the
    elastic phase 1 (1 / its largest coefficient, so a budget in VND and a count weigh alike),
    0 for a structural row."""

    a: sp.csr_matrix
    lo: np.ndarray
    hi: np.ndarray
    col_post: np.ndarray
    weight: np.ndarray
    pos: np.ndarray  # per row, the sum of its positive coefficients
    neg: np.ndarray  # per row, the sum of its negative coefficients
    n_posts: int
    csc: sp.csc_matrix  # the same matrix by columns (a scope's columns sliced in O(their size))

    @property
    def n_rows(self) -> int:
        return int(self.a.shape[0])


def rows_matrix(ix: PairIndex, rows: list[Row]) -> RowsMatrix:
    """Every row of ``rows`` as one sparse matrix (duplicate columns of a row summed)."""
    import scipy.sparse as sp

    n = ix.n_pairs
    n_post = len(ix.elig.posts)
    n_vac = n_post if ix.allow_vacancies else 0
    r_idx: list[np.ndarray] = []
    c_idx: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    lo = np.full(len(rows), -np.inf)
    hi = np.full(len(rows), np.inf)
    weight = np.zeros(len(rows))
    for i, r in enumerate(rows):
        cols, coefs = _row_columns(n, r)
        r_idx.append(np.full(len(cols), i, dtype=np.int64))
        c_idx.append(cols)
        vals.append(coefs)
        if r.lo is not None:
            lo[i] = float(r.lo)
        if r.hi is not None:
            hi[i] = float(r.hi)
        if r.relaxable:
            weight[i] = 1.0 / max(1.0, float(np.abs(r.coefs).max()) if len(r.coefs) else 1.0)
    ri = np.concatenate(r_idx) if r_idx else np.zeros(0, np.int64)
    ci = np.concatenate(c_idx) if c_idx else np.zeros(0, np.int64)
    va = np.concatenate(vals) if vals else np.zeros(0)
    a = sp.csr_matrix((va, (ri, ci)), shape=(len(rows), n + n_vac))
    a.sum_duplicates()
    col_post = np.concatenate([ix.elig.pair_post.astype(np.int64), np.arange(n_vac)])
    pos = np.asarray(a.maximum(0).sum(axis=1)).ravel()
    neg = np.asarray(a.minimum(0).sum(axis=1)).ravel()
    return RowsMatrix(a, lo, hi, col_post, weight, pos, neg, n_post, a.tocsc())


def blocks(m: RowsMatrix, post_group: np.ndarray) -> list[np.ndarray]:
    """The posts split into independent blocks: groups (provinces) joined by a row are one
    block. ``post_group``: an integer group per post. Blocks ordered by their first post."""
    groups = np.unique(post_group)
    parent = {int(g): int(g) for g in groups}

    def find(g: int) -> int:
        while parent[g] != g:
            parent[g] = parent[parent[g]]
            g = parent[g]
        return g

    a = m.a
    col_group = post_group[m.col_post][a.indices]
    filled = np.nonzero(np.diff(a.indptr))[0]  # rows with a column
    starts = a.indptr[filled]
    lo = np.minimum.reduceat(col_group, starts) if len(starts) else starts
    hi = np.maximum.reduceat(col_group, starts) if len(starts) else starts
    for i in filled[lo != hi].tolist():  # rows across groups (a plan-wide rule): join them
        gs = np.unique(col_group[a.indptr[i] : a.indptr[i + 1]])
        for g in gs[1:].tolist():
            ra, rb = find(int(gs[0])), find(g)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    root = np.array([find(int(g)) for g in post_group.tolist()], dtype=np.int64)
    out: dict[int, list[int]] = {}
    for p, r in enumerate(root.tolist()):
        out.setdefault(r, []).append(p)
    return [np.asarray(ps, dtype=np.int64) for ps in sorted(out.values(), key=lambda ps: ps[0])]


@dataclass
class LpAnswer:
    """One LP: ``ok`` when solved to optimality; ``value`` the objective (of the optimised row's
    expression, in its own sense); ``x`` the scope's column values; ``slack`` and ``dual`` per
    global row (zero outside the scope; slack only in elastic mode)."""

    ok: bool
    value: float = np.inf
    x: np.ndarray | None = None
    slack: np.ndarray | None = None
    dual: np.ndarray | None = None


class ScopeLp:
    """The LP of the columns of some posts (a block, a conflict's scope), every row projected
    onto them (see the module docstring); rows are switched on and off by their bounds.

    ``elastic``: every relaxable row gets a slack column of cost its weight (phase 1)."""

    def __init__(self, m: RowsMatrix, posts: np.ndarray, elastic: bool = False) -> None:
        self.m = m
        in_scope = np.zeros(m.n_posts, dtype=bool)
        in_scope[posts] = True
        self.cols = np.nonzero(in_scope[m.col_post])[0]
        sub = m.csc[:, self.cols].tocsr()
        nnz = np.diff(sub.indptr)
        pos_in = np.asarray(sub.maximum(0).sum(axis=1)).ravel()
        neg_in = np.asarray(sub.minimum(0).sum(axis=1)).ravel()
        lo = m.lo - (m.pos - pos_in)
        hi = m.hi - (m.neg - neg_in)
        useful = (nnz > 0) & (np.isfinite(lo) | np.isfinite(hi))
        self.rows = np.nonzero(useful)[0]  # global row of each local row
        self.local = np.full(m.n_rows, -1, dtype=np.int64)
        self.local[self.rows] = np.arange(len(self.rows))
        self.lo, self.hi = lo[self.rows], hi[self.rows]
        sub = sub[self.rows]
        self.sub = sub
        n_col = len(self.cols)
        slack_rows: list[int] = []
        signs: list[float] = []
        costs: list[float] = []
        if elastic:
            for j, i in enumerate(self.rows.tolist()):
                w = m.weight[i]
                if w == 0:
                    continue
                if np.isfinite(self.lo[j]):
                    slack_rows.append(j)
                    signs.append(1.0)
                    costs.append(w)
                if np.isfinite(self.hi[j]):
                    slack_rows.append(j)
                    signs.append(-1.0)
                    costs.append(w)
        self.slack_rows = np.asarray(slack_rows, dtype=np.int64)
        n_slack = len(slack_rows)
        import scipy.sparse as sp

        a = sp.hstack(
            [
                sub,
                sp.csr_matrix((signs, (slack_rows, np.arange(n_slack))), (len(self.rows), n_slack)),
            ]
        ).tocsc()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n_col + n_slack, len(self.rows)
        lp.col_cost_ = np.concatenate([np.zeros(n_col), np.asarray(costs, dtype=float)])
        lp.col_lower_ = np.zeros(n_col + n_slack)
        lp.col_upper_ = np.concatenate([np.ones(n_col), np.full(n_slack, np.inf)])
        lp.row_lower_ = self.lo.astype(float)
        lp.row_upper_ = self.hi.astype(float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr.astype(np.int32)
        lp.a_matrix_.index_ = a.indices.astype(np.int32)
        lp.a_matrix_.value_ = a.data.astype(float)
        self.n_col, self.n_slack = n_col, n_slack
        self.h = _diagnosis_highs(lp)
        self.on = np.ones(len(self.rows), dtype=bool)
        self.cost = np.asarray(lp.col_cost_, dtype=float).copy()
        self.base_cost = self.cost.copy()

    def stop_elastic(self) -> None:
        """From now on the plain LP: every slack column fixed at 0 and free of cost (the same
        model, so a block's phase 1 and its later LPs share one build)."""
        if not self.n_slack:
            return
        idx = np.arange(self.n_col, self.n_col + self.n_slack, dtype=np.int32)
        zeros = np.zeros(self.n_slack)
        self.h.changeColsBounds(self.n_slack, idx, zeros, zeros)
        self.base_cost[self.n_col :] = 0.0
        self._objective(None)

    def full(self, x: np.ndarray) -> np.ndarray:
        """The scope's column values as a vector over every global column (0 outside)."""
        out = np.zeros(self.m.a.shape[1])
        out[self.cols] = x
        return out

    def inside(self, i: int) -> bool:
        """Row ``i`` has every column in the scope (its expression is the scope's to optimise)."""
        m = self.m
        return (
            self.local[i] >= 0
            and self.sub.indptr[self.local[i] + 1] - self.sub.indptr[self.local[i]]
            == m.a.indptr[i + 1] - m.a.indptr[i]
        )

    def _switch(self, keep: np.ndarray) -> None:
        want = keep[self.rows]
        for j in np.nonzero(want != self.on)[0].tolist():
            if want[j]:
                self.h.changeRowBounds(j, self.lo[j], self.hi[j])
            else:
                self.h.changeRowBounds(j, -INF, INF)
        self.on = want

    def _objective(self, objective: tuple[int, int] | np.ndarray | None) -> None:
        cost = self.base_cost.copy()
        if isinstance(objective, np.ndarray):  # per global column, maximised
            cost[: self.n_col] -= objective[self.cols]
        elif objective is not None:
            i, sense = objective
            row = self.sub[self.local[i]]
            cost[row.indices] -= sense * row.data  # HiGHS minimises
        changed = np.nonzero(cost != self.cost)[0]
        if len(changed):
            self.h.changeColsCost(len(changed), changed.astype(np.int32), cost[changed])
        self.cost = cost

    def solve(
        self,
        keep: np.ndarray,
        objective: tuple[int, int] | np.ndarray | None = None,
        bounds: list[tuple[int, float, float]] = (),  # type: ignore[assignment]
    ) -> LpAnswer:
        """The LP with the rows where ``keep`` (global, per row) holds; ``objective`` = (row,
        +1 maximise / −1 minimise) its expression (the row should be off; it must be
        :meth:`inside`), or a vector over the global columns to maximise; solved from scratch (a warm start after a change of objective was
        measured slower: seconds instead of 0.1 s on Hai Duong); ``bounds`` = [(row, lo, hi)]:
        those rows with these bounds instead of their own, for this solve only."""
        self._switch(keep)
        self._objective(objective)
        if objective is not None:
            self.h.clearSolver()
        changed = [(int(self.local[i]), lo, hi) for i, lo, hi in bounds if self.local[i] >= 0]
        for j, lo, hi in changed:
            self.h.changeRowBounds(j, lo, hi)
        self.h.run()
        ans = self._answer(objective)
        for j, _, _ in changed:  # back to the row's own bounds (or off) for the next solve
            self.h.changeRowBounds(j, *((self.lo[j], self.hi[j]) if self.on[j] else (-INF, INF)))
        return ans

    def _answer(self, objective: tuple[int, int] | np.ndarray | None) -> LpAnswer:
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return LpAnswer(False)
        sol = self.h.getSolution()
        col = np.asarray(sol.col_value)
        value = float(self.h.getInfo().objective_function_value)
        slack = np.zeros(self.m.n_rows)
        if self.n_slack:
            np.add.at(slack, self.rows[self.slack_rows], col[self.n_col :])
        dual = np.zeros(self.m.n_rows)
        dual[self.rows] = np.asarray(sol.row_dual)
        return LpAnswer(
            True,
            -value
            if isinstance(objective, np.ndarray)
            else -value * objective[1]
            if objective is not None
            else value,
            col[: self.n_col].copy(),
            slack,
            dual,
        )

    def infeasible(self, keep: np.ndarray) -> bool:
        return not self.solve(keep).ok

    def integer_feasible(self, keep: np.ndarray, time_limit: float = 10.0) -> bool | None:
        """Whether some 0/1 point keeps the rows of ``keep`` (a HiGHS MIP of this LP, slacks
        fixed at 0: call after :meth:`stop_elastic`); None when HiGHS does not decide within
        ``time_limit`` seconds. The LP is a MIP afterwards: use it for nothing else."""
        self._switch(keep)
        self._objective(None)
        idx = np.arange(self.n_col, dtype=np.int32)
        self.h.changeColsIntegrality(
            self.n_col, idx, np.full(self.n_col, highspy.HighsVarType.kInteger)
        )
        self.h.setOptionValue("time_limit", float(time_limit))
        self.h.setOptionValue("mip_rel_gap", 1.0)  # any 0/1 point answers the question
        self.h.run()
        status = self.h.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            x = np.asarray(self.h.getSolution().col_value)[: self.n_col]
            return True if self.holds_exactly(keep, x) else None
        if status == highspy.HighsModelStatus.kInfeasible:
            return False
        return None

    def holds_exactly(self, keep: np.ndarray, x: np.ndarray) -> bool:
        """Whether ``x`` rounded to 0/1 keeps every row of ``keep`` exactly (integer
        coefficients: no solver tolerance, so a budget missed by one đồng does not hold)."""
        x01 = np.rint(np.clip(x, 0.0, 1.0))
        if np.any(np.abs(x - x01) > TOL):
            return False
        act = self.sub @ x01
        want = keep[self.rows]
        return bool(np.all(act[want] >= self.lo[want]) and np.all(act[want] <= self.hi[want]))
