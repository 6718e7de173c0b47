"""One test per rule row producer (``rotation.model.constraints``), in the style of Timefold's
constraint verifier: a tiny instance where the rule is the only thing stopping a cheaper plan.
Each test solves with every rule, then with every rule but the one under test, and checks that
the rule holds in the first plan, is broken in the second, and costs something."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from builders import default_rules, tiny_problem, with_cadre, with_post, with_relation, with_travel
from ortools.sat.python import cp_model

from rotation.data import ProblemData
from rotation.eligibility import Eligibility, compute_eligibility
from rotation.model import HARD_CONSTRAINTS, SCALE, Row, Variables, set_objective
from rotation.model import constraints as c
from rotation.rules import Rules

WEIGHTS = {"travel_km": 1, "change": 50}
Producer = Callable[[Variables], Iterator[Row]]


@dataclass
class Solved:
    objective: float
    held: dict[str, list[str]]  # post_id -> cadre ids holding it (several only without one_post)
    elig: Eligibility

    def holder(self, post_id: str) -> str | None:
        got = self.held.get(post_id, [])
        return got[0] if got else None


def optimum(data: ProblemData, rules: Rules, drop: Producer | None = None) -> Solved:
    e = compute_eligibility(data, rules)
    v = Variables(e)
    for producer in HARD_CONSTRAINTS:
        if producer is not drop:
            for row in producer(v):
                v.add_row(row)
    set_objective(v)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 30
    assert solver.solve(v.cp) == cp_model.OPTIMAL
    held: dict[str, list[str]] = {}
    for k, x in enumerate(v.x):
        if solver.value(x):
            held.setdefault(e.post_id(int(e.pair_post[k])), []).append(
                e.cadre_id(int(e.pair_cadre[k]))
            )
    return Solved(solver.objective_value / SCALE, held, e)


def binds(data: ProblemData, rules: Rules, producer: Producer) -> tuple[Solved, Solved]:
    """(with every rule, without ``producer``): the rule must cost something."""
    kept, dropped = optimum(data, rules), optimum(data, rules, drop=producer)
    assert kept.objective > dropped.objective + 1e-9
    return kept, dropped


def _rules(**extra) -> Rules:
    return default_rules(non_local_targets=[], weights=WEIGHTS, **extra)


def _far_incumbent(data: ProblemData, cadre: str, post_unit: str, km: float = 80) -> ProblemData:
    """``cadre`` lives far from their post: keeping them costs ``km`` a year."""
    data = with_cadre(data, cadre, residence_id="C21")
    return with_travel(data, "C21", post_unit, km)


def test_fill_every_post_fills_a_vacant_post():
    data = tiny_problem(districts=1, posts={"S-C11": {"incumbent_id": None}})
    data = with_cadre(data, "K11", movable=False)
    kept, dropped = binds(data, _rules(), c.fill_every_post)
    assert kept.holder("S-C11") is not None
    assert dropped.holder("S-C11") is None


def test_one_post_per_cadre_stops_one_cadre_taking_two_posts():
    # two vacant posts; the one nearby office cadre would take both
    data = tiny_problem(office=1, posts={p: {"incumbent_id": None} for p in ("S-C11", "S-C12")})
    for k in ("K11", "K12"):
        data = with_cadre(data, k, movable=False)
    kept, dropped = binds(data, _rules(), c.one_post_per_cadre)
    assert all(len(cs) == 1 for cs in kept.held.values())
    assert dropped.held["S-C11"] == dropped.held["S-C12"] == ["O11"]


def test_keep_required_incumbents_keeps_a_recent_incumbent():
    # K11 took the post in mid-2025 (under the minimum tenure) and lives 80 km away: replacing
    # them by O11 (0 km, one change of 50) would be cheaper
    data = _far_incumbent(tiny_problem(districts=1), "K11", "C11")
    data = with_cadre(data, "K11", current_since=dt.date(2025, 6, 1))
    kept, dropped = binds(data, _rules(), c.keep_required_incumbents)
    assert kept.holder("S-C11") == "K11"
    assert dropped.holder("S-C11") != "K11"
    rows = list(c.keep_required_incumbents(Variables(kept.elig)))
    assert [(r.rule, r.scope) for r in rows] == [("minimum_tenure", "S-C11")]


def test_locks_put_the_named_cadre_in_the_post():
    rules = _rules(locks=[{"post_id": "S-C11", "cadre_id": "O12"}])
    kept, dropped = binds(tiny_problem(districts=1), rules, c.locks)
    assert kept.holder("S-C11") == "O12"
    assert dropped.holder("S-C11") == "K11"


def test_relatives_same_unit_counts_an_out_of_scope_holder():
    # K11's spouse R1 chairs the commune's people's committee (a post outside the plan)
    data = tiny_problem(districts=1)
    data = with_cadre(data, "R1", current_unit_id="C11", hometown_id="C11")
    data = with_post(data, "P-C11", unit_id="C11", position="pc_chair", incumbent_id="R1")
    data = with_relation(data, "K11", "R1", "spouse")
    kept, dropped = binds(data, _rules(), c.relatives_same_unit)
    assert kept.holder("S-C11") != "K11"
    assert dropped.holder("S-C11") == "K11"


def test_non_local_target_brings_a_non_local_secretary():
    rules = default_rules(weights=WEIGHTS)  # 30% per district: 1 of 3
    kept, dropped = binds(tiny_problem(), rules, c.non_local_target)
    e = kept.elig
    for district in ("D1", "D2"):
        posts = e.posts.index[e.posts["district_scope"] == district]
        movers = [p for p in posts if kept.holder(p) != f"K{p[-2:]}"]
        assert len(movers) >= 1
    assert all(dropped.holder(p) == f"K{p[-2:]}" for p in e.posts.index)


def test_max_changes_caps_the_changes_of_a_district():
    # K11 and K12 live 80 km away: without a cap both would be replaced by O11 and O12
    data = tiny_problem(districts=1)
    data = _far_incumbent(data, "K11", "C11")
    data = with_travel(data, "C21", "C12", 80)
    data = with_cadre(data, "K12", residence_id="C21")
    rules = _rules(max_changes={"scope_level": "district", "count": 1})
    kept, dropped = binds(data, rules, c.max_changes)
    posts = ("S-C11", "S-C12", "S-C13")
    assert sum(kept.holder(p) != f"K{p[-2:]}" for p in posts) == 1
    assert sum(dropped.holder(p) != f"K{p[-2:]}" for p in posts) == 2


def test_never_below_current_keeps_todays_non_local_count():
    # D1 today: K11 (at the tenure limit) and K12 are non-local; S-C11 must change hands and
    # the local O11 (0 km) is cheaper than the non-local O12 (4 km)
    data = tiny_problem(
        cadres={
            "K11": {
                "hometown_id": "C12",
                "residence_id": "C12",
                "current_since": dt.date(2012, 1, 1),
            },
            "K12": {"hometown_id": "C13", "residence_id": "C13"},
        }
    )
    kept, dropped = binds(data, default_rules(weights=WEIGHTS), c.never_below_current)
    assert kept.holder("S-C11") == "O12" and dropped.holder("S-C11") == "O11"


def test_priority_shares_bring_a_woman_in():
    # every cadre a man but O22, who is local to C22 and C23: only S-C21 (8 km) suits her
    men = {k: {"gender": "M"} for k in ("K11", "K12", "K13", "K21", "K22", "K23", "O11", "O12")}
    men["O21"] = {"gender": "M"}
    men["O22"] = {"gender": "F", "residence_id": "C23"}
    rules = default_rules(weights=WEIGHTS, priority_shares=[{"group": "women", "min_share": 0.5}])
    kept, dropped = binds(tiny_problem(cadres=men), rules, c.priority_shares)
    assert kept.holder("S-C21") == "O22" and dropped.holder("S-C21") != "O22"


def test_budget_vnd_picks_the_move_without_support():
    # O11 (a woman, 4 km to C12: support) is rewarded; O12 (2.9 km to C13 by a travel row: no
    # support) is not
    data = with_travel(tiny_problem(districts=1), "C12", "C13", 2.9)
    rules = default_rules(
        weights={**WEIGHTS, "priority_women": 10},
        support={"months": 1, "tiers": [{"min_km": 3, "vnd_per_month": 1}]},
        budget_vnd=0,
    )
    kept, dropped = binds(data, rules, c.budget_vnd)
    assert kept.holder("S-C13") == "O12" and dropped.holder("S-C12") == "O11"


BINDING_TESTS = {
    c.fill_every_post: test_fill_every_post_fills_a_vacant_post,
    c.one_post_per_cadre: test_one_post_per_cadre_stops_one_cadre_taking_two_posts,
    c.keep_required_incumbents: test_keep_required_incumbents_keeps_a_recent_incumbent,
    c.locks: test_locks_put_the_named_cadre_in_the_post,
    c.relatives_same_unit: test_relatives_same_unit_counts_an_out_of_scope_holder,
    c.non_local_target: test_non_local_target_brings_a_non_local_secretary,
    c.max_changes: test_max_changes_caps_the_changes_of_a_district,
    c.never_below_current: test_never_below_current_keeps_todays_non_local_count,
    c.priority_shares: test_priority_shares_bring_a_woman_in,
    c.budget_vnd: test_budget_vnd_picks_the_move_without_support,
}


def test_every_producer_has_a_binding_test():
    assert set(BINDING_TESTS) == set(HARD_CONSTRAINTS)
