"""Write every plan the house refactor must not change, to diff before/after.

    python -m bench.snapshot DIR        # writes DIR/<instance>-<rules>.json (+ roadmap)
    diff -r BEFORE AFTER                # must be empty

Instances: the bundled Hai Duong data and the OR-Library assignment files (the benchmark
instances); rules: defaults and every file in examples/. Plans are written with the
serialiser the command line uses (``Plan.to_json``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from bench.instances import load
from rotation.rules import Rules
from rotation.solve import solve

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def _rules_sets(base: dict) -> list[tuple[str, dict]]:
    out = [("default", dict(base))]
    for f in EXAMPLES:
        doc = yaml.safe_load(f.read_text()) or {}
        if "horizon" in doc:
            continue
        out.append((f.stem, {**base, **doc}))
    return out


def main(out: Path, names: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        data, base = load(name)
        sets = _rules_sets(base) if name == "hai_duong" else [("default", base)]
        for tag, rd in sets:
            rules = Rules.model_validate(rd)
            res = solve(data, rules)
            for k, plan in enumerate(res.plans or [res.plan], 1):
                (out / f"{name}-{tag}-{k}.json").write_text(plan.to_json())
            print(name, tag, res.plan.status, res.plan.objective, flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:] or ["hai_duong", "assignp800", "assignp1500"])
