"""The benchmark's peers (bench/methods.py): the same rows and costs as ours, every solution
re-checked against every row."""

from __future__ import annotations

import numpy as np
import pytest
from builders import AS_OF, tiny_problem

from bench import methods

RULES = {"as_of": str(AS_OF), "max_changes": {"scope_level": "district", "count": 2}}


def test_row_model_recheck_accepts_ours_and_catches_a_broken_plan():
    data = tiny_problem()
    m = methods.row_model(data, RULES, 30)
    ours = methods.ours(data, RULES, 30)
    assert ours["status"] == "optimal"
    # ours as a 0/1 vector over the same pairs: no row broken, same objective
    from rotation.rules import load_rules
    from rotation.solve import solve

    res = solve(data, load_rules(RULES), explain=False)
    e = m.elig
    chosen = {(a.post_id, a.cadre_id) for a in res.plans[0].assignments}
    x = np.zeros(m.nv)
    posts = e.posts.index.to_numpy()[e.pair_post]
    cadres = data.cadres.index.to_numpy()[e.pair_cadre]
    for k, pair in enumerate(zip(posts.tolist(), cadres.tolist(), strict=True)):
        x[k] = pair in chosen
    assert m.violations(x) == 0
    assert m.objective(x) == pytest.approx(ours["objective"], abs=1e-3)
    assert m.violations(np.zeros(m.nv)) > 0  # nobody anywhere: every post left unfilled
    half = x.copy()
    half[np.nonzero(x)[0][0]] = 0.5
    assert m.violations(half) == -1  # not a 0/1 solution


def test_scip_finds_our_optimum_on_the_same_rows():
    pytest.importorskip("pyscipopt")
    data = tiny_problem()
    ours = methods.ours(data, RULES, 30)
    scip = methods.scip_mip(data, RULES, 30)
    assert scip["status"] == "optimal", scip
    assert scip["objective"] == pytest.approx(ours["objective"], abs=1e-3)
    assert scip["first_s"] is not None and scip["best_s"] >= scip["first_s"]


def test_timefold_plan_passes_the_recheck_and_the_validator():
    """Timefold on a tiny instance: its plan breaks no row, its own score is our objective,
    and the product's validator accepts it (skipped without timefold or a JDK)."""
    from bench import timefold_peer

    why = timefold_peer.unavailable()
    if why:
        pytest.skip(why)
    from rotation.plan import plan_from_holders
    from rotation.rules import load_rules
    from rotation.validate import validate_plan

    data = tiny_problem()
    ours = methods.ours(data, RULES, 30)
    m = methods.row_model(data, RULES, 5)
    tf = timefold_peer.solve(m, 5, with_holders=True)
    assert tf["status"] == "feasible", tf
    assert tf["objective"] == pytest.approx(tf["timefold_objective"], abs=1e-3)
    assert tf["objective"] >= ours["objective"] - 1e-6  # ours is proven optimal
    assert tf["proof_s"] is None and tf["first_s"] is not None
    assert tf["to_java_s"] > 0 and tf["from_java_s"] > 0
    plan = plan_from_holders(data, load_rules(RULES), tf["holders"])
    assert validate_plan(data, load_rules(RULES), plan) == []
