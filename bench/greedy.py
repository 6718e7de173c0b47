"""A "worst district first" planner, as a person would do it in a spreadsheet.

1. Everyone who may stay stays (incumbents keep their posts unless the maximum tenure forces a move).
2. Forced moves (over-tenure incumbents, vacant posts): each such post, in post order, gets the
   nearest eligible cadre still free.
3. For each non-local target scope, largest shortfall first: replace a local holder who may move
   (not a must-keep incumbent) by the nearest eligible non-local free cadre — the replacement
   with the smallest travel in the scope first — until the scope meets its target or nobody fits.

It only uses eligible pairs (so travel, tenure, planning, rating, retirement and exclusions hold
by construction); it may break the fill, target, relatives and change-cap rules, which the
validator counts.
"""

from __future__ import annotations

import heapq

import numpy as np

from rotation.model import SCALE, PairIndex, pair_costs, vacancy_costs
from rotation.plan import Assignment, Plan, compute_kpis


def greedy_plan(elig) -> tuple[Plan, float]:
    ix = PairIndex(elig)
    n_post = len(elig.posts)
    km = elig.pair_km
    cad = elig.pair_cadre
    nl = elig.pair_non_local
    keep = elig.pair_keep
    holder: list[int | None] = [ix.keep_pair.get(p) for p in range(n_post)]
    used = {int(cad[k]) for k in holder if k is not None}

    def sorted_pairs(p: int, nonlocal_only: bool) -> list[int]:
        ks = np.asarray(ix.pairs_of_post[p], dtype=np.int64)
        ks = ks[~keep[ks]]
        if nonlocal_only:
            ks = ks[nl[ks]]
        return ks[np.argsort(km[ks], kind="stable")].tolist()

    # 2. forced moves
    for p in range(n_post):
        if holder[p] is None:
            for k in sorted_pairs(p, False):
                if int(cad[k]) not in used:
                    holder[p] = k
                    used.add(int(cad[k]))
                    break

    # 3. targets, worst scope first
    groups = []
    for t in elig.rules.non_local_targets:
        for scope, posts, required in ix.target_groups(t):
            have = sum(1 for p in posts if holder[p] is not None and nl[holder[p]])
            groups.append((required - have, scope, posts))
    groups.sort(key=lambda g: (-g[0], g[1]))
    for short, _scope, posts in groups:
        if short <= 0:
            continue
        cand = {}
        heap: list[tuple[float, int]] = []
        for p in posts:
            h = holder[p]
            if p in elig.must_keep or (h is not None and nl[h]):
                continue
            lst = sorted_pairs(p, True)
            if lst:
                cand[p] = [lst, 0]
                heapq.heappush(heap, (float(km[lst[0]]), p))
        while short > 0 and heap:
            _, p = heapq.heappop(heap)
            lst, i = cand[p]
            while i < len(lst) and int(cad[lst[i]]) in used:
                i += 1
            cand[p][1] = i
            if i >= len(lst):
                continue
            k = lst[i]
            if heap and km[k] > heap[0][0]:  # stale key: re-queue with the true nearest
                heapq.heappush(heap, (float(km[k]), p))
                continue
            old = holder[p]
            if old is not None:
                used.discard(int(cad[old]))
            holder[p] = k
            used.add(int(cad[k]))
            short -= 1

    costs = pair_costs(elig)
    vac = vacancy_costs(elig)
    obj = sum(int(costs[k]) for k in holder if k is not None)
    obj += sum(int(vac[p]) for p in range(n_post) if holder[p] is None)
    return _to_plan(elig, holder, obj / SCALE), obj / SCALE


def _to_plan(elig, holder, objective: float) -> Plan:
    data = elig.data
    cadre_ids = data.cadres.index
    incumbent_post = data.incumbent_post
    assignments = []
    holders = set()
    for p, (pid, row) in enumerate(elig.posts.iterrows()):
        inc = row["incumbent_id"] if isinstance(row["incumbent_id"], str) else None
        k = holder[p]
        if k is None:
            assignments.append(
                Assignment(
                    post_id=pid,
                    unit_id=row["unit_id"],
                    position=row["position"],
                    cadre_id=None,
                    changed=inc is not None,
                )
            )
            continue
        cid = str(cadre_ids[elig.pair_cadre[k]])
        holders.add(cid)
        prev = incumbent_post.get(cid)
        assignments.append(
            Assignment(
                post_id=pid,
                unit_id=row["unit_id"],
                position=row["position"],
                cadre_id=cid,
                previous_post_id=prev if isinstance(prev, str) else None,
                changed=cid != inc,
                non_local=bool(elig.pair_non_local[k]),
                travel_km=float(elig.pair_km[k]),
            )
        )
    released = sorted(c for c in elig.posts["incumbent_id"].dropna() if c not in holders)
    return Plan(
        status="feasible",
        objective=round(objective, 3),
        bound=None,
        assignments=assignments,
        released=released,
        kpis=compute_kpis(data, elig.rules, assignments),
    )
