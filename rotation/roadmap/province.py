"""The term roadmap province by province: exact, because the horizon's rules then live inside
one province, as a single plan's do (:func:`rotation.solve.province.separable_provinces`).

With ``same_province`` a cadre only ever holds a post of their own province, so every row of
the term — each round's single-round rows, arrival, continuation, minimum stay, office wait,
never decrease (per scope unit: a district or the province) — reads the literals of one province
only; a rule of the whole plan (a national budget, priority shares:
:func:`rotation.solve.coupling.couples`) links them, and then the roadmap is solved as one.
Each province's roadmap is solved apart (in worker processes, ``rules.workers`` of them at
most, like the single-round split) with :func:`rotation.roadmap.model.solve_roadmap`, and
the provinces' holders per round are assembled on the whole data
(:func:`rotation.roadmap.model._assemble`: each round's plan and KPIs against the whole state),
so the merged roadmap is what :func:`rotation.roadmap.validate.validate_roadmap` checks.

The merged status is the weakest of the provinces' (:func:`rotation.status.weakest`):
``optimal`` only if every province is proven; otherwise ``feasible`` with the gap of the sums
(objective and bound summed over the provinces) and the provinces that stopped at their limit
named in ``stats.unproven_provinces`` and ``stats.message``. ``progress`` gets one event per
province solved (``province i/n``, objective and bound summed over those solved so far);
``stop`` reaches every worker.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..data import ProblemData
from ..plan import DiagnosisItem
from ..rules import Rules
from ..solve import province as single_split
from ..solve.coupling import couples
from ..solve.progress import Clock, Progress, StopFlag, relative_gap
from ..status import SolveStatus, has_plan, weakest
from .horizon import round_rules
from .model import RoadmapResult, _assemble, horizon_of
from .state import project_ratings

SUMMED_STATS = (
    "triples",
    "model_triples",
    "pruned_triples",
    "lp_columns",
    "lp_rows",
    "lp_stints",
    "candidate_pairs",
)
"""Per-province counts that add up to the whole roadmap's."""


def roadmap_provinces(data: ProblemData, rules: Rules) -> list[str]:
    """The provinces a roadmap is solved apart in (``[]``: solve it as one): the single plan's
    decision (:func:`~rotation.solve.province.separable_provinces`, no rule of the whole plan).
    The horizon adds no rule across provinces: its trajectory and change cap are per scope unit
    and every cross-round row is per cadre, post or scope."""
    if couples(rules):
        return []
    return single_split.separable_provinces(data, rules)


@dataclass(frozen=True)
class ProvinceRoadmap:
    """One province's roadmap as it comes back from a worker (plain, picklable): the holders
    (post → cadre) of each round, not its plans, which are rebuilt on the whole data."""

    province: str
    status: SolveStatus
    holders: list[dict[str, str | None]]
    diagnosis: list[DiagnosisItem]
    stats: dict[str, Any] = field(default_factory=dict)


def _province_previous(previous: dict[str, Any] | None, posts: set[str]) -> dict[str, Any] | None:
    """An earlier roadmap restricted to one province's posts."""
    if not previous:
        return previous
    rounds = [
        {
            **rd,
            "plan": {
                **rd["plan"],
                "assignments": [a for a in rd["plan"]["assignments"] if a["post_id"] in posts],
            },
        }
        for rd in previous.get("rounds", [])
    ]
    return {**previous, "rounds": rounds}


Task = tuple[str, ProblemData, Rules, dict[str, Any] | None, str, float | None]
"""(province, its data, rules, previous roadmap, method, previous_weight)."""


def _solve_province(task: Task, stop: StopFlag | None) -> ProvinceRoadmap:
    from .model import solve_roadmap

    province, data, rules, previous, method, previous_weight = task
    res = solve_roadmap(
        data,
        rules,
        stop=stop,  # type: ignore[arg-type]  # a multiprocessing event offers is_set too
        previous=previous,
        method=method,
        previous_weight=previous_weight,
        decompose=False,
    )
    return ProvinceRoadmap(
        province,
        res.status,  # type: ignore[arg-type]  # a roadmap's status is a SolveStatus
        [p.holder() for _, p in res.rounds],
        res.diagnosis,
        res.stats,
    )


_worker_stop: list[StopFlag | None] = [None]
"""The stop event a worker process was started with (:func:`_init_worker`)."""


def _init_worker(stop: StopFlag | None) -> None:
    _worker_stop[0] = stop


def _solve_in_worker(task: Task) -> ProvinceRoadmap:
    return _solve_province(task, _worker_stop[0])


def _solve_all(tasks: list[Task], workers: int, stop: StopFlag | None) -> Iterator[ProvinceRoadmap]:
    """Each province's roadmap, in the order of ``tasks`` (worker processes when ``workers``
    > 1, with the single-round split's stop relay)."""
    if workers <= 1:
        for task in tasks:
            yield _solve_province(task, stop)
        return
    with single_split.worker_pool(workers, stop, _init_worker, ()) as pool:
        yield from pool.map(_solve_in_worker, tasks)


