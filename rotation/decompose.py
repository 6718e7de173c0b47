"""Independent provinces solved separately (and in parallel): exact, because with
``same_province`` no rule crosses a province line (candidates, targets, change caps and relatives
all live inside one province)."""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pandas as pd

from .data import ProblemData
from .plan import Plan, compute_kpis
from .rules import Rules


def provinces_in_scope(data: ProblemData, rules: Rules) -> list[str]:
    posts = data.posts[data.posts["position"].isin(rules.positions)]
    return sorted(set(data.units["province_id"].reindex(posts["unit_id"]).dropna()))


def split_by_province(data: ProblemData, province: str) -> ProblemData:
    """The part of the dataset inside one province (units, its cadres, posts and their links)."""
    units = data.units[data.units["province_id"] == province]
    in_prov = set(units.index)
    cadres = data.cadres[data.cadres["current_unit_id"].isin(in_prov)]
    posts = data.posts[data.posts["unit_id"].isin(in_prov)].copy()
    # an incumbent registered elsewhere still holds the post: keep that cadre too
    extra = posts["incumbent_id"].dropna()
    extra = extra[~extra.isin(cadres.index)]
    if len(extra):
        cadres = pd.concat([cadres, data.cadres.loc[extra.to_numpy()]]).sort_index()
    ids = set(cadres.index)
    ratings = data.ratings[data.ratings["cadre_id"].isin(ids)]
    relations = data.relations[
        data.relations["cadre_id"].isin(ids) & data.relations["relative_id"].isin(ids)
    ]
    travel = data.travel[data.travel["to_id"].isin(in_prov) | data.travel["from_id"].isin(in_prov)]
    roads = data.roads
    sub = ProblemData(
        units=data.units.loc[
            sorted(in_prov | set(cadres["residence_id"]) | set(cadres["hometown_id"]))
        ],
        cadres=cadres,
        posts=posts,
        ratings=ratings,
        relations=relations,
        travel=travel,
        roads=roads,
        name=f"{data.name}:{province}",
    )
    return sub


def _solve_one(args: tuple[ProblemData, Rules]) -> tuple[str, Any]:
    from .solve import solve

    data, rules = args
    res = solve(data, rules, explain=False, method="exact", decompose=False)
    return res.status, (res.plans[0] if res.plans else None, res.diagnosis, res.stats)


def solve_by_province(
    data: ProblemData, rules: Rules, provinces: list[str], progress=None, explain: bool = False
):
    """Solve each province on its own and merge the plans (status: the weakest of them)."""
    from .solve import Result

    t0 = time.perf_counter()
    jobs = [(split_by_province(data, p), rules) for p in provinces]
    split_s = time.perf_counter() - t0
    workers = min(rules.workers, os.cpu_count() or 1, len(jobs))
    outs: list[tuple[str, Any]] = []
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for i, out in enumerate(pool.map(_solve_one, jobs)):
                outs.append(out)
                if progress:
                    progress(
                        {
                            "phase": f"province {i + 1}/{len(jobs)}",
                            "elapsed_s": round(time.perf_counter() - t0, 3),
                            "objective": None,
                            "bound": None,
                            "gap": None,
                        }
                    )
    else:
        outs = [_solve_one(j) for j in jobs]
    statuses = [s for s, _ in outs]
    stats: dict[str, Any] = {
        "method": "exact",
        "decomposed": len(provinces),
        "split_s": round(split_s, 3),
        "pairs": sum(o[2]["pairs"] for _, o in outs),
        "model_pairs": sum(o[2].get("model_pairs", 0) for _, o in outs),
        "posts": sum(o[2]["posts"] for _, o in outs),
    }
    if "infeasible" in statuses or "unknown" in statuses:
        diag = [d for s, (_, dg, _) in outs if s != "optimal" and s != "feasible" for d in dg]
        status = "infeasible" if "infeasible" in statuses else "unknown"
        stats["total_s"] = round(time.perf_counter() - t0, 3)
        return Result(status=status, diagnosis=diag, stats=stats)
    plans = [o[0] for _, o in outs]
    assignments = sorted((a for p in plans for a in p.assignments), key=lambda a: a.post_id)
    merged = Plan(
        status="optimal" if all(s == "optimal" for s in statuses) else "feasible",
        objective=round(sum(p.objective for p in plans), 3),
        bound=round(sum(p.bound for p in plans), 3),
        assignments=assignments,
        released=sorted(c for p in plans for c in p.released),
        kpis=compute_kpis(data, rules, assignments),
    )
    stats["total_s"] = round(time.perf_counter() - t0, 3)
    return Result(status=merged.status, plans=[merged], stats=stats)
