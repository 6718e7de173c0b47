"""Conflicts in a planner's words, with the nearest values that work as data.

Each item keeps the contract's ``rule``, ``scope`` and ``detail`` (English) and adds
``scope_name`` (the unit or post, named), ``rule_label`` and ``detail_vi`` (the rule's label and
the nearest value that works in Vietnamese, from the message catalogue), ``conflict`` (the number of the merged conflict it
belongs to, from 1), ``current`` and ``would_work`` (the rule's value now and the nearest value
that makes the scope feasible with the other rules unchanged; ``None`` when no number does:
a lock to drop, a post to leave vacant).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Protocol

from ..eligibility import Eligibility
from ..i18n import DEFAULT_LANG, N_, Translator, translator
from ..model.constraints import PRIORITY_SCALE
from ..plan import DiagnosisItem
from ..rules import Rules
from .conflicts import Conflict
from .precheck import cadre_label, forced_changes, make_item, post_label


class Named(Protocol):
    """Rule instances by number: (rule, scope, detail) and (expression, lo, hi) — a diagnosis
    model's assumption literals (:class:`rotation.model.Variables`) or the LP's rows
    (:class:`.conflicts.Names`)."""

    @property
    def assumptions(self) -> Mapping[int, tuple[str, str, str]]: ...

    @property
    def bounds(self) -> Mapping[int, tuple[Any, float | None, float | None]]: ...


def scope_name(e: Eligibility, scope: str) -> str:
    """The unit's name, the post's label, or the scope itself (a group, the plan)."""
    if scope in e.posts.index:
        return post_label(e, int(e.posts.index.get_loc(scope)))
    if scope in e.data.units.index:
        return e.data.unit_name(scope)
    if scope in e.data.cadres.index:
        return f"{e.data.cadre_name(scope)} ({scope})"
    return scope


def sentence(e: Eligibility, rules: Rules, rule: str, scope: str, detail: str) -> str:
    """The rule instance in words, naming the unit (and the cadre of a keep rule)."""
    data = e.data
    name = scope_name(e, scope)
    level = str(data.units.at[scope, "level"]) if scope in data.units.index else ""
    forced = forced_changes(e, level).get(scope, 0) if rules.change_caps and level else 0
    if rule in ("not_movable", "minimum_tenure") and scope in e.posts.index:
        c = e.must_keep.get(int(e.posts.index.get_loc(scope)))
        if c is not None:
            detail = f"{cadre_label(e, c)} keeps the post"
    texts = {
        "non_local_target": f"{name}: target {detail}",
        "never_below_current": f"{name}: {detail}, and the plan may not lower that number",
        "max_changes": f"{name}: {detail} per {level}"
        + (f" ({forced} of them already forced by the tenure limit)" if forced else ""),
        "fill_every_post": f"{name}: must be filled",
        "relatives_same_unit": f"{name}: relatives {_relatives(e, detail, scope)} may not "
        "both lead it",
        "not_movable": f"{name}: {detail} (not movable)",
        "minimum_tenure": f"{name}: {detail} (under {rules.min_years_in_post:g} years in post)",
        "lock": f"{name}: lock {detail}",
        "priority_shares": f"{detail}",
        "min_stay": f"{name}: {detail} (minimum stay)",
        "office_wait": f"{name}: {detail} (waiting time after a release to an office)",
        "never_decrease": f"{name}: non-local holders may not fall in number ({detail})",
        "budget_vnd": f"{detail}",
    }
    return texts.get(rule, f"{name}: {detail}")


def _relatives(e: Eligibility, detail: str, scope: str) -> str:
    ids = detail.replace(" at " + scope, "").split(" and ")
    known = e.data.cadres.index
    return " and ".join(f"{e.data.cadre_name(c)} ({c})" if c in known else c for c in ids)


MESSAGES = {
    "cap": N_("diagnosis", "allow at least {n} changes"),
    "target": N_("diagnosis", "lower the target to {share} ({k} of {n})"),
    "never_below": N_("diagnosis", "let the count fall to {n}"),
    "budget": N_("diagnosis", "raise the budget to {money}"),
    "priority": N_("diagnosis", "lower the share to {share} ({k} of {n} newly appointed)"),
    "tenure": N_("diagnosis", "lower the minimum years in post to {years}"),
    "move": N_("diagnosis", "let the incumbent move"),
    "not_enough": N_("diagnosis", "relaxing this rule alone is not enough"),
    "vacancies": N_("diagnosis", "allow vacancies"),
    "lock": N_("diagnosis", "drop this lock"),
    "relatives": N_("diagnosis", "place one of the relatives elsewhere"),
    "relax": N_("diagnosis", "relax this rule"),
    "would_work": N_("diagnosis", "would work"),
    "total": N_("diagnosis", "{k} independent conflicts"),
}
"""The words of a nearest value that works, in the message catalogue (context ``diagnosis``)."""

Words = tuple[str, dict[str, float | int]]


def say(t: Translator, words: Words) -> str:
    """The words in ``t``'s language, numbers formatted as its readers expect."""
    key, params = words
    fmt = {
        "n": lambda x: t.number(x),
        "k": lambda x: t.number(x),
        "share": lambda x: t.percent(x, 0),
        "money": lambda x: t.money(x),
        "years": lambda x: t.number(x, 1),
    }
    return t.pgettext("diagnosis", MESSAGES[key]).format(
        **{name: fmt[name](value) for name, value in params.items()}
    )


