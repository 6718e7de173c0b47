"""One function per benchmarked method. Each takes (data, rules dict, time_limit) and returns a
dict: pairs, build_s, solve_s, status, objective, bound (objective units: weight units, i.e. the
planner's objective / SCALE), plus extras. Run in a child process (see run.py)."""

from __future__ import annotations

import time
from collections import Counter
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
    res = solve(data, r, explain=False, method=method)
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
    out["stats"] = {k: v for k, v in st.items() if not k.startswith("_")}
    return out


def ours(data, rules, time_limit):
    return _solve_common(data, rules, time_limit, "exact")


def plain(data, rules, time_limit):
    return _solve_common(data, rules, time_limit, "plain")


def highs_mip(data, rules, time_limit):
    """HiGHS MIP on the same rows as the CP-SAT model (all_rows + pair_costs)."""
    import highspy

    t0 = time.perf_counter()
    r = _rules(rules, time_limit)
    elig = compute_eligibility(data, r)
    assert not r.weights.max_travel, "max_travel term not modelled here"
    ix = PairIndex(elig)
    n = elig.n_pairs
    n_vac = len(elig.posts) if ix.allow_vacancies else 0
    nv = n + n_vac
    cost = np.zeros(nv)
    cost[:n] = pair_costs(elig)
    if n_vac:
        cost[n:] = vacancy_costs(elig)
    starts, idx, val, lo, hi = [0], [], [], [], []
    for row in all_rows(ix):
        cols = np.concatenate([row.pairs, n + np.asarray(row.vacs, dtype=np.int64)])
        vals = np.concatenate([row.coefs, np.ones(len(row.vacs))]).astype(float)
        idx.append(cols.astype(np.int32))
        val.append(vals)
        starts.append(starts[-1] + len(cols))
        lo.append(-highspy.kHighsInf if row.lo is None else float(row.lo))
        hi.append(highspy.kHighsInf if row.hi is None else float(row.hi))
    h = _silent_highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("threads", 2)
    h.addVars(nv, np.zeros(nv), np.ones(nv))
    h.changeColsCost(nv, np.arange(nv, dtype=np.int32), cost)
    h.changeColsIntegrality(
        nv, np.arange(nv, dtype=np.int32), np.full(nv, highspy.HighsVarType.kInteger)
    )
    nrow = len(lo)
    h.addRows(
        nrow,
        np.array(lo),
        np.array(hi),
        starts[-1],
        np.array(starts[:-1], dtype=np.int32),
        np.concatenate(idx) if idx else np.zeros(0, np.int32),
        np.concatenate(val) if val else np.zeros(0),
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
    if info.primal_solution_status == 2:
        obj = info.objective_function_value / SCALE
        status = status or "feasible"
    if info.mip_dual_bound is not None and np.isfinite(info.mip_dual_bound):
        bound = info.mip_dual_bound / SCALE
    return {
        "pairs": n,
        "build_s": build,
        "solve_s": solve_s,
        "total_s": build + solve_s,
        "status": status or f"unknown ({h.modelStatusToString(ms)})",
        "objective": obj,
        "bound": bound,
        "rows": nrow,
    }


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
    "greedy": greedy,
    "scipy_sparse": scipy_sparse,
    "scipy_dense": scipy_dense,
    "ortools_mcf": min_cost_flow,
}
