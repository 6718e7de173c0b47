"""The term roadmap province by province (rotation.roadmap.province): as cheap as the whole
solve and valid on the whole data; split only when no rule links the provinces; the merged
status is optimal only when every province is proven, else the unproven ones are named."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from builders import two_smallest_provinces

from rotation.data import ProblemData
from rotation.plan import DiagnosisItem
from rotation.roadmap.model import RoadmapResult, greedy_roadmap, solve_roadmap
from rotation.roadmap.province import (
    ProvinceRoadmap,
    _merged,
    _solve_province,
    roadmap_provinces,
)
from rotation.roadmap.validate import validate_roadmap
from rotation.rules import Rules, load_rules
from rotation.solve import ProgressEvent, split_by_province
from rotation.solve.progress import Clock


@pytest.fixture(scope="module")
def two_provinces() -> ProblemData:
    """The two smallest provinces of the 2025 structure (38 + 40 communes), synthetic roster."""
    return two_smallest_provinces()


def rules_for(workers: int, **extra: Any) -> Rules:
    """Three yearly rounds, 30% non-local secretaries per province from 2027, never falling;
    a time limit far above the solve's (≈ 10 s on a quiet machine), so a loaded one still proves."""
    horizon = {
        "rounds": ["2026-01-01", "2027-01-01", "2028-01-01"],
        "trajectory": [
            {"position": "secretary", "scope_level": "province", "shares": {"2027-01-01": 0.3}}
        ],
    }
    return load_rules({"horizon": horizon, "workers": workers, "time_limit_s": 120, **extra})


@pytest.fixture(scope="module")
def whole(two_provinces: ProblemData) -> RoadmapResult:
    """The roadmap of both provinces solved as one problem (the reference)."""
    return solve_roadmap(two_provinces, rules_for(2), decompose=False)


def test_split_only_when_no_rule_links_the_provinces(two_provinces: ProblemData):
    """Two provinces with the default rules; none with a national budget, priority shares or
    candidates from any province (the single plan's decision)."""
    assert len(roadmap_provinces(two_provinces, rules_for(2))) == 2
    assert roadmap_provinces(two_provinces, rules_for(2, budget_vnd=10**12)) == []
    shares = [{"group": "women", "min_share": 0.1}]
    assert roadmap_provinces(two_provinces, rules_for(2, priority_shares=shares)) == []
    assert roadmap_provinces(two_provinces, rules_for(2, same_province=False)) == []


@pytest.mark.parametrize("workers", [1, 2])
def test_by_province_is_as_cheap_as_the_whole_and_valid(
    two_provinces: ProblemData, whole: RoadmapResult, workers: int
):
    """The merged roadmap (in one process, and in worker processes) costs what the whole solve
    costs, is ``optimal`` exactly when proven, and passes the validator on the whole data;
    progress: one event per province, the last with the merged objective."""
    rules = rules_for(workers)
    events: list[ProgressEvent] = []
    res = solve_roadmap(two_provinces, rules, progress=events.append)
    assert res.stats["decomposed"] == 2 and "decomposed" not in whole.stats
    # the proof's time depends on the first roadmap found within its 10 s cap (a loaded machine
    # finds a worse one, keeps more triples and may stop the proof at the limit): the merged
    # roadmap is never worse than the whole's, equal when both are proven
    assert res.stats["objective"] <= whole.stats["objective"] + 1e-2
    if res.stats["proven"] and whole.stats["proven"]:
        assert res.stats["objective"] == pytest.approx(whole.stats["objective"], abs=1e-2)
    assert res.status == ("optimal" if res.stats["proven"] else "feasible")
    assert res.stats["bound"] <= res.stats["objective"] + 1e-6
    assert res.stats["triples"] == whole.stats["triples"]
    assert validate_roadmap(two_provinces, rules, res.to_json()) == []
    assert validate_roadmap(two_provinces, rules, whole.to_json()) == []
    assert [ev.phase for ev in events] == ["province 1/2", "province 2/2"]
    assert events[-1].objective == pytest.approx(res.stats["objective"], abs=1e-2)
    n_posts = len(two_provinces.posts)
    assert all(len(p.assignments) == n_posts for _, p in res.rounds)
    assert len(res.kpis_by_round) == 3


@pytest.fixture(scope="module")
def outcomes(two_provinces: ProblemData) -> list[ProvinceRoadmap]:
    """Each province's roadmap, as a worker returns it."""
    rules = rules_for(1)
    provinces = roadmap_provinces(two_provinces, rules)
    return [
        _solve_province((p, split_by_province(two_provinces, p), rules, None, "exact", None), None)
        for p in provinces
    ]


def proven(o: ProvinceRoadmap) -> ProvinceRoadmap:
    """The province's roadmap as a proven one (its objective as its bound): the merge is under
    test, not the proof (which a loaded machine may not finish)."""
    stats = {**o.stats, "bound": o.stats["objective"], "gap": 0.0, "proven": True}
    return dataclasses.replace(o, status="optimal", stats=stats)


def test_an_unproven_province_makes_the_roadmap_feasible_and_is_named(
    two_provinces: ProblemData, outcomes: list[ProvinceRoadmap]
):
    """One province stopped at its limit (bound below its objective): the merged roadmap is
    ``feasible``, its gap is that of the sums, and the message names that province."""
    a, b = (proven(o) for o in outcomes)
    lower = b.stats["objective"] - 10.0
    stopped = dataclasses.replace(
        b,
        status="feasible",
        stats={**b.stats, "bound": lower, "gap": 10.0 / b.stats["objective"], "proven": False},
    )
    res = _merged(two_provinces, rules_for(1), [a, stopped], 0.0, Clock())
    assert res.status == "feasible" and res.stats["proven"] is False
    assert res.stats["unproven_provinces"] == [b.province]
    name = str(two_provinces.units.at[b.province, "name"])
    assert name in res.stats["message"]
    total = a.stats["objective"] + b.stats["objective"]
    assert res.stats["gap"] == pytest.approx(10.0 / total, rel=1e-3)
    assert all(p.status == "feasible" for _, p in res.rounds)
    assert validate_roadmap(two_provinces, rules_for(1), res.to_json()) == []


def test_a_province_without_a_roadmap_gives_none_and_its_diagnosis(
    two_provinces: ProblemData, outcomes: list[ProvinceRoadmap]
):
    """An infeasible province: no merged roadmap, its diagnosis, the province named."""
    a, b = outcomes
    item = DiagnosisItem(rule="non_local_target", scope="X", detail="too few")
    bad = dataclasses.replace(b, status="infeasible", holders=[], diagnosis=[item])
    res = _merged(two_provinces, rules_for(1), [a, bad], 0.0, Clock())
    assert res.status == "infeasible" and not res.rounds
    assert [d.rule for d in res.diagnosis] == ["non_local_target"]
    assert str(two_provinces.units.at[b.province, "name"]) in res.stats["message"]


def test_round_by_round_over_two_provinces_keeps_its_newcomers(two_provinces: ProblemData):
    """Round by round over two provinces: the minimum stay's locks of one province's newcomers
    do not reach the other province's solve (a lock of a post it does not hold would make it
    infeasible), so every round is planned and the roadmap is valid."""
    rules = rules_for(2)
    res = greedy_roadmap(two_provinces, rules)
    assert res.status == "optimal", [d.detail for d in res.diagnosis][:3]
    assert len(res.rounds) == 3
    assert sum(k["changed_posts"] for k in res.kpis_by_round[:1]) > 0  # newcomers to lock
    assert validate_roadmap(two_provinces, rules, res.to_json()) == []
