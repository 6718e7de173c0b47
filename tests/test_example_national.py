"""examples/policy_v11_national.yaml: every contract v1.1 rule is on, and what its comments
say about the national data holds (the continuity override is needed, and named by the
precheck without it)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from rotation.diagnose.precheck import change_cap_conflicts
from rotation.eligibility import compute_eligibility
from rotation.read import parse_tables
from rotation.rules import load_rules
from rotation.solve.coupling import couples
from rotation.synth import synthesize_national

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "policy_v11_national.yaml"


def test_every_v11_rule_is_on():
    """Discipline, office retirement, never below today, province cap + commune continuity,
    priority shares, support tiers + a national budget, support cost and wishes weighed."""
    rules = load_rules(EXAMPLE)
    assert set(rules.positions) == {"secretary", "pc_chair", "inspection_chair"}
    assert rules.discipline_months and rules.min_years_to_retirement_from_office == 10
    assert rules.never_below_current
    assert {c.scope_level for c in rules.change_caps} == {"province", "commune"}
    assert rules.priority_shares and rules.support.tiers and rules.budget_vnd
    assert couples(rules)
    assert rules.weights.support_cost > 0 and rules.weights.preference > 0


@pytest.fixture(scope="module")
def national():
    return parse_tables(synthesize_national(1, ["secretary", "pc_chair", "inspection_chair"]))


def test_continuity_override_is_the_one_the_data_needs(national):
    """With the example's override no cap is below its unavoidable changes; without it the
    precheck names exactly Xã Ngãi Giao (26575), as the comment says."""
    doc = yaml.safe_load(EXAMPLE.read_text())
    rules = load_rules(doc)
    e = compute_eligibility(national, rules)
    assert change_cap_conflicts(e, rules) == []
    for cap in doc["max_changes"]:
        cap.pop("count_by_scope", None)
    bare = load_rules(doc)
    items = change_cap_conflicts(compute_eligibility(national, bare), bare)
    assert [d.scope for d in items] == ["26575"]
    assert items[0].detail == (
        "Xã Ngãi Giao: at most 2 changes allowed, but 3 posts must change "
        "(3 vacant and must be filled)"
    )
