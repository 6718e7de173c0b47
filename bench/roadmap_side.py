"""Term roadmap methods from whichever code tree ``PYTHONPATH`` names, one JSON line each.

``python bench/roadmap_side.py RULES|- LIMIT REPEAT METHOD...`` (methods: greedy, exact,
candidates; ``-``: the default horizon) on the bundled Hai Duong data of this tree; run it once
with this tree and once with another (e.g. main) on ``PYTHONPATH`` for rows side by side. Each
line: status, objective, bound, gap, moved, km, support, times and median (wall), CPU seconds
(user + sys of the process, every thread) and median, the validator's verdict, the phase times,
the stints kept and the load average."""

import json
import os
import statistics
import sys
import time
from pathlib import Path

import yaml

from rotation.read import read_dataset
from rotation.roadmap.model import greedy_roadmap, solve_roadmap
from rotation.roadmap.validate import validate_roadmap
from rotation.rules import load_rules

data = read_dataset(str(Path(__file__).resolve().parents[1] / "data" / "hai_duong"))
rules_path, limit, repeat = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
doc = yaml.safe_load(Path(rules_path).read_text()) if rules_path != "-" else {}
rules = load_rules({**doc, "time_limit_s": limit})
code = os.environ["PYTHONPATH"]
for method in sys.argv[4:]:
    times, cpu = [], []
    for _ in range(repeat):
        t, c = time.perf_counter(), os.times()
        res = (
            greedy_roadmap(data, rules)
            if method == "greedy"
            else solve_roadmap(data, rules, method=method)
        )
        times.append(time.perf_counter() - t)
        c2 = os.times()
        cpu.append(c2.user - c.user + c2.system - c.system)
    kp = res.kpis_by_round
    s = res.stats
    print(
        json.dumps(
            {
                "code": code,
                "rules": rules_path,
                "method": method,
                "status": res.status,
                "objective": s.get("objective"),
                "bound": s.get("bound"),
                "gap": s.get("gap"),
                "moved": sum(k["changed_posts"] for k in kp) if kp else None,
                "km": round(sum(k["total_travel_km"] for k in kp), 1) if kp else None,
                "support": sum(k.get("support_vnd") or 0 for k in kp) if kp else None,
                "times": [round(x, 1) for x in times],
                "median": round(statistics.median(times), 1),
                "cpu": [round(x, 1) for x in cpu],  # user + sys of this process (all threads)
                "cpu_median": round(statistics.median(cpu), 1),
                "valid": (not validate_roadmap(data, rules, res.to_json())) if res.rounds else None,
                "stats": {
                    k: v
                    for k, v in s.items()
                    if k.endswith("_s")
                    or k
                    in (
                        "lp_bound",
                        "first_roadmap",
                        "model_triples",
                        "pruned_triples",
                        "triples",
                        "lp_stints",
                        "first_stints",
                        "kept_stints",
                        "message",
                    )
                },
                "uptime": os.getloadavg(),
            }
        ),
        flush=True,
    )
