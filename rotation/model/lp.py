"""The LP relaxation of the model (HiGHS through highspy), for a lower bound and reduced costs.

Built from the same :class:`~rotation.model.constraints.Row` instances as the CP-SAT model, as
sparse matrices (no per-pair Python objects). Reduced-cost fixing: with LP bound ``LB`` and a
known plan of cost ``UB``, a pair whose reduced cost exceeds ``UB − LB`` cannot be in any plan of
cost ``≤ UB`` (its objective would be at least ``LB + rc``), so it is removed before the exact
CP-SAT solve. This keeps the result exact while the model shrinks by orders of magnitude.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np

from .constraints import Row
from .index import PairIndex
from .objective import longest_travel_bounds, max_travel_coef, pair_costs, vacancy_costs


@dataclass
class LpResult:
    feasible: bool
    bound: float  # scaled objective units
    x: np.ndarray  # LP values of the pair variables
    reduced_cost: np.ndarray  # per pair, >= 0 for pairs at 0
    seconds: float = 0.0

    def integral(self, tol: float = 1e-6) -> bool:
        return bool(np.all((self.x < tol) | (self.x > 1 - tol)))


def _highs_class() -> Any:
    """HiGHS's C++ class, under highspy's ``Highs()`` wrapper (which enables callbacks in its
    constructor and so prints the version banner before any option can be set)."""
    return next((k for k in highspy.Highs.__mro__[1:] if k.__name__ == "_Highs"), highspy.Highs)


def _silent_highs():
    """A HiGHS instance that prints nothing (the C++ class: no wrapper, no banner)."""
    h = _highs_class()()
    h.setOptionValue("output_flag", False)
    return h


def stop_when_asked(h: Any, stop: threading.Event | None) -> None:
    """Interrupt ``h``'s simplex or branch and bound as soon as ``stop`` is set (a cancelled
    job), instead of at its time limit: HiGHS asks its interrupt callbacks between iterations
    and nodes; it then returns its best solution so far (``kInterrupt``)."""
    if stop is None:
        return

    def check(kind: Any, message: str, out: Any, into: Any, user: Any) -> None:
        if into is not None and stop.is_set():
            into.user_interrupt = True

    # the C++ class's own callback (see ``_silent_highs``)
    h.setCallback(check, None)
    for kind in (
        highspy.cb.HighsCallbackType.kCallbackSimplexInterrupt,
        highspy.cb.HighsCallbackType.kCallbackMipInterrupt,
    ):
        h.startCallback(kind)


def release_highs_threads() -> None:
    """Stop HiGHS's pool of worker threads in this process before it forks worker processes.

    HiGHS starts a global pool of threads at its first run and keeps it; a process forked
    after that inherits the pool's state but not its threads, and its first HiGHS run then
    waits forever (seen: a roadmap's provinces in forked workers after a whole solve in the
    parent). Stopped here, the pool starts again at the next run, in this process and in each
    child. Call it from the thread that runs the solves (not while another thread solves)."""
    _highs_class().resetGlobalScheduler(True)


def solve_lp(ix: PairIndex, rows: list[Row]) -> LpResult:
    import time

    t0 = time.perf_counter()
    e = ix.elig
    n = ix.n_pairs
    n_post = len(e.posts)
    n_vac = n_post if ix.allow_vacancies else 0
    use_longest = bool(e.rules.weights.max_travel)
    n_var = n + n_vac + int(use_longest)
    if n_var == 0:  # nothing to choose: feasible iff every row holds at zero
        ok = all((r.lo is None or r.lo <= 0) and (r.hi is None or r.hi >= 0) for r in rows)
        return LpResult(
            ok, 0.0 if ok else np.inf, np.zeros(0), np.zeros(0), time.perf_counter() - t0
        )
    c = np.zeros(n_var)
    c[:n] = pair_costs(e)
    if n_vac:
        c[n : n + n_vac] = vacancy_costs(e)
    # rows: lo <= a.x <= hi, built column-wise (CSC) for HiGHS
    row_lo = [-np.inf if r.lo is None else float(r.lo) for r in rows]
    row_hi = [np.inf if r.hi is None else float(r.hi) for r in rows]
    c_idx: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    lengths: list[int] = []
    for r in rows:
        if r.vacs or r.arrivals:
            # an arrival of a single plan's pair is the pair itself (Variables.arrival)
            arrivals = np.asarray(r.arrivals, dtype=np.int64)
            cols = np.concatenate([r.pairs, n + np.asarray(r.vacs, dtype=np.int64), arrivals])
            ones = np.ones(len(r.vacs), dtype=np.int64)
            c_idx.append(cols)
            vals.append(np.concatenate([r.coefs, ones, r.arrival_weights()]))
            lengths.append(len(cols))
        else:  # the common row: its pairs only (no array made for it)
            c_idx.append(r.pairs)
            vals.append(r.coefs)
            lengths.append(len(r.pairs))
    n_rows = len(rows)
    r_idx = [np.repeat(np.arange(n_rows, dtype=np.int64), lengths)] if rows else []
    vals = [np.concatenate(vals).astype(float)] if vals else []
    c_idx = [np.concatenate(c_idx).astype(np.int64, copy=False)] if c_idx else []
    if use_longest:  # longest >= km_k x_k  <=>  km_k x_k - longest <= 0
        km = longest_travel_bounds(e)
        c[-1] = max_travel_coef(e)
        ks = np.nonzero(km)[0]
        extra = np.arange(n_rows, n_rows + len(ks))
        r_idx += [extra, extra]
        c_idx += [ks, np.full(len(ks), n_var - 1)]
        vals += [km[ks].astype(float), -np.ones(len(ks))]
        row_lo += [-np.inf] * len(ks)
        row_hi += [0.0] * len(ks)
        n_rows += len(ks)
    ri = np.concatenate(r_idx) if r_idx else np.zeros(0, np.int64)
    ci = np.concatenate(c_idx) if c_idx else np.zeros(0, np.int64)
    va = np.concatenate(vals) if vals else np.zeros(0)
    # by column, each column's rows in order: rows were appended in order, so a stable sort by
    # column alone is the (column, row) order
    order = np.argsort(ci, kind="stable")
    starts = np.searchsorted(ci[order], np.arange(n_var + 1))
    upper = np.ones(n_var)
    if use_longest:
        upper[-1] = np.inf
    h = _silent_highs()
    # dual simplex without presolve: measured fastest on these assignment-shaped LPs (bench/)
    h.setOptionValue("solver", "simplex")
    h.setOptionValue("simplex_strategy", 1)
    h.setOptionValue("presolve", "off")
    pass_lp(
        h,
        cost=c,
        col_lower=np.zeros(n_var),
        col_upper=upper,
        row_lower=np.asarray(row_lo, dtype=float),
        row_upper=np.asarray(row_hi, dtype=float),
        start=starts,
        index=ri[order],
        value=va[order],
    )
    h.run()
    secs = time.perf_counter() - t0
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return LpResult(False, np.inf, np.zeros(n), np.zeros(n), secs)
    sol = h.getSolution()
    x = np.asarray(sol.col_value)[:n]
    rc = np.asarray(sol.col_dual)[:n]
    return LpResult(True, float(h.getInfo().objective_function_value), x, rc, secs)


def pass_lp(
    h: Any,
    cost: np.ndarray,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    start: np.ndarray,
    index: np.ndarray,
    value: np.ndarray,
    integer: bool = False,
) -> None:
    """Hand HiGHS the LP ``min cost·x, row_lower <= A x <= row_upper, col_lower <= x <=
    col_upper`` with ``A`` by columns (``start``: n_col + 1 offsets), every column continuous
    (or every column integer, ``integer``: a MIP).
    highspy's array form of ``passModel`` reads the numpy buffers in place, where filling a
    ``HighsLp``'s fields converts every element into a C++ vector one Python object at a time
    (≈ 40 ns an element: 20 ms for Hai Duong's 237k coefficients)."""
    n_col, n_row = len(cost), len(row_lower)
    status = h.passModel(
        n_col,
        n_row,
        len(index),
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize),
        0.0,
        np.ascontiguousarray(cost, dtype=np.float64),
        np.ascontiguousarray(col_lower, dtype=np.float64),
        np.ascontiguousarray(col_upper, dtype=np.float64),
        np.ascontiguousarray(row_lower, dtype=np.float64),
        np.ascontiguousarray(row_upper, dtype=np.float64),
        np.ascontiguousarray(start, dtype=np.int32),
        np.ascontiguousarray(index, dtype=np.int32),
        np.ascontiguousarray(value, dtype=np.float64),
        np.full(n_col, int(highspy.HighsVarType.kInteger) if integer else 0, dtype=np.int32),
    )
    if status == highspy.HighsStatus.kError:
        raise ValueError("HiGHS refused the LP (inconsistent matrix)")


def _row_columns(n: int, r: Row) -> tuple[np.ndarray, np.ndarray]:
    """A row's LP columns and coefficients (arrivals are the pairs, vacancies after them)."""
    arrivals = np.asarray(r.arrivals, dtype=np.int64)
    cols = np.concatenate([r.pairs, arrivals, n + np.asarray(r.vacs, dtype=np.int64)])
    ones = np.ones(len(arrivals) + len(r.vacs))
    return cols, np.concatenate([r.coefs.astype(float), ones])


def _diagnosis_highs(lp: highspy.HighsLp):
    h = _silent_highs()
    h.setOptionValue("solver", "simplex")
    h.setOptionValue("simplex_strategy", 1)
    h.setOptionValue("presolve", "off")
    h.setOptionValue("random_seed", 0)
    h.passModel(lp)
    return h
