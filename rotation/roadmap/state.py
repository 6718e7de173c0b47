"""Rolling the dataset forward from one round to the next: who holds what, since when, who has
retired. The single definition used by the roadmap model's output and by the validator's
``--roadmap`` mode, so both judge each round against the same state."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from ..concepts import latest_rating_rows, retirement_date
from ..data import ProblemData
from ..events import with_discipline
from ..plan import Plan
from ..rules import PostCadre, Rules


def project_ratings(data: ProblemData, until_year: int) -> ProblemData:
    """Ratings for future years are unknown; the roadmap assumes each cadre keeps the latest
    known rating (documented assumption). Adds rows for the missing years up to ``until_year``."""
    r = data.ratings
    if r.empty:
        return data
    last = latest_rating_rows(r)
    rows = []
    for cid, year, rating in last[["cadre_id", "year", "rating"]].itertuples(index=False):
        for y in range(int(year) + 1, until_year + 1):
            rows.append({"cadre_id": cid, "year": y, "rating": rating})
    if not rows:
        return data
    ratings = pd.concat([r, pd.DataFrame(rows)], ignore_index=True)
    return _copy(data, ratings=ratings)


def release_office(data: ProblemData, unit_id: str) -> str:
    """Where a released cadre goes: the office of the unit above the post (district, else
    province)."""
    u = data.units.loc[unit_id]
    parent = u["parent_id"]
    return parent if isinstance(parent, str) and parent else unit_id


def retired_by(data: ProblemData, rules: Rules, day: dt.date) -> list[str]:
    """Cadres whose retirement date (legal roadmap or fixed ages) is on or before ``day``."""
    c = data.cadres
    ages: dict[str, float] | None = (
        None
        if rules.retirement_age is None
        else {str(g): a for g, a in rules.retirement_age.items()}
    )
    out = []
    for cid, g, b in zip(c.index, c["gender"], c["birth_date"], strict=True):
        if retirement_date(g, b, ages) <= day:
            out.append(cid)
    return out


def roll_forward(
    data: ProblemData, rules: Rules, plan: Plan, applied_on: dt.date, next_day: dt.date | None
) -> ProblemData:
    """The state after ``plan`` took effect on ``applied_on``, as seen at ``next_day``.

    New holders start their post on ``applied_on``; released incumbents go back to the office
    above their former post from that day; cadres retired by ``next_day`` leave (their posts fall
    vacant). Out-of-scope posts keep their incumbents; a released incumbent of a post the plan
    does not fill (a merged commune's) leaves it, so a later round does not release them again.
    """
    posts = data.posts.copy()
    cadres = data.cadres.copy()
    for a in plan.assignments:
        if a.post_id not in posts.index:
            continue
        old = posts.at[a.post_id, "incumbent_id"]
        posts.at[a.post_id, "incumbent_id"] = a.cadre_id
        if a.cadre_id is not None and a.cadre_id != old and a.cadre_id in cadres.index:
            cadres.at[a.cadre_id, "current_unit_id"] = a.unit_id
            cadres.at[a.cadre_id, "current_since"] = applied_on
    planned = {a.post_id for a in plan.assignments}
    for cid in plan.released:
        if cid in cadres.index:
            prev = data.incumbent_post.get(cid)
            if isinstance(prev, str) and prev not in planned and prev in posts.index:
                # a post the plan does not fill (a merged commune's): its incumbent has left it
                posts.at[prev, "incumbent_id"] = None
            unit = data.posts.at[prev, "unit_id"] if isinstance(prev, str) else None
            if unit is not None:
                cadres.at[cid, "current_unit_id"] = release_office(data, unit)
            cadres.at[cid, "current_since"] = applied_on
    rolled = _copy(data, cadres=cadres, posts=posts)
    if next_day is not None:
        gone = set(retired_by(rolled, rules, next_day))
        if gone:
            posts = rolled.posts.copy()
            inc = posts["incumbent_id"].astype(object)
            posts["incumbent_id"] = inc.where(~inc.isin(gone), None)
            rolled = _copy(
                rolled,
                cadres=rolled.cadres.drop(index=sorted(gone)),
                posts=posts,
                **rolled.cadre_tables(set(rolled.cadres.index) - gone),
            )
    return rolled


def apply_events(state: ProblemData, events: list[dict[str, Any]], day: dt.date) -> ProblemData:
    """The state at the start of a round with that round's repair events in force (the
    single definition the roadmap repair and the validator share): a cadre who ``leaves`` is
    gone (as a retiree: their post starts the round vacant), a ``disciplined`` one gets a
    discipline row dated ``day``; ``declines`` and ``vacant`` rule a (post, cadre) pair out
    (:func:`event_exclusions`) and, when that cadre holds the post at the round's start, the
    post starts the round without them (the cadre stays, holding no post)."""
    out = {(x.post_id, x.cadre_id) for x in event_exclusions(events)}
    inc = state.posts["incumbent_id"]
    ending = [p for p, c in inc.items() if (p, c) in out]
    if ending:
        posts = state.posts.copy()
        posts["incumbent_id"] = posts["incumbent_id"].astype(object)
        posts.loc[ending, "incumbent_id"] = None
        state = _copy(state, posts=posts)
    leaving = {e["cadre_id"] for e in events if e["type"] == "leaves"}
    if leaving:
        keep = set(state.cadres.index) - leaving
        posts = state.posts.copy()
        inc = posts["incumbent_id"].astype(object)
        posts["incumbent_id"] = inc.where(~inc.isin(sorted(leaving)), None)
        state = _copy(
            state,
            cadres=state.cadres.drop(index=sorted(leaving & set(state.cadres.index))),
            posts=posts,
            **state.cadre_tables(keep),
        )
    return with_discipline(state, events, day)


def event_exclusions(events: list[dict[str, Any]]) -> list[PostCadre]:
    """The (post, cadre) pairs repair events rule out from their round on: a declined post, the
    holder of a post that fell vacant (``holder_id``)."""
    out = []
    for e in events:
        if e["type"] == "declines" and e.get("post_id"):
            out.append(PostCadre(post_id=e["post_id"], cadre_id=e["cadre_id"]))
        elif e["type"] == "vacant" and e.get("holder_id"):
            out.append(PostCadre(post_id=e["post_id"], cadre_id=e["holder_id"]))
    return out


def _copy(data: ProblemData, **tables: object) -> ProblemData:
    base = {
        "units": data.units,
        "cadres": data.cadres,
        "posts": data.posts,
        "ratings": data.ratings,
        "relations": data.relations,
        "discipline": data.discipline,
        "preferences": data.preferences,
        "travel": data.travel,
        "roads": data.roads,
        "name": data.name,
        "warnings": list(data.warnings),
    }
    base.update(tables)
    out = ProblemData(**base)
    # distances depend only on units/travel/roads, which a roll never changes: share the cache
    if "_distance_cache" in data.__dict__:
        out.__dict__["_distance_cache"] = data.__dict__["_distance_cache"]
    return out
