"""Repair a plan after events, changing as few of its posts as possible.

Events: ``declines`` (a cadre refuses a post: an exclusion), ``vacant`` (a post's planned holder
is no longer available for it: that pair is excluded, so the post is refilled) and ``leaves`` (a
cadre leaves: removed from the dataset copy; a post they held originally starts vacant).

How "as few changes as possible" is obtained (kept simple on purpose): the solver already
minimises changes against the *incumbents* with the ``change`` weight, so the repair solves a
copy of the dataset in which the given plan's holders are the incumbents, with ``change`` weighted
at :data:`CHANGE_WEIGHT` (far above any travel cost). Cadres who only hold their post in the
given plan get a neutral tenure (between ``min_years_in_post`` and ``max_years_in_post``), so the
tenure rules neither pin them nor force them out; original incumbents keep their real tenure.
The plan that comes back is then re-based on the original data: ``previous_post_id``, ``changed``,
``non_local``, ``travel_km``, ``released`` and the KPIs mean what the contract says (relative to
the original incumbents), and each assignment gains ``changed_vs_base`` (its holder differs from
the given plan's), counted in ``kpis.changed_vs_base``.

Known limit: ``max_changes`` is enforced against the given plan's holders during the repair, not
against the original incumbents.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rotation.data import ProblemData
from rotation.plan import Assignment, Plan, assignment_facts, compute_kpis
from rotation.rules import PostCadre, Rules

from .scoping import rebuild

CHANGE_WEIGHT = 1000.0
"""Cost of each post whose holder differs from the given plan (objective units; travel is 1/km)."""


class RepairError(ValueError):
    """An event that does not fit the plan or the dataset (a list of messages)."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def check_events(
    events: list[dict[str, Any]], holders: dict[str, str | None], cadres: set[str]
) -> list[str]:
    """Messages for events naming unknown posts/cadres (empty = all good)."""
    out = []
    for i, e in enumerate(events):
        post, cadre = e.get("post_id"), e.get("cadre_id")
        if e["type"] in ("declines", "vacant") and post not in holders:
            out.append(f"events[{i}]: post {post!r} is not in the plan")
        if e["type"] in ("declines", "leaves") and cadre not in cadres:
            out.append(f"events[{i}]: cadre {cadre!r} is not in the dataset")
    return out


def _neutral_since(rules: Rules) -> dt.date:
    lo = rules.min_years_in_post
    hi = rules.max_years_in_post
    years = lo + 0.5 if hi is None else (lo + hi) / 2
    return rules.as_of - dt.timedelta(days=round(years * 365.25))


def prepare_repair(
    data: ProblemData, rules: Rules, repair: dict[str, Any]
) -> tuple[ProblemData, Rules, ProblemData]:
    """(dataset to solve, rules to solve with, reference dataset to re-base the result on)."""
    holders: dict[str, str | None] = dict(repair["holders"])
    events: list[dict[str, Any]] = repair["events"]
    leaving = {e["cadre_id"] for e in events if e["type"] == "leaves"}
    exclude = list(rules.exclude)
    for e in events:
        if e["type"] == "declines":
            exclude.append(PostCadre(post_id=e["post_id"], cadre_id=e["cadre_id"]))
        elif e["type"] == "vacant" and (holder := holders.get(e["post_id"])):
            exclude.append(PostCadre(post_id=e["post_id"], cadre_id=holder))
    cadres = data.cadres[~data.cadres.index.isin(list(leaving))]
    posts = data.posts.copy()
    posts.loc[posts["incumbent_id"].isin(list(leaving)), "incumbent_id"] = None
    reference = rebuild(data, cadres=cadres, posts=posts)

    base_posts = posts.copy()
    cadres = cadres.copy()
    since = _neutral_since(rules)
    for pid, holder in holders.items():
        if pid not in base_posts.index:
            continue
        holder = holder if holder not in leaving else None
        original = posts.at[pid, "incumbent_id"]
        base_posts.at[pid, "incumbent_id"] = holder
        if holder is not None and holder != original and holder in cadres.index:
            cadres.at[holder, "current_since"] = since
    solve_data = rebuild(data, cadres=cadres, posts=base_posts)
    weights = rules.weights.model_copy(update={"change": max(rules.weights.change, CHANGE_WEIGHT)})
    excluded = [x for x in exclude if x.cadre_id not in leaving]
    solve_rules = rules.model_copy(update={"weights": weights, "exclude": excluded})
    return solve_data, solve_rules, reference


def rebase_plan(
    reference: ProblemData, rules: Rules, plan: dict[str, Any], repair: dict[str, Any]
) -> dict[str, Any]:
    """Recompute the contract fields of a repaired plan against the original incumbents."""
    if plan.get("status") == "infeasible":
        return plan
    holders: dict[str, str | None] = repair["holders"]
    new_assignments = []
    for a in plan["assignments"]:
        facts = assignment_facts(reference, rules, a["post_id"], a["cadre_id"])
        if a["cadre_id"] is not None:
            facts["travel_km"] = a["travel_km"]
        a = {**a, **facts, "changed_vs_base": a["cadre_id"] != holders.get(a["post_id"])}
        new_assignments.append(a)
    typed = [Assignment.model_validate(a) for a in new_assignments]
    held = {a.cadre_id for a in typed if a.cadre_id}
    plan_posts = {a.post_id for a in typed}
    inc = reference.posts.loc[list(plan_posts), "incumbent_id"].dropna()
    kpis = compute_kpis(reference, rules, typed).model_dump(mode="json")
    kpis["changed_vs_base"] = sum(int(a["changed_vs_base"]) for a in new_assignments)
    out = {
        **plan,
        "assignments": new_assignments,
        "kpis": kpis,
        "released": sorted(c for c in inc if c not in held),
        "repair_of": repair.get("plan_id"),
        "events": repair["events"],
    }
    Plan.model_validate(out)  # still a contract plan
    return out
