"""Diagnosis benchmark: infeasible scenarios, this tree's ``diagnose`` against another tree's
(main's) in one run, each in a fresh child process (timed: ``diagnose(eligibility, rules)``
only, the eligibility computed before the clock starts).

    python bench/diagnose.py [--against /work/main] [--timeout 300] [--only a,b]

Prints a Markdown table (scenario, posts, items, conflicts named, seconds here and there).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent

SCENARIOS: dict[str, tuple[str, dict[str, Any], bool]] = {
    # name: (instance, rules on top of the instance's, drop the ratings table)
    "hd_cap4": ("hai_duong", {"max_changes": {"scope_level": "district", "count": 4}}, False),
    "hd_kim_thanh": ("hai_duong", {"file": "examples/kim_thanh_infeasible.yaml"}, False),
    "hd_40pct_cap6": (
        "hai_duong",
        {
            "non_local_targets": [{"scope_level": "district", "min_share": 0.4}],
            "max_changes": {"scope_level": "district", "count": 6},
        },
        False,
    ),
    "hd_no_ratings": ("hai_duong", {}, True),
    "nghe_an_2pos_cap2": (
        "nghe_an_2pos",
        {"max_changes": {"scope_level": "district", "count": 2}},
        False,
    ),
    "national_2025_cap3": (
        "national_2025",
        {"max_changes": {"scope_level": "province", "count": 3}},
        False,
    ),
}


def _rules(instance_rules: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    if "file" in extra:
        extra = yaml.safe_load((ROOT / extra["file"]).read_text()) or {}
    return {**instance_rules, **extra}


def child(name: str) -> None:
    """Run one scenario with whichever ``rotation`` is first on the path; print one JSON line."""
    from bench.instances import BUILDERS
    from rotation.diagnose import diagnose
    from rotation.eligibility import compute_eligibility
    from rotation.rules import Rules

    instance, extra, no_ratings = SCENARIOS[name]
    data, base = BUILDERS[instance]()
    if no_ratings:
        data = dataclasses.replace(data, ratings=data.ratings.iloc[0:0])
    rules = Rules.model_validate(_rules(base, extra))
    e = compute_eligibility(data, rules)
    t0 = time.perf_counter()
    items = diagnose(e, rules)
    secs = time.perf_counter() - t0
    scopes = sorted({d.scope for d in items if d.rule not in ("summary", "unknown")})
    print(
        json.dumps(
            {
                "posts": len(e.posts),
                "seconds": round(secs, 2),
                "items": len(items),
                "scopes": len(scopes),
                "unknown": any(d.rule == "unknown" for d in items),
            }
        ),
        flush=True,
    )


def run(name: str, tree: Path, timeout: float) -> dict[str, Any] | None:
    # this script runs as a file (its scenarios), ``rotation`` and ``bench.instances`` from tree
    env = {**os.environ, "PYTHONPATH": str(tree)}
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--child", name],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    return json.loads(lines[-1]) if lines else {"error": out.stderr.strip().splitlines()[-1:]}


def _cell(r: dict[str, Any] | None, timeout: float) -> str:
    if r is None:
        return f"> {timeout:g} s (killed)"
    if "error" in r:
        return f"error: {r['error']}"
    return f"{r['seconds']:.2f} s, {r['items']} items, {r['scopes']} scopes" + (
        " (unknown)" if r["unknown"] else ""
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--against", type=Path, default=Path("/work/main"))
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--only", default="")
    ap.add_argument("--child", default="")
    args = ap.parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    names = [n for n in SCENARIOS if not args.only or n in args.only.split(",")]
    print("| scenario | posts | this branch | main |")
    print("|---|---:|---|---|")
    for name in names:
        here = run(name, ROOT, args.timeout)
        there = run(name, args.against, args.timeout)
        posts = (here or there or {}).get("posts", "")
        print(
            f"| {name} | {posts} | {_cell(here, args.timeout)} | {_cell(there, args.timeout)} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
