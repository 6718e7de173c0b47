"""One function per benchmarked method. Each takes (data, rules dict, time_limit) and returns a
dict: pairs, build_s, solve_s, status, objective, bound (objective units: weight units, i.e. the
planner's objective / SCALE), plus extras. Run in a child process (see run.py)."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from rotation.eligibility import compute_eligibility
from rotation.model import SCALE, PairIndex, all_rows, pair_costs, vacancy_costs
from rotation.model.lp import _silent_highs
from rotation.rules import load_rules


def _rules(rules: dict, time_limit: float):
    return load_rules({**rules, "time_limit_s": time_limit})


def _solve_common(data, rules, time_limit, method):
    from rotation.solve import solve

    r = _rules(rules, time_limit)
    seen: list[tuple[float, float]] = []  # (elapsed s, objective) of each better plan

    def progress(ev) -> None:
        if ev.objective is not None and (not seen or ev.objective < seen[-1][1] - 1e-9):
            seen.append((ev.elapsed_s, ev.objective))

    res = solve(data, r, explain=False, method=method, progress=progress)
    st = res.stats
    out: dict[str, Any] = {
        "pairs": st.get("pairs"),
        "model_pairs": st.get("model_pairs"),
        "status": res.status,
        "total_s": st.get("total_s"),
        "eligibility_s": st.get("eligibility_s"),
        "lp_s": st.get("lp_s"),
        "model_build_s": st.get("build_s"),
        "cp_solve_s": sum(st.get("solve_s", []) or [0]),
    }
    out["build_s"] = (st.get("eligibility_s") or 0) + (st.get("build_s") or 0)
    out["solve_s"] = (st.get("total_s") or 0) - out["build_s"]
    if res.plans:
        out["objective"] = res.plans[0].objective
        out["bound"] = res.plans[0].bound
        if st.get("lp_bound") is not None and method == "exact":
            out["bound"] = max(out["bound"], st["lp_bound"])
    out["first_s"] = seen[0][0] if seen else None
    out["best_s"] = seen[-1][0] if seen else None
    out["proof_s"] = st.get("total_s") if res.status == "optimal" else None
    out["stats"] = {k: v for k, v in st.items() if not k.startswith("_")}
    return out


def ours(data, rules, time_limit):
    return _solve_common(data, rules, time_limit, "exact")


def plain(data, rules, time_limit):
    return _solve_common(data, rules, time_limit, "plain")


@dataclass(frozen=True)
class RowModel:
    """The MIP every peer gets: the planner's own rows (``all_rows``) and costs (``pair_costs``,
    ``vacancy_costs``) over the eligible pairs; variables 0..n-1 are pairs, n.. vacancies."""

    elig: Any
    n: int
    cost: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    starts: np.ndarray
    index: np.ndarray
    value: np.ndarray
    build_s: float
    rule: tuple[str, ...] = ()  # each row's rule (``Row.rule``): peers may model some natively

    @property
    def nv(self) -> int:
        return len(self.cost)

    @property
    def rows(self) -> int:
        return len(self.lo)

    def violations(self, x: np.ndarray) -> int:
        """Rows a 0/1 solution breaks (every solution of every peer is re-checked here)."""
        xi = np.rint(x).astype(np.int64)
        if not np.all(np.abs(x - xi) < 1e-6) or xi.min(initial=0) < 0 or xi.max(initial=0) > 1:
            return -1
        act = np.add.reduceat(self.value * xi[self.index], self.starts[:-1]) if self.rows else []
        act = np.where(self.starts[:-1] == self.starts[1:], 0, act)
        return int(((act < self.lo - 1e-6) | (act > self.hi + 1e-6)).sum())

    def objective(self, x: np.ndarray) -> float:
        return float(np.rint(x) @ self.cost) / SCALE


def row_model(data, rules, time_limit) -> RowModel:
    """The rows and costs as arrays (CSR); arrivals never occur in a single plan's rows."""
    t0 = time.perf_counter()
    r = _rules(rules, time_limit)
    elig = compute_eligibility(data, r)
    assert not r.weights.max_travel, "max_travel term not modelled here"
    ix = PairIndex(elig)
    n = elig.n_pairs
    n_vac = len(elig.posts) if ix.allow_vacancies else 0
    cost = np.zeros(n + n_vac)
    cost[:n] = pair_costs(elig)
    if n_vac:
        cost[n:] = vacancy_costs(elig)
    starts, idx, val, lo, hi, names = [0], [], [], [], [], []
    for row in all_rows(ix):
        names.append(row.rule)
        assert not row.arrivals, f"row {row.rule}: arrivals are a roadmap's, not a plan's"
        cols = np.concatenate([row.pairs, n + np.asarray(row.vacs, dtype=np.int64)])
        vals = np.concatenate([row.coefs, np.ones(len(row.vacs))]).astype(float)
        idx.append(cols.astype(np.int32))
        val.append(vals)
        starts.append(starts[-1] + len(cols))
        lo.append(-np.inf if row.lo is None else float(row.lo))
        hi.append(np.inf if row.hi is None else float(row.hi))
    return RowModel(
        elig=elig,
        n=n,
        cost=cost,
        lo=np.array(lo, dtype=float),
        hi=np.array(hi, dtype=float),
        starts=np.array(starts, dtype=np.int64),
        index=np.concatenate(idx) if idx else np.zeros(0, np.int32),
        value=np.concatenate(val) if val else np.zeros(0),
        build_s=time.perf_counter() - t0,
        rule=tuple(names),
    )


