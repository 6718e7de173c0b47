"""Repair of an adopted term roadmap after an event in round k (``rotation.roadmap.repair``):
earlier rounds untouched, the fewest posts changed from round k on, every result validated."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from builders import default_rules, tiny_problem
from typer.testing import CliRunner

from rotation import cli
from rotation.read import write_dataset
from rotation.repair import RepairError, parse_events
from rotation.roadmap.model import solve_roadmap
from rotation.roadmap.repair import repair_roadmap
from rotation.roadmap.validate import validate_roadmap

runner = CliRunner()

ROUNDS = ["2026-01-01", "2027-01-01", "2028-01-01"]


def _data():
    """Two districts of three communes; K11 (tenure since 2010) must leave in 2026, K21 (since
    mid-2016) in 2027; the trajectory asks 0% → 30% → 60% non-local secretaries per district."""
    return tiny_problem(
        districts=2,
        cadres={
            "K11": {"current_since": dt.date(2010, 1, 1)},
            "K21": {"current_since": dt.date(2016, 6, 1)},
        },
    )


def _rules_doc() -> dict[str, Any]:
    shares = {ROUNDS[0]: 0.0, ROUNDS[1]: 0.3, ROUNDS[2]: 0.6}
    horizon = {
        "rounds": ROUNDS,
        "trajectory": [{"position": "secretary", "scope_level": "district", "shares": shares}],
    }
    return {"horizon": horizon, "weights": {"travel_km": 1, "change": 50}, "time_limit_s": 20}


def _rules():
    return default_rules(**_rules_doc())


@pytest.fixture(scope="module")
def adopted() -> dict[str, Any]:
    """The adopted roadmap (valid; O22 takes S-C21 in round 2, O11 takes S-C12 in round 3)."""
    doc = solve_roadmap(_data(), _rules()).to_json()
    assert validate_roadmap(_data(), _rules(), doc) == []
    held = [{a["post_id"]: a["cadre_id"] for a in r["plan"]["assignments"]} for r in doc["rounds"]]
    assert held[1]["S-C21"] == "O22" and held[0]["S-C21"] != "O22"
    assert held[2]["S-C12"] == "O11"
    return doc


def _holders(doc: dict[str, Any]) -> list[dict[str, str | None]]:
    return [{a["post_id"]: a["cadre_id"] for a in r["plan"]["assignments"]} for r in doc["rounds"]]


def _changed(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, str]]:
    """(round, post) whose holder differs between two roadmaps."""
    out = []
    for r, ha, hb in zip(ROUNDS, _holders(a), _holders(b), strict=True):
        out += [(r, p) for p in sorted(set(ha) | set(hb)) if ha.get(p) != hb.get(p)]
    return out


def _repair(adopted: dict[str, Any], *events: str):
    rep = repair_roadmap(_data(), _rules(), adopted, parse_events(list(events), rounds=True))
    assert rep.status in ("optimal", "feasible"), rep.result.diagnosis
    doc = rep.to_json()
    assert validate_roadmap(_data(), _rules(), doc) == [], "the repaired roadmap validates"
    assert rep.violations == []
    return rep, doc


def test_declines_in_round_2_keeps_round_1_and_validates(adopted):
    """O22 declines S-C21 in round 2: round 1 is the adopted one to the byte, O22 is at S-C21 in
    no round from 2 on, and what changed is listed with names."""
    rep, doc = _repair(adopted, "declines:O22:round=2")
    assert doc["rounds"][0] == adopted["rounds"][0]
    assert all(h.get("S-C21") != "O22" for h in _holders(doc)[1:])
    listed = [(c.round.isoformat(), c.post_id) for c in rep.changes]
    assert listed == _changed(adopted, doc)
    first = rep.changes[0]
    assert first.adopted == "O22" and first.adopted_name and first.unit_name
    assert doc["repair"]["changed_posts"] == len(listed)
    assert doc["repair"]["changed_posts_by_round"] == {
        r: sum(1 for d, _ in listed if d == r) for r in ROUNDS[1:]
    }


def test_declines_changes_no_more_than_replanning_from_scratch(adopted):
    """Fewest changes: the repair differs from the adopted roadmap in no more posts than a
    fresh roadmap that only excludes the declined pair does."""
    rep, _ = _repair(adopted, "declines:O22@S-C21:round=2")
    fresh_rules = default_rules(**_rules_doc(), exclude=[{"post_id": "S-C21", "cadre_id": "O22"}])
    fresh = solve_roadmap(_data(), fresh_rules).to_json()
    assert len(rep.changes) <= len(_changed(adopted, fresh))
    assert len(rep.changes) >= 2  # S-C21 in rounds 2 and 3 cannot keep O22


@pytest.mark.parametrize(
    ("event", "forced"),
    [
        # O12 holds S-C11 in rounds 2 and 3 of the adopted roadmap: both must change, no more
        ("leaves:O12:round=2", [("2027-01-01", "S-C11"), ("2028-01-01", "S-C11")]),
        # O22 is out of S-C21 in round 3 (the last): only that post of that round changes
        ("vacant:S-C21:round=3", [("2028-01-01", "S-C21")]),
        # O11 may take no new post from round 3: only S-C12 of round 3 changes
        ("disciplined:O11:kind=warning:round=3", [("2028-01-01", "S-C12")]),
    ],
)
def test_each_event_changes_only_the_posts_it_forces(adopted, event, forced):
    """Each kind of event changes exactly the posts it forces to change (the fewest possible),
    keeps every round before it, and the result validates."""
    rep, doc = _repair(adopted, event)
    k = int(event.rsplit("round=", 1)[1])
    assert doc["rounds"][: k - 1] == adopted["rounds"][: k - 1]
    assert _changed(adopted, doc) == forced
    assert [(c.round.isoformat(), c.post_id) for c in rep.changes] == forced


def test_leaving_cadre_holds_nothing_and_validator_knows_the_event(adopted):
    """A cadre who leaves in round 2 holds no post from then on; without its events the same
    roadmap breaks the minimum stay (the validator applies the events it carries)."""
    _, doc = _repair(adopted, "leaves:O12:round=2")
    assert all("O12" not in h.values() for h in _holders(doc)[1:])
    bare = {k: v for k, v in doc.items() if k != "repair"}
    assert {v.rule for v in validate_roadmap(_data(), _rules(), bare)} >= {"min_stay"}


def test_repair_is_deterministic(adopted):
    """The same adopted roadmap and event give the same repaired roadmap."""
    _, a = _repair(adopted, "declines:O22:round=2")
    _, b = _repair(adopted, "declines:O22:round=2")
    assert a["rounds"] == b["rounds"] and a["repair"] == b["repair"]


@pytest.mark.parametrize(
    ("texts", "needle"),
    [
        (["declines:O22"], "say in which round"),
        (["refuses:O22:round=2"], "expected declines:CADRE"),
        (["declines:O22:round=two"], "round must be a round number"),
        (["leaves:O12:when=2"], "unknown option 'when=2'"),
        (["disciplined:O11:kind=fine:round=2"], "kind must be one of"),
        (["vacant:S-C21@X:round=2"], "only declines names a post"),
    ],
)
def test_malformed_events_are_named(texts, needle):
    """A malformed event is refused by the shared parser with its text and what is wrong."""
    with pytest.raises(RepairError) as exc:
        parse_events(texts, rounds=True)
    assert texts[0] in exc.value.messages[0] and needle in exc.value.messages[0]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("declines:O22:round=9", "round 9 is not a round of the roadmap (1 to 3)"),
        ("leaves:C404:round=2", "cadre 'C404' is not in the dataset"),
        ("vacant:S-C99:round=2", "post 'S-C99' is not in round 2"),
        ("declines:O21:round=1", "O21 holds no post in round 1"),
    ],
)
def test_events_that_do_not_fit_the_roadmap_are_named(adopted, text, needle):
    """Events naming a round, cadre or post the adopted roadmap does not have are refused."""
    with pytest.raises(RepairError) as exc:
        repair_roadmap(_data(), _rules(), adopted, parse_events([text], rounds=True))
    assert any(needle in m for m in exc.value.messages), exc.value.messages


def test_events_of_different_rounds_are_refused(adopted):
    """One repair, one round: events of rounds 2 and 3 together are refused, saying so."""
    events = parse_events(["declines:O22:round=2", "leaves:O11:round=3"], rounds=True)
    with pytest.raises(RepairError) as exc:
        repair_roadmap(_data(), _rules(), adopted, events)
    assert "in one round (got rounds 2, 3)" in exc.value.messages[-1]


def test_a_repaired_roadmap_can_be_repaired_again(adopted):
    """Repairing the result of a repair carries both events; the second result validates."""
    _, first = _repair(adopted, "declines:O22:round=2")
    _, second = _repair(first, "disciplined:O11:round=3")
    assert [e["type"] for e in second["repair"]["events"]] == ["declines", "disciplined"]
    assert second["rounds"][:2] == first["rounds"][:2]


# =========================================================================== command line
def _cli_files(tmp_path: Path, adopted: dict[str, Any]) -> tuple[Path, Path, Path]:
    write_dataset(_data(), tmp_path / "tiny")
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps(_rules_doc()), "utf-8")
    old = tmp_path / "adopted.json"
    old.write_text(json.dumps(adopted), "utf-8")
    return tmp_path / "tiny", rules, old


def test_cli_roadmap_event_repairs_and_validates(tmp_path: Path, adopted):
    """`rotation roadmap DATA --previous ADOPTED --event …` exits 0, prints the changed posts by
    round (English with --lang en), and writes a roadmap that `validate --roadmap` accepts."""
    data, rules, old = _cli_files(tmp_path, adopted)
    out = tmp_path / "out"
    args = ["roadmap", data, "--rules", rules, "--previous", old, "--out", out, "--quiet"]
    args += ["--event", "declines:O22:round=2", "--lang", "en"]
    result = runner.invoke(cli.app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    assert "Changed compared with the adopted roadmap, from round 2" in result.stdout
    assert "S-C21" in result.stdout and "O22" in result.stdout
    doc = json.loads((out / "roadmap.json").read_text(encoding="utf-8"))
    assert doc["rounds"][0] == adopted["rounds"][0]
    assert doc["repair"]["events"][0]["type"] == "declines"
    assert (out / "roadmap.xlsx").is_file()
    check = runner.invoke(
        cli.app,
        [str(a) for a in ("validate", data, "--rules", rules, "--plan", out / "roadmap.json",
                          "--roadmap")],
    )  # fmt: skip
    assert check.exit_code == 0, check.output


def test_cli_roadmap_event_vietnamese_by_default(tmp_path: Path, adopted):
    """Without --lang the repair's table speaks Vietnamese."""
    data, rules, old = _cli_files(tmp_path, adopted)
    args = ["roadmap", data, "--rules", rules, "--previous", old, "--out", tmp_path / "o"]
    args += ["--quiet", "--event", "vacant:S-C21:round=3"]
    result = runner.invoke(cli.app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    assert "Thay đổi so với lộ trình đã thông qua, từ vòng 3" in result.stdout


@pytest.mark.parametrize(
    ("event", "needle"),
    [
        ("declines:O22", "'declines:O22': say in which round"),
        ("sacked:O22:round=2", "'sacked:O22:round=2': expected declines:CADRE"),
        ("leaves:C404:round=2", "cadre 'C404' is not in the dataset"),
        ("declines:O22:round=7", "round 7 is not a round of the roadmap"),
    ],
)
def test_cli_roadmap_bad_event_exits_2_naming_it(tmp_path: Path, adopted, event, needle):
    """A bad event is bad input: exit 2, one line naming it, no traceback, nothing written."""
    data, rules, old = _cli_files(tmp_path, adopted)
    out = tmp_path / "out"
    args = ["roadmap", data, "--rules", rules, "--previous", old, "--out", out, "--quiet"]
    result = runner.invoke(cli.app, [str(a) for a in [*args, "--event", event]])
    assert result.exit_code == 2, result.output
    assert needle in result.output
    assert "Traceback" not in result.output
    assert not (out / "roadmap.json").exists()


def test_cli_roadmap_event_needs_previous(tmp_path: Path, adopted):
    """--event without the adopted roadmap (--previous) is bad input, exit 2."""
    data, rules, _ = _cli_files(tmp_path, adopted)
    args = ["roadmap", data, "--rules", rules, "--out", tmp_path / "o", "--quiet"]
    result = runner.invoke(cli.app, [str(a) for a in [*args, "--event", "leaves:O12:round=2"]])
    assert result.exit_code == 2, result.output
    assert "--event needs --previous" in result.output
