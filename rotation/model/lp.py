"""The LP relaxation of the model (HiGHS through scipy), for a lower bound and reduced costs.

Built from the same :class:`~rotation.model.constraints.Row` instances as the CP-SAT model, as
sparse matrices (no per-pair Python objects). Reduced-cost fixing: with LP bound ``LB`` and a
known plan of cost ``UB``, a pair whose reduced cost exceeds ``UB − LB`` cannot be in any plan of
cost ``≤ UB`` (its objective would be at least ``LB + rc``), so it is removed before the exact
CP-SAT solve. This keeps the result exact while the model shrinks by orders of magnitude.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

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
    ub_data: list[tuple[np.ndarray, np.ndarray, float]] = []
    eq_data: list[tuple[np.ndarray, np.ndarray, float]] = []
    for r in rows:
        cols = np.concatenate([r.pairs, n + np.asarray(r.vacs, dtype=np.int64)])
        vals = np.concatenate([r.coefs, np.ones(len(r.vacs), dtype=np.int64)]).astype(float)
        if r.lo is not None and r.hi is not None and r.lo == r.hi:
            eq_data.append((cols, vals, float(r.lo)))
            continue
        if r.hi is not None:
            ub_data.append((cols, vals, float(r.hi)))
        if r.lo is not None:
            ub_data.append((cols, -vals, -float(r.lo)))
    if use_longest:
        km = longest_travel_bounds(e)
        c[-1] = max_travel_coef(e)
        for k in np.nonzero(km)[0]:
            ub_data.append((np.array([k, n_var - 1]), np.array([float(km[k]), -1.0]), 0.0))

    def matrix(data: list[tuple[np.ndarray, np.ndarray, float]]):
        if not data:
            return None, None
        rows_idx = np.concatenate([np.full(len(d[0]), i) for i, d in enumerate(data)])
        cols = np.concatenate([d[0] for d in data])
        vals = np.concatenate([d[1] for d in data])
        a = sp.csr_matrix((vals, (rows_idx, cols)), shape=(len(data), n_var))
        return a, np.array([d[2] for d in data])

    a_ub, b_ub = matrix(ub_data)
    a_eq, b_eq = matrix(eq_data)
    bounds = np.zeros((n_var, 2))
    bounds[:, 1] = 1.0
    if use_longest:
        bounds[-1, 1] = np.inf
    # dual simplex without presolve: measured fastest on these assignment-shaped LPs (bench/)
    res = linprog(
        c,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=a_eq,
        b_eq=b_eq,
        bounds=bounds,
        method="highs-ds",
        options={"presolve": False},
    )
    secs = time.perf_counter() - t0
    if res.status != 0:
        return LpResult(False, np.inf, np.zeros(n), np.zeros(n), secs)
    rc = np.asarray(res.lower.marginals[:n]) + np.asarray(res.upper.marginals[:n])
    return LpResult(True, float(res.fun), np.asarray(res.x[:n]), rc, secs)