def highs_mip(data, rules, time_limit):
    """HiGHS MIP on the same rows as the CP-SAT model (all_rows + pair_costs)."""
    import highspy

    t0 = time.perf_counter()
    m = row_model(data, rules, time_limit)
    nv = m.nv
    inf = highspy.kHighsInf
    h = _silent_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("threads", 2)
    h.addVars(nv, np.zeros(nv), np.ones(nv))
    h.changeColsCost(nv, np.arange(nv, dtype=np.int32), m.cost)
    h.changeColsIntegrality(
        nv, np.arange(nv, dtype=np.int32), np.full(nv, highspy.HighsVarType.kInteger)
    )
    h.addRows(
        m.rows,
        np.where(np.isinf(m.lo), -inf, m.lo),
        np.where(np.isinf(m.hi), inf, m.hi),
        int(m.starts[-1]),
        m.starts[:-1].astype(np.int32),
        m.index,
        m.value,
    )
    build = time.perf_counter() - t0
    t1 = time.perf_counter()
    h.run()
    solve_s = time.perf_counter() - t1
    ms = h.getModelStatus()
    info = h.getInfo()
    status = {
        highspy.HighsModelStatus.kOptimal: "optimal",
        highspy.HighsModelStatus.kInfeasible: "infeasible",
    }.get(ms)
    obj = bound = None
    broken = None
    if info.primal_solution_status == 2:
        x = np.asarray(h.getSolution().col_value)
        broken = m.violations(x)
        obj = m.objective(x)
        status = status or "feasible"
    if info.mip_dual_bound is not None and np.isfinite(info.mip_dual_bound):
        bound = info.mip_dual_bound / SCALE
    return {
        "pairs": m.n,
        "build_s": build,
        "solve_s": solve_s,
        "total_s": build + solve_s,
        "status": _checked(status or f"unknown ({h.modelStatusToString(ms)})", broken),
        "objective": obj,
        "bound": bound,
        "rows": m.rows,
        "proof_s": solve_s if status == "optimal" else None,
    }


def _checked(status: str, broken: int | None) -> str:
    """The status, unless the re-check of the solution against every row failed."""
    if broken is None or broken == 0:
        return status
    return f"breaks {broken} rows" if broken > 0 else "not 0/1"


