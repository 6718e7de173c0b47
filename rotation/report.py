"""Where we stand: the tables a planner reads before and after a plan.

Pure functions, DataFrames in and out (no printing): the CLI renders them with rich, the notebook
shows them as they are, the spreadsheet export writes them.

- :func:`status_table` — per scope unit (the non-local target's scope level), non-local holders
  now against the target;
- :func:`tenure_alerts` — incumbents at or over ``max_years_in_post``;
- :func:`pool_summary` — how many cadres may take a new post, what blocks the others;
- :func:`before_after_table` — per scope, the non-local share before and after a plan.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .concepts import cadre_facts, holders_non_local
from .data import ProblemData
from .i18n import N_, Translator
from .plan import Plan, kpi_scope_level
from .rules import NonLocalTarget, Rules

STATUS_COLUMNS = [
    "position",
    "scope_level",
    "scope_id",
    "scope_name",
    "posts",
    "posts_after",
    "non_local",
    "share",
    "target_share",
    "required",
    "shortfall",
    "is_total",
]
BEFORE_AFTER_COLUMNS = [
    "position",
    "scope_level",
    "scope_id",
    "scope_name",
    "posts",
    "posts_after",
    "non_local_before",
    "non_local_after",
    "share_before",
    "share_after",
    "target_share",
    "required",
    "changes",
    "is_total",
]


# --------------------------------------------------------------------------- helpers
def report_targets(data: ProblemData, rules: Rules) -> list[NonLocalTarget]:
    """The targets the reports are organised by: the rules' non-local targets, or (none given)
    one row set per planned position at the KPI scope level with a target share of 0."""
    if rules.non_local_targets:
        return list(rules.non_local_targets)
    level = kpi_scope_level(data, rules)
    return [NonLocalTarget(position=p, scope_level=level, min_share=0.0) for p in rules.positions]


def non_local_now(data: ProblemData, rules: Rules, posts: pd.DataFrame) -> pd.Series:
    """Is each post's current holder non-local (bool per post_id; vacant posts are False)?
    (:func:`rotation.concepts.holders_non_local`.)"""
    return holders_non_local(data, rules, posts)


def _share(num: int | float, den: int | float) -> float:
    return float(num) / float(den) if den else math.nan


def _province_label(data: ProblemData, posts: pd.DataFrame) -> tuple[str, str]:
    provs = sorted(
        p
        for p in pd.unique(data.units["province_id"].reindex(posts["unit_id"]))
        if isinstance(p, str)
    )
    if len(provs) == 1:
        return provs[0], data.unit_name(provs[0])
    return "", f"Tổng ({len(provs)} tỉnh)" if provs else "Tổng"


def _scope_order(row: dict) -> tuple[int, str]:
    """Official order: by unit code (shorter codes first so '99' < '100'), then name."""
    return (len(row["scope_id"]), row["scope_id"] + " " + row["scope_name"])


def _posts_of(data: ProblemData, position: str) -> pd.DataFrame:
    return data.posts[data.posts["position"] == position].sort_index()


# --------------------------------------------------------------------------- status
def status_table(data: ProblemData, rules: Rules) -> pd.DataFrame:
    """Non-local holders now, per scope unit and target (see :data:`STATUS_COLUMNS`).

    One row per (target, scope unit) at the target's ``scope_level`` (a district in the legacy
    3-level data; the province in the 2-level data), ordered by unit code, then one total row
    per target (``is_total``; ``required``/``shortfall`` are the sums over the scope units, i.e.
    what the plan must reach). ``shortfall`` = max(0, required − non-local): people to bring in.
    ``posts_after`` = posts left once merged communes (``units.merged_into``) are gone; the
    target's ``required`` counts those.
    """
    rows: list[dict] = []
    for t in report_targets(data, rules):
        posts = _posts_of(data, t.position)
        nl = non_local_now(data, rules, posts)
        scope = data.scope_of(posts["unit_id"], t.scope_level).to_numpy()
        frame = pd.DataFrame(
            {
                "scope_id": scope,
                "non_local": nl.to_numpy(),
                "exists_after": ~posts.index.isin(data.merged_posts),
            },
            index=posts.index,
        )
        level = scope_level_shown(data, t.scope_level)
        part: list[dict] = []
        for sid, g in frame.groupby("scope_id", sort=False):
            n, k = len(g), int(g["non_local"].sum())
            n_after = int(g["exists_after"].sum())
            req = t.required(n_after, str(sid))
            part.append(
                {
                    "position": t.position,
                    "scope_level": level,
                    "scope_id": str(sid),
                    "scope_name": data.unit_name(str(sid)),
                    "posts": n,
                    "posts_after": n_after,
                    "non_local": k,
                    "share": _share(k, n),
                    "target_share": t.min_share,
                    "required": req,
                    "shortfall": max(0, req - k),
                    "is_total": False,
                }
            )
        part.sort(key=_scope_order)
        rows += part
        if part and not (level == "province" and len(part) == 1):
            pid, pname = _province_label(data, posts)
            n, k = len(posts), int(nl.sum())
            rows.append(
                {
                    "position": t.position,
                    "scope_level": "province",
                    "scope_id": pid,
                    "scope_name": pname,
                    "posts": n,
                    "posts_after": int(frame["exists_after"].sum()),
                    "non_local": k,
                    "share": _share(k, n),
                    "target_share": t.min_share,
                    "required": sum(r["required"] for r in part),
                    "shortfall": sum(r["shortfall"] for r in part),
                    "is_total": True,
                }
            )
    return pd.DataFrame(rows, columns=STATUS_COLUMNS)


def tenure_alerts(data: ProblemData, rules: Rules) -> pd.DataFrame:
    """Incumbents of the plan's posts at or over ``max_years_in_post`` (they must leave),
    longest tenure first: post_id, unit_id, unit_name, position, cadre_id, cadre_name, years."""
    cols = ["post_id", "unit_id", "unit_name", "position", "cadre_id", "cadre_name", "years"]
    if rules.max_years_in_post is None:
        return pd.DataFrame(columns=cols)
    posts = data.posts[data.posts["position"].isin(rules.positions)]
    posts = posts[posts["incumbent_id"].map(lambda c: isinstance(c, str) and bool(c))]
    facts = cadre_facts(data, rules)
    years = facts["tenure_years"].reindex(posts["incumbent_id"]).to_numpy()
    over = years >= rules.max_years_in_post
    rows = [
        {
            "post_id": pid,
            "unit_id": row["unit_id"],
            "unit_name": data.unit_name(row["unit_id"]),
            "position": row["position"],
            "cadre_id": row["incumbent_id"],
            "cadre_name": data.cadre_name(row["incumbent_id"]),
            "years": round(float(y), 1),
        }
        for (pid, row), y, o in zip(posts.iterrows(), years, over, strict=True)
        if o
    ]
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["years", "post_id"], ascending=[False, True], ignore_index=True)


POOL_MEANINGS = {
    "cadres": N_("pool", "cadres in the data"),
    "free": N_("pool", "free to take a new post (no cadre-level rule refuses them)"),
    "out_of_scope_post": N_("pool", "hold a post outside the plan's positions"),
    "not_movable": N_("pool", "marked not movable"),
    "minimum_tenure": N_("pool", "below min_years_in_post in the current post or office"),
    "rating": N_("pool", "not rated min_rating or better in each of the last rating_years years"),
    "retirement": N_("pool", "fewer than min_years_to_retirement years before retirement"),
    "discipline": N_("pool", "inside a disciplinary period (discipline_months after the measure)"),
    "retirement_from_office": N_(
        "pool",
        "free, but from an office with fewer than "
        "min_years_to_retirement_from_office years before retirement: no commune post (Reg. 65)",
    ),
    "merged_posts": N_("pool", "posts of communes merged into another: not filled"),
    "pairs": N_("pool", "eligible (cadre, post) pairs, incumbents staying included"),
    "new_post_pairs": N_("pool", "eligible (cadre, post) pairs where the cadre takes a new post"),
}


def pool_summary(data: ProblemData, rules: Rules) -> pd.DataFrame:
    """The eligible pool: index ``item`` (cadres, free, one row per blocking rule, pairs,
    new_post_pairs), columns ``count`` and ``meaning``. A cadre blocked by several rules counts
    once, under the first (the order of rotation.eligibility.CADRE_RULES)."""
    from .eligibility import CADRE_RULES, compute_eligibility

    e = compute_eligibility(data, rules)
    block = e.cadre_block
    counts: dict[str, int] = {"cadres": len(block), "free": int((block == "").sum())}
    for rule in CADRE_RULES:
        counts[rule] = int((block == rule).sum())
    f = e.facts
    short = (f["from_office"].astype(bool)) & (
        f["years_to_retirement"] < rules.min_years_to_retirement_from_office
    )
    counts["retirement_from_office"] = int((short & (block == "")).sum())
    counts["merged_posts"] = len(data.merged_posts)
    counts["pairs"] = int(e.n_pairs)
    counts["new_post_pairs"] = int((~np.asarray(e.pair_keep, dtype=bool)).sum())
    out = pd.DataFrame(
        {"count": pd.Series(counts), "meaning": pd.Series(POOL_MEANINGS).reindex(list(counts))}
    )
    out.index.name = "item"
    return out


# --------------------------------------------------------------------------- before / after
def scope_level_shown(data: ProblemData, scope_level: str) -> str:
    """The scope level that exists: ``district`` is the province in the 2-level hierarchy
    (2025), where there are no districts (:meth:`ProblemData.scope_of` falls back the same way)."""
    if scope_level == "district" and not data.has_districts:
        return "province"
    return scope_level


def before_after_table(data: ProblemData, rules: Rules, plan: Plan) -> pd.DataFrame:
    """Per (target, scope unit): posts, non-local holders before and after ``plan``, shares,
    target, required and changed posts; then a total row per target (see
    :data:`BEFORE_AFTER_COLUMNS`). "After" columns are NaN when the plan has no assignments
    (infeasible). Posts the plan does not list keep their incumbents."""
    after_by_post = {a.post_id: a for a in plan.assignments}
    has_plan = bool(plan.assignments)
    rows: list[dict] = []
    for t in report_targets(data, rules):
        posts = _posts_of(data, t.position)
        before = non_local_now(data, rules, posts)
        after = []
        changed = []
        for pid in posts.index:
            a = after_by_post.get(pid)
            if a is None:
                after.append(bool(before[pid]))
                changed.append(False)
            else:
                after.append(bool(a.cadre_id is not None and a.non_local))
                changed.append(bool(a.changed))
        scope = data.scope_of(posts["unit_id"], t.scope_level).to_numpy()
        exists = ~posts.index.isin(data.merged_posts)  # merged communes' posts disappear
        frame = pd.DataFrame(
            {
                "scope_id": scope,
                "before": before.to_numpy(),
                "after": np.asarray(after, dtype=bool) & exists,
                "changed": changed,
                "exists_after": exists,
            },
            index=posts.index,
        )
        level = scope_level_shown(data, t.scope_level)
        part: list[dict] = []
        for sid, g in frame.groupby("scope_id", sort=False):
            row = _ba_row(data, t, str(sid), data.unit_name(str(sid)), g, has_plan, False)
            row["scope_level"] = level
            part.append(row)
        part.sort(key=_scope_order)
        rows += part
        if part and not (level == "province" and len(part) == 1):
            pid, pname = _province_label(data, posts)
            total = _ba_row(data, t, pid, pname, frame, has_plan, True)
            total["required"] = sum(r["required"] for r in part)
            rows.append(total)
    return pd.DataFrame(rows, columns=BEFORE_AFTER_COLUMNS)


def _ba_row(
    data: ProblemData,
    t: NonLocalTarget,
    sid: str,
    name: str,
    g: pd.DataFrame,
    has_plan: bool,
    is_total: bool,
) -> dict:
    n = len(g)
    n_after = int(g["exists_after"].sum())  # fewer when communes merge
    b = int(g["before"].sum())
    a = int(g["after"].sum()) if has_plan else math.nan
    return {
        "position": t.position,
        "scope_level": "province" if is_total else t.scope_level,
        "scope_id": sid,
        "scope_name": name,
        "posts": n,
        "posts_after": n_after,
        "non_local_before": b,
        "non_local_after": a,
        "share_before": _share(b, n),
        "share_after": _share(a, n_after) if has_plan else math.nan,
        "target_share": t.min_share,
        "required": t.required(n_after, None if is_total else sid),
        "changes": int(g["changed"].sum()) if has_plan else math.nan,
        "is_total": is_total,
    }


def candidates_table(plans: list[Plan]) -> pd.DataFrame:
    """Candidate plans side by side: objective, non-local share, changed posts, total and max
    km, and how many posts differ from plan 1 (one row per plan, ``plan`` = 1, 2, …)."""
    rows: list[dict[str, Any]] = []
    first = plans[0].holder() if plans else {}
    for i, p in enumerate(plans, start=1):
        h = p.holder()
        diff = sum(1 for post in set(first) | set(h) if first.get(post) != h.get(post))
        k = p.kpis
        if k is None:  # an infeasible plan has no KPIs (contract v1.1)
            rows.append({"plan": i, "status": p.status, "differs_from_plan_1": diff})
            continue
        rows.append(
            {
                "plan": i,
                "status": p.status,
                "objective": p.objective,
                "non_local_share": k.non_local_share.overall,
                "changed_posts": k.changed_posts,
                "total_travel_km": k.total_travel_km,
                "max_travel_km": k.max_travel_km,
                "differs_from_plan_1": diff,
            }
        )
    return pd.DataFrame(rows)


def movement_rows(t: Translator, plan: Plan) -> list[tuple[str, str]]:
    """What a feasible plan moves, as (label, value) rows worded by ``t``: posts changing
    holder, people released, total and longest travel, and the support cost when the rules
    price it. The same rows in the terminal's KPI table and the meeting report's summary."""
    k = plan.kpis
    if k is None:
        return []
    rows = [
        (t.kpi("changed_posts"), t.number(k.changed_posts)),
        (t.kpi("released"), t.number(len(plan.released))),
        (t.kpi("total_travel_km"), t.km(k.total_travel_km)),
        (t.kpi("max_travel_km"), t.km(k.max_travel_km)),
    ]
    if k.support_cost_vnd is not None:
        rows.append((t.kpi("support_cost_vnd"), t.money(k.support_cost_vnd)))
    return rows
