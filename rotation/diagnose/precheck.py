"""Conflicts visible before any search, in a planner's words.

A post nobody may hold (grouped by cause, missing data first: no ratings table, no coordinates,
empty planning lists); an incumbent who must both stay and go; a lock on a refused pair; a
non-local target with too few eligible non-local cadres; a change cap below the changes the
tenure limit forces. The search-based part is :mod:`rotation.diagnose.conflicts`.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from ..eligibility import Eligibility
from ..model.index import PairIndex
from ..plan import DiagnosisItem
from ..rules import Rules


def post_label(e: Eligibility, p: int) -> str:
    row = e.posts.iloc[p]
    return f"{e.data.unit_name(row['unit_id'])}: {row['position']} post {e.post_id(p)}"


def cadre_label(e: Eligibility, c: int) -> str:
    cid = e.cadre_id(c)
    return f"{e.data.cadre_name(cid)} ({cid})"


def _refusal_summary(e: Eligibility, p: int, limit: int = 40) -> str:
    """The rules that refuse the nearest cadres of the post's province, counted."""
    data = e.data
    post_id = e.post_id(p)
    unit = e.posts.iloc[p]["unit_id"]
    prov = data.units.at[unit, "province_id"]
    cand = data.cadres.index[
        data.units["province_id"].reindex(data.cadres["current_unit_id"]).to_numpy() == prov
    ]
    counts: Counter[str] = Counter()
    for cid in cand[:limit]:
        for rule, _ in e.why_not(str(cid), post_id)[:1]:
            counts[rule] += 1
    return ", ".join(f"{r} ({n})" for r, n in counts.most_common())


def make_item(**fields: object) -> DiagnosisItem:
    """An item with this package's additions to contract §3 (``current``, ``would_work``,
    ``scope_name``, ``conflict``, ``count``, ``scopes``, ``missing_data``: extra fields)."""
    return DiagnosisItem.model_validate(fields)


EXAMPLES = 3
"""Named examples per grouped cause."""


def missing_data(e: Eligibility, rules: Rules) -> list[tuple[str, str]]:
    """Rules that fail every cadre because a table or column is missing: [(rule, sentence)]."""
    data = e.data
    out: list[tuple[str, str]] = []
    if rules.min_rating is not None and data.ratings.empty:
        out.append(
            ("rating", f"no ratings table given: every cadre fails min_rating ({rules.min_rating})")
        )
    if rules.max_travel_km is not None and data.travel.empty:
        units = data.units
        if units["lat"].isna().all() or units["lon"].isna().all():
            out.append(
                (
                    "travel_distance",
                    "no unit coordinates and no travel table given: no distance is known, so "
                    f"every move fails max_travel_km ({rules.max_travel_km:g} km)",
                )
            )
    if rules.require_planning:
        planned = data.cadres["planned_positions"]
        if not any(len(v) for v in planned):
            out.append(
                (
                    "planning_list",
                    "every planning list is empty: no cadre is planned for any position, so every "
                    "move fails require_planning",
                )
            )
    return out


def unfillable_posts(e: Eligibility, rules: Rules, posts: list[int]) -> list[DiagnosisItem]:
    """Posts no cadre may take, one line per cause (missing data first), with a count and a few
    named examples; a cause with a single post keeps that post as its scope."""
    if not posts:
        return []
    labels = [post_label(e, p) for p in posts]
    ids = [e.post_id(p) for p in posts]
    missing = missing_data(e, rules)
    if missing:
        return [
            _group_item(f"fill_every_post+{rule}", sentence, ids, labels, missing_data=rule)
            for rule, sentence in missing
        ]
    groups: dict[str, list[int]] = {}
    summaries: dict[int, str] = {}
    for i, p in enumerate(posts):
        summaries[i] = _refusal_summary(e, p) or "no candidates in the province"
        groups.setdefault(summaries[i].split(" (")[0], []).append(i)
    items = []
    for cause in sorted(groups, key=lambda c: (-len(groups[c]), c)):
        idx = groups[cause]
        if len(idx) == 1:
            i = idx[0]
            items.append(
                DiagnosisItem(
                    rule="fill_every_post",
                    scope=ids[i],
                    detail=f"{labels[i]}: no cadre may take this post; nearest cadres are "
                    f"refused by {summaries[i]}",
                )
            )
            continue
        sentence = f"no cadre may take these posts; nearest cadres are refused by {cause} first"
        items.append(
            _group_item(
                "fill_every_post", sentence, [ids[i] for i in idx], [labels[i] for i in idx]
            )
        )
    return items


def _group_item(
    rule: str,
    sentence: str,
    ids: list[str],
    labels: list[str],
    what: tuple[str, str, str, str] = ("post", "posts", "cannot be filled", "cannot be filled"),
    **extra: object,
) -> DiagnosisItem:
    n = len(ids)
    shown = "; ".join(labels[:EXAMPLES]) + (f"; and {n - EXAMPLES} more" if n > EXAMPLES else "")
    scope = ids[0] if n == 1 else "plan"
    noun = what[0] if n == 1 else what[1]
    verb = what[2] if n == 1 else what[3]
    return make_item(
        rule=rule,
        scope=scope,
        detail=f"{sentence} — {n} {noun} {verb}, e.g. {shown}",
        count=n,
        scopes=ids,
        **extra,
    )


