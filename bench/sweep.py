"""Scenario sweep benchmark (issue 16): the engine's own cost, then a sweep on the local Dask
cluster against a plain sequential loop, in one run, with the same plans required of both.

    python -m bench.sweep                  # engines + Hai Duong, 60 variants
    python -m bench.sweep --national       # + national 2025, 10 variants, 1 and 2 workers
    python -m bench.sweep --only engines   # start-up and per-task cost of Dask (and Ray if present)
    python -m bench.sweep --only engines,hai_duong_cpu   # parts: engines, hai_duong_cpu,
                                                         # hai_duong, national

Writes ``bench/results/sweep.json`` and ``bench/results/sweep.md`` and prints the table.

What is measured:

- **engine**: wall time to start a local cluster of 2 single-threaded worker processes and run a
  first task; per-task cost of an empty task submitted in a batch of 500 (the throughput a sweep
  sees) and one at a time (submit → result round trip). Ray is measured the same way when it is
  installed (it is not a dependency).
- **sweep**: ``SerialEngine`` (a loop in this process) vs ``DaskEngine`` with 2 local workers on
  the same variants. The parallel wall time is given with and without the cluster start-up.
  *Engine overhead per task* = (wall after start-up × workers − Σ solve seconds measured in the
  workers) / tasks: the time a worker slot was not solving (scheduling, transfer of the dataset
  and the plans, idle at the tail), spread over the tasks. *Cores obtained* = CPU seconds used
  (this process for the loop; the workers for the cluster) / wall seconds: on a shared machine
  the speed-up cannot exceed (cores obtained by the cluster) / (cores obtained by the loop).
- **peak memory**: ``ru_maxrss`` of this process and of the largest worker.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from pathlib import Path
from typing import Any

from bench.instances import load
from rotation.rules import Rules
from rotation.sweep import DaskEngine, SerialEngine, Sweep, grid, parse_vary, run_sweep

RESULTS = Path(__file__).resolve().parent / "results"
HAI_DUONG_GRID = [
    "non_local_targets[0].min_share=0.30,0.375,0.45,0.525,0.60",
    "max_changes.count=4,6,8,none",
    "weights.change=10,50,100",
]
"""5 targets × 4 caps × 3 change weights = 60 variants, the issue's grid. About half are
infeasible (a cap of 4 cannot absorb Thành phố Hải Dương's forced moves at high targets); their
diagnosis searches for the smallest conflicting set within a *wall-clock* budget (20 s, in
rotation.diagnose), so this grid's wall time is mostly waiting on budgets, and two runs may word a
diagnosis differently (the statuses and every plan are the same)."""
HAI_DUONG_CPU_GRID = [
    "non_local_targets[0].min_share=0.30,0.33,0.36,0.39,0.42,0.45,0.48,0.51,0.54,0.57",
    "weights.change=10,50,100",
    "max_travel_km=40,60",
]
"""10 targets × 3 change weights × 2 travel limits = 60 variants, every one feasible: the time is
solving (CPU-bound), which is what a speed-up over cores measures."""
NATIONAL_GRID = [
    "non_local_targets[0].min_share=0.30,0.35,0.40,0.45,0.50",
    "weights.change=0,50",
]
"""5 targets × 2 change weights = 10 variants (national 2025 synth, 3 positions)."""


def _noop(x: int) -> int:
    return x


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# =========================================================================== engines
def bench_dask(workers: int = 2, batch: int = 500, single: int = 50) -> dict[str, Any]:
    t0 = time.perf_counter()
    eng = DaskEngine(workers=workers)
    with eng.session():
        c = eng.client
        c.submit(_noop, 0, pure=False).result()
        start = time.perf_counter() - t0
        c.gather(c.map(_noop, range(20), pure=False))  # warm
        t = time.perf_counter()
        c.gather(c.map(_noop, range(batch), pure=False))
        per_batch = (time.perf_counter() - t) / batch
        t = time.perf_counter()
        for i in range(single):
            c.submit(_noop, i, pure=False).result()
        per_single = (time.perf_counter() - t) / single
        t = time.perf_counter()
    stop = time.perf_counter() - t
    return {
        "engine": "dask",
        "start_s": round(start, 2),
        "task_ms_batch": round(1000 * per_batch, 2),
        "task_ms_roundtrip": round(1000 * per_single, 2),
        "stop_s": round(stop, 2),
    }


def bench_ray(workers: int = 2, batch: int = 500, single: int = 50) -> dict[str, Any] | None:
    try:
        import ray
    except ImportError:
        return None
    t0 = time.perf_counter()
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
    f = ray.remote(_noop)
    ray.get(f.remote(0))
    start = time.perf_counter() - t0
    ray.get([f.remote(i) for i in range(20)])
    t = time.perf_counter()
    ray.get([f.remote(i) for i in range(batch)])
    per_batch = (time.perf_counter() - t) / batch
    t = time.perf_counter()
    for i in range(single):
        ray.get(f.remote(i))
    per_single = (time.perf_counter() - t) / single
    t = time.perf_counter()
    ray.shutdown()
    return {
        "engine": "ray",
        "start_s": round(start, 2),
        "task_ms_batch": round(1000 * per_batch, 2),
        "task_ms_roundtrip": round(1000 * per_single, 2),
        "stop_s": round(time.perf_counter() - t, 2),
    }


# =========================================================================== sweeps
def _statuses(s: Sweep) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in s.results:
        out[r.status] = out.get(r.status, 0) + 1
    return out


def bench_sweep(label: str, name: str, specs: list[str], workers: list[int]) -> dict[str, Any]:
    data, base_doc = load(name)
    base = Rules.model_validate(base_doc)
    variants = grid([parse_vary(s) for s in specs])
    row: dict[str, Any] = {"instance": label, "variants": len(variants), "grid": specs}
    t, cpu = time.perf_counter(), time.process_time()
    serial = run_sweep(data, base, variants, SerialEngine())
    row["serial_s"] = round(time.perf_counter() - t, 2)
    row["serial_cores"] = round((time.process_time() - cpu) / row["serial_s"], 2)
    row["statuses"] = _statuses(serial)
    failed = [r for r in serial.results if r.status == "error"]
    if failed:  # a broken benchmark must not print timings as if it had solved
        raise SystemExit(f"{len(failed)} variants failed: {failed[0].outcome.error}")
    row["solve_s_sum_serial"] = serial.engine["solve_s"]
    row["peak_self_mib"] = round(_rss_mib())
    ceiling = bench_ceiling(data, base, variants, max(workers))
    ceiling["speedup"] = round(row["serial_s"] / ceiling["span_s"], 2)
    row["ceiling"] = ceiling
    print(json.dumps({"ceiling": ceiling}), flush=True)
    row["parallel"] = []
    for n in workers:
        t0 = time.perf_counter()
        eng = DaskEngine(workers=n)
        with eng.session():
            eng.client.submit(_noop, 0, pure=False).result()
            started = time.perf_counter() - t0
            cpu0 = eng.client.run(time.process_time)
            t = time.perf_counter()
            par = run_sweep(data, base, variants, eng)
            run_s = time.perf_counter() - t
            cpu1 = eng.client.run(time.process_time)
            worker_cpu = sum(cpu1[w] - cpu0.get(w, 0.0) for w in cpu1)
            peak = max(
                eng.client.run(
                    lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                ).values()
            )
        total = time.perf_counter() - t0
        pairs = list(zip(par.results, serial.results, strict=True))
        same_status = all(a.status == b.status for a, b in pairs)
        same_plans = all(a.outcome.plan == b.outcome.plan for a, b in pairs if b.feasible)
        diag_diff = sum(a.outcome.plan != b.outcome.plan for a, b in pairs if not b.feasible)
        busy = par.engine["solve_s"]
        row["parallel"].append(
            {
                "workers": n,
                "start_s": round(started, 2),
                "run_s": round(run_s, 2),
                "total_s": round(total, 2),
                "speedup_run": round(row["serial_s"] / run_s, 2),
                "speedup_total": round(row["serial_s"] / total, 2),
                "of_ceiling": round(ceiling["span_s"] / run_s, 2),
                "solve_s_sum": round(busy, 2),
                "cores": round(worker_cpu / run_s, 2),
                "overhead_ms_per_task": round(1000 * (run_s * n - busy) / len(variants), 1),
                "peak_worker_mib": round(peak),
                "same_statuses": same_status,
                "same_plans": same_plans,
                "diagnoses_worded_differently": diag_diff,
            }
        )
        print(json.dumps(row["parallel"][-1]), flush=True)
    return row


# =========================================================================== the machine's ceiling
_CEILING: dict[str, Any] = {}
"""The data, base rules and variants the forked ceiling processes inherit (set before the fork)."""


def _solve_share(share: int, shares: int) -> dict[str, float]:
    """One plain process's part of the ceiling: every ``shares``-th variant from ``share``, solved
    in a loop here (no engine); wall stamps on the system clock so that the parent can take the
    span from the first start to the last end across processes."""
    from rotation.sweep import solve_variant, variant_rules

    data, base, variants = _CEILING["data"], _CEILING["base"], _CEILING["variants"]
    mine = variants[share::shares]
    docs = [variant_rules(base, v.values).model_dump(mode="json") for v in mine]
    start, cpu = time.time(), time.process_time()
    solve_s = sum(solve_variant(data, d).seconds for d in docs)
    return {
        "start": start,
        "end": time.time(),
        "cpu_s": time.process_time() - cpu,
        "solve_s": solve_s,
    }


def bench_ceiling(data: Any, base: Rules, variants: list[Any], n: int) -> dict[str, Any]:
    """What the machine itself allows: ``n`` plain forked processes, each solving a fixed
    interleaved share of the variants in a loop — no scheduler, no transfer, no engine. The
    span from the first start to the last end is the best wall time any engine could reach
    with ``n`` processes on this machine (bar a better split of the shares)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    _CEILING.update(data=data, base=base, variants=variants)
    # not a multiprocessing.Pool: its daemonic processes may not start the national solve's own
    with ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("fork")) as pool:
        parts = list(pool.map(_solve_share, range(n), [n] * n))
    span = max(p["end"] for p in parts) - min(p["start"] for p in parts)
    return {
        "processes": n,
        "span_s": round(span, 2),
        "cores": round(sum(p["cpu_s"] for p in parts) / span, 2),
        "solve_s_sum": round(sum(p["solve_s"] for p in parts), 2),
    }


