"""The LP relaxation of the model (HiGHS through highspy), for a lower bound and reduced costs.

Built from the same :class:`~rotation.model.constraints.Row` instances as the CP-SAT model, as
sparse matrices (no per-pair Python objects). Reduced-cost fixing: with LP bound ``LB`` and a
known plan of cost ``UB``, a pair whose reduced cost exceeds ``UB − LB`` cannot be in any plan of
cost ``≤ UB`` (its objective would be at least ``LB + rc``), so it is removed before the exact
CP-SAT solve. This keeps the result exact while the model shrinks by orders of magnitude.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def _silent_highs():
    """A HiGHS instance that prints nothing: highspy's ``Highs()`` wrapper enables callbacks in
    its constructor, which prints the version banner before any option can be set; its C++ base
    class does not."""
    base = next((k for k in highspy.Highs.__mro__[1:] if k.__name__ == "_Highs"), highspy.Highs)
    h = base()
    h.setOptionValue("output_flag", False)
    return h


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
    row_lo: list[float] = []
    row_hi: list[float] = []
    r_idx: list[np.ndarray] = []
    c_idx: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    for row_no, r in enumerate(rows):
        # an arrival of a single plan's pair is the pair itself (Variables.arrival)
        arrivals = np.asarray(r.arrivals, dtype=np.int64)
        cols = np.concatenate([r.pairs, n + np.asarray(r.vacs, dtype=np.int64), arrivals])
        r_idx.append(np.full(len(cols), row_no, dtype=np.int64))
        c_idx.append(cols)
        ones = np.ones(len(r.vacs), dtype=np.int64)
        vals.append(np.concatenate([r.coefs, ones, r.arrival_weights()]).astype(float))
        row_lo.append(-np.inf if r.lo is None else float(r.lo))
        row_hi.append(np.inf if r.hi is None else float(r.hi))
    n_rows = len(rows)
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
    order = np.lexsort((ri, ci))
    starts = np.searchsorted(ci[order], np.arange(n_var + 1))

    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_var, n_rows
    lp.col_cost_ = c
    lp.col_lower_ = np.zeros(n_var)
    upper = np.ones(n_var)
    if use_longest:
        upper[-1] = np.inf
    lp.col_upper_ = upper
    lp.row_lower_ = np.asarray(row_lo, dtype=float)
    lp.row_upper_ = np.asarray(row_hi, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = starts.astype(np.int32)
    lp.a_matrix_.index_ = ri[order].astype(np.int32)
    lp.a_matrix_.value_ = va[order]
    h = _silent_highs()
    # dual simplex without presolve: measured fastest on these assignment-shaped LPs (bench/)
    h.setOptionValue("solver", "simplex")
    h.setOptionValue("simplex_strategy", 1)
    h.setOptionValue("presolve", "off")
    h.passModel(lp)
    h.run()
    secs = time.perf_counter() - t0
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return LpResult(False, np.inf, np.zeros(n), np.zeros(n), secs)
    sol = h.getSolution()
    x = np.asarray(sol.col_value)[:n]
    rc = np.asarray(sol.col_dual)[:n]
    return LpResult(True, float(h.getInfo().objective_function_value), x, rc, secs)


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
