"""Term roadmap methods side by side (issues 6 and 14).

`python -m bench.roadmap [--rules YAML] [--limit S] [--methods a,b,…] [--repeat N]` writes
`bench/results/roadmap.md` and prints it. Methods, all on the same rules and data:

- `greedy`: round by round with the single-round optimiser (each round optimal on its own);
- `candidates`: one CP-SAT model over the candidate pairs (8 + 8 per post and round);
- `exact`: every eligible (cadre, post, round) triple, LP bound + reduced-cost fixing + CP-SAT
  (rotation.roadmap.exact);
- `plain`: plain CP-SAT over every eligible triple (no pruning), the baseline;
- `mip`: HiGHS MIP of the same rows and objective (rotation.roadmap.relaxation.term_lp_matrix,
  every cross-round row).

Each row: status, objective, bound, gap, people moved, km, support cost, seconds (median of
``--repeat``) and the validator's verdict (exact, candidates and greedy roadmaps).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import yaml
from ortools.sat.python import cp_model

from rotation.model import SCALE
from rotation.read import read_dataset
from rotation.roadmap.model import build_roadmap_model, greedy_roadmap, horizon_of, solve_roadmap
from rotation.roadmap.relaxation import Columns, highs_lp, term_lp_matrix
from rotation.roadmap.rounds import RoundIndex
from rotation.roadmap.rows import TermIndex
from rotation.roadmap.state import project_ratings, retired_by
from rotation.roadmap.validate import validate_roadmap
from rotation.rules import load_rules

ROOT = Path(__file__).resolve().parents[1]


def _row(name: str, res, seconds: float, data, rules) -> dict[str, Any]:
    kp = res.kpis_by_round
    return {
        "method": name,
        "status": res.status,
        "objective": res.stats.get("objective"),
        "bound": res.stats.get("bound"),
        "gap": res.stats.get("gap"),
        "moved": sum(k["changed_posts"] for k in kp) if kp else None,
        "km": round(sum(k["total_travel_km"] for k in kp), 1) if kp else None,
        "support": sum(k.get("support_vnd") or 0 for k in kp) if kp else None,
        "seconds": round(seconds, 1),
        "valid": (
            "valid"
            if res.rounds and not validate_roadmap(data, rules, res.to_json())
            else ("—" if not res.rounds else "violations")
        ),
    }


def _plain(data, rules, limit: float) -> dict[str, Any]:
    t = time.perf_counter()
    m = build_roadmap_model(data, rules, candidates_per_post=None)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = limit
    solver.parameters.num_workers = rules.workers
    code = solver.solve(m.cp)
    ok = code in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    obj = solver.objective_value / SCALE if ok else None
    bound = solver.best_objective_bound / SCALE if ok else None
    return {
        "method": "plain CP-SAT, every triple",
        "status": solver.status_name(code).lower(),
        "objective": None if obj is None else round(obj, 3),
        "bound": None if bound is None else round(bound, 3),
        "gap": None if obj is None else round(abs(obj - bound) / max(1, abs(obj)), 4),
        "seconds": round(time.perf_counter() - t, 1),
    }


def _mip(data, rules, limit: float) -> dict[str, Any]:
    t = time.perf_counter()
    h = horizon_of(rules)
    base = project_ratings(data, h.rounds[-1].year)
    retired = [set(retired_by(base, rules, d)) for d in h.rounds]
    from rotation.roadmap.model import term_pairs

    pairs, _ = term_pairs(base, rules, retired, None, None)
    rounds = [RoundIndex(rp.elig, rp.gids, rp.can_arrive, rp.prev) for rp in pairs]
    cols = Columns(rounds)
    term = TermIndex(base, rules, h, rounds, retired)
    mat = term_lp_matrix(rounds, term, cols, rules, None, full=True)
    lp = highs_lp(mat, integer=True)
    hs = highspy.Highs()
    hs.setOptionValue("output_flag", False)
    hs.setOptionValue("time_limit", max(1.0, limit - (time.perf_counter() - t)))
    hs.passModel(lp)
    hs.run()
    info = hs.getInfo()
    has = info.primal_solution_status == 2
    obj = info.objective_function_value / SCALE if has else None
    bound = info.mip_dual_bound / SCALE
    return {
        "method": "HiGHS MIP, same rows",
        "status": hs.modelStatusToString(hs.getModelStatus()).lower(),
        "objective": None if obj is None else round(obj, 3),
        "bound": round(bound, 3) if np.isfinite(bound) else None,
        "gap": None if obj is None else round(info.mip_gap, 4),
        "seconds": round(time.perf_counter() - t, 1),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.roadmap")
    ap.add_argument("--data", default=str(ROOT / "data" / "hai_duong"))
    ap.add_argument("--rules", default=None, help="rules YAML (default: the default horizon)")
    ap.add_argument("--limit", type=float, default=120.0, help="time limit of each method")
    ap.add_argument("--methods", default="greedy,candidates,exact,plain,mip")
    ap.add_argument("--repeat", type=int, default=1, help="runs per method (median time)")
    a = ap.parse_args(argv)
    data = read_dataset(a.data)
    doc = yaml.safe_load(Path(a.rules).read_text(encoding="utf-8")) if a.rules else {}
    rules = load_rules({**doc, "time_limit_s": a.limit})
    rows = []
    for method in a.methods.split(","):
        times, res = [], None
        for _ in range(a.repeat):
            t = time.perf_counter()
            if method == "greedy":
                res = greedy_roadmap(data, rules)
            elif method in ("candidates", "exact"):
                res = solve_roadmap(data, rules, method=method)
            elif method == "plain":
                rows.append(_plain(data, rules, a.limit))
                break
            elif method == "mip":
                rows.append(_mip(data, rules, a.limit))
                break
            times.append(time.perf_counter() - t)
        if res is not None:
            rows.append(_row(method, res, statistics.median(times), data, rules))
            if method == "exact":
                print("exact stats:", {k: v for k, v in res.stats.items() if k != "exact_over"})
    cols = [
        "method",
        "status",
        "objective",
        "bound",
        "gap",
        "moved",
        "km",
        "support",
        "seconds",
        "valid",
    ]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append(
            "| " + " | ".join("" if r.get(c) is None else str(r.get(c)) for c in cols) + " |"
        )
    md = (
        f"Data {a.data}, rules {a.rules or 'default horizon'}, limit {a.limit:g} s, "
        f"{a.repeat} run(s)\n\n" + "\n".join(lines) + "\n"
    )
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "roadmap.md").write_text(md, encoding="utf-8")
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
