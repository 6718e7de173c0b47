"""Term roadmap methods side by side (issues 6 and 14).

`python -m bench.roadmap [--instance NAME | --data DIR] [--rules YAML] [--limit S]
[--baseline-limit S] [--methods a,b,…] [--repeat N] [--out FILE]` writes
`bench/results/roadmap.md` (or ``--out``) and prints it. Methods, all on the same rules and data:

- `greedy`: round by round with the single-round optimiser (each round optimal on its own);
- `candidates`: one CP-SAT model over the candidate pairs (8 + 8 per post and round);
- `exact`: every eligible (cadre, post, round) triple, LP bound + reduced-cost fixing + CP-SAT
  (rotation.roadmap.exact), province by province when no rule links the provinces
  (rotation.roadmap.province);
- `exact-whole`: the same, never split by province (the national comparison);
- `plain`: plain CP-SAT over every eligible triple (no pruning), the baseline, stopped at
  ``--baseline-limit`` seconds of solving (the model's build comes on top);
- `mip`: HiGHS MIP of the same rows and objective (rotation.roadmap.relaxation.term_lp_matrix,
  every cross-round row), stopped at ``--baseline-limit`` seconds in all.

``--instance``: a named instance of ``bench/instances.py`` (``hai_duong``, ``nghe_an_2pos``,
``national_2025``, …) with its rules; ``--rules`` adds a YAML on top (a horizon). Each method
runs in its own child process (``--child``), so its CPU seconds (user + sys, its worker
processes included) and its peak memory are its own: ``peak MiB`` is the child's own peak plus
twice its largest worker's (up to 2 workers run at once: an upper bound of what was in use at
the same time, as bench/run.py counts it). Each row: status, objective, bound, gap, people
moved, km, support cost, wall seconds (median of ``--repeat``), CPU seconds, peak, the
validator's verdict and the 1-minute load average when the method ended. The term objective of
the round-by-round roadmap is computed with the same costs as the horizon's (so the rows
compare), and a last table gives exact − round by round per quality column.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import yaml
from ortools.sat.python import cp_model

from rotation.data import ProblemData
from rotation.model import SCALE
from rotation.read import read_dataset
from rotation.roadmap.exact import roadmap_vector
from rotation.roadmap.model import (
    RoadmapResult,
    build_roadmap_model,
    greedy_roadmap,
    horizon_of,
    solve_roadmap,
    term_pairs,
)
from rotation.roadmap.relaxation import (
    Columns,
    cost_vector,
    highs_lp,
    round_costs,
    term_lp_matrix,
)
from rotation.roadmap.rounds import RoundIndex
from rotation.roadmap.rows import TermIndex
from rotation.roadmap.state import project_ratings, retired_by
from rotation.roadmap.validate import validate_roadmap
from rotation.rules import Rules, load_rules

ROOT = Path(__file__).resolve().parents[1]
COLS = [
    "method",
    "status",
    "objective",
    "bound",
    "gap",
    "moved",
    "km",
    "support",
    "seconds",
    "cpu_s",
    "peak_mib",
    "valid",
    "load",
]
QUALITY = ["objective", "moved", "km", "support"]


def term_objective(data: ProblemData, rules: Rules, holders: list[dict[str, str | None]]) -> float:
    """The term objective of a roadmap (post → cadre per round) with the horizon's costs
    (:func:`rotation.roadmap.relaxation.round_costs`): its own pairs only, no candidates."""
    h = horizon_of(rules)
    base = project_ratings(data, h.rounds[-1].year)
    retired = [set(retired_by(base, rules, d)) for d in h.rounds]
    pairs, _ = term_pairs(base, rules, retired, holders, 0)
    rounds = [RoundIndex(rp.elig, rp.gids, rp.can_arrive, rp.prev) for rp in pairs]
    cols = Columns(rounds)
    v = roadmap_vector(rounds, cols, holders)
    if v is None:
        raise ValueError("a pair of the roadmap is not a pair of its round")
    return float(cost_vector(round_costs(rounds, h, rules, None), cols) @ v) / SCALE


def _row(name: str, res: RoadmapResult, data: ProblemData, rules: Rules) -> dict[str, Any]:
    kp = res.kpis_by_round
    objective = res.stats.get("objective")
    whole = len(res.rounds) == len(horizon_of(rules).rounds)
    if objective is None and whole:  # round by round: the same term objective
        objective = round(term_objective(data, rules, [p.holder() for _, p in res.rounds]), 3)
    broken = [str(v) for v in validate_roadmap(data, rules, res.to_json())] if res.rounds else []
    return {
        "method": name,
        "status": res.status,
        "objective": objective,
        "bound": res.stats.get("bound"),
        "gap": res.stats.get("gap"),
        "moved": sum(k["changed_posts"] for k in kp) if kp else None,
        "km": round(sum(k["total_travel_km"] for k in kp), 1) if kp else None,
        "support": sum(k.get("support_vnd") or 0 for k in kp) if kp else None,
        "valid": "—" if not res.rounds else f"violations ({len(broken)})" if broken else "valid",
        "violations": broken[:10],
        "message": res.stats.get("message"),
        "provinces": res.stats.get("provinces"),
        "diagnosis": [f"{d.rule} {d.scope}: {d.detail}" for d in res.diagnosis][:20],
        "stats": {
            k: v
            for k, v in res.stats.items()
            if k not in ("exact_over", "provinces") and not isinstance(v, dict | list)
        },
    }


def _plain(data: ProblemData, rules: Rules, limit: float) -> dict[str, Any]:
    t = time.perf_counter()
    m = build_roadmap_model(data, rules, candidates_per_post=None)
    build_s = time.perf_counter() - t
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
        "gap": None
        if obj is None or bound is None
        else round(abs(obj - bound) / max(1, abs(obj)), 4),
        "message": f"build {build_s:.1f} s, solve stopped at {limit:g} s",
    }


def _mip(data: ProblemData, rules: Rules, limit: float) -> dict[str, Any]:
    t = time.perf_counter()
    h = horizon_of(rules)
    base = project_ratings(data, h.rounds[-1].year)
    retired = [set(retired_by(base, rules, d)) for d in h.rounds]
    pairs, _ = term_pairs(base, rules, retired, None, None)
    rounds = [RoundIndex(rp.elig, rp.gids, rp.can_arrive, rp.prev) for rp in pairs]
    cols = Columns(rounds)
    term = TermIndex(base, rules, h, rounds, retired)
    mat = term_lp_matrix(rounds, term, cols, rules, None, full=True)
    lp = highs_lp(mat, integer=True)
    build_s = time.perf_counter() - t
    hs = highspy.Highs()
    hs.setOptionValue("output_flag", False)
    hs.setOptionValue("time_limit", max(1.0, limit - build_s))
    hs.setOptionValue("threads", rules.workers)
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
        "message": f"{mat.block.lo.shape[0]} rows, {cols.n} columns, build {build_s:.1f} s",
    }


def load_case(a: argparse.Namespace) -> tuple[ProblemData, Rules, str]:
    """The data, the rules (the instance's, the YAML on top, the time limit) and a label."""
    doc = yaml.safe_load(Path(a.rules).read_text(encoding="utf-8")) if a.rules else {}
    if a.instance:
        from bench.instances import load

        data, base = load(a.instance)
        label = a.instance
    else:
        data, base, label = read_dataset(a.data), {}, a.data
    rules = load_rules({**base, **doc, "time_limit_s": a.limit})
    return data, rules, label


def _cpu() -> float:
    """CPU seconds (user + sys) of this process and its finished worker processes so far."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _progress(ev: Any) -> None:
    """Progress of a long run on stderr (one line per province or phase)."""
    if ev.phase.startswith("province") or ev.phase in ("bound", "pruning", "done"):
        print(f"{ev.elapsed_s:8.1f} s  {ev.phase}  {ev.objective}  {ev.bound}", file=sys.stderr)


def run_method(a: argparse.Namespace, method: str) -> dict[str, Any]:
    """One method in this process (the child side): its row, its wall and CPU seconds (the
    solve only: not the data's loading, nor the validator) and its peak memory."""
    data, rules, _ = load_case(a)
    times: list[float] = []
    cpu: list[float] = []
    row: dict[str, Any] = {}
    for _ in range(1 if method in ("plain", "mip") else a.repeat):
        t, c = time.perf_counter(), _cpu()
        res: RoadmapResult | None = None
        if method == "plain":
            row = _plain(data, rules, a.baseline_limit)
        elif method == "mip":
            row = _mip(data, rules, a.baseline_limit)
        elif method == "greedy":
            res = greedy_roadmap(data, rules)
        elif method in ("candidates", "exact"):
            res = solve_roadmap(data, rules, method=method, progress=_progress)
        elif method == "exact-whole":
            res = solve_roadmap(data, rules, method="exact", decompose=False)
        else:
            raise SystemExit(f"unknown method {method!r}")
        times.append(time.perf_counter() - t)
        cpu.append(_cpu() - c)
        if res is not None:
            row = _row(method, res, data, rules)
    row["seconds"] = round(statistics.median(times), 1)
    row["times"] = [round(x, 1) for x in times]
    row["cpu_s"] = round(statistics.median(cpu), 1)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    row["peak_mib"] = round((own + 2 * kids) / 1024)
    row["load"] = round(os.getloadavg()[0], 1)
    return row


def _child_argv(a: argparse.Namespace, method: str) -> list[str]:
    argv = [sys.executable, "-m", "bench.roadmap", "--child", method]
    argv += ["--limit", str(a.limit), "--baseline-limit", str(a.baseline_limit)]
    argv += ["--repeat", str(a.repeat)]
    argv += ["--instance", a.instance] if a.instance else ["--data", a.data]
    return argv + (["--rules", a.rules] if a.rules else [])


def _cell(v: Any) -> str:
    return (
        "" if v is None else f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)
    )


def quality_table(rows: list[dict[str, Any]]) -> list[str]:
    """exact (or exact-whole) − round by round, per quality column (negative: exact better)."""
    by = {r["method"]: r for r in rows}
    g = by.get("greedy")
    out: list[str] = []
    for name in ("exact", "exact-whole", "candidates"):
        e = by.get(name)
        if not g or not e or any(e.get(c) is None or g.get(c) is None for c in QUALITY):
            continue
        if not out:
            out = ["| vs round by round | " + " | ".join(QUALITY) + " |", "|---" * 5 + "|"]
        cells = []
        for c in QUALITY:
            d = e[c] - g[c]
            rel = f" ({d / g[c]:+.1%})" if g[c] else ""
            cells.append(f"{d:+,.1f}{rel}" if isinstance(d, float) else f"{d:+,}{rel}")
        out.append(f"| {name} − greedy | " + " | ".join(cells) + " |")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.roadmap")
    ap.add_argument("--data", default=str(ROOT / "data" / "hai_duong"))
    ap.add_argument("--instance", default=None, help="a named instance of bench/instances.py")
    ap.add_argument("--rules", default=None, help="rules YAML (default: the default horizon)")
    ap.add_argument("--limit", type=float, default=120.0, help="the roadmap's time_limit_s")
    ap.add_argument(
        "--baseline-limit", type=float, default=120.0, help="time limit of plain and mip (s)"
    )
    ap.add_argument("--methods", default="greedy,candidates,exact,plain,mip")
    ap.add_argument("--repeat", type=int, default=1, help="runs per method (median time)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "roadmap.md"))
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        print(json.dumps(run_method(a, a.child)), flush=True)
        return 0
    _, _, label = load_case(a)  # builds the instance cache once, before the children
    rows = []
    load_before = os.getloadavg()
    for method in a.methods.split(","):
        proc = subprocess.run(  # the child's stderr (progress, a traceback) passes through
            _child_argv(a, method), stdout=subprocess.PIPE, text=True, cwd=ROOT, check=False
        )
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode or not lines:
            rows.append({"method": method, "status": f"error (exit {proc.returncode})"})
        else:
            rows.append(json.loads(lines[-1]))
        print(json.dumps(rows[-1]), flush=True)
    lines = ["| " + " | ".join(COLS) + " |", "|" + "---|" * len(COLS)]
    for r in rows:
        lines.append("| " + " | ".join(_cell(r.get(c)) for c in COLS) + " |")
    notes = [f"- {r['method']}: {r['message']}" for r in rows if r.get("message")]
    quality = quality_table(rows)
    md = (
        f"Data {label}, rules {a.rules or 'default horizon'}, roadmap limit {a.limit:g} s, "
        f"plain/mip limit {a.baseline_limit:g} s, {a.repeat} run(s); load average "
        f"{', '.join(f'{x:.1f}' for x in load_before)} before, "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} after\n\n"
        + "\n".join(lines)
        + "\n"
        + ("\n" + "\n".join(notes) + "\n" if notes else "")
        + ("\n" + "\n".join(quality) + "\n" if quality else "")
    )
    out = Path(a.out)
    out.parent.mkdir(exist_ok=True)
    out.write_text(md, encoding="utf-8")
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
