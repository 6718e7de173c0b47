"""Run every benchmark: ``python -m bench.run [--quick] [--only NAME]``.

Each (instance, method, repeat) runs in its own spawned child process, so the peak memory
(``ru_maxrss`` of the child) is per run; the parent kills a child that runs past its wall limit.
Results are merged into ``bench/results/latest.json`` (so ``--only`` refreshes one part) and the
markdown table is written to ``bench/results/latest.md`` and printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import queue
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
MEM_CAP_GIB = 12  # address-space cap per child: protects the shared 23 GB machine

MAIN = ["hai_duong", "nghe_an_2pos", "national_2025"]
ORLIB = ["assignp800", "assignp1500", "assignp3000", "assignp5000"]
RULE_METHODS = ["ours", "scip", "timefold", "timefold_long", "plain_cpsat", "highs_mip", "greedy"]
ORLIB_METHODS = [
    "ours",
    "scip",
    "timefold",
    "plain_cpsat",
    "highs_mip",
    "greedy",
    "scipy_sparse",
    "scipy_dense",
    "ortools_mcf",
]
SLOW = {
    "plain_cpsat",
    "highs_mip",
    "greedy",
    "scip",
    "timefold",
    "timefold_long",
}  # one run each (time-limited baselines; greedy
# is fast but validate_plan on it is slow)
METHOD_ORDER = [
    "ours",
    "scip",
    "scip_2t",
    "timefold",
    "timefold_long",
    "plain_cpsat",
    "highs_mip",
    "greedy",
    "scipy_sparse",
    "scipy_dense",
    "ortools_mcf",
]
TIMEFOLD_LIMITS = {
    # Timefold stops at its time limit (a local search proves nothing): limits that fit the
    # bench's budget, per instance (s); the JVM, the translation of the domain and the
    # conversions to and from Java come on top (see its phase table)
    "timefold": {"hai_duong": 30.0, "nghe_an_2pos": 60.0},
    "timefold_long": {"hai_duong": 120.0},
}
TIMEFOLD_DEFAULT_S = 30.0
TIMEFOLD_WALL_EXTRA_S = 900.0  # conversions of a few 100k pairs take minutes on a loaded machine


def method_limit(method: str, instance: str, limit: float) -> float | None:
    """The time limit of one method on one instance (``None``: not run there)."""
    if method not in TIMEFOLD_LIMITS:
        return limit
    per = TIMEFOLD_LIMITS[method]
    if method == "timefold":
        return per.get(instance, TIMEFOLD_DEFAULT_S)
    return per.get(instance)


SCALING = ["national_1prov", "national_3prov", "national_8prov", "national_17prov", "national_2025"]


# ----------------------------------------------------------------------------- child side
def _child(target: str, args: tuple, q) -> None:
    try:
        resource.setrlimit(resource.RLIMIT_AS, (MEM_CAP_GIB << 30, MEM_CAP_GIB << 30))
        out = globals()[target](*args)
    except MemoryError:
        out = {"status": f"out of memory (> {MEM_CAP_GIB} GiB cap)"}
    except Exception as exc:  # report, don't crash the whole benchmark
        out = {"status": f"error: {type(exc).__name__}: {exc}"[:200]}
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # solve() may fan out to worker processes (2 at once on this machine); getrusage only
    # gives the largest finished child, so count it twice on top of the parent: an upper bound
    # of what was in use at the same time
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out["peak_self_mib"] = own
    out["peak_children_mib"] = kids
    out["peak_mib"] = own + 2 * kids
    q.put(out)


def _method_run(instance: str, method: str, time_limit: float) -> dict:
    from bench.instances import load
    from bench.methods import METHODS

    data, rules = load(instance)
    return METHODS[method](data, rules, time_limit)


def _seeds_run(seeds: int, time_limit: float) -> dict:
    from rotation.read import parse_tables
    from rotation.rules import load_rules
    from rotation.solve import solve
    from rotation.synth import synthesize

    runs = []
    for s in range(1, seeds + 1):
        data = parse_tables(synthesize("Hải Dương", True, s, ["secretary"]))
        res = solve(data, load_rules({"time_limit_s": time_limit}), explain=False)
        runs.append(
            {
                "seed": s,
                "status": res.status,
                "total_s": res.stats["total_s"],
                "pairs": res.stats["pairs"],
            }
        )
    return {"runs": runs}


def run_child(target: str, args: tuple, wall: float) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(target, args, q))
    t0 = time.perf_counter()
    p.start()
    try:
        out = q.get(timeout=wall)
    except queue.Empty:
        out = {"status": f"not finished in {wall:.0f} s (killed)"}
        p.kill()
    p.join(10)
    if p.exitcode not in (0, None) and "peak_mib" not in out:
        out = {"status": f"child died (exit {p.exitcode}; memory cap {MEM_CAP_GIB} GiB?)"}
    out["wall_s"] = round(time.perf_counter() - t0, 2)
    return out


# ----------------------------------------------------------------------------- parent side
def bench_instance(instance: str, methods: list[str], repeats: int, limit: float, log) -> list:
    from bench.instances import load

    load(instance)  # build the cache once, outside the timed children
    rows = []
    for m in methods:
        m_limit = method_limit(m, instance, limit)
        if m_limit is None:
            continue
        n = 1 if m in SLOW else repeats
        wall = m_limit * 2 + 120 if m != "greedy" else 900
        if m in TIMEFOLD_LIMITS:
            wall = m_limit + TIMEFOLD_WALL_EXTRA_S
        runs = []
        for _ in range(n):
            r = run_child("_method_run", (instance, m, m_limit), wall)
            runs.append(r)
            log(
                f"  {instance:16s} {m:13s} {r.get('status')} obj={r.get('objective')} "
                f"total={r.get('total_s')} peak={r.get('peak_mib', 0):.0f} MiB"
            )
            if "solve_s" not in r:
                break
        timed = [r for r in runs if "solve_s" in r]
        if timed:
            med = sorted(timed, key=lambda r: r["solve_s"])[len(timed) // 2]
            row = dict(med)
            row["solve_s_runs"] = [round(r["solve_s"], 3) for r in timed]
            row["peak_mib"] = max(r.get("peak_mib", 0) for r in timed)
        else:
            row = dict(runs[-1])
        row.update(instance=instance, method=m, runs=len(timed) or len(runs), time_limit=m_limit)
        rows.append(row)
    return rows


def end_to_end(repeats: int) -> dict:
    """``rotation plan data/hai_duong --out <tmp>``: read → plan files, wall clock."""
    exe = Path(sys.executable).parent / "rotation"
    times = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as d:
            t0 = time.perf_counter()
            cp = subprocess.run(
                [str(exe), "plan", str(HERE.parent / "data" / "hai_duong"), "--out", d],
                capture_output=True,
                text=True,
                timeout=300,
            )
            times.append(round(time.perf_counter() - t0, 2))
            files = sorted(os.listdir(d))
    return {
        "times": times,
        "median_s": statistics.median(times),
        "rc": cp.returncode,
        "files": files,
    }


def fit_power(xs, ys):
    import numpy as np

    b, loga = np.polyfit(np.log(xs), np.log(ys), 1)
    return float(np.exp(loga)), float(b)


def plot_scaling(points: list[dict]) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = sorted((p for p in points if p.get("total_s")), key=lambda p: p["pairs"])
    if len(pts) < 2:
        return {}
    xs = [p["pairs"] for p in pts]
    a, b = fit_power(xs, [p["total_s"] for p in pts])
    am, bm = fit_power(xs, [p["peak_mib"] for p in pts])
    fig, ax = plt.subplots(1, 2, figsize=(11, 4.2))
    ax[0].loglog(xs, [p["total_s"] for p in pts], "o-", label="ours: solve() total")
    ax[0].loglog(xs, [p["solve_s"] for p in pts], "s--", label="ours: after eligibility")
    ax[0].loglog(xs, [a * x**b for x in xs], ":", label=f"fit {a:.2g}·pairs^{b:.2f}")
    ax[0].set_xlabel("eligible pairs")
    ax[0].set_ylabel("seconds")
    ax[0].legend()
    ax[0].grid(True, which="both", alpha=0.3)
    ax[1].loglog(xs, [p["peak_mib"] for p in pts], "o-", label="peak RSS (child)")
    ax[1].loglog(xs, [am * x**bm for x in xs], ":", label=f"fit {am:.2g}·pairs^{bm:.2f}")
    ax[1].set_xlabel("eligible pairs")
    ax[1].set_ylabel("MiB")
    ax[1].legend()
    ax[1].grid(True, which="both", alpha=0.3)
    for p in pts:
        ax[0].annotate(
            p["instance"].replace("national_", ""), (p["pairs"], p["total_s"]), fontsize=7
        )
    fig.suptitle("National 2025 synth restricted to k provinces (exact pipeline)")
    fig.tight_layout()
    fig.savefig(HERE / "scaling.png", dpi=110)
    return {"a": a, "b": b, "mem_a": am, "mem_b": bm}


# ----------------------------------------------------------------------------- rendering
def _f(x, nd=2):
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:,.{nd}f}"
    return f"{x:,}" if isinstance(x, int) else str(x)


def render(res: dict) -> str:
    from bench.instances import ORLIB_OPT

    lines = [
        f"Run {res.get('date', '?')} on {res.get('machine', '?')}; time limit per baseline "
        "run shown in notes. solve s = median of the runs shown (n); peak = max RSS of the "
        "child process running that method.",
        "",
    ]
    lines.append(
        "| instance | method | pairs | build s | solve s (n) | total s | first s | best s | "
        "proof s | status | objective | bound | gap | vs optimum | peak MiB | "
        "time ratio vs ours |"
    )
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    rows = res.get("rows", [])
    ours = {r["instance"]: r for r in rows if r["method"] == "ours"}
    for r in rows:
        o = ours.get(r["instance"], {})
        obj, bd = r.get("objective"), r.get("bound")
        gap = (
            f"{abs(obj - bd) / max(1, abs(obj)):.3%}" if obj is not None and bd is not None else "–"
        )
        opt = ORLIB_OPT.get(r["instance"])
        if opt is None and o.get("status") == "optimal":
            opt = o.get("objective")
        vs = f"{(obj - opt) / max(1, abs(opt)):+.2%}" if obj is not None and opt else "–"
        ratio = "–"
        if r.get("total_s") and o.get("total_s"):
            ratio = f"{r['total_s'] / o['total_s']:.2f}×"
        status = r.get("status", "?")
        if r.get("violations"):
            status += " (" + ", ".join(f"{k} {v}" for k, v in r["violations"].items()) + ")"
        lines.append(
            f"| {r['instance']} | {r['method']} | {_f(r.get('pairs'))} | {_f(r.get('build_s'))} | "
            f"{_f(r.get('solve_s'))} ({r.get('runs', 1)}) | {_f(r.get('total_s'))} | "
            f"{_f(r.get('first_s'))} | {_f(r.get('best_s'))} | {_f(r.get('proof_s'))} | {status} | "
            f"{_f(obj, 3)} | {_f(bd, 3)} | {gap} | {vs} | {_f(r.get('peak_mib'), 0)} | {ratio} |"
        )
    lines.append("")
    lines.append(
        "`build s` = eligibility + model construction; `solve s` = the rest (for ours: LP "
        "bound, first plan, reduced-cost fixing, exact CP-SAT); `total s` = build + "
        "solve (for ours: `stats.total_s` of `solve()`); ratio = method total / ours "
        "total (> 1: ours is faster). `vs optimum` = objective vs the published optimum "
        "(OR-Library) or ours when proven optimal. `first s` / `best s` = seconds of the "
        "solve to the first / the best plan (ours: progress events of `solve()`; SCIP: its "
        "best-solution events, solving clock); `proof s` = when optimality was proven (– : "
        "not proven). Ours count from the start of `solve()` (eligibility included); SCIP's "
        "from the start of its solve (its `build s`, eligibility and model, not included: "
        "in its favour). Every peer's solution is re-checked against every row (status says "
        "`breaks N rows` otherwise)."
    )
    lines += proof_ratios(rows)
    lines += timefold_phases(rows)
    if "seeds" in res:
        s = res["seeds"]
        runs = s.get("runs", [])
        if runs:
            worst = max(runs, key=lambda r: r["total_s"])
            over = sum(r["total_s"] > 10 for r in runs)
            notopt = [r["seed"] for r in runs if r["status"] != "optimal"]
            lines.append("")
            lines.append(
                f"Hai Duong synth, {len(runs)} seeds (default rules, ours): max solve() "
                f"total {worst['total_s']:.2f} s (seed {worst['seed']}), median "
                f"{statistics.median(r['total_s'] for r in runs):.2f} s, {over} past "
                f"10 s, not optimal: {notopt or 'none'}; peak {s.get('peak_mib', 0):.0f} "
                "MiB."
            )
        else:
            lines.append(f"Hai Duong seeds: {s.get('status')}")
    if "e2e" in res:
        e = res["e2e"]
        lines.append("")
        lines.append(
            f"End to end `rotation plan data/hai_duong --out DIR` (process start → plan "
            f"files): median {e['median_s']:.2f} s of {e['times']} (exit {e['rc']}, "
            f"files {', '.join(e['files'])})."
        )
    if res.get("scaling"):
        sc = res["scaling"]
        lines.append("")
        lines.append("Scaling (ours, national 2025 synth restricted to k provinces, 1 run each):")
        lines.append("")
        lines.append(
            "| instance | pairs | model pairs | total s | after eligibility s | peak MiB | status |"
        )
        lines.append("|---|---:|---:|---:|---:|---:|---|")
        for p in sorted(sc["points"], key=lambda p: p.get("pairs") or 0):
            lines.append(
                f"| {p['instance']} | {_f(p.get('pairs'))} | {_f(p.get('model_pairs'))} | "
                f"{_f(p.get('total_s'))} | {_f(p.get('solve_s'))} | "
                f"{_f(p.get('peak_mib'), 0)} | {p.get('status')} |"
            )
        if sc.get("fit"):
            f = sc["fit"]
            lines.append("")
            lines.append(
                f"Fit: total s ≈ {f['a']:.3g}·pairs^{f['b']:.2f}; peak MiB ≈ "
                f"{f['mem_a']:.3g}·pairs^{f['mem_b']:.2f} (plot: bench/scaling.png)."
            )
    return "\n".join(lines) + "\n"


PEERS = ("scip", "scip_2t", "plain_cpsat", "highs_mip", "timefold")


def proof_ratios(rows: list[dict]) -> list[str]:
    """Per instance: ours to proven optimum vs the fastest peer to proven optimum."""
    out = ["", "| instance | ours to proof s | fastest peer to proof | its s | ratio |"]
    out.append("|---|---:|---|---:|---:|")
    by: dict[str, list[dict]] = {}
    for r in rows:
        by.setdefault(r["instance"], []).append(r)
    for inst, rs in by.items():
        ours = next((r for r in rs if r["method"] == "ours"), {})
        proved = [
            r
            for r in rs
            if r["method"] in PEERS and r.get("proof_s") and r.get("status") == "optimal"
        ]
        o = ours.get("proof_s")
        if not proved:
            out.append(f"| {inst} | {_f(o)} | no peer proved optimality | – | – |")
            continue
        best = min(proved, key=lambda r: r["proof_s"])
        ratio = f"{o / best['proof_s']:.3f}" if o else "–"
        out.append(f"| {inst} | {_f(o)} | {best['method']} | {_f(best['proof_s'])} | {ratio} |")
    return out


TIMEFOLD_PHASES = (
    ("jvm_start_s", "JVM start"),
    ("row_model_s", "rows"),
    ("domain_s", "domain → Java classes"),
    ("problem_build_s", "problem objects"),
    ("solver_build_s", "solver"),
    ("to_java_s", "Python → Java"),
    ("solve_s", "solve"),
    ("from_java_s", "Java → Python"),
)


def timefold_phases(rows: list[dict]) -> list[str]:
    """Where a Timefold run's seconds go (its conversions to and from Java apart)."""
    tf = [r for r in rows if r["method"].startswith("timefold") and "solve_s" in r]
    if not tf:
        return []
    head = " | ".join(name for _, name in TIMEFOLD_PHASES)
    out = ["", f"| instance | method | limit s | {head} | score | peak MiB |"]
    out.append("|---|---|---:|" + "---:|" * len(TIMEFOLD_PHASES) + "---|---:|")
    for r in tf:
        cells = " | ".join(_f(r.get(k)) for k, _ in TIMEFOLD_PHASES)
        out.append(
            f"| {r['instance']} | {r['method']} | {_f(r.get('time_limit'))} | {cells} | "
            f"{r.get('score', '–')} | {_f(r.get('peak_mib'), 0)} |"
        )
    return out


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
        ram = f"{int(mem) / 2**20:.1f} GiB RAM"
    except OSError:
        ram = "?"
    return f"{os.cpu_count()} CPUs ({cpu}), {ram}, Python {sys.version.split()[0]}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.run")
    ap.add_argument("--quick", action="store_true", help="small instances, 1 run, 30 s limits")
    ap.add_argument("--only", help="one instance name, or: seeds, e2e, scaling")
    ap.add_argument("--methods", help="comma-separated subset of methods")
    ap.add_argument("--limit", type=float, help="time limit per solver run (s)")
    a = ap.parse_args(argv)
    repeats = 1 if a.quick else 3
    limit = a.limit or (30.0 if a.quick else 120.0)
    RESULTS.mkdir(exist_ok=True)
    store = RESULTS / ("quick.json" if a.quick else "latest.json")
    res = json.loads(store.read_text()) if store.exists() else {}
    res["date"] = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    res["machine"] = machine()
    res.setdefault("rows", [])

    def log(msg):
        print(msg, flush=True)

    instances = (MAIN[:2] + ORLIB[:1]) if a.quick else MAIN + ORLIB
    sections = ["seeds", "e2e", "scaling"]
    if a.only:
        wanted = a.only.split(",")
        instances = [w for w in wanted if w not in sections]
        sections = [w for w in wanted if w in sections]
    mine: dict = {}

    def save():
        # merge with whatever another concurrent run saved meanwhile
        if store.exists():
            disk = json.loads(store.read_text())
            for k, v in disk.items():
                if k != "rows" and k not in mine:
                    res[k] = v
            done = {
                (r["instance"], r["method"])
                for r in res["rows"]
                if (r["instance"], r["method"]) in mine
            }
            res["rows"] = [
                r for r in disk.get("rows", []) if (r["instance"], r["method"]) not in done
            ] + [r for r in res["rows"] if (r["instance"], r["method"]) in done]
            order = {n: i for i, n in enumerate(MAIN + ORLIB)}
            res["rows"].sort(
                key=lambda r: (
                    order.get(r["instance"], 99),
                    r["instance"],
                    METHOD_ORDER.index(r["method"]),
                )
            )
        store.write_text(json.dumps(res, indent=1, default=float))
        md = render(res)
        (RESULTS / ("quick.md" if a.quick else "latest.md")).write_text(md)
        return md

    for inst in instances:
        methods = ORLIB_METHODS if inst.startswith("assign") else RULE_METHODS
        if a.methods:
            methods = [m for m in methods if m in a.methods.split(",")]
        rows = bench_instance(inst, methods, repeats, limit, log)
        keep = [r for r in res["rows"] if not (r["instance"] == inst and r["method"] in methods)]
        res["rows"] = keep + rows
        for r in rows:
            mine[(r["instance"], r["method"])] = True
        order = {n: i for i, n in enumerate(MAIN + ORLIB)}
        res["rows"].sort(key=lambda r: (order.get(r["instance"], 99), r["instance"]))
        save()
    if "seeds" in sections:
        n = 5 if a.quick else 20
        mine["seeds"] = True
        res["seeds"] = run_child("_seeds_run", (n, 30.0), 60 * n + 60)
        log(f"  seeds: done in {res['seeds']['wall_s']} s")
        save()
    if "e2e" in sections:
        mine["e2e"] = True
        res["e2e"] = end_to_end(1 if a.quick else 3)
        log(f"  e2e: {res['e2e']}")
        save()
    if "scaling" in sections:
        from bench.instances import load

        names = SCALING[:2] if a.quick else SCALING
        pts = []
        for name in names:
            prior = [r for r in res["rows"] if r["instance"] == name and r["method"] == "ours"]
            if prior and "pairs" in prior[0]:
                p = dict(prior[0])
            else:
                load(name)
                p = run_child("_method_run", (name, "ours", limit), limit * 2 + 120)
            p["instance"] = name
            log(
                f"  scaling {name}: pairs={p.get('pairs')} total={p.get('total_s')} "
                f"peak={p.get('peak_mib', 0):.0f}"
            )
            pts.append(p)
        mine["scaling"] = True
        res["scaling"] = {"points": pts, "fit": plot_scaling(pts)}
        save()
    print(save())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
