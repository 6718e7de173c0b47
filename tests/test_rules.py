"""Rules ranges (rotation/rules.py): every bounded field refused past its bound, with the field
named, from a dict, a YAML/JSON text and on the command line."""

from __future__ import annotations

import pytest
from builders import tiny_problem
from typer.testing import CliRunner

from rotation import cli
from rotation.read import write_dataset
from rotation.rules import MAX_PAIRS, Rules, RulesError, load_rules

PAIR = {"post_id": "P1", "cadre_id": "C1"}
OUT_OF_RANGE = [
    ({"rating_years": 1_000_000_000}, "rating_years"),
    ({"rating_years": 21}, "rating_years"),
    ({"seed": 99999999999999999999999}, "seed"),
    ({"seed": 2**31}, "seed"),
    ({"seed": -1}, "seed"),
    ({"weights": {"travel_km": 1e308}}, "weights.travel_km"),
    ({"weights": {"change": float("inf")}}, "weights.change"),
    ({"weights": {"vacancy": float("nan")}}, "weights.vacancy"),
    ({"weights": {"max_travel": -1}}, "weights.max_travel"),
    ({"retirement_age": {"M": 1e300}}, "retirement_age.M"),
    ({"retirement_age": {"F": 39}}, "retirement_age.F"),
    ({"time_limit_s": 1e9}, "time_limit_s"),
    ({"time_limit_s": float("inf")}, "time_limit_s"),
    ({"max_travel_km": float("inf")}, "max_travel_km"),
    ({"max_travel_km": 1e7}, "max_travel_km"),
    ({"road_cutoff_km": float("nan")}, "road_cutoff_km"),
    ({"min_years_in_post": 1e6}, "min_years_in_post"),
    ({"max_years_in_post": 51}, "max_years_in_post"),
    ({"min_years_to_retirement": -1}, "min_years_to_retirement"),
    ({"locks": [PAIR] * (MAX_PAIRS + 1)}, "locks"),
    ({"exclude": [PAIR] * (MAX_PAIRS + 1)}, "exclude"),
    ({"locks": [{"post_id": "", "cadre_id": "C1"}]}, "locks.0.post_id"),
    ({"exclude": [{"post_id": "P1", "cadre_id": "x" * 65}]}, "exclude.0.cadre_id"),
    ({"non_local_targets": [{"min_share": 1.01}]}, "non_local_targets.0.min_share"),
    ({"max_changes": {"count": 10**9}}, "max_changes.count"),
    ({"candidate_tolerance": 11}, "candidate_tolerance"),
    ({"workers": 10**6}, "workers"),
    ({"circuity_factor": 100}, "circuity_factor"),
    ({"as_of": "9999-01-01"}, "as_of"),
    ({"positions": ["secretary"] * 21}, "positions"),
]


@pytest.mark.parametrize(("rules", "field"), OUT_OF_RANGE, ids=[f for _, f in OUT_OF_RANGE])
def test_out_of_range_refused_naming_field(rules, field):
    """Past its documented range a field is refused, one line naming it (input shortened)."""
    with pytest.raises(RulesError) as err:
        load_rules(rules)
    assert any(m.startswith(f"{field}: ") for m in err.value.messages), err.value.messages
    assert all(len(m) < 300 for m in err.value.messages)


@pytest.mark.parametrize(
    "text", ["weights: {travel_km: .inf}\n", "max_travel_km: .nan\n", '{"seed": NaN}']
)
def test_yaml_and_json_non_finite_refused(text):
    """YAML's .inf/.nan and JSON's NaN (which the parsers accept) are refused by the model."""
    with pytest.raises(RulesError):
        load_rules(text)


def test_bounds_inclusive():
    """The bounds themselves are allowed (a range, not a trap)."""
    r = load_rules(
        {
            "rating_years": 20,
            "seed": 2**31 - 1,
            "weights": {"travel_km": 1e6},
            "retirement_age": {"M": 80, "F": 40},
            "locks": [PAIR] * MAX_PAIRS,
        }
    )
    assert r.seed == 2**31 - 1 and len(r.locks) == MAX_PAIRS
    assert Rules() == load_rules(None)


def test_cli_refuses_out_of_range_rules(tmp_path):
    """The command line applies the same ranges: exit 2, the field named, nothing written."""
    data = tmp_path / "tiny"
    write_dataset(tiny_problem(), data)
    rules = tmp_path / "rules.yaml"
    rules.write_text("rating_years: 1000000000\nseed: 99999999999999999999999\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli.app, ["plan", str(data), "--rules", str(rules), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 2, result.output
    assert "rating_years" in result.stderr and "seed" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
