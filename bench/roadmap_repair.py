"""Repair of an adopted term roadmap after an event, against re-planning the same rounds afresh.

`python -m bench.roadmap_repair [--data DIR] [--rules YAML] [--adopted ROADMAP.json]
[--event TEXT] [--repeat N]` (defaults: bundled Hai Duong, `examples/roadmap.yaml`, the adopted
roadmap solved first, the event = the first cadre taking a new post in round 2 declines it).
Both methods start from the same state (the adopted rounds before the event's, the event
applied) and solve the same rounds with the same rules:

- `repair`: :func:`rotation.roadmap.repair.repair_roadmap` (every adopted (cadre, post, round)
  kept rewarded: fewest changes first);
- `afresh`: the same rounds solved with no reward for the adopted roadmap (what re-running
  `rotation roadmap` on the updated state would give).

Each row: status, posts whose holder differs from the adopted roadmap (rounds of the event and
after), people moved, seconds (median of ``--repeat``), and the validator's verdict. Prints the
machine's load average before and after (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from rotation.read import read_dataset
from rotation.repair import CHANGE_WEIGHT, parse_events
from rotation.roadmap.model import solve_roadmap
from rotation.roadmap.repair import (
    check_roadmap_events,
    keep_min_stay,
    repair_roadmap,
    resolve_roadmap_events,
    tail_rules,
)
from rotation.roadmap.state import apply_events, event_exclusions
from rotation.roadmap.validate import load_horizon, parse_roadmap, roll_roadmap, validate_roadmap
from rotation.rules import load_rules

ROOT = Path(__file__).resolve().parents[1]


def _holders(doc: dict[str, Any]) -> list[dict[str, str | None]]:
    return [{a["post_id"]: a["cadre_id"] for a in r["plan"]["assignments"]} for r in doc["rounds"]]


def _differs(adopted: dict[str, Any], rounds: list[dict[str, str | None]], k: int) -> int:
    """Posts whose holder differs from the adopted roadmap, rounds ``k`` … (0-based)."""
    old = _holders(adopted)[k:]
    return sum(
        1 for a, b in zip(old, rounds, strict=True) for p in set(a) | set(b) if a.get(p) != b.get(p)
    )


def _default_event(adopted: dict[str, Any]) -> str:
    for a in adopted["rounds"][1]["plan"]["assignments"]:
        if a.get("changed") and a.get("cadre_id"):
            return f"declines:{a['cadre_id']}@{a['post_id']}:round=2"
    raise SystemExit("nobody takes a new post in round 2 of the adopted roadmap: give --event")


def _afresh(data, rules, adopted, events):
    """The same rounds from the same state, no reward for keeping the adopted roadmap."""
    h = load_horizon(rules)
    parsed = parse_roadmap(adopted)
    events = resolve_roadmap_events(events, parsed.rounds)
    assert not check_roadmap_events(events, parsed.rounds, set(data.cadres.index))
    k = int(events[0]["round"]) - 1
    rolled = roll_roadmap(data, rules, adopted)
    state = apply_events(rolled.starts[k], events, h.rounds[k])
    gone = set(data.cadres.index) - set(state.cadres.index)
    exclude = [x for x in event_exclusions(events) if x.cadre_id not in gone]
    state = keep_min_stay(state, rules, h, parsed.rounds, rolled.starts, k, exclude)
    return solve_roadmap(state, tail_rules(rules, h, k, exclude)), k


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(ROOT / "data" / "hai_duong"))
    ap.add_argument("--rules", default=str(ROOT / "examples" / "roadmap.yaml"))
    ap.add_argument("--adopted", default=None, help="an adopted roadmap.json (default: solve)")
    ap.add_argument("--event", action="append", default=None)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    print("load average before:", os.getloadavg())
    data = read_dataset(args.data)
    rules = load_rules(Path(args.rules))
    if args.adopted:
        adopted = json.loads(Path(args.adopted).read_text(encoding="utf-8"))
    else:
        t0 = time.perf_counter()
        adopted = solve_roadmap(data, rules).to_json()
        print(f"adopted roadmap: {adopted['status']} in {time.perf_counter() - t0:.1f} s")
    texts = args.event or [_default_event(adopted)]
    events = parse_events(texts, rounds=True)
    print("event:", ", ".join(texts), f"(previous_weight {CHANGE_WEIGHT:g})")
    rows = []
    times: dict[str, list[float]] = {"repair": [], "afresh": []}
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        rep = repair_roadmap(data, rules, adopted, events)
        times["repair"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        fresh, k = _afresh(data, rules, adopted, events)
        times["afresh"].append(time.perf_counter() - t0)
    doc = rep.to_json()
    rows.append(
        (
            "repair (fewest changes first)",
            rep.status,
            len(rep.changes),
            sum(r["changed_posts"] for r in doc["kpis_by_round"][k:]),
            statistics.median(times["repair"]),
            "valid" if not validate_roadmap(data, rules, doc) else "INVALID",
        )
    )
    fresh_holders = [p.holder() for _, p in fresh.rounds]
    rows.append(
        (
            "afresh (same rounds, no reward for the adopted roadmap)",
            fresh.status,
            _differs(adopted, fresh_holders, k) if fresh_holders else None,
            sum(r["changed_posts"] for r in fresh.kpis_by_round),
            statistics.median(times["afresh"]),
            "-",
        )
    )
    print("| method | status | posts differing from adopted | moved | s | validator |")
    print("|---|---|---:|---:|---:|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]:.1f} | {r[5]} |")
    print("load average after:", os.getloadavg())


if __name__ == "__main__":
    main()
