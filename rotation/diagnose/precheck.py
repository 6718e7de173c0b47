"""Conflicts visible before any search, in a planner's words.

A post nobody may hold (grouped by cause, missing data first: no ratings table, no coordinates,
empty planning lists); an incumbent who must both stay and go; a lock on a refused pair; a
non-local target with too few eligible non-local cadres; a change cap below the changes no plan
can avoid (vacant posts to fill, incumbents who must leave). The search-based part is
:mod:`rotation.diagnose.conflicts`.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from ..eligibility import Eligibility
from ..i18n import DEFAULT_LANG, N_, Translator, translator
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
    items += change_cap_conflicts(e, rules)
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


def unavoidable_changes(e: Eligibility, rules: Rules) -> np.ndarray:
    """Per post of the plan, whether every plan changes its holder, as the change cap counts
    it: a vacant post that must be filled, or a post whose incumbent may not stay (maximum
    tenure, or any rule refusing the keep pair). Posts of merged communes are not in the plan
    (never filled), so they never count; their incumbents are free to take another post."""
    has_keep = np.zeros(len(e.posts), dtype=bool)
    has_keep[e.pair_post[e.pair_keep]] = True
    vacant = e.posts["incumbent_id"].isna().to_numpy()
    if rules.allow_vacancies:  # a vacant post may stay vacant: unchanged
        return ~has_keep & ~vacant
    return ~has_keep


CAP_CAUSES = {
    "vacant": N_("diagnosis", "{n} vacant and must be filled"),
    "tenure": N_("diagnosis", "{n} with an incumbent at the maximum of {years} years in post"),
    "refused": N_("diagnosis", "{n} with an incumbent no rule lets stay"),
}
CAP_RULES = {"vacant": "fill_every_post", "tenure": "maximum_tenure", "refused": ""}
"""The rule each cause adds to the conflict's name (a refused keep pair is eligibility's)."""
CAP_SENTENCE = N_(
    "diagnosis", "{unit}: at most {cap} changes allowed, but {n} posts must change ({causes})"
)
CAP_TENURE_SENTENCE = N_(
    "diagnosis",
    "{unit}: at most {cap} changes allowed, but {n} incumbents have reached the maximum of "
    "{years} years in post and must leave",
)


def _cap_causes(t: Translator, parts: dict[str, int], years: str) -> str:
    return ", ".join(
        t.pgettext("diagnosis", CAP_CAUSES[k]).format(n=n, years=years) for k, n in parts.items()
    )


def change_cap_conflicts(e: Eligibility, rules: Rules) -> list[DiagnosisItem]:
    """A change cap below the changes no plan can avoid in its scope (vacant posts that must be
    filled, incumbents who must leave): at commune level, continuity that cannot hold. Each
    conflict names the scope unit, the cap and the posts by cause; found without any search, so
    the solve can stop before building a model (:func:`rotation.solve.single.solve_one`)."""
    caps = rules.change_caps
    if not caps or not len(e.posts):
        return []
    forced = unavoidable_changes(e, rules)
    if not forced.any():
        return []
    vacant = e.posts["incumbent_id"].isna().to_numpy()
    tenure = np.zeros(len(e.posts), dtype=bool)
    tenure[list(e.over_tenure)] = True
    causes = {"vacant": forced & vacant, "tenure": forced & tenure}
    causes["refused"] = forced & ~vacant & ~tenure
    units = e.posts["unit_id"].to_numpy()
    # no tenure limit: no post is forced by it, so the number never reaches a sentence
    limit = rules.max_years_in_post
    years = f"{limit:g}" if limit is not None else ""
    langs = {"detail": translator("en"), "detail_vi": translator(DEFAULT_LANG)}
    items: list[DiagnosisItem] = []
    for mc in caps:
        scopes = e.data.scope_of(list(units), mc.scope_level).to_numpy()
        counts = Counter(scopes[forced].tolist())
        for scope in sorted(counts):
            n, cap = counts[scope], mc.cap(scope)
            if n <= cap:
                continue
            in_scope = scopes == scope
            parts = {k: int((m & in_scope).sum()) for k, m in causes.items()}
            parts = {k: v for k, v in parts.items() if v}
            name = e.data.unit_name(scope)
            msg = CAP_TENURE_SENTENCE if parts.get("tenure") == n else CAP_SENTENCE
            texts = {
                field: t.pgettext("diagnosis", msg).format(
                    unit=name, cap=cap, n=n, years=years, causes=_cap_causes(t, parts, years)
                )
                for field, t in langs.items()
            }
            items.append(
                make_item(
                    rule="+".join(["max_changes", *(CAP_RULES[k] for k in parts if CAP_RULES[k])]),
                    scope=scope,
                    scope_name=name,
                    current=cap,
                    would_work=n,
                    **texts,
                )
            )
    return items


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


__all__ = [
    "cadre_label",
    "change_cap_conflicts",
    "forced_changes",
    "post_label",
    "precheck",
    "unavoidable_changes",
]
