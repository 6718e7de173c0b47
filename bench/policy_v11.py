"""Benchmark: every contract v1.1 rule at once (issue 11), against the baselines of the same rows.

    python -m bench.policy_v11            # Hai Duong (examples/policy_v11.yaml) + national
    python -m bench.policy_v11 --no-national

- Hai Duong: ``solve()`` (exact pipeline) median of 3, plain CP-SAT and the HiGHS MIP of the same
  rule rows (``bench/methods.py``), each once with a 60 s limit, in one run.
- National 2025 structure, 3 positions (``rotation synth --national --seed 1``), three scenarios
  (:func:`national_cases`): ``examples/policy_v11_national.yaml`` (the relaxation path), the same
  with a budget that binds (the Lagrangian path) and the same without the whole-plan rules (the
  per-province run). Each: ``solve()`` in a child process (its path, ``stats["coupling"]``, peak
  RSS); for the first, plain CP-SAT (2 workers) and the HiGHS MIP of the same rows with
  ``--limit`` seconds, each in a child process; then ``rotation plan`` end to end (process start
  to files written; median of ``--repeats``; peak RSS of the largest process, from ``os.wait4``)
  on the first (``--e2e-all``: on every scenario). The load average is printed at the start and
  the end.

Prints a Markdown table (paste into bench/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
V11 = ROOT / "examples" / "policy_v11.yaml"
NATIONAL_V11 = ROOT / "examples" / "policy_v11_national.yaml"
"""National v1.1 scenario: every rule at once, a national budget and priority shares (the
coupling rules) that the provinces' optimum keeps — the relaxation path."""
BINDING_BUDGET_VND = 2_500_000_000
"""A budget below the relaxation's support cost (2.99 billion VND): the Lagrangian path."""
COUPLING = ("priority_shares", "budget_vnd")


def national_cases() -> dict[str, dict]:
    """The scenarios of the national table, by label (rules documents)."""
    doc = yaml.safe_load(NATIONAL_V11.read_text())
    return {
        "every v1.1 rule (examples/policy_v11_national.yaml)": doc,
        "same, budget 2.5 billion VND (binds)": {**doc, "budget_vnd": BINDING_BUDGET_VND},
        "per province: the same without budget_vnd and priority_shares": {
            k: v for k, v in doc.items() if k not in COUPLING
        },
    }


def hai_duong(limit: float) -> list[dict]:
    from bench import methods
    from rotation.read import read_dataset

    data = read_dataset(ROOT / "data" / "hai_duong")
    rules = yaml.safe_load(V11.read_text())
    rows = []
    times = []
    out: dict = {}
    for _ in range(3):
        t0 = time.perf_counter()
        out = methods.ours(data, rules, limit)
        times.append(time.perf_counter() - t0)
    rows.append({"method": "solve() exact pipeline", **out, "wall_s": statistics.median(times)})
    for name, fn in (("plain CP-SAT (2 workers)", methods.plain), ("HiGHS MIP", methods.highs_mip)):
        t0 = time.perf_counter()
        out = fn(data, rules, limit)
        rows.append({"method": name, **out, "wall_s": time.perf_counter() - t0})
    return rows


def national_data() -> Path:
    """``rotation synth --national --seed 1`` with 3 positions, written once to a temp folder."""
    from rotation.synth import synthesize_national, write_tables

    data = Path(tempfile.mkdtemp(prefix="v11-national-")) / "national"
    write_tables(synthesize_national(1, ["secretary", "pc_chair", "inspection_chair"]), data)
    return data


def end_to_end(data: Path, doc: dict, repeats: int) -> dict:
    """``rotation plan`` from process start to files written: median wall, peak RSS of the
    largest process (``os.wait4``: the command and its province workers, each on its own)."""
    work = Path(tempfile.mkdtemp(prefix="v11-e2e-"))
    rules = work / "rules.yaml"
    rules.write_text(yaml.safe_dump(doc))
    walls, peaks = [], []
    plan: dict = {}
    for k in range(repeats):
        out = work / f"out{k}"
        cmd = [sys.executable, "-m", "rotation", "plan", str(data), "--rules", str(rules)]
        log = work / f"stderr{k}.txt"
        t0 = time.perf_counter()
        with log.open("wb") as err_file:  # a file, not a pipe: a long stderr cannot block
            proc = subprocess.Popen(
                [*cmd, "--out", str(out), "--quiet"],
                stdout=subprocess.DEVNULL,
                stderr=err_file,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            _, code, ru = os.wait4(proc.pid, 0)
        walls.append(time.perf_counter() - t0)
        peaks.append(ru.ru_maxrss / 1024)
        code = os.waitstatus_to_exitcode(code)
        if code not in (0, 3):
            err = log.read_text(errors="replace").strip().splitlines()
            return {"status": f"failed (exit {code}: {err[-1:]})", "wall_s": walls[-1]}
        plan = json.loads((out / "plan-1.json").read_text())
    return {
        "wall_s": statistics.median(walls),
        "walls": walls,
        "peak_mib": max(peaks),
        "status": plan["status"],
        "objective": plan.get("objective"),
        "bound": plan.get("bound"),
    }


def in_child(method: str, data: Path, doc: dict, limit: float) -> dict:
    """``bench.methods.<method>`` (ours = ``solve()``, plain CP-SAT, HiGHS MIP of the same rows)
    in a fresh process: its result, wall seconds and peak RSS (a baseline that runs out of
    memory or time cannot take the bench down)."""
    work = Path(tempfile.mkdtemp(prefix="v11-child-"))
    rules = work / "rules.json"
    rules.write_text(json.dumps(doc, default=str))
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.policy_v11",
                "--child",
                method,
                str(data),
                str(rules),
                str(limit),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=limit * 4 + 300,
        )
    except subprocess.TimeoutExpired:
        return {"status": f"timed out after {limit * 4 + 300:g} s", "wall_s": limit * 4 + 300}
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        return {"status": f"failed ({proc.stderr.strip().splitlines()[-1:]})", "wall_s": wall}
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "wall_s": wall}


