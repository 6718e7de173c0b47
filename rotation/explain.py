"""Explanations a committee can read: each assignment's score parts, and for each post the three
best alternatives with why each lost (the failed rule, or the cost difference)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .eligibility import Eligibility
from .model import SCALE, pair_costs
from .plan import Plan

REWARD_TERMS = ("priority_women", "priority_young", "priority_minority", "rating_fit")


def score_parts(e: Eligibility, k: int) -> dict[str, float]:
    """The objective terms of one pair, in weight units (rewards negative)."""
    w = e.rules.weights
    parts = {
        "travel_km": round(w.travel_km * float(e.pair_km[k]), 3),
        "change": w.change * float(not e.pair_keep[k]),
        "non_local_extra": -w.non_local_extra * float(e.pair_non_local[k]),
    }
    for term in REWARD_TERMS:
        parts[term] = -getattr(w, term) * float(e.bonus[term][k])
    return {t: v for t, v in parts.items() if v}


def add_explanations(plan: Plan, e: Eligibility, n_alternatives: int = 3) -> None:
    """Adds ``score`` to each assignment and ``alternatives`` (best three) to each post."""
    costs = pair_costs(e) / SCALE
    cadre_ids = e.data.cadres.index
    pair_of = {
        (int(p), int(c)): k for k, (p, c) in enumerate(zip(e.pair_post, e.pair_cadre, strict=True))
    }
    holder_post = {a.cadre_id: a.post_id for a in plan.assignments if a.cadre_id}
    order = np.argsort(e.pair_post, kind="stable")
    bounds = np.searchsorted(e.pair_post[order], np.arange(len(e.posts) + 1))
    post_index = {pid: i for i, pid in enumerate(e.posts.index)}
    cadre_index = {cid: i for i, cid in enumerate(cadre_ids)}
    for a in plan.assignments:
        p = post_index[a.post_id]
        chosen = pair_of.get((p, cadre_index[a.cadre_id])) if a.cadre_id else None
        base = float(costs[chosen]) if chosen is not None else 0.0
        if chosen is not None:
            a.score = score_parts(e, chosen)
        ks = order[bounds[p] : bounds[p + 1]]
        ks = ks[np.argsort(costs[ks], kind="stable")]
        alts: list[dict[str, Any]] = []
        for k in ks.tolist():
            cid = str(cadre_ids[e.pair_cadre[k]])
            if cid == a.cadre_id:
                continue
            elsewhere = holder_post.get(cid)
            diff = round(float(costs[k]) - base, 3)
            if elsewhere:
                if diff < 0:
                    why = (
                        f"holds {elsewhere} in this plan; {-diff:g} cheaper here, but moving "
                        "them would cost more elsewhere"
                    )
                elif diff > 0:
                    why = f"holds {elsewhere} in this plan; {diff:g} more expensive here"
                else:
                    why = f"holds {elsewhere} in this plan; same cost here"
            elif diff > 0:
                why = f"{diff:g} more expensive (objective units: km-equivalents)"
            else:
                why = "as cheap or cheaper here, but the rules as a whole (targets, caps, "
                why += "relatives) are met at lower cost without it"
            alts.append(
                {
                    "cadre_id": cid,
                    "cadre_name": e.data.cadre_name(cid),
                    "cost_difference": diff,
                    "why_not": why,
                    "failed_rule": None,
                    "score": score_parts(e, k),
                }
            )
            if len(alts) == n_alternatives:
                break
        if len(alts) < n_alternatives:
            alts += _refused_nearby(
                e, a.post_id, a.cadre_id, n_alternatives - len(alts), {x["cadre_id"] for x in alts}
            )
        a.alternatives = alts


def _refused_nearby(
    e: Eligibility, post_id: str, holder: str | None, n: int, skip: set[str]
) -> list[dict[str, Any]]:
    """The nearest cadres of the province that a rule refuses for the post."""
    from .geo import distances

    data = e.data
    unit = data.posts.at[post_id, "unit_id"]
    prov = data.units.at[unit, "province_id"]
    cad = data.cadres[
        data.units["province_id"].reindex(data.cadres["current_unit_id"]).to_numpy() == prov
    ]
    km = distances(data, e.rules).matrix(cad["residence_id"].to_numpy(), [unit])[:, 0]
    out: list[dict[str, Any]] = []
    for i in np.argsort(km, kind="stable").tolist():
        cid = str(cad.index[i])
        if cid == holder or cid in skip:
            continue
        reasons = e.why_not(cid, post_id)
        if reasons:
            out.append(
                {
                    "cadre_id": cid,
                    "cadre_name": data.cadre_name(cid),
                    "cost_difference": None,
                    "failed_rule": reasons[0][0],
                    "why_not": "; ".join(f"{r}: {d}" for r, d in reasons),
                    "score": None,
                }
            )
        if len(out) == n:
            break
    return out