def scip_mip(data, rules, time_limit, threads: int = 1):
    """SCIP (PySCIPOpt) on the same rows and costs; times to first and best solution from an
    event handler, to proof from SCIP's clock. Optional: ``pip install .[bench]``."""
    try:
        import pyscipopt
    except ImportError:
        return {"status": "skipped (pyscipopt not installed: pip install .[bench])"}

    t0 = time.perf_counter()
    m = row_model(data, rules, time_limit)
    model = pyscipopt.Model()
    model.hideOutput()
    model.setParam("limits/time", float(time_limit))
    model.setParam("parallel/maxnthreads", threads)
    model.setParam("lp/threads", threads)
    x = [model.addVar(vtype="B", obj=float(c)) for c in m.cost]
    for k in range(m.rows):
        a, b = int(m.starts[k]), int(m.starts[k + 1])
        expr = pyscipopt.quicksum(
            v * x[j] for j, v in zip(m.index[a:b].tolist(), m.value[a:b].tolist(), strict=True)
        )
        lo, hi = m.lo[k], m.hi[k]
        if lo == hi:
            model.addCons(expr == lo)
        elif np.isfinite(lo) and np.isfinite(hi):
            model.addCons((lo <= expr) <= hi)
        elif np.isfinite(lo):
            model.addCons(expr >= lo)
        elif np.isfinite(hi):
            model.addCons(expr <= hi)
    events: list[tuple[float, float]] = []

    class _BestSol(pyscipopt.Eventhdlr):
        def eventinit(self):
            self.model.catchEvent(pyscipopt.SCIP_EVENTTYPE.BESTSOLFOUND, self)

        def eventexec(self, event):
            sol = self.model.getBestSol()
            events.append((self.model.getSolvingTime(), self.model.getSolObjVal(sol)))

    model.includeEventhdlr(_BestSol(), "bestsol", "records each new best solution")
    build = time.perf_counter() - t0
    t1 = time.perf_counter()
    if threads > 1:
        model.solveConcurrent()
    else:
        model.optimize()
    solve_s = time.perf_counter() - t1
    st = model.getStatus()
    status = {"optimal": "optimal", "infeasible": "infeasible"}.get(st)
    obj = bound = None
    broken = None
    if model.getNSols() > 0:
        best = model.getBestSol()
        xs = np.array([model.getSolVal(best, v) for v in x])
        broken = m.violations(xs)
        obj = m.objective(xs)
        status = status or "feasible"
    db = model.getDualbound()
    if np.isfinite(db) and abs(db) < 1e20:
        bound = db / SCALE
    return {
        "pairs": m.n,
        "build_s": build,
        "solve_s": solve_s,
        "total_s": build + solve_s,
        "status": _checked(status or f"unknown ({st})", broken),
        "objective": obj,
        "bound": bound,
        "rows": m.rows,
        "first_s": events[0][0] if events else None,
        "best_s": events[-1][0] if events else None,
        "proof_s": solve_s if status == "optimal" else None,
        "threads": threads,
    }


def scip_mip_2t(data, rules, time_limit):
    return scip_mip(data, rules, time_limit, threads=2)


def timefold(data, rules, time_limit):
    """Timefold Solver for Python (local search; ``bench/timefold_peer.py``) on the same rows
    and costs, re-checked like the others. Optional: ``pip install .[bench]`` and a JDK."""
    from . import timefold_peer

    why = timefold_peer.unavailable()
    if why:
        return {"status": f"skipped ({why})"}
    m = row_model(data, rules, time_limit)
    if m.n > timefold_peer.MAX_PAIRS:
        return {"pairs": m.n, "status": f"skipped ({timefold_peer.TOO_BIG})"}
    return timefold_peer.solve(m, time_limit)


# ------------------------------------------------------------------ pure-assignment floors
def _assignment_arrays(data, rules):
    r = _rules(rules, 60)
    elig = compute_eligibility(data, r)
    return elig, pair_costs(elig)


def scipy_sparse(data, rules, time_limit):
    import scipy.sparse as sp
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    t0 = time.perf_counter()
    elig, c = _assignment_arrays(data, rules)
    n_post, n_cad = len(elig.posts), len(data.cadres)
    # zero costs would vanish from a sparse matrix: shift every cost by 1 (n_post added back)
    m = sp.csr_matrix(
        (c.astype(float) + 1.0, (elig.pair_post, elig.pair_cadre)), shape=(n_post, n_cad)
    )
    build = time.perf_counter() - t0
    t1 = time.perf_counter()
    rows, cols = min_weight_full_bipartite_matching(m)
    solve_s = time.perf_counter() - t1
    obj = (np.asarray(m[rows, cols]).sum() - len(rows)) / SCALE
    return {
        "pairs": elig.n_pairs,
        "build_s": build,
        "solve_s": solve_s,
        "total_s": build + solve_s,
        "status": "optimal",
        "objective": obj,
        "bound": obj,
    }


