"""The pure assignment case, answered without a model: OR-Tools min-cost flow."""

from __future__ import annotations

import numpy as np

from ..eligibility import Eligibility
from ..model import pair_costs
from ..rules import Rules


def is_pure_assignment(elig: Eligibility, rules: Rules) -> bool:
    """Only "fill every post" and "one post per cadre" bind: a bipartite assignment problem
    (no vacancies, locks, must-keep incumbents, relatives, targets, change caps, priority
    shares or a support budget)."""
    if rules.allow_vacancies or rules.weights.max_travel or rules.locks or elig.must_keep:
        return False
    if rules.change_caps or rules.priority_shares or rules.budget_vnd is not None:
        return False
    if rules.forbid_relatives_same_unit and not elig.data.relations.empty:
        return False
    positions = set(elig.posts["position"])
    return not any(
        t.position in positions
        and (t.min_share > 0 or rules.never_below_current or any(t.min_count_by_scope.values()))
        for t in rules.non_local_targets
    )


def min_cost_flow_pairs(elig: Eligibility) -> np.ndarray | None:
    """The optimal assignment by min-cost flow (source → posts → cadres → sink, unit
    capacities): exact for the pure assignment case. None when no full assignment exists (the
    LP path then proves infeasibility and the diagnosis names the posts)."""
    from ortools.graph.python import min_cost_flow  # only the pure assignment case needs it

    n_post, n_pair = len(elig.posts), elig.n_pairs
    if n_pair == 0:
        return None
    cadres, cad_node = np.unique(elig.pair_cadre, return_inverse=True)
    src, sink = 0, 1 + n_post + len(cadres)
    post_node = 1 + elig.pair_post.astype(np.int64)
    cad_node = 1 + n_post + cad_node.astype(np.int64)
    c_nodes = 1 + n_post + np.arange(len(cadres), dtype=np.int64)
    # arcs: source → each post, each eligible pair (post → cadre), each cadre → sink
    tails = np.concatenate([np.zeros(n_post, np.int64), post_node, c_nodes])
    heads = np.concatenate(
        [1 + np.arange(n_post, dtype=np.int64), cad_node, np.full(len(cadres), sink, np.int64)]
    )
    costs = np.concatenate(
        [np.zeros(n_post, np.int64), pair_costs(elig), np.zeros(len(cadres), np.int64)]
    )
    mcf = min_cost_flow.SimpleMinCostFlow()
    arcs = mcf.add_arcs_with_capacity_and_unit_cost(
        tails, heads, np.ones(len(tails), np.int64), costs
    )
    mcf.set_nodes_supplies(np.array([src, sink]), np.array([n_post, -n_post]))
    if mcf.solve() != mcf.OPTIMAL:
        return None
    flows = mcf.flows(arcs[n_post : n_post + n_pair])
    return np.nonzero(flows > 0)[0]