def solve_roadmap_by_province(
    data: ProblemData,
    rules: Rules,
    provinces: list[str],
    progress: Progress | None = None,
    stop: StopFlag | None = None,
    previous: dict[str, Any] | None = None,
    method: str = "auto",
    previous_weight: float | None = None,
) -> RoadmapResult:
    """Each province's roadmap apart, merged (see the module docstring)."""
    clock = Clock()
    t0 = clock.t0
    parts = [single_split.split_by_province(data, p) for p in provinces]
    tasks: list[Task] = [
        (
            p,
            d,
            single_split.rules_of_part(data, rules, d),
            _province_previous(previous, set(d.posts.index)),
            method,
            previous_weight,
        )
        for p, d in zip(provinces, parts, strict=True)
    ]
    split_s = time.perf_counter() - t0
    workers = min(rules.workers, os.cpu_count() or 1, len(tasks))
    outs: list[ProvinceRoadmap] = []
    for i, out in enumerate(_solve_all(tasks, workers, stop)):
        outs.append(out)
        if progress is not None:
            obj, bound = _sums(outs)
            progress(clock.event(f"province {i + 1}/{len(tasks)}", objective=obj, bound=bound))
    return _merged(data, rules, outs, split_s, clock)


def _sums(outs: list[ProvinceRoadmap]) -> tuple[float | None, float | None]:
    """The objective and bound summed over the provinces (``None`` if one lacks it)."""
    objs = [o.stats.get("objective") for o in outs]
    bounds = [o.stats.get("bound") for o in outs]
    obj = None if None in objs else float(sum(v for v in objs if v is not None))
    bound = None if None in bounds else float(sum(v for v in bounds if v is not None))
    return obj, bound


def _province_line(data: ProblemData, o: ProvinceRoadmap) -> dict[str, Any]:
    """One province's row of ``stats.provinces``."""
    s = o.stats
    return {
        "province": o.province,
        "name": str(data.units.at[o.province, "name"]),
        "status": o.status,
        **{k: s.get(k) for k in ("objective", "bound", "gap", "proven", "total_s")},
        **({"message": s["message"]} if s.get("message") else {}),
    }


def _merged(
    data: ProblemData,
    rules: Rules,
    outs: list[ProvinceRoadmap],
    split_s: float,
    clock: Clock,
) -> RoadmapResult:
    """One roadmap of the provinces' roadmaps: holders per round joined, the plans and KPIs of
    each round rebuilt on the whole data; stats summed, the unproven provinces named."""
    lines = [_province_line(data, o) for o in outs]
    stats: dict[str, Any] = {
        "rounds": len(horizon_of(rules).rounds),
        "method": outs[0].stats.get("method") if outs else None,
        "decomposed": len(outs),
        "split_s": round(split_s, 3),
        "provinces": lines,
    }
    for key in SUMMED_STATS:
        vals = [o.stats[key] for o in outs if key in o.stats]
        if vals:
            stats[key] = int(sum(vals))
    status = weakest([o.status for o in outs])
    if not has_plan(status):  # a province without a roadmap: none for the whole, its diagnosis
        bad = [o for o in outs if not has_plan(o.status)]
        stats["message"] = "no roadmap in " + ", ".join(
            f"{ln['name']} ({o.status}" + (f": {ln['message']}" if "message" in ln else "") + ")"
            for o, ln in zip(outs, lines, strict=True)
            if o in bad
        )
        stats["total_s"] = clock.elapsed()
        diagnosis = [d for o in bad for d in o.diagnosis]
        return RoadmapResult(status=status, diagnosis=diagnosis, stats=stats)
    h = horizon_of(rules)
    holders: list[dict[str, str | None]] = [{} for _ in h.rounds]
    for o in outs:
        for k, held in enumerate(o.holders):
            holders[k].update(held)
    base = project_ratings(data, h.rounds[-1].year)
    rrules = [round_rules(rules, h, k) for k in range(len(h.rounds))]
    result = _assemble(base, rules, h, rrules, holders, status)
    obj, bound = _sums(outs)
    unproven = [ln for ln in lines if not ln.get("proven")]
    stats["objective"] = None if obj is None else round(obj, 3)
    stats["bound"] = None if bound is None else round(bound, 3)
    stats["proven"] = not unproven
    stats["gap"] = (
        0.0
        if not unproven
        else None
        if obj is None or bound is None
        else round(relative_gap(obj, bound), 6)
    )
    if unproven:
        stats["unproven_provinces"] = [ln["province"] for ln in unproven]
        stats["message"] = "not proven in " + ", ".join(
            f"{ln['name']} (" + ("no bound" if ln["gap"] is None else f"gap {ln['gap']:.2%}") + ")"
            for ln in unproven
        )
    covers = {str(o.stats["gap_covers"]) for o in outs if o.stats.get("gap_covers")}
    if covers:
        stats["gap_covers"] = "; ".join(sorted(covers))
    if "triples" in stats:
        stats["exact_over"] = (
            f"every eligible (cadre, post, round) triple ({stats['triples']}), province by "
            f"province ({len(outs)}; no rule crosses a province line): "
            f"{stats.get('pruned_triples', 0)} removed by each province's LP bound and "
            f"reduced-cost fixing, {stats.get('model_triples', 0)} left"
        )
    stats["total_s"] = clock.elapsed()
    result.stats.update(stats)
    return result


__all__ = ["ProvinceRoadmap", "roadmap_provinces", "solve_roadmap_by_province"]
