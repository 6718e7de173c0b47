"""LP bound and reduced-cost fixing: its state is a typed object (never in the public stats),
the pairs it keeps hold the optimum, and its windows grow as documented."""

from __future__ import annotations

import time

import numpy as np
from builders import default_rules, tiny_problem

from rotation.eligibility import compute_eligibility
from rotation.solve import Clock, solve
from rotation.solve.pruning import LpPruning, Pruned, prune


def test_stats_carry_no_private_state():
    """Every stats key is public (no ``_lp``), for one plan and for candidate plans."""
    for rules in (default_rules(), default_rules(candidates=2, candidate_tolerance=0.5)):
        res = solve(tiny_problem(), rules)
        assert res.plans
        assert not [k for k in res.stats if k.startswith("_")], res.stats


def test_prune_returns_its_state_and_keeps_the_optimum():
    """The kept pairs contain the plan the unpruned (plain) model finds best: same objective."""
    data, rules = tiny_problem(districts=3, communes=4, office=2), default_rules()
    elig = compute_eligibility(data, rules)
    stats: dict = {}
    out = prune(elig, rules, stats, None, None, time.perf_counter() + 30, Clock())
    assert isinstance(out, Pruned) and isinstance(out.lp, LpPruning)
    assert out.elig is not None and out.elig.n_pairs <= elig.n_pairs
    assert stats["pruned_pairs"] == elig.n_pairs - out.elig.n_pairs
    assert out.hint is not None and out.hint.shape == (out.elig.n_pairs,)
    exact = solve(data, rules, explain=False)
    plain = solve(data, rules, explain=False, method="plain")
    assert exact.plans[0].objective == plain.plans[0].objective


def test_window_keeps_support_and_incumbents():
    """within(slack): pairs whose reduced cost fits the slack, plus the LP support and the
    incumbents' own pairs, whatever their reduced cost."""
    data, rules = tiny_problem(), default_rules()
    elig = compute_eligibility(data, rules)
    n = elig.n_pairs
    rc = np.arange(n, dtype=float) * 10.0
    support = np.zeros(n, dtype=bool)
    support[-1] = True
    lp = LpPruning(lower_bound=0, reduced_cost=rc, support=support)
    keep = lp.within(elig, 15)
    assert keep[0] and keep[1] and keep[-1]
    expected = (rc <= 15 + 1e-6) | support | elig.pair_keep
    assert (keep == expected).all()
    assert lp.within(elig, 10 * n).all()


def test_lp_infeasible_is_reported_without_a_model():
    """One post whose only candidate is local, under a 100% non-local target: the LP proves it
    infeasible and pruning stops there (no eligibility, no LP state)."""
    data = tiny_problem(districts=1, communes=1, office=0)
    rules = default_rules(non_local_targets=[{"scope_level": "district", "min_share": 1.0}])
    elig = compute_eligibility(data, rules)
    stats: dict = {}
    out = prune(elig, rules, stats, None, None, time.perf_counter() + 30, Clock())
    assert stats["lp"] == "infeasible"
    assert out.elig is None and out.lp is None and out.hint is None
    assert solve(data, rules).status == "infeasible"