def nearest(
    e: Eligibility,
    rules: Rules,
    v: Named,
    row: int,
    best: int | None,
    counts: tuple[int, int] | None = None,
) -> tuple[float | int | None, float | int | None, Words]:
    """(current value, nearest value that works, the words for it) of one rule instance;
    ``counts``: a priority share's (members, newly appointed) at its best share."""
    rule, scope, detail = v.assumptions[row]
    _, lo, hi = v.bounds[row]
    if rule == "priority_shares" and best is not None and counts is not None:
        current = next((p.min_share for p in rules.priority_shares if p.group == scope), None)
        share = best / PRIORITY_SCALE
        return current, share, ("priority", {"share": share, "k": counts[0], "n": counts[1]})
    if rule in ("not_movable", "minimum_tenure") and scope in e.posts.index:
        if rule == "minimum_tenure":
            c = e.must_keep.get(int(e.posts.index.get_loc(scope)))
            if c is not None:
                tenure = math.floor(float(e.facts["tenure_years"].iat[c]) * 10) / 10
                return rules.min_years_in_post, tenure, ("tenure", {"years": tenure})
        return None, None, ("move", {})
    if rule == "fill_every_post":
        return None, None, ("vacancies", {})
    if rule == "lock":
        return None, None, ("lock", {})
    if rule == "relatives_same_unit":
        return None, None, ("relatives", {})
    if best is None:
        return _current(rule, detail, lo, hi), None, ("not_enough", {})
    if rule == "max_changes" and hi is not None:
        cap = int(detail.split()[2])
        need = best + (cap - int(hi))
        return cap, need, ("cap", {"n": need})
    if rule == "non_local_target" and lo is not None:
        n = int(detail.rsplit(" of ", 1)[1])
        return int(lo), best, ("target", {"share": best / n, "k": best, "n": n})
    if rule == "never_below_current" and lo is not None:
        return int(lo), best, ("never_below", {"n": best})
    if rule == "budget_vnd" and hi is not None:
        return int(hi), best, ("budget", {"money": best})
    return _current(rule, detail, lo, hi), None, ("relax", {})


def _current(rule: str, detail: str, lo: float | None, hi: float | None) -> int | None:
    if rule == "max_changes":
        return int(detail.split()[2])
    bound = lo if lo is not None else hi
    no_number = ("priority_shares", "min_stay", "office_wait", "never_decrease")
    return None if bound is None or rule in no_number else int(bound)


def conflict_items(
    e: Eligibility, rules: Rules, v: Named, conflicts: list[Conflict]
) -> list[DiagnosisItem]:
    """One item per rule instance of every conflict, in conflict order."""
    return [
        instance_item(e, rules, v, conflict, row, no)
        for no, conflict in enumerate(conflicts, 1)
        for row in conflict.rows
    ]


def instance_item(
    e: Eligibility, rules: Rules, v: Named, conflict: Conflict, row: int, no: int
) -> DiagnosisItem:
    """One rule instance of conflict number ``no`` in words, with its nearest value as data."""
    vi = translator(DEFAULT_LANG)
    rule, scope, detail = v.assumptions[row]
    best = conflict.best.get(row)
    current, would, words = nearest(e, rules, v, row, best, conflict.counts.get(row))
    name = scope_name(e, scope)
    item = make_item(
        rule=rule,
        scope=scope,
        detail=f"{sentence(e, rules, rule, scope, detail)} — would work: "
        + say(translator("en"), words),
        detail_vi=f"{name}: {vi.rule(rule)} — {vi.pgettext('diagnosis', MESSAGES['would_work'])}"
        f": {say(vi, words)}",
        rule_label=vi.rule(rule),
        scope_name=name,
        conflict=no,
        current=current,
        would_work=would,
    )
    if rule == "non_local_target" and best is not None:
        n = int(detail.rsplit(" of ", 1)[1])
        item.best_share = round(best / n, 4) + 0.0
    return item


LEVEL_WORDS = {"province": "provinces", "district": "districts", "commune": "communes"}


def total_item(
    e: Eligibility, items: list[DiagnosisItem], n_conflicts: int
) -> DiagnosisItem | None:
    """The total line ("4 of 12 districts cannot meet their rules") when more than one scope or
    conflict is named; None otherwise."""
    data = e.data
    named: dict[str, set[str]] = {}
    for d in items:
        for s in getattr(d, "scopes", [d.scope]):
            level = (
                str(data.units.at[s, "level"])
                if s in data.units.index
                else ("post" if s in e.posts.index else "")
            )
            if level:
                named.setdefault(level, set()).add(s)
    independent = n_conflicts + sum(1 for d in items if getattr(d, "conflict", None) is None)
    if independent < 2:
        return None
    of = {
        "province": e.posts["province_id"].nunique(),
        "district": e.posts["district_scope"].nunique(),
        "commune": e.posts["unit_id"].nunique(),
        "post": len(e.posts),
    }
    parts = [
        f"{len(named[lv])} of {of[lv]} {LEVEL_WORDS.get(lv, 'posts')}"
        for lv in ("province", "district", "commune", "post")
        if lv in named
    ]
    return make_item(
        rule="summary",
        scope="plan",
        detail=f"{'; '.join(parts) or 'the plan'} cannot meet their rules "
        f"({independent} independent conflicts)",
        detail_vi=say(translator(DEFAULT_LANG), ("total", {"k": independent})),
        count=sum(len(s) for s in named.values()),
    )