def scipy_dense(data, rules, time_limit):
    from scipy.optimize import linear_sum_assignment

    t0 = time.perf_counter()
    elig, c = _assignment_arrays(data, rules)
    n_post, n_cad = len(elig.posts), len(data.cadres)
    if n_post * n_cad > 60_000_000:
        return {"pairs": elig.n_pairs, "status": "skipped (dense matrix too big)"}
    big = float(c.max(initial=0) + 1) * (n_post + 1)
    m = np.full((n_post, n_cad), big)
    m[elig.pair_post, elig.pair_cadre] = c
    build = time.perf_counter() - t0
    t1 = time.perf_counter()
    rows, cols = linear_sum_assignment(m)
    solve_s = time.perf_counter() - t1
    vals = m[rows, cols]
    ok = bool((vals < big).all())
    return {
        "pairs": elig.n_pairs,
        "build_s": build,
        "solve_s": solve_s,
        "total_s": build + solve_s,
        "status": "optimal" if ok else "infeasible",
        "objective": vals.sum() / SCALE,
        "bound": vals.sum() / SCALE,
    }


def min_cost_flow(data, rules, time_limit):
    from ortools.graph.python import min_cost_flow as mcf

    t0 = time.perf_counter()
    elig, c = _assignment_arrays(data, rules)
    n_post, n_cad = len(elig.posts), len(data.cadres)
    src, snk = n_post + n_cad, n_post + n_cad + 1
    f = mcf.SimpleMinCostFlow()
    tails = np.concatenate(
        [np.full(n_cad, src), n_post + elig.pair_cadre.astype(np.int64), np.arange(n_post)]
    )
    heads = np.concatenate(
        [n_post + np.arange(n_cad), elig.pair_post.astype(np.int64), np.full(n_post, snk)]
    )
    caps = np.ones(len(tails), dtype=np.int64)
    costs = np.concatenate([np.zeros(n_cad, np.int64), c, np.zeros(n_post, np.int64)])
    f.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = np.zeros(n_post + n_cad + 2, dtype=np.int64)
    supplies[src], supplies[snk] = n_post, -n_post
    f.set_nodes_supplies(np.arange(len(supplies)), supplies)
    build = time.perf_counter() - t0
    t1 = time.perf_counter()
    code = f.solve()
    solve_s = time.perf_counter() - t1
    ok = code == f.OPTIMAL
    obj = f.optimal_cost() / SCALE if ok else None
    return {
        "pairs": elig.n_pairs,
        "build_s": build,
        "solve_s": solve_s,
        "total_s": build + solve_s,
        "status": "optimal" if ok else f"status {code}",
        "objective": obj,
        "bound": obj,
    }


def greedy(data, rules, time_limit):
    from rotation.validate import validate_plan

    from .greedy import greedy_plan

    t0 = time.perf_counter()
    r = _rules(rules, time_limit)
    elig = compute_eligibility(data, r)
    build = time.perf_counter() - t0
    t1 = time.perf_counter()
    plan, obj = greedy_plan(elig)
    solve_s = time.perf_counter() - t1
    if len(data.travel) * len(elig.posts) > 20_000_000:
        # validate_plan costs O(travel rows) per distance lookup (see README): count the only
        # rule a greedy plan on a pure assignment can break (unfilled posts) directly
        vac = sum(a.cadre_id is None for a in plan.assignments)
        by_rule = Counter({"fill_every_post (counted, not validate_plan)": vac} if vac else {})
        viol = list(by_rule.elements())
    else:
        viol = validate_plan(data, r, plan)
        by_rule = Counter(v.rule for v in viol)
    return {
        "pairs": elig.n_pairs,
        "build_s": build,
        "solve_s": solve_s,
        "total_s": build + solve_s,
        "status": "feasible" if not viol else f"breaks {len(viol)} rules",
        "objective": obj,
        "bound": None,
        "violations": dict(sorted(by_rule.items())),
    }


METHODS = {
    "ours": ours,
    "plain_cpsat": plain,
    "highs_mip": highs_mip,
    "scip": scip_mip,
    "scip_2t": scip_mip_2t,
    "timefold": timefold,
    "timefold_long": timefold,  # the same with a longer limit (bench/run.py TIMEFOLD_LIMITS)
    "greedy": greedy,
    "scipy_sparse": scipy_sparse,
    "scipy_dense": scipy_dense,
    "ortools_mcf": min_cost_flow,
}
