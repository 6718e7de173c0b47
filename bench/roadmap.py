"""Term roadmap vs round-by-round planning on the bundled Hai Duong data (issue 6).

`python -m bench.roadmap [--limit S]` writes `bench/results/roadmap.md` and prints it: people moved
per round and in total, km travelled (every holder, summed over rounds), the first round in which
every district reaches 30%, and solve time — for the one-model horizon plan and for greedy
round-by-round planning (each round optimal on its own, blind to the next).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rotation.read import read_dataset
from rotation.roadmap.model import greedy_roadmap, solve_roadmap
from rotation.roadmap.validate import validate_roadmap
from rotation.rules import load_rules

ROOT = Path(__file__).resolve().parents[1]
TRAJECTORY = {
    "trajectory": [
        {
            "position": "secretary",
            "scope_level": "district",
            "shares": {"2027-01-01": 0.20, "2029-01-01": 0.30},
            "never_decrease": True,
        }
    ]
}


def summarise(name: str, res, seconds: float, data, rules) -> dict:
    kp = res.kpis_by_round
    reached = next(
        (k["as_of"] for k in kp if min(k["non_local_share"]["by_scope"].values()) >= 0.3), "never"
    )
    return {
        "method": name,
        "status": res.status,
        "moved": [k["changed_posts"] for k in kp],
        "moved_total": sum(k["changed_posts"] for k in kp),
        "km_total": round(sum(k["total_travel_km"] for k in kp), 1),
        "reached_30": reached,
        "seconds": round(seconds, 1),
        "violations": len(validate_roadmap(data, rules, res.to_json())),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.roadmap")
    ap.add_argument("--limit", type=float, default=120.0, help="time limit of the horizon model")
    a = ap.parse_args(argv)
    data = read_dataset(ROOT / "data" / "hai_duong")
    rules = load_rules({"time_limit_s": a.limit, "horizon": TRAJECTORY})
    rows = []
    t = time.perf_counter()
    g = greedy_roadmap(data, rules)
    rows.append(summarise("round by round (greedy)", g, time.perf_counter() - t, data, rules))
    t = time.perf_counter()
    h = solve_roadmap(data, rules)
    rows.append(summarise("one model over all rounds", h, time.perf_counter() - t, data, rules))
    lines = [
        "| method | status | moved per round (2026…2030) | moved total | km total | every "
        "district ≥ 30% from | s | validator |",
        "|---|---|---|---:|---:|---|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['method']} | {r['status']} | {' / '.join(map(str, r['moved']))} | "
            f"{r['moved_total']} | {r['km_total']:,} | {r['reached_30']} | {r['seconds']} | "
            f"{'valid' if r['violations'] == 0 else str(r['violations']) + ' violations'} |"
        )
    g_, h_ = rows
    lines.append("")
    lines.append(
        f"Horizon model vs round by round: {h_['moved_total'] - g_['moved_total']:+d} people "
        f"moved, {h_['km_total'] - g_['km_total']:+,.1f} km (bound gap: see stats), time limit "
        f"{a.limit:g} s."
    )
    md = "\n".join(lines) + "\n"
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "roadmap.md").write_text(md, encoding="utf-8")
    print(md)
    print("horizon stats:", h.stats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
