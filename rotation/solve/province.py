"""Independent provinces solved separately (and in parallel): exact, because with
``same_province`` no rule crosses a province line (candidates, targets, change caps and relatives
all live inside one province).

``stop`` reaches every province (a worker process gets a shared event at start-up); ``progress``
gets one event per province solved, with the objective and bound summed over the provinces
solved so far; ``explain`` is applied province by province (with ``same_province`` a post's
alternatives all live in its province).

With worker processes, each worker gets the whole dataset once at its start (inherited when it
is forked, as on Linux) and splits off the provinces it is given: a task is a province id and
nothing is pickled on the way in; the provinces with the most posts go first.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..concepts import give_person_facts, person_facts
from ..data import ProblemData
from ..model.lp import release_highs_threads
from ..plan import DiagnosisItem, Plan, compute_kpis
from ..profile import phase
from ..rules import Rules
from ..status import SolveStatus, has_plan, weakest
from .progress import Clock, Progress, StopFlag
from .result import Result
from .single import EXPLAIN_MAX_POSTS, solve_one


def provinces_in_scope(data: ProblemData, rules: Rules) -> list[str]:
    """The provinces holding a post of the planned positions, sorted."""
    posts = data.posts[data.posts["position"].isin(rules.positions)]
    return sorted(set(data.units["province_id"].reindex(posts["unit_id"]).dropna()))


def couples(rules: Rules) -> bool:
    """Whether a rule of the whole plan (a national budget, priority shares) is set: then the
    provinces are solved together (:mod:`rotation.solve.coupling`, which loads scipy.sparse and
    CP-SAT, imported only then)."""
    return rules.budget_vnd is not None or bool(rules.priority_shares)


def separable_provinces(data: ProblemData, rules: Rules) -> list[str]:
    """The provinces a problem splits into, each solvable apart: with ``same_province`` no
    candidate crosses a province line, so every rule lives inside one province unless a rule of
    the whole plan links them (:func:`couples`: a national budget,
    priority shares). ``[]`` when there is nothing to split (``same_province`` off, or one
    province)."""
    if not rules.same_province:
        return []
    provinces = provinces_in_scope(data, rules)
    return provinces if len(provinces) > 1 else []


def split_by_province(data: ProblemData, province: str) -> ProblemData:
    """The part of the dataset inside one province (units, its cadres, posts and their links)."""
    units = data.units[data.units["province_id"] == province]
    in_prov = set(units.index)
    cadres = data.cadres[data.cadres["current_unit_id"].isin(in_prov)]
    posts = data.posts[data.posts["unit_id"].isin(in_prov)].copy()
    # an incumbent registered elsewhere still holds the post: keep that cadre too
    extra = posts["incumbent_id"].dropna()
    extra = extra[~extra.isin(cadres.index)]
    if len(extra):
        cadres = pd.concat([cadres, data.cadres.loc[extra.to_numpy()]]).sort_index()
    travel = data.travel[data.travel["to_id"].isin(in_prov) | data.travel["from_id"].isin(in_prov)]
    roads = data.roads
    sub = ProblemData(
        units=data.units.loc[
            sorted(in_prov | set(cadres["residence_id"]) | set(cadres["hometown_id"]))
        ],
        cadres=cadres,
        posts=posts,
        travel=travel,
        roads=roads,
        name=f"{data.name}:{province}",
        **data.cadre_tables(set(cadres.index)),
    )
    return sub


def rules_of_part(data: ProblemData, rules: Rules, part: ProblemData) -> Rules:
    """The rules for one province's part: the locks of its own posts (a lock of another
    province's post is that province's; one naming a post of no province stays, so the part
    still reports it as unknown)."""
    mine = set(part.posts.index)
    locks = [lk for lk in rules.locks if lk.post_id in mine or lk.post_id not in data.posts.index]
    return rules if len(locks) == len(rules.locks) else rules.model_copy(update={"locks": locks})


@dataclass(frozen=True)
class ProvinceOutcome:
    """One province's solve, as it comes back from a worker process (plain, picklable)."""

    status: SolveStatus
    plan: Plan | None
    diagnosis: list[DiagnosisItem]
    stats: dict[str, Any]


_worker: dict[str, Any] = {}
"""What a worker process solves with, set once by :func:`_init_worker`: the stop event, the
whole dataset, the rules and whether to explain."""


def _init_worker(stop: StopFlag | None, data: ProblemData, rules: Rules, explain: bool) -> None:
    """A worker's start: the dataset comes once per worker (inherited, not copied, when the
    worker is forked), so a task is only a province id."""
    _worker.update(stop=stop, data=data, rules=rules, explain=explain)


def _solve_province(
    data: ProblemData, rules: Rules, explain: bool, stop: StopFlag | None
) -> ProvinceOutcome:
    res = solve_one(data, rules, None, stop, explain, "exact", Clock())
    return ProvinceOutcome(
        res.status, res.plans[0] if res.plans else None, res.diagnosis, res.stats
    )


def _solve_in_worker(province: str) -> ProvinceOutcome:
    """One province, split from the worker's dataset and solved, in a worker process (the
    cadres' person facts worked out once per worker, on its first province)."""
    w = _worker
    if "person" not in w:
        w["person"] = person_facts(w["data"], w["rules"])
    part = _part(w["data"], w["rules"], province, w["person"])
    rules = rules_of_part(w["data"], w["rules"], part)
    return _solve_province(part, rules, w["explain"], w["stop"])


def _part(data: ProblemData, rules: Rules, province: str, person: pd.DataFrame) -> ProblemData:
    """The province's part, given its cadres' person facts from ``person`` (those of the whole
    dataset: :func:`rotation.concepts.person_facts`)."""
    part = split_by_province(data, province)
    give_person_facts(part, rules, person)
    return part