def child_main(method: str, data: str, rules: str, limit: str) -> None:
    from bench import methods
    from rotation.read import read_dataset

    fn = {"ours": methods.ours, "plain": methods.plain, "highs": methods.highs_mip}[method]
    out = fn(read_dataset(Path(data)), json.loads(Path(rules).read_text()), float(limit))
    out["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stats = out.pop("stats", {}) or {}
    out["coupling"] = stats.get("coupling")
    out["model_pairs"] = stats.get("model_pairs", out.get("model_pairs"))
    print(json.dumps(out, default=str))


def national(repeats: int, limit: float, e2e_all: bool) -> Iterator[dict]:
    """One row per scenario and method, all in this run, yielded as they are measured: the
    solves first (ours on every scenario, then the baselines on the first), the command end
    to end last (its workbook writing is the slowest part, and not the solver's)."""
    data = national_data()
    cases = list(national_cases().items())
    for label, doc in cases:
        yield {"scenario": label, "method": "`solve()`", **in_child("ours", data, doc, limit)}
    label, doc = cases[0]
    for method, name in (("plain", "plain CP-SAT, 2 workers"), ("highs", "HiGHS MIP")):
        yield {
            "scenario": label,
            "method": f"{name}, {limit:g} s",
            **in_child(method, data, doc, limit),
        }
    for i, (label, doc) in enumerate(cases if e2e_all else cases[:1]):
        yield {
            "scenario": label,
            "method": "`rotation plan` end to end",
            **end_to_end(data, doc, repeats if i == 0 else 1),
        }


def _num(x: object, digits: int = 3) -> str:
    return "–" if x is None else f"{float(x):,.{digits}f}"  # type: ignore[arg-type]


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.policy_v11")
    ap.add_argument("--limit", type=float, default=60.0)
    ap.add_argument("--no-national", action="store_true")
    ap.add_argument("--no-hai-duong", action="store_true")
    ap.add_argument("--e2e-all", action="store_true", help="every scenario end to end")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--child", nargs=4, metavar=("METHOD", "DATA", "RULES", "LIMIT"))
    a = ap.parse_args()
    if a.child:
        child_main(*a.child)
        return
    if not a.no_hai_duong:
        print("| Hai Duong, examples/policy_v11.yaml | status | objective | bound | wall s |")
        print("|---|---|---|---|---|")
    for r in [] if a.no_hai_duong else hai_duong(a.limit):
        ob, bd = r.get("objective"), r.get("bound")
        print(
            f"| {r['method']} | {r['status']} | {ob if ob is None else round(ob, 3)} | "
            f"{bd if bd is None else round(bd, 3)} | {r['wall_s']:.2f} |",
            flush=True,
        )
    if not a.no_national:
        load = os.getloadavg()
        print(f"\nNational (load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at start)")
        print(
            "| scenario | method | status | objective | bound | path | pairs in the proof | "
            "wall s | peak MiB |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        for r in national(a.repeats, a.limit, a.e2e_all):
            runs = r.get("walls")
            wall = _num(r.get("wall_s"), 1) + (
                f" (runs {', '.join(f'{w:.1f}' for w in runs)})" if runs and len(runs) > 1 else ""
            )
            print(
                f"| {r['scenario']} | {r['method']} | {r['status']} | {_num(r.get('objective'))} "
                f"| {_num(r.get('bound'))} | {r.get('coupling') or '–'} | "
                f"{r.get('model_pairs') or '–'} | {wall} | {_num(r.get('peak_mib'), 0)} |",
                flush=True,
            )
        load = os.getloadavg()
        print(f"\nload average at the end: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")


if __name__ == "__main__":
    main()
