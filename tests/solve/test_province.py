"""Province by province: exact when ``same_province`` (the merged plan costs what the whole
solve costs), and ``stop``, ``progress`` and ``explain`` reach every province, in worker
processes as well as in one process."""

from __future__ import annotations

import threading
from typing import Any

import pandas as pd
import pytest
from builders import two_smallest_provinces
from solve_helpers import assert_valid

import rotation.solve.province as province
from rotation.data import ProblemData
from rotation.rules import Rules, load_rules
from rotation.solve import ProgressEvent, provinces_in_scope, solve


@pytest.fixture(scope="module")
def two_provinces() -> ProblemData:
    """The two smallest provinces of the 2025 structure (38 + 40 communes), synthetic roster."""
    return two_smallest_provinces()


def rules_for(workers: int, **extra: Any) -> Rules:
    target = {"position": "secretary", "scope_level": "province", "min_share": 0.3}
    return load_rules({"non_local_targets": [target], "workers": workers, **extra})


@pytest.mark.parametrize("workers", [1, 2])
def test_merged_plan_is_exact_and_valid(two_provinces: ProblemData, workers: int):
    """The merged plan is valid and as cheap as solving both provinces as one problem."""
    rules = rules_for(workers)
    assert len(provinces_in_scope(two_provinces, rules)) == 2
    res = solve(two_provinces, rules, explain=False)
    whole = solve(two_provinces, rules, explain=False, decompose=False)
    assert res.stats["decomposed"] == 2 and "decomposed" not in whole.stats
    assert res.status == whole.status == "optimal"
    assert res.plans[0].objective == pytest.approx(whole.plans[0].objective, abs=1e-3)
    assert_valid(two_provinces, rules, res.plans[0])


@pytest.mark.parametrize("workers", [1, 2])
def test_progress_one_event_per_province(two_provinces: ProblemData, workers: int):
    """One event per province, in order, on one clock; the last carries the merged objective."""
    events: list[ProgressEvent] = []
    res = solve(two_provinces, rules_for(workers), progress=events.append, explain=False)
    assert [ev.phase for ev in events] == ["province 1/2", "province 2/2"]
    assert events[0].elapsed_s <= events[1].elapsed_s
    assert all(ev.objective is not None and ev.gap is not None for ev in events)
    assert events[-1].objective == pytest.approx(res.plans[0].objective, abs=1e-3)


@pytest.mark.parametrize("workers", [1, 2])
def test_explain_reaches_every_province(two_provinces: ProblemData, workers: int):
    """explain=True: every held post of both provinces has score parts and alternatives;
    explain=False: none."""
    res = solve(two_provinces, rules_for(workers), explain=True)
    held = [a for a in res.plans[0].assignments if a.cadre_id]
    assert len(held) == len(res.plans[0].assignments)
    assert all(a.score is not None and a.alternatives for a in held)
    off = solve(two_provinces, rules_for(workers), explain=False)
    assert all(a.score is None and a.alternatives is None for a in off.plans[0].assignments)


def test_explain_default_follows_the_post_count(two_provinces: ProblemData):
    """Without ``explain`` the province path explains plans of at most 2,000 posts (78 here)."""
    res = solve(two_provinces, rules_for(1))
    assert all(a.alternatives for a in res.plans[0].assignments)


class CountingStop:
    """A stop flag that is set and counts how often the solve looks at it."""

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def is_set(self) -> bool:
        with self.lock:
            self.calls += 1
        return True


def test_stop_reaches_each_province_in_process(two_provinces: ProblemData):
    """One process: the caller's stop flag is consulted inside the provinces' searches, and a
    stopped solve still returns a valid plan for every post. (Two candidate plans: a search runs
    in each province; a plan the LP proves alone needs none, see test_lazy_imports.)"""
    stop = CountingStop()
    rules = rules_for(1, candidates=2)
    res = solve(two_provinces, rules, stop=stop, explain=False)
    assert stop.calls >= 2  # at least once per province
    assert res.status in ("optimal", "feasible")
    assert_valid(two_provinces, rules, res.plans[0])


def test_stop_reaches_the_worker_processes(two_provinces: ProblemData, monkeypatch):
    """Worker processes: a stop set by the caller is seen by every province's solve (a spy,
    inherited by the forked workers, turns a province that did not see it into ``unknown``)."""
    real = province.solve_one

    def spy(data, rules, progress, stop, explain, method, clock):
        res = real(data, rules, progress, stop, explain, method, clock)
        if stop is None or not stop.is_set():
            res.status = "unknown"
        return res

    monkeypatch.setattr(province, "solve_one", spy)
    stop = threading.Event()
    stop.set()
    res = solve(two_provinces, rules_for(2), stop=stop, explain=False)
    assert res.status in ("optimal", "feasible"), res.diagnosis
    assert_valid(two_provinces, rules_for(2), res.plans[0])