def _md(res: dict[str, Any]) -> str:
    lines = [
        f"Run {res['date']} on {res['cpus']} CPUs ({res['machine']}), load average at start "
        f"{res['load_start']}, at end {res['load_end']} (shared machine).",
        "",
        "| engine | start-up s | per task, batch of 500 (ms) | per task, one at a time (ms) |",
        "|---|---:|---:|---:|",
    ]
    for e in res["engines"]:
        lines.append(
            f"| {e['engine']} | {e['start_s']} | {e['task_ms_batch']} | {e['task_ms_roundtrip']} |"
        )
    lines += [
        "",
        "| instance | variants | statuses | loop s (cores obtained) | "
        "ceiling: plain processes s (cores), speed-up | workers | start-up s | "
        "sweep s (cores obtained) | "
        "speed-up (sweep / incl. start-up) | of the ceiling | overhead ms/task | "
        "peak worker MiB | same statuses and plans | diagnoses worded differently |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for s in res["sweeps"]:
        st = ", ".join(f"{k} {v}" for k, v in sorted(s["statuses"].items()))
        c = s.get("ceiling")
        ceil = f"{c['span_s']} ({c['cores']}), {c['speedup']}×" if c else "–"
        for p in s["parallel"]:
            lines.append(
                f"| {s['instance']} | {s['variants']} | {st} | {s['serial_s']} "
                f"({s.get('serial_cores', '–')}) | {ceil} | {p['workers']} | {p['start_s']} | "
                f"{p['run_s']} ({p.get('cores', '–')}) | "
                f"{p['speedup_run']}× / {p['speedup_total']}× | {p.get('of_ceiling', '–')} | "
                f"{p['overhead_ms_per_task']} | {p['peak_worker_mib']} | "
                f"{'yes' if p['same_statuses'] and p['same_plans'] else 'NO'} | "
                f"{p['diagnoses_worded_differently']} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--only",
        default=None,
        help="comma-separated parts: engines, hai_duong_cpu, hai_duong, national",
    )
    ap.add_argument("--national", action="store_true", help="also national 2025, 10 variants")
    args = ap.parse_args()
    parts = set(args.only.split(",")) if args.only else {"engines", "hai_duong_cpu", "hai_duong"}
    if args.national:
        parts.add("national")
    res: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "load_start": round(os.getloadavg()[0], 2),
        "engines": [],
        "sweeps": [],
    }
    if "engines" in parts:
        res["engines"].append(bench_dask())
        print(json.dumps(res["engines"][-1]), flush=True)
        ray_row = bench_ray()
        if ray_row:
            res["engines"].append(ray_row)
            print(json.dumps(ray_row), flush=True)
    if "hai_duong_cpu" in parts:
        res["sweeps"].append(
            bench_sweep("hai_duong (all feasible)", "hai_duong", HAI_DUONG_CPU_GRID, [2])
        )
    if "hai_duong" in parts:
        res["sweeps"].append(
            bench_sweep("hai_duong (issue grid)", "hai_duong", HAI_DUONG_GRID, [2])
        )
    if "national" in parts:
        res["sweeps"].append(bench_sweep("national_2025", "national_2025", NATIONAL_GRID, [1, 2]))
    res["load_end"] = round(os.getloadavg()[0], 2)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sweep.json").write_text(json.dumps(res, indent=2), encoding="utf-8")
    md = _md(res)
    (RESULTS / "sweep.md").write_text(md, encoding="utf-8")
    print(md)


if __name__ == "__main__":
    main()
