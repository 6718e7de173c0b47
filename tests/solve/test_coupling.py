"""Whole-plan rules across provinces (a national budget, priority shares): the relaxation path
when the provinces' optimum already keeps them, the Lagrangian path when it does not — each
proven optimal and equal to the plain optimum of the whole model, every plan valid (also through
``rotation validate``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from solve_helpers import assert_valid
from typer.testing import CliRunner

from rotation import cli
from rotation.data import ProblemData
from rotation.read import parse_tables
from rotation.rules import Rules, load_rules
from rotation.solve import Result, provinces_in_scope, solve, split_by_province
from rotation.solve.coupling import couples, coupling_breaks, without_coupling
from rotation.synth import synthesize_units, write_tables
from rotation.units import build_national_units

BASE: dict[str, Any] = {
    "positions": ["secretary", "pc_chair"],
    "non_local_targets": [{"position": "secretary", "scope_level": "province", "min_share": 0.3}],
    "support": {
        "months": 36,
        "tiers": [
            {"min_km": 10, "vnd_per_month": 2_000_000},
            {"min_km": 25, "vnd_per_month": 3_000_000},
        ],
    },
    "weights": {"travel_km": 1, "change": 50, "support_cost": 0.2, "priority_women": 2},
}
"""Two positions, a province target, support tiers priced in the objective."""


@pytest.fixture(scope="module")
def tables() -> dict:
    """The two smallest provinces of the 2025 structure, synthetic roster, two posts a commune."""
    units = build_national_units()
    communes = units[units["level"] != "province"].groupby("parent_id").size().sort_values()
    keep = list(communes.index[:2])
    units = units[units["unit_id"].isin(keep) | units["parent_id"].isin(keep)]
    return synthesize_units(units, 1, ["secretary", "pc_chair"], legacy=False)


@pytest.fixture(scope="module")
def two_provinces(tables: dict) -> ProblemData:
    return parse_tables(tables)


@pytest.fixture(scope="module")
def free(two_provinces: ProblemData) -> Result:
    """The optimum without any whole-plan rule (provinces apart)."""
    res = solve(two_provinces, load_rules(BASE), explain=False)
    assert res.status == "optimal" and res.stats["decomposed"] == 2
    return res


def rules_with(**extra: Any) -> Rules:
    return load_rules({**BASE, **extra})


def women_share(res: Result) -> float:
    new = res.plans[0].kpis.new_appointees
    return new.women / new.count


def assert_same_as_whole(data: ProblemData, rules: Rules, res: Result) -> None:
    """Proven optimal, equal to the plain CP-SAT optimum of the whole model, valid."""
    whole = solve(data, rules, explain=False, method="plain", decompose=False)
    assert res.status == whole.status == "optimal"
    assert res.plans[0].objective == pytest.approx(whole.plans[0].objective, abs=1e-3)
    assert res.plans[0].bound == pytest.approx(res.plans[0].objective, abs=1e-3)
    assert_valid(data, rules, res.plans[0])


def test_couples_and_its_relaxation():
    """A budget or a share couples the provinces; the relaxation drops exactly those two."""
    assert not couples(rules_with())
    rules = rules_with(budget_vnd=10**9, priority_shares=[{"group": "women", "min_share": 0.2}])
    assert couples(rules)
    relaxed = without_coupling(rules)
    assert not couples(relaxed)
    assert relaxed.model_dump(exclude={"budget_vnd", "priority_shares"}) == rules.model_dump(
        exclude={"budget_vnd", "priority_shares"}
    )


def test_slack_coupling_takes_the_relaxation_path(two_provinces: ProblemData, free: Result):
    """A budget above the free plan's support and a share below its women's share: the
    provinces' optimum keeps both, so it is the optimum of the whole (and says so)."""
    kpis = free.plans[0].kpis
    rules = rules_with(
        budget_vnd=kpis.support_cost_vnd + 1,
        priority_shares=[{"group": "women", "min_share": round(women_share(free) - 0.05, 2)}],
    )
    assert coupling_breaks(rules, free.plans[0]) == []
    res = solve(two_provinces, rules, explain=False)
    assert res.stats["coupling"] == "relaxation"
    assert "optimal for the whole problem" in res.stats["proof"]
    assert_same_as_whole(two_provinces, rules, res)


def test_binding_share_takes_the_lagrangian_path(two_provinces: ProblemData, free: Result):
    """Ten points more women than the free plan appoints: the relaxation breaks the share, the
    Lagrangian path proves the whole optimum on a fraction of the pairs."""
    rules = rules_with(
        priority_shares=[{"group": "women", "min_share": round(women_share(free) + 0.1, 2)}]
    )
    assert coupling_breaks(rules, free.plans[0]) == ["priority_shares:women"]
    res = solve(two_provinces, rules, explain=False)
    assert res.stats["coupling"] == "lagrangian", res.stats
    assert res.stats["model_pairs"] < res.stats["pairs"]
    assert res.stats["lagrange_bound"] <= res.plans[0].objective + 1e-6
    assert_same_as_whole(two_provinces, rules, res)
    assert women_share(res) >= rules.priority_shares[0].min_share


def test_binding_budget_and_share_together(two_provinces: ProblemData, free: Result):
    """A budget 10% under the free plan's support and 45% women: both broken by the relaxation,
    both kept by the Lagrangian path's plan, which is the whole optimum."""
    support = free.plans[0].kpis.support_cost_vnd
    rules = rules_with(
        budget_vnd=int(support * 0.9), priority_shares=[{"group": "women", "min_share": 0.45}]
    )
    assert coupling_breaks(rules, free.plans[0]) == ["budget_vnd", "priority_shares:women"]
    res = solve(two_provinces, rules, explain=False)
    assert res.stats["coupling"] == "lagrangian", res.stats
    assert_same_as_whole(two_provinces, rules, res)
    assert res.plans[0].kpis.support_cost_vnd <= rules.budget_vnd


def test_lagrangian_plan_passes_rotation_validate(tmp_path: Path, tables: dict, free: Result):
    """The Lagrangian path's plan, written as JSON, passes `rotation validate` (exit 0)."""
    rules = rules_with(
        priority_shares=[{"group": "women", "min_share": round(women_share(free) + 0.1, 2)}]
    )
    data_dir = tmp_path / "data"
    write_tables(tables, data_dir)
    res = solve(parse_tables(tables), rules, explain=False)
    assert res.stats["coupling"] == "lagrangian"
    (tmp_path / "rules.json").write_text(rules.model_dump_json())
    res.plans[0].to_json(tmp_path / "plan.json")
    out = CliRunner().invoke(
        cli.app,
        [
            "validate",
            str(data_dir),
            "--rules",
            str(tmp_path / "rules.json"),
            "--plan",
            str(tmp_path / "plan.json"),
        ],
    )
    assert out.exit_code == 0, out.output


def test_one_province_is_solved_as_one(two_provinces: ProblemData, free: Result):
    """With a single province in scope there is nothing to couple: the one-problem path."""
    prov = provinces_in_scope(two_provinces, load_rules(BASE))[0]
    one = split_by_province(two_provinces, prov)
    res = solve(one, rules_with(budget_vnd=10**12), explain=False)
    assert "coupling" not in res.stats and res.status == "optimal"
