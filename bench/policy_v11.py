"""Benchmark: every contract v1.1 rule at once (issue 11), against the baselines of the same rows.

    python -m bench.policy_v11            # Hai Duong (examples/policy_v11.yaml) + national
    python -m bench.policy_v11 --no-national

- Hai Duong: ``solve()`` (exact pipeline) median of 3, plain CP-SAT and the HiGHS MIP of the same
  rule rows (``bench/methods.py``), each once with a 60 s limit, in one run.
- National 2025 structure, 3 positions (``rotation synth --national --seed 1``): ``rotation plan``
  end to end (process start to files written) with the v1.1 rules below, median of 3 wall times and
  the peak resident memory of the process (``/usr/bin/time``-style, from ``resource``).

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
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
V11 = ROOT / "examples" / "policy_v11.yaml"
NATIONAL_V11 = {
    "positions": ["secretary", "pc_chair", "inspection_chair"],
    "non_local_targets": [
        {"position": p, "scope_level": "province", "min_share": 0.30}
        for p in ("secretary", "pc_chair")
    ],
    "max_changes": [
        {"scope_level": "province", "count": 200},
        {"scope_level": "commune", "count": 2},  # continuity: never all 3 key posts at once
    ],
    "priority_shares": [{"group": "women", "min_share": 0.15}],
    "support": {
        "months": 36,
        "tiers": [
            {"min_km": 15, "vnd_per_month": 2_000_000},
            {"min_km": 30, "vnd_per_month": 3_000_000},
        ],
    },
    "budget_vnd": 60_000_000_000,
}
"""National v1.1 scenario: targets per province, a province change cap and commune continuity,
15% women among the newly appointed, the support tiers and a national support budget (a
whole-plan rule: the solve is not split by province)."""


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


NATIONAL_V11_BY_PROVINCE = {
    k: v for k, v in NATIONAL_V11.items() if k not in ("priority_shares", "budget_vnd")
}
"""The same without the two whole-plan rules, so provinces are solved apart (exact: no other
rule crosses a province line)."""


def national(repeats: int, rules_doc: dict | None = None) -> dict:
    from rotation.synth import synthesize_national, write_tables

    work = Path(tempfile.mkdtemp(prefix="v11-national-"))
    data = work / "national"
    write_tables(synthesize_national(1, NATIONAL_V11["positions"]), data)
    rules = work / "rules.yaml"
    rules.write_text(yaml.safe_dump(rules_doc or NATIONAL_V11))
    walls, peaks, status = [], [], None
    for k in range(repeats):
        out = work / f"out{k}"
        t0 = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "rotation",
                "plan",
                str(data),
                "--rules",
                str(rules),
                "--out",
                str(out),
                "--quiet",
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        walls.append(time.perf_counter() - t0)
        peaks.append(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
        if proc.returncode not in (0, 3):
            raise SystemExit(proc.stderr[-2000:])
        plan = json.loads((out / "plan-1.json").read_text())
        status = plan["status"]
    return {
        "wall_s": statistics.median(walls),
        "walls": walls,
        "peak_mib": max(peaks),
        "status": status,
        "objective": plan.get("objective"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.policy_v11")
    ap.add_argument("--limit", type=float, default=60.0)
    ap.add_argument("--no-national", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    print("| Hai Duong, examples/policy_v11.yaml | status | objective | bound | wall s |")
    print("|---|---|---|---|---|")
    for r in hai_duong(a.limit):
        ob, bd = r.get("objective"), r.get("bound")
        print(
            f"| {r['method']} | {r['status']} | {ob if ob is None else round(ob, 3)} | "
            f"{bd if bd is None else round(bd, 3)} | {r['wall_s']:.2f} |",
            flush=True,
        )
    if not a.no_national:
        n = national(a.repeats)
        print(
            f"\nNational 2025, 3 positions, v1.1 rules, `rotation plan` end to end: "
            f"median {n['wall_s']:.1f} s (runs {', '.join(f'{w:.1f}' for w in n['walls'])}), "
            f"peak {n['peak_mib']:.0f} MiB, status {n['status']}, objective {n['objective']}"
        )


if __name__ == "__main__":
    main()