def test_an_infeasible_province_makes_no_plan(two_provinces: ProblemData):
    """Every secretary non-local in both provinces is out of reach: no merged plan, and the
    diagnosis names each province's target."""
    rules = load_rules(
        {
            "non_local_targets": [
                {"position": "secretary", "scope_level": "province", "min_share": 1.0}
            ],
            "max_travel_km": 15,
        }
    )
    res = solve(two_provinces, rules, explain=False)
    assert res.status == "infeasible" and res.plans == []
    assert res.plan.status == "infeasible" and res.plan.diagnosis == res.diagnosis
    provinces = set(provinces_in_scope(two_provinces, rules))
    named = {d.scope for d in res.diagnosis if d.rule == "non_local_target"}
    assert named and named <= provinces


def test_forked_workers_solve_after_highs_ran_in_the_parent():
    """HiGHS keeps a pool of threads once it has run; a worker forked after that waits forever
    on its first MIP unless the pool was stopped first (``release_highs_threads``, called by
    the province split before it forks): here a child forked after the parent solved a MIP
    solves one too (a child that hangs is killed after 60 s and the test fails)."""
    import multiprocessing as mp

    from rotation.model.lp import release_highs_threads

    assert _small_mip() == "kOptimal"  # the parent's pool of threads is started
    release_highs_threads()
    ctx = mp.get_context("fork")
    answer = ctx.Queue()
    child = ctx.Process(target=_solve_into, args=(answer,))
    child.start()
    child.join(60)
    if child.is_alive():
        child.kill()
        child.join()
    assert child.exitcode == 0 and answer.get(timeout=5) == "kOptimal"
    assert _small_mip() == "kOptimal"  # and the parent still solves


def _solve_into(answer: Any) -> None:
    answer.put(_small_mip())


def _small_mip() -> str:
    import numpy as np
    import scipy.sparse as sp

    from rotation.model.lp import _silent_highs, pass_lp

    a = sp.random(8, 24, density=0.5, random_state=1, format="csc")
    a.data = np.round(a.data * 10) + 1
    h = _silent_highs()
    n = a.shape[1]
    cost = -(np.arange(n) % 7) - 1.0
    pass_lp(
        h,
        cost,
        np.zeros(n),
        np.ones(n),
        np.full(8, -np.inf),
        np.full(8, 12.0),
        a.indptr,
        a.indices,
        a.data,
        True,
    )
    h.run()
    return str(h.getModelStatus().name)


def test_a_province_is_given_the_person_facts_it_would_work_out(two_provinces: ProblemData):
    """Each part split off with the whole dataset's person facts has the same cadre facts, and
    so the same eligible pairs, as the part working them out itself; facts given for other rules
    (another ``as_of``) are not used."""
    from rotation.concepts import cadre_facts, person_facts
    from rotation.eligibility import compute_eligibility

    rules = rules_for(1, rating_years=1)
    whole = person_facts(two_provinces, rules)
    for prov in provinces_in_scope(two_provinces, rules):
        given = province._part(two_provinces, rules, prov, whole)
        own = province.split_by_province(two_provinces, prov)
        assert given.person_facts_given is not None and own.person_facts_given is None
        pd.testing.assert_frame_equal(cadre_facts(given, rules), cadre_facts(own, rules))
        a, b = compute_eligibility(given, rules), compute_eligibility(own, rules)
        assert (a.pair_post == b.pair_post).all() and (a.pair_cadre == b.pair_cadre).all()
        assert (a.cadre_block == b.cadre_block).all()
        later = rules.model_copy(update={"as_of": rules.as_of.replace(year=rules.as_of.year + 9)})
        pd.testing.assert_frame_equal(cadre_facts(given, later), cadre_facts(own, later))
        assert not cadre_facts(given, later)["tenure_years"].equals(
            cadre_facts(given, rules)["tenure_years"]
        )


def test_a_copy_of_a_province_with_a_table_changed_works_its_facts_out(
    two_provinces: ProblemData,
):
    """Facts given to a part hold for its own tables only: a copy with new discipline rows or
    a cadre's new start date works them out again (and sees the change)."""
    import dataclasses
    import datetime as dt

    from rotation.concepts import cadre_facts, person_facts

    rules = rules_for(1)
    prov = provinces_in_scope(two_provinces, rules)[0]
    part = province._part(two_provinces, rules, prov, person_facts(two_provinces, rules))
    cid = str(part.cadres.index[0])
    row = pd.DataFrame([{"cadre_id": cid, "kind": "warning", "date": rules.as_of}])
    disciplined = dataclasses.replace(
        part, discipline=pd.concat([part.discipline, row], ignore_index=True)
    )
    assert disciplined.person_facts_given is None
    assert bool(cadre_facts(disciplined, rules).at[cid, "under_discipline"])
    assert not bool(cadre_facts(part, rules).at[cid, "under_discipline"])
    part.cadres = part.cadres.copy()
    part.cadres.at[cid, "current_since"] = rules.as_of - dt.timedelta(days=1)
    assert cadre_facts(part, rules).at[cid, "tenure_years"] < 0.01