def _largest_first(data: ProblemData, rules: Rules, provinces: list[str]) -> list[int]:
    """The provinces' indices, most posts to plan first: the longest solves start first, so
    the last one to finish is a small one (ties keep the given order)."""
    posts = data.posts[data.posts["position"].isin(rules.positions)]
    counts = data.units["province_id"].reindex(posts["unit_id"]).value_counts()
    size = [int(counts.get(p, 0)) for p in provinces]
    return sorted(range(len(provinces)), key=lambda i: -size[i])


def _relay(stop: StopFlag, shared: Any, done: threading.Event) -> None:
    """Passes a stop request on to the worker processes' shared event."""
    while not done.wait(0.05):
        if stop.is_set():
            shared.set()
            return


@contextmanager
def worker_pool(
    workers: int, stop: StopFlag | None, initializer: Callable[..., None], initargs: tuple
) -> Iterator[ProcessPoolExecutor]:
    """Worker processes for province solves: ``initializer(shared_stop, *initargs)`` starts
    each; a stop request is relayed to them (:func:`_relay`); HiGHS's threads are released
    before forking (:func:`rotation.model.lp.release_highs_threads`)."""
    ctx = mp.get_context()
    shared = ctx.Event()
    done = threading.Event()
    if stop is not None:
        if stop.is_set():
            shared.set()
        threading.Thread(target=_relay, args=(stop, shared, done), daemon=True).start()
    if ctx.get_start_method() == "fork":
        release_highs_threads()  # else a forked worker's first LP may never return
    try:
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=ctx,
            initializer=initializer,
            initargs=(shared, *initargs),
        ) as pool:
            yield pool
    finally:
        done.set()


def solve_by_province(
    data: ProblemData,
    rules: Rules,
    provinces: list[str],
    progress: Progress | None = None,
    stop: StopFlag | None = None,
    explain: bool | None = None,
    clock: Clock | None = None,
) -> Result:
    """Solve each province on its own and merge the plans (status: the weakest of them).

    ``explain`` (default: when the provinces hold at most 2,000 posts in all) adds score parts
    and alternatives to every assignment, computed in the province's own solve."""
    clock = clock if clock is not None else Clock()
    t0 = time.perf_counter()
    if explain is None:
        explain = int(data.posts["position"].isin(rules.positions).sum()) <= EXPLAIN_MAX_POSTS
    workers = min(rules.workers, os.cpu_count() or 1, len(provinces))
    solved: list[ProvinceOutcome] = []  # in the order they were solved (progress)
    by_index: dict[int, ProvinceOutcome] = {}

    def report(i: int, out: ProvinceOutcome) -> None:
        by_index[i] = out
        solved.append(out)
        if progress is None:
            return
        plans = [o.plan for o in solved]
        whole = all(p is not None for p in plans)
        progress(
            clock.event(
                f"province {len(solved)}/{len(provinces)}",
                objective=sum(p.objective or 0.0 for p in plans if p) if whole else None,
                bound=sum(p.bound or 0.0 for p in plans if p) if whole else None,
            )
        )

    split_s = 0.0  # seconds this process spent splitting (none when the workers split)
    if workers > 1:  # each worker splits its provinces off the dataset it was started with
        order = _largest_first(data, rules, provinces)
        with (
            phase(f"provinces ({workers} worker processes)"),
            worker_pool(workers, stop, _init_worker, (data, rules, explain)) as pool,
        ):
            results = pool.map(_solve_in_worker, [provinces[i] for i in order])
            for i, out in zip(order, results, strict=True):
                report(i, out)
    else:
        person = person_facts(data, rules)
        for i, province in enumerate(provinces):
            t = time.perf_counter()
            with phase("split by province"):
                part = _part(data, rules, province, person)
            split_s += time.perf_counter() - t
            report(i, _solve_province(part, rules_of_part(data, rules, part), explain, stop))
    outs = [by_index[i] for i in range(len(provinces))]
    statuses = [o.status for o in outs]
    stats: dict[str, Any] = {
        "method": "exact",
        "decomposed": len(provinces),
        "split_s": round(split_s, 3),
        "pairs": sum(o.stats["pairs"] for o in outs),
        "model_pairs": sum(o.stats.get("model_pairs", 0) for o in outs),
        "posts": sum(o.stats["posts"] for o in outs),
    }
    status = weakest(statuses)
    plans = [o.plan for o in outs if o.plan is not None]
    if not has_plan(status):  # a province without a plan: no merged plan, its diagnosis
        diag = [d for o in outs if not has_plan(o.status) for d in o.diagnosis]
        stats["total_s"] = round(time.perf_counter() - t0, 3)
        return Result(status=status, diagnosis=diag, stats=stats)
    with phase("merge provinces"):
        return _merged(data, rules, status, plans, stats, t0)


def _merged(
    data: ProblemData,
    rules: Rules,
    status: SolveStatus,
    plans: list[Plan],
    stats: dict[str, Any],
    t0: float,
) -> Result:
    """One plan of the provinces' plans (KPIs recomputed on the whole)."""
    assignments = sorted((a for p in plans for a in p.assignments), key=lambda a: a.post_id)
    merged = Plan(
        status="optimal" if status == "optimal" else "feasible",
        objective=round(sum(p.objective or 0.0 for p in plans), 3),
        bound=round(sum(p.bound or 0.0 for p in plans), 3),
        assignments=assignments,
        released=sorted(c for p in plans for c in p.released),
        kpis=compute_kpis(data, rules, assignments),
    )
    stats["total_s"] = round(time.perf_counter() - t0, 3)
    return Result(status=merged.status, plans=[merged], stats=stats)
