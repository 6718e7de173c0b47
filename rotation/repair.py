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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .data import CADRE_COLUMNS, POST_COLUMNS, UNIT_COLUMNS, ProblemData
from .events import (
    EVENT_SYNTAX,
    EVENT_TYPES,
    RepairError,
    parse_event,
    parse_events,
    with_discipline,
)
from .plan import Assignment, Plan, assignment_facts, compute_kpis
from .rules import PostCadre, Rules

if TYPE_CHECKING:
    from .solve import Progress, StopFlag

CHANGE_WEIGHT = 1000.0
"""Cost of each post whose holder differs from the given plan (objective units; travel is 1/km)."""


def check_events(
    events: list[dict[str, Any]], holders: dict[str, str | None], cadres: set[str]
) -> list[str]:
    """Messages for events naming unknown posts/cadres (empty = all good)."""
    out = []
    for i, e in enumerate(events):
        post, cadre = e.get("post_id"), e.get("cadre_id")
        if e["type"] in ("declines", "vacant") and post not in holders:
            out.append(f"events[{i}]: post {post!r} is not in the plan")
        if e["type"] in ("declines", "leaves", "disciplined") and cadre not in cadres:
            out.append(f"events[{i}]: cadre {cadre!r} is not in the dataset")
    return out


def resolve_declines(
    events: list[dict[str, Any]], holders: dict[str, str | None]
) -> list[dict[str, Any]]:
    """A ``declines`` event without a post refers to the post the cadre holds in the plan."""
    post_of = {c: p for p, c in holders.items() if c}
    out = []
    for e in events:
        if e["type"] == "declines" and not e.get("post_id"):
            e = {**e, "post_id": post_of.get(e["cadre_id"])}
        out.append(e)
    return out


def _with_tables(data: ProblemData, cadres: Any, posts: Any) -> ProblemData:
    """A fresh ProblemData with cadres/posts replaced; every cadre table follows the cadres
    (ratings, relations, discipline, wishes)."""
    unit_cols = [*UNIT_COLUMNS, *(["merged_into"] if "merged_into" in data.units else [])]
    return ProblemData.build(
        units=data.units[unit_cols].copy(),
        cadres=cadres[CADRE_COLUMNS].copy(),
        posts=posts[POST_COLUMNS].copy(),
        **data.cadre_tables(set(cadres.index)),
        travel=data.travel,
        roads=data.roads,
        name=data.name,
    )


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
    disciplined = [e for e in events if e["type"] == "disciplined"]
    data = with_discipline(data, disciplined, rules.as_of)
    for e in disciplined:  # no new post: not even the one the given plan proposes
        post = next((p for p, c in holders.items() if c == e["cadre_id"]), None)
        if post is not None and data.posts.at[post, "incumbent_id"] != e["cadre_id"]:
            exclude.append(PostCadre(post_id=post, cadre_id=e["cadre_id"]))
    reference = _with_tables(data, cadres, posts)

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
    # a post the plan does not list (a merged commune's) whose incumbent holds a post in the
    # plan: in the re-based copy that cadre holds only the plan's post
    held = {h for h in holders.values() if h}
    unlisted = ~base_posts.index.isin(list(holders)) & base_posts["incumbent_id"].isin(held)
    base_posts.loc[unlisted, "incumbent_id"] = None
    solve_data = _with_tables(data, cadres, base_posts)
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
    merged = reference.merged_posts  # a merged commune's post disappears: its holder is released
    inc = [
        c
        for p, c in reference.posts["incumbent_id"].items()
        if isinstance(c, str) and (p in plan_posts or p in merged)
    ]
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


@dataclass
class Repaired:
    """The repair's outcome: plans (contract JSON dicts, best first, ``changed_vs_base`` on each
    assignment) or the diagnosis; ``capped``: the cap forced the fallback solve."""

    status: str
    plans: list[dict[str, Any]] = field(default_factory=list)
    diagnosis: list[dict[str, Any]] = field(default_factory=list)
    capped: bool = False


def repair_plan(
    data: ProblemData,
    rules: Rules,
    plan: Plan,
    events: list[dict[str, Any]],
    progress: Progress | None = None,
    stop: StopFlag | None = None,
) -> Repaired:
    """The valid plan closest to ``plan`` after ``events`` (fewest posts whose holder differs
    from ``plan`` first, then the usual objective), every hard rule holding against today's
    incumbents."""
    plan_id = plan.model_extra.get("plan_id") if plan.model_extra else None
    return repair_holders(data, rules, dict(plan.holder()), events, plan_id, progress, stop)


def repair_holders(
    data: ProblemData,
    rules: Rules,
    holders: dict[str, str | None],
    events: list[dict[str, Any]],
    plan_id: str | None = None,
    progress: Progress | None = None,
    stop: StopFlag | None = None,
    solve_fn: Callable[..., Any] | None = None,
) -> Repaired:
    """:func:`repair_plan` from the given plan's holders (post → cadre): what the command line
    and the service's repair jobs both call. ``solve_fn`` (default :func:`rotation.solve.solve`,
    same signature) is the service's configured solve target."""
    from .solve import solve as exact_solve
    from .validate import validate_plan

    solve: Callable[..., Any] = solve_fn if solve_fn is not None else exact_solve

    events = resolve_declines(events, holders)
    problems = check_events(events, holders, set(data.cadres.index))
    if problems:
        raise RepairError(problems)
    spec: dict[str, Any] = {"plan_id": plan_id, "holders": holders, "events": events}
    solve_data, solve_rules, reference = prepare_repair(data, rules, spec)
    # the cap counts against today's incumbents, not the re-based copy's: checked afterwards
    uncapped = solve_rules.model_copy(update={"max_changes": None})
    result = solve(solve_data, uncapped, progress=progress, stop=stop)
    if not result.plans:
        return Repaired(
            status=result.status, diagnosis=[d.model_dump(mode="json") for d in result.diagnosis]
        )
    plans = [rebase_plan(reference, rules, p.model_dump(mode="json"), spec) for p in result.plans]
    real_rules = rules.model_copy(update={"exclude": solve_rules.exclude})
    broken = [v for v in validate_plan(reference, real_rules, Plan.model_validate(plans[0]))]
    if not broken:
        return Repaired(status=result.status, plans=plans)
    fallback = solve(reference, real_rules, progress=progress, stop=stop)
    if not fallback.plans:
        return Repaired(
            status=fallback.status,
            diagnosis=[d.model_dump(mode="json") for d in fallback.diagnosis],
            capped=True,
        )
    plans = [rebase_plan(reference, rules, p.model_dump(mode="json"), spec) for p in fallback.plans]
    return Repaired(status=fallback.status, plans=plans, capped=True)


__all__ = [
    "CHANGE_WEIGHT",
    "EVENT_SYNTAX",
    "EVENT_TYPES",
    "RepairError",
    "Repaired",
    "check_events",
    "parse_event",
    "parse_events",
    "prepare_repair",
    "rebase_plan",
    "repair_holders",
    "repair_plan",
    "resolve_declines",
    "with_discipline",
]
