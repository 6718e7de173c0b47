"""One test per cross-round rule producer (``rotation.roadmap.rows``), as for the single-round
rows: a tiny two-round term where the rule is the only thing stopping a cheaper roadmap. Each
test solves the horizon model with every rule, then without the one under test, and checks the
rule holds in the first roadmap, is broken in the second, and costs something. The single-round
rules are the single plan's own producers, applied per round (tests/model/test_constraints.py);
the last tests check that they are applied to every round and stay named."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from builders import default_rules, tiny_problem, with_cadre
from ortools.sat.python import cp_model

from rotation.data import ProblemData
from rotation.model import SCALE
from rotation.roadmap.model import RoadmapModel, build_roadmap_model
from rotation.roadmap.rows import (
    CROSS_ROUND_RULES,
    CrossRule,
    arrival,
    continue_only,
    minimum_stay,
    never_decrease,
    office_wait,
)
from rotation.rules import Rules

ROUNDS = ["2026-01-01", "2027-01-01"]
Holders = list[dict[str, str | None]]


@dataclass
class Term:
    objective: float
    held: Holders  # per round: post_id -> cadre_id
    model: RoadmapModel
    solver: cp_model.CpSolver


def optimum(data: ProblemData, rules: Rules, drop: CrossRule | None = None) -> Term:
    cross = tuple(r for r in CROSS_ROUND_RULES if r is not drop)
    m = build_roadmap_model(data, rules, cross_rules=cross)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 30
    assert solver.solve(m.cp) == cp_model.OPTIMAL
    return Term(solver.objective_value / SCALE, m.holders(solver), m, solver)


def binds(data: ProblemData, rules: Rules, producer: CrossRule) -> tuple[Term, Term]:
    kept, dropped = optimum(data, rules), optimum(data, rules, drop=producer)
    assert kept.objective > dropped.objective + 1e-9
    return kept, dropped


def _rules(horizon: dict[str, Any] | None = None, **extra: Any) -> Rules:
    extra.setdefault("weights", {"travel_km": 1, "change": 50})
    extra.setdefault("non_local_targets", [])
    return default_rules(horizon={"rounds": ROUNDS, **(horizon or {})}, **extra)


def _incumbents(data: ProblemData) -> dict[str, str | None]:
    return {p: c if isinstance(c, str) else None for p, c in data.posts["incumbent_id"].items()}


def _arrivals(data: ProblemData, held: Holders) -> list[tuple[int, str, str]]:
    """(round, post, cadre) for every holder who did not hold the post the round before."""
    out = []
    before = _incumbents(data)
    for k, now in enumerate(held):
        out += [(k, p, c) for p, c in sorted(now.items()) if c and before.get(p) != c]
        before = now
    return out


def test_arrival_pays_the_change_of_a_later_round():
    # K11 reaches the 10-year limit in 2027; O11 (0 km) replaces them then, one change
    data = tiny_problem(districts=1, cadres={"K11": {"current_since": dt.date(2016, 6, 1)}})
    kept, dropped = binds(data, _rules(), arrival)
    for term in (kept, dropped):
        assert term.held[0]["S-C11"] == "K11"
        assert term.held[1]["S-C11"] == "O11"
    r = kept.model.rounds[1]
    j = r.pair_index[(r.post_index["S-C11"], r.cadre_index["O11"])]
    assert j in r.arrive  # a candidate of 2026 too: its own arrival literal in 2027
    assert kept.solver.value(r.arrival(j)) == 1
    assert dropped.solver.value(dropped.model.rounds[1].arrival(j)) == 0  # the change went unpaid


def test_continue_only_keeps_a_departed_incumbent_from_coming_back():
    # 2026 wants one non-local secretary, 2027 none: without the rule, the incumbent who made
    # room in 2026 takes their post back in 2027 (0 km) at no change cost
    horizon = {
        "trajectory": [{"shares": {"2026-01-01": 0.3, "2027-01-01": 0.0}, "never_decrease": False}],
        "min_stay_years": 0,
    }
    data = tiny_problem(districts=1)
    kept, dropped = binds(data, _rules(horizon), continue_only)
    start = _incumbents(data)

    def returned(held: Holders) -> set[str]:
        return {p for p, c in start.items() if held[0][p] != c and held[1][p] == c}

    assert returned(kept.held) == set()
    assert returned(dropped.held)


def test_minimum_stay_keeps_a_newcomer_three_years():
    # S-C11 is vacant; the office cadres of D1 may move only from 2027 (minimum tenure), so a
    # cadre from D2 (≈ 15 km) fills it in 2026; in 2027 O11 (0 km) would replace them cheaply
    data = tiny_problem(
        posts={"S-C11": {"incumbent_id": None}},
        cadres={o: {"current_since": dt.date(2024, 6, 1)} for o in ("O11", "O12")},
    )
    data = with_cadre(data, "K11", movable=False)
    rules = _rules({"min_stay_years": 3}, weights={"travel_km": 1, "change": 5})
    kept, dropped = binds(data, rules, minimum_stay)

    def left_early(held: Holders) -> list[tuple[str, str]]:
        return [(p, c) for k, p, c in _arrivals(data, held) if k == 0 and held[1][p] != c]

    assert left_early(kept.held) == []
    assert left_early(dropped.held)


def test_office_wait_holds_a_released_cadre_in_the_office():
    # K11 must leave in 2026, K12 in 2027 (tenure limit); released in 2026, K11 (4 km from C12)
    # would be the cheapest for S-C12 in 2027, but has to wait two years in the office
    data = tiny_problem(
        office=1,
        cadres={
            "K11": {"current_since": dt.date(2015, 1, 1)},
            "K12": {"current_since": dt.date(2016, 6, 1)},
        },
    )
    kept, dropped = binds(data, _rules(), office_wait)

    def back_too_soon(held: Holders) -> bool:
        return (
            held[0]["S-C11"] != "K11"
            and "K11" not in held[0].values()
            and ("K11" in held[1].values())
        )

    assert not back_too_soon(kept.held)
    assert back_too_soon(dropped.held)


def test_office_wait_bars_a_return_too_close_to_retirement():
    # K11 must leave S-C11 in 2026; three years later the office wait is over and S-C12 falls
    # vacant (K12's tenure limit). Coming back from the office then needs 10 years before
    # retirement (Reg. 65): K11 born 1985 comes back, K11 born 1974 (≈ 7 years left in 2029)
    # may not, so the roadmap moves them straight to S-C12 in 2026 instead
    rules = _rules({"rounds": ["2026-01-01", "2029-01-01"], "min_stay_years": 0})

    def back_from_the_office(held: Holders) -> bool:
        return "K11" not in held[0].values() and held[1]["S-C12"] == "K11"

    for born, may_return in ((dt.date(1985, 1, 1), True), (dt.date(1974, 6, 1), False)):
        k11 = {"current_since": dt.date(2015, 1, 1), "birth_date": born}
        data = tiny_problem(
            office=1, cadres={"K11": k11, "K12": {"current_since": dt.date(2018, 6, 1)}}
        )
        assert back_from_the_office(optimum(data, rules).held) is may_return
        assert back_from_the_office(optimum(data, rules, drop=office_wait).held)


def test_never_decrease_keeps_a_reached_non_local_count():
    # K11 (non-local: born and living in C12) retires in mid-2026; the 2027 target is 0, but
    # with never_decrease the count of 2026 (1) must hold: O12 (non-local, 4 km) rather than
    # O11 (local, 0 km) takes the post
    data = with_cadre(
        tiny_problem(districts=1),
        "K11",
        hometown_id="C12",
        residence_id="C12",
        birth_date=dt.date(1966, 6, 1),
    )
    horizon = {"trajectory": [{"shares": {"2026-01-01": 0.3, "2027-01-01": 0.0}}]}
    rules = _rules(horizon, retirement_age={"M": 60, "F": 60})
    kept, dropped = binds(data, rules, never_decrease)
    assert kept.held[1]["S-C11"] == "O12"
    assert dropped.held[1]["S-C11"] == "O11"


BINDING_TESTS = {
    arrival: test_arrival_pays_the_change_of_a_later_round,
    continue_only: test_continue_only_keeps_a_departed_incumbent_from_coming_back,
    minimum_stay: test_minimum_stay_keeps_a_newcomer_three_years,
    office_wait: test_office_wait_holds_a_released_cadre_in_the_office,
    never_decrease: test_never_decrease_keeps_a_reached_non_local_count,
}


def test_every_cross_round_producer_has_a_binding_test():
    assert set(BINDING_TESTS) == set(CROSS_ROUND_RULES)


def test_single_round_rules_hold_in_every_round():
    # a target that appears only in 2027 is met in 2027 by the single plan's own row
    horizon = {"trajectory": [{"shares": {"2027-01-01": 0.3}}], "min_stay_years": 0}
    term = optimum(tiny_problem(districts=1), _rules(horizon))
    rows = [r.elig.rules.non_local_targets[0].min_share for r in term.model.rounds]
    assert rows == [0.0, 0.3]
    r1 = term.model.rounds[1]
    non_local = [
        bool(r1.elig.pair_non_local[j]) for j, x in enumerate(r1.x) if term.solver.value(x)
    ]
    assert sum(non_local) == 1
    assert term.held[0] == _incumbents(tiny_problem(districts=1))


def test_a_lock_that_cannot_hold_is_a_named_row_of_its_round():
    # K11 retires in mid-2026 but is locked to S-C11: the lock fails in 2027 only, and the
    # diagnosis model's assumptions name it with its round
    data = with_cadre(tiny_problem(districts=1), "K11", birth_date=dt.date(1966, 6, 1))
    rules = _rules(
        locks=[{"post_id": "S-C11", "cadre_id": "K11"}], retirement_age={"M": 60, "F": 60}
    )
    m = build_roadmap_model(data, rules, diagnosing=True)
    names = m.assumption_names()

    def core_of(active: list[int]) -> list[int] | None:
        """The assumptions CP-SAT blames when ``active`` cannot all hold, else None."""
        m.cp.clear_assumptions()
        m.cp.add_assumptions([m.cp.get_bool_var_from_proto_index(i) for i in active])
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        if solver.solve(m.cp) != cp_model.INFEASIBLE:
            return None
        return sorted(solver.sufficient_assumptions_for_infeasibility())

    core = core_of(sorted(names))
    assert core is not None
    for i in list(core):  # shrink by deletion, as rotation.diagnose does for a single plan
        if core_of([j for j in core if j != i]) is not None:
            core.remove(i)
    assert [names[i] for i in core] == [(dt.date(2027, 1, 1), "lock", "S-C11", "K11 → S-C11")]
