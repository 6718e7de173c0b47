"""The exact roadmap (rotation.roadmap.exact): over every eligible (cadre, post, round) triple,
proven optimal only with a proof, never worse than round by round, always valid; and the v1.1
rows that count the newly appointed (priority shares, support budget) count a round's arrivals."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from builders import default_rules, tiny_problem
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

from rotation.data import ProblemData
from rotation.model import SCALE, all_rows
from rotation.roadmap.exact import solve_roadmap_exact, term_objective
from rotation.roadmap.model import build_roadmap_model, greedy_roadmap, proof_line, solve_roadmap
from rotation.roadmap.validate import validate_roadmap
from rotation.rules import Rules


def _rules(rounds: list[str], shares: dict[str, float], **extra: Any) -> Rules:
    horizon = {
        "rounds": rounds,
        "trajectory": [
            {
                "position": "secretary",
                "scope_level": "district",
                "shares": shares,
                "never_decrease": True,
            }
        ],
    }
    extra.setdefault("weights", {"travel_km": 1, "change": 50})
    return default_rules(horizon=horizon, time_limit_s=30, **extra)


def _plain_optimum(data: ProblemData, rules: Rules) -> float | None:
    """Plain CP-SAT over every eligible triple (no pruning): the reference optimum."""
    m = build_roadmap_model(data, rules, candidates_per_post=None)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 60
    code = solver.solve(m.cp)
    if code == cp_model.INFEASIBLE:
        return None
    assert code == cp_model.OPTIMAL
    return solver.objective_value / SCALE


def _foresight() -> tuple[ProblemData, Rules]:
    data = tiny_problem(districts=1, cadres={"K11": {"current_since": dt.date(2010, 1, 1)}})
    return data, _rules(["2026-01-01", "2027-01-01"], {"2026-01-01": 0.0, "2027-01-01": 0.3})


def test_exact_roadmap_is_proven_over_every_triple_and_valid():
    data, rules = _foresight()
    res = solve_roadmap_exact(data, rules)
    assert res.status == "optimal" and res.stats["proven"] is True and res.stats["gap"] == 0.0
    assert "every eligible (cadre, post, round) triple" in res.stats["exact_over"]
    assert res.stats["objective"] == round(_plain_optimum(data, rules) or -1, 3)
    assert validate_roadmap(data, rules, res.to_json()) == []


def test_progress_events_name_the_phases_with_monotonic_time():
    data, rules = _foresight()
    events = []
    solve_roadmap_exact(data, rules, progress=events.append)
    phases = [e.phase for e in events]
    order = ["pairs 2026", "pairs 2027", "rows", "bound", "first roadmap", "proof", "done"]
    assert [p for p in phases if p in order] == order  # each once, in this order
    times = [e.elapsed_s for e in events]
    assert times == sorted(times)
    assert events[-1].objective == events[-1].bound  # proven: the bound reached the roadmap


def test_the_proof_after_pruning_finds_the_same_optimum(monkeypatch):
    """With a first MIP over the LP's support only, the proof runs over the stints the pruning
    keeps (events "pruning" then "proof") and still proves the plain optimum."""
    import rotation.roadmap.exact as exact

    data, rules = _foresight()
    monkeypatch.setattr(exact, "FIRST_GAP", -1.0)  # no stint beyond the LP's support at first
    events = []
    res = solve_roadmap_exact(data, rules, progress=events.append)
    phases = [e.phase for e in events]
    assert phases.index("first roadmap") < phases.index("pruning") < phases.index("proof")
    assert res.status == "optimal" and res.stats["proven"] is True
    assert res.stats["objective"] == round(_plain_optimum(data, rules) or -1, 3)
    assert validate_roadmap(data, rules, res.to_json()) == []


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(
    communes=st.integers(2, 3),
    since=st.sampled_from([2010, 2018, 2023]),
    share=st.sampled_from([0.0, 0.3, 0.5]),
    rounds=st.integers(1, 3),
)
def test_exact_never_worse_than_round_by_round_and_always_valid(communes, since, share, rounds):
    data = tiny_problem(
        districts=1, communes=communes, cadres={"K11": {"current_since": dt.date(since, 1, 1)}}
    )
    days = [f"{2026 + k}-01-01" for k in range(rounds)]
    rules = _rules(days, {days[-1]: share})
    res = solve_roadmap_exact(data, rules)
    plain = _plain_optimum(data, rules)
    if plain is None:
        assert res.status == "infeasible"
        return
    assert res.status == "optimal"
    assert validate_roadmap(data, rules, res.to_json()) == []
    assert res.stats["objective"] == round(plain, 3)
    greedy = greedy_roadmap(data, rules)
    if greedy.status == "optimal":  # round by round found a roadmap: never better
        myopic = term_objective(data, rules, [p.holder() for _, p in greedy.rounds])
        assert myopic is not None and res.stats["objective"] <= myopic + 1e-6


def _round_rows(rules: Rules, rule: str) -> list[Any]:
    data, _ = _foresight()
    m = build_roadmap_model(data, rules, candidates_per_post=None)
    return [[row for row in all_rows(r) if row.rule == rule] for r in m.rounds]


def test_budget_counts_a_rounds_arrivals_not_its_pairs():
    rules = _rules(["2026-01-01", "2027-01-01"], {"2027-01-01": 0.3}, budget_vnd=10**12)
    m = build_roadmap_model(_foresight()[0], rules, candidates_per_post=None)
    for r in m.rounds:
        (row,) = [row for row in all_rows(r) if row.rule == "budget_vnd"]
        assert len(row.pairs) == 0  # a continuing holder is paid nothing again
        paid = np.nonzero(r.can_arrive & (r.elig.pair_support_vnd > 0))[0].tolist()
        assert sorted(row.arrivals) == paid
        assert row.arrival_weights().tolist() == r.elig.pair_support_vnd[row.arrivals].tolist()


def test_priority_shares_count_a_rounds_arrivals():
    rules = _rules(
        ["2026-01-01", "2027-01-01"],
        {"2027-01-01": 0.3},
        priority_shares=[{"group": "women", "min_share": 0.5}],
    )
    m = build_roadmap_model(_foresight()[0], rules, candidates_per_post=None)
    for r in m.rounds:
        (row,) = [row for row in all_rows(r) if row.rule == "priority_shares"]
        assert len(row.pairs) == 0
        assert set(row.arrivals) <= set(np.nonzero(r.can_arrive)[0].tolist())
        assert row.arrivals  # every newcomer counts, with a signed coefficient


def test_proof_line_says_proven_or_shows_the_gap():
    assert proof_line({"proven": True}).startswith("Proven optimal over every eligible")
    assert proof_line({"proven": False, "gap": 0.5486}) == "Not proven: gap 54.9%."
    line = proof_line({"proven": False, "gap": 0.1, "gap_covers": "the candidate pairs only"})
    assert line == "Not proven: gap 10.0% (bound over the candidate pairs only)."


def test_candidate_set_model_is_never_called_optimal():
    data, rules = _foresight()
    res = solve_roadmap(data, rules, method="candidates")
    assert res.status == "feasible" and res.stats["proven"] is False
    assert res.stats["gap_covers"] == "the candidate pairs only"
    assert solve_roadmap(data, rules).stats["method"] == "exact"  # auto on a small term


def _below_case(never_below: bool) -> tuple[ProblemData, Rules]:
    """Today 1 of D1's 3 secretaries is non-local (K12 lives in C13); K12 has reached the tenure
    limit and must leave in 2026; the cheapest successor, O12, lives in C12 (local there)."""
    data = tiny_problem(
        districts=1,
        cadres={
            "K12": {
                "hometown_id": "C13",
                "residence_id": "C13",
                "current_since": dt.date(2010, 1, 1),
            }
        },
    )
    rules = _rules(["2026-01-01", "2027-01-01"], {"2026-01-01": 0.0})
    rules = rules.model_copy(
        update={
            "never_below_current": never_below,
            "horizon": {
                **(rules.horizon or {}),
                "trajectory": [{**rules.horizon["trajectory"][0], "never_decrease": False}],
            },
        }
    )
    return data, rules


def _non_local_round_1(res) -> int:
    return sum(a.non_local for a in res.rounds[0][1].assignments if a.cadre_id)


def test_never_below_current_holds_from_today_to_round_1():
    data, rules = _below_case(True)
    res = solve_roadmap_exact(data, rules)
    assert res.status == "optimal"
    assert validate_roadmap(data, rules, res.to_json()) == []
    assert _non_local_round_1(res) >= 1  # no district of round 1 below today
    data, off = _below_case(False)
    assert _non_local_round_1(solve_roadmap_exact(data, off)) == 0  # the rule is what binds


def test_a_merged_communes_incumbent_is_released_once():
    """C13 merges into C12: its secretary K13 is released in 2026 and is not released again in
    2027 (the rolled state no longer has them at the merged post); both roadmaps validate."""
    data = tiny_problem(districts=1, units={"C13": {"merged_into": "C12"}})
    rules = _rules(["2026-01-01", "2027-01-01"], {"2026-01-01": 0.0})
    for res in (greedy_roadmap(data, rules), solve_roadmap_exact(data, rules)):
        assert validate_roadmap(data, rules, res.to_json()) == []
        released = [plan.released for _, plan in res.rounds]
        assert "K13" in released[0] and "K13" not in released[1]


def test_without_a_proof_the_best_roadmap_known_is_feasible_with_its_gap(monkeypatch):
    """The CP-SAT fallback (no stint MIP gave a roadmap) with no proof attempted."""
    import rotation.roadmap.exact as exact

    data, rules = _foresight()
    proven = solve_roadmap_exact(data, rules)
    monkeypatch.setattr(exact, "stint_search", lambda *a, **k: None)  # the MIPs give nothing
    monkeypatch.setattr(exact, "PROOF_MAX_TRIPLES", -1)  # no proof is ever attempted
    res = solve_roadmap_exact(data, rules)
    assert res.status == "feasible" and res.stats["proven"] is False
    assert "no CP-SAT proof attempted" in res.stats["message"]
    assert res.stats["bound"] <= proven.stats["objective"] + 1e-6 <= res.stats["objective"] + 2e-6
    assert 0 <= res.stats["gap"] < 1
    assert validate_roadmap(data, rules, res.to_json()) == []
    assert proof_line(res.stats).startswith("Not proven: gap")


def test_an_unfinished_proof_mip_returns_its_roadmap_feasible_with_the_gap(monkeypatch):
    """The proof MIP stopping early (its status made "feasible", its bound lowered, as a time
    limit leaves them) gives the best roadmap, ``feasible``, the bound below it. The LP bound is
    weakened by 5 (a lower bound still: the tiny LP is integral, so it would prove alone)."""
    import dataclasses

    import rotation.roadmap.exact as exact

    data, rules = _foresight()
    real = exact.solve_stint_mip
    calls = []
    real_lp = exact.open_stint_lp

    def weaker_lp(*args: Any, **kwargs: Any):
        lp, h = real_lp(*args, **kwargs)
        return dataclasses.replace(lp, bound=lp.bound - 5 * SCALE), h

    monkeypatch.setattr(exact, "open_stint_lp", weaker_lp)

    def stopped_early(*args: Any, **kwargs: Any):
        mip = real(*args, **kwargs)
        calls.append(mip.status)
        if len(calls) == 1:
            return mip
        return dataclasses.replace(mip, status="feasible", bound=mip.bound - 5 * SCALE)

    monkeypatch.setattr(exact, "FIRST_GAP", -1.0)
    monkeypatch.setattr(exact, "solve_stint_mip", stopped_early)
    res = solve_roadmap_exact(data, rules)
    assert len(calls) >= 2
    assert res.status == "feasible" and res.stats["proven"] is False
    assert res.stats["objective"] == round(_plain_optimum(data, rules) or -1, 3)
    assert res.stats["lp_bound"] <= res.stats["bound"] < res.stats["objective"]
    assert 0 < res.stats["gap"] < 1
    assert "did not finish" in res.stats["message"]
    assert validate_roadmap(data, rules, res.to_json()) == []


def test_a_stop_request_interrupts_highs_at_once():
    """``stop_when_asked``: a set stop event interrupts HiGHS's branch and bound before its
    first node, where the same MIP alone runs on past it (a node limit is what stops it: its
    root alone takes 1–2.5 s on this project's machines, so a time limit would race it)."""
    import threading

    import scipy.sparse as sp

    from rotation.model.lp import _silent_highs, stop_when_asked
    from rotation.roadmap.stints import _pass_csc

    rng = np.random.default_rng(0)
    A = sp.random(60, 300, density=0.3, random_state=1, format="csc")
    A.data = np.round(A.data * 10) + 1
    cost = -rng.integers(1, 20, 300).astype(float)
    statuses = {}
    for asked in (True, False):
        h = _silent_highs()
        h.setOptionValue("presolve", "off")
        h.setOptionValue("time_limit", 60.0)  # a cap only: the node limit ends it
        h.setOptionValue("mip_max_nodes", 1)
        stop = threading.Event()
        if asked:
            stop.set()
        stop_when_asked(h, stop)
        _pass_csc(h, A, cost, np.full(60, -np.inf), np.full(60, 25.0), integer=True)
        h.run()
        statuses[asked] = (h.getModelStatus().name, h.getInfo().mip_node_count)
    assert statuses[True] == ("kInterrupt", 0)
    assert statuses[False][0] != "kInterrupt" and statuses[False][1] > 0


def test_a_cancelled_exact_roadmap_returns_unproven_and_valid():
    import threading

    data, rules = _foresight()
    stop = threading.Event()
    stop.set()
    res = solve_roadmap_exact(data, rules, stop=stop)
    assert res.status in ("feasible", "unknown")
    assert res.stats.get("proven") is not True
    assert "stopped on request" in res.stats.get("message", "")
    if res.rounds:
        assert validate_roadmap(data, rules, res.to_json()) == []