def precheck(e: Eligibility, rules: Rules) -> list[DiagnosisItem]:
    """Conflicts visible before any search."""
    items: list[DiagnosisItem] = []
    has_pair = np.zeros(len(e.posts), dtype=bool)
    has_pair[e.pair_post] = True
    for p, c in sorted(e.must_keep.items()):
        if p in e.over_tenure:
            tenure = e.facts["tenure_years"].iat[c]
            reason = e.must_keep_reason[p]
            why = (
                "is not movable"
                if reason == "not_movable"
                else (f"has {tenure:.1f} years in post (minimum {rules.min_years_in_post:g})")
            )
            items.append(
                DiagnosisItem(
                    rule=f"{reason}+maximum_tenure",
                    scope=e.post_id(p),
                    detail=f"{post_label(e, p)}: {cadre_label(e, c)} {why} and must stay, but has "
                    f"reached the maximum of {rules.max_years_in_post:g} years and must leave",
                )
            )
    if not rules.allow_vacancies:
        items += unfillable_posts(e, rules, np.nonzero(~has_pair)[0].tolist())
    for lock in rules.locks:
        if lock.post_id not in e.posts.index or lock.cadre_id not in e.data.cadres.index:
            items.append(
                DiagnosisItem(
                    rule="lock",
                    scope=lock.post_id,
                    detail=f"lock {lock.cadre_id} → {lock.post_id}: unknown post or cadre, or the "
                    "post is outside the plan's positions",
                )
            )
            continue
        reasons = e.why_not(lock.cadre_id, lock.post_id)
        if reasons:
            p = int(e.posts.index.get_loc(lock.post_id))
            items.append(
                DiagnosisItem(
                    rule="lock+" + reasons[0][0],
                    scope=lock.post_id,
                    detail=f"{post_label(e, p)}: locked to {e.data.cadre_name(lock.cadre_id)} "
                    f"({lock.cadre_id}), but " + "; ".join(d for _, d in reasons),
                )
            )
    items += _grouped_targets(e, rules, _target_prechecks(e, rules))
    items += _change_cap_prechecks(e, rules)
    return items


def forced_changes(e: Eligibility, scope_level: str) -> dict[str, int]:
    """Posts per scope whose incumbent must leave (maximum tenure): changes no plan can avoid."""
    out: dict[str, int] = {}
    if not e.over_tenure:
        return out
    posts = sorted(e.over_tenure)
    units = e.posts["unit_id"].to_numpy()[posts]
    for s in e.data.scope_of(list(units), scope_level):
        out[s] = out.get(s, 0) + 1
    return out


def _change_cap_prechecks(e: Eligibility, rules: Rules) -> list[DiagnosisItem]:
    """A change cap below the number of incumbents who must leave for the tenure limit."""
    return [
        make_item(
            rule="max_changes+maximum_tenure",
            scope=scope,
            detail=f"{e.data.unit_name(scope)}: at most {mc.cap(scope)} changes allowed, but "
            f"{n} incumbents have reached the maximum of {rules.max_years_in_post:g} years in "
            "post and must leave",
            current=mc.cap(scope),
            would_work=n,
        )
        for mc in rules.change_caps
        for scope, n in sorted(forced_changes(e, mc.scope_level).items())
        if n > mc.cap(scope)
    ]


def _grouped_targets(
    e: Eligibility, rules: Rules, items: list[DiagnosisItem]
) -> list[DiagnosisItem]:
    """Targets out of reach because data is missing: one line per missing table, first."""
    missing = missing_data(e, rules)
    if not missing or len(items) < 2:
        return items
    ids = [d.scope for d in items]
    labels = [e.data.unit_name(s) for s in ids]
    return [
        _group_item(
            f"non_local_target+{rule}",
            sentence,
            ids,
            labels,
            what=("scope", "scopes", "cannot reach its target", "cannot reach their targets"),
            missing_data=rule,
        )
        for rule, sentence in missing
    ]


def _target_prechecks(e: Eligibility, rules: Rules) -> list[DiagnosisItem]:
    """A target needing more non-local holders than there are eligible non-local cadres."""
    items = []
    v_like = PairIndex(e)
    for t in rules.non_local_targets:
        for scope, posts, required in v_like.target_groups(t):
            mask = np.isin(e.pair_post, posts) & e.pair_non_local
            cadres = np.unique(e.pair_cadre[mask])
            reachable = min(len(cadres), len(posts))
            if reachable < required:
                stay = int((e.pair_keep[mask]).sum())
                movers = len(cadres) - stay
                where = (
                    f"living within {rules.max_travel_km:g} km"
                    if rules.max_travel_km is not None
                    else "who pass every rule"
                )
                items.append(
                    make_item(
                        rule="non_local_target",
                        scope=scope,
                        detail=f"{e.data.unit_name(scope)}: {t.min_share:.0%} non-local needs "
                        f"{required} of {len(posts)} {t.position} posts, but only "
                        f"{len(cadres)} non-local holder{'s' if len(cadres) != 1 else ''} "
                        f"can be found: {stay} non-local incumbent{'s' if stay != 1 else ''} "
                        f"who may stay and {movers} eligible cadre{'s' if movers != 1 else ''} "
                        f"{where}",
                        best_share=round(reachable / len(posts), 4),
                        current=required,
                        would_work=reachable,
                    )
                )
    return items


__all__ = ["cadre_label", "forced_changes", "post_label", "precheck"]
