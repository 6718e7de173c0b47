"""Explanations a committee can read: each assignment's score parts, and for each post the three
best alternatives with why each lost (the failed rule, or the cost difference).

When a cadre living nearer to the post than its holder is refused by a rule, the nearest such
cadre is the last alternative, with ``failed_rule`` (eligibility's ``why_not``) set.
:func:`plain_explanation` says the choice in plain words with names, in the committee's
language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .data import ProblemData
from .eligibility import Eligibility
from .i18n import Translator
from .model import SCALE, pair_costs
from .plan import Assignment, Plan
from .rules import Rules

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
    holder_post = {a.cadre_id: a.post_id for a in plan.assignments if a.cadre_id}
    order = np.argsort(e.pair_post, kind="stable")
    bounds = np.searchsorted(e.pair_post[order], np.arange(len(e.posts) + 1))
    post_index = {pid: i for i, pid in enumerate(e.posts.index)}
    cadre_index = {cid: i for i, cid in enumerate(cadre_ids)}
    nearby = _NearbyKm(e, [a.post_id for a in plan.assignments])
    for a in plan.assignments:
        p = post_index[a.post_id]
        ks = order[bounds[p] : bounds[p + 1]]  # the post's pairs
        chosen = None
        if a.cadre_id:  # the holder's pair (the last, were a pair listed twice)
            hit = ks[e.pair_cadre[ks] == cadre_index[a.cadre_id]]
            chosen = int(hit[-1]) if len(hit) else None
        base = float(costs[chosen]) if chosen is not None else 0.0
        if chosen is not None:
            a.score = score_parts(e, chosen)
        ks = ks[np.argsort(costs[ks], kind="stable")]
        alts: list[dict[str, Any]] = []
        for k in ks.tolist():
            cid = e.cadre_id(int(e.pair_cadre[k]))
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
                    "cadre_name": nearby.name(cid),
                    "cost_difference": diff,
                    "why_not": why,
                    "failed_rule": None,
                    "travel_km": round(float(e.pair_km[k]), 1),
                    "score": score_parts(e, k),
                }
            )
            if len(alts) == n_alternatives:
                break
        holder_km = float(e.pair_km[chosen]) if chosen is not None else None
        skip = {x["cadre_id"] for x in alts}
        nearer = _blocked_nearer(e, a.post_id, a.cadre_id, holder_km, skip, nearby)
        if nearer is not None:  # a nearer cadre a rule blocks: shown with that rule
            alts = [*alts[: n_alternatives - 1], nearer]
        elif len(alts) < n_alternatives:
            alts += _refused_nearby(
                e, a.post_id, a.cadre_id, n_alternatives - len(alts), skip, nearby=nearby
            )
        a.alternatives = alts


def _blocked_nearer(
    e: Eligibility,
    post_id: str,
    holder: str | None,
    holder_km: float | None,
    skip: set[str],
    nearby: _NearbyKm | None = None,
) -> dict[str, Any] | None:
    """The nearest cadre living nearer to the post than its holder whom a rule refuses for it
    (eligibility's ``why_not``), or None."""
    if holder is None or holder_km is None or holder_km <= 0:
        return None
    found = _refused_nearby(e, post_id, holder, 1, skip, within_km=holder_km, nearby=nearby)
    return found[0] if found else None


def _refused_nearby(
    e: Eligibility,
    post_id: str,
    holder: str | None,
    n: int,
    skip: set[str],
    within_km: float | None = None,
    nearby: _NearbyKm | None = None,
) -> list[dict[str, Any]]:
    """The nearest cadres of the province that a rule refuses for the post (only those strictly
    nearer than ``within_km`` when given)."""
    nearby = nearby or _NearbyKm(e, [post_id])
    ids, km = nearby.of(post_id)
    out: list[dict[str, Any]] = []
    if within_km is None:
        nearest = np.argsort(km, kind="stable")
    else:  # only those strictly nearer, in the same order (km, then row): usually none
        nearer = np.flatnonzero(km < within_km - 1e-9)
        nearest = nearer[np.argsort(km[nearer], kind="stable")]
    for i in nearest.tolist():
        cid = ids[i]
        if cid == holder or cid in skip:
            continue
        reasons = e.why_not(cid, post_id)
        if reasons:
            out.append(
                {
                    "cadre_id": cid,
                    "cadre_name": nearby.name(cid),
                    "cost_difference": None,
                    "failed_rule": reasons[0][0],
                    "why_not": "; ".join(f"{r}: {d}" for r, d in reasons),
                    "travel_km": round(float(km[i]), 1),
                    "score": None,
                }
            )
        if len(out) == n:
            break
    return out


class _NearbyKm:
    """For each post to explain: the cadres working in its province and the km from where each
    lives to the post's unit (what :func:`_refused_nearby` sorts by).

    The same numbers as one ``Distances.matrix`` call per post, computed for up to
    :attr:`BLOCK` units of a province at a time (more while cadres × units stays within
    :attr:`FIGURES`), in the order the posts are explained: one call per post matched the whole
    travel table each time (most of the time of a large plan's explanations), and a block keeps
    the memory to about ``FIGURES`` figures (4 MB)."""

    BLOCK = 256
    FIGURES = 500_000

    def __init__(self, e: Eligibility, post_ids: list[str]) -> None:
        data = e.data
        self.e = e
        self.order = list(dict.fromkeys(post_ids))
        self.at = {p: i for i, p in enumerate(self.order)}
        units = data.posts["unit_id"].reindex(self.order).to_numpy()
        self.unit = dict(zip(self.order, units, strict=True))
        self.prov = dict(
            zip(self.order, data.units["province_id"].reindex(units).to_numpy(), strict=True)
        )
        self._cadres: dict[Any, tuple[Any, list[str]]] = {}  # province: its cadres, their ids
        self._km: dict[tuple[Any, Any], np.ndarray] = {}
        self.name = data.cadre_name

    def _province_cadres(self, prov: Any) -> tuple[Any, list[str]]:
        if prov not in self._cadres:
            data = self.e.data
            works_in = data.units["province_id"].reindex(data.cadres["current_unit_id"])
            cad = data.cadres[works_in.to_numpy() == prov]
            self._cadres = {prov: (cad, [str(c) for c in cad.index])}
        return self._cadres[prov]

    def of(self, post_id: str) -> tuple[list[str], np.ndarray]:
        """(the ids of the province's cadres, km from each one's residence to the post's
        unit); the post must be one of those given when this was made."""
        from .geo import distances

        unit, prov = self.unit[post_id], self.prov[post_id]
        cad, ids = self._province_cadres(prov)
        if (prov, unit) not in self._km:
            rest = self.order[self.at[post_id] :]
            block = [unit, *(self.unit[p] for p in rest if self.prov[p] == prov)]
            block = list(dict.fromkeys(block))[: max(self.BLOCK, self.FIGURES // max(len(cad), 1))]
            km = distances(self.e.data, self.e.rules).matrix(cad["residence_id"].to_numpy(), block)
            self._km = {(prov, u): km[:, j] for j, u in enumerate(block)}
        return ids, self._km[(prov, unit)]


# --------------------------------------------------------------------------- plain words
def honorific(data: ProblemData, cadre_id: str, t: Translator) -> str:
    """'ông A' / 'bà B' (vi), 'Mr A' / 'Ms B' (en): the cadre's name with a title."""
    gender = data.cadres.at[cadre_id, "gender"] if cadre_id in data.cadres.index else None
    return _titled(data.cadre_name(cadre_id), gender, t)


def _titled(name: str, gender: Any, t: Translator) -> str:
    if gender == "F":
        return t._("Ms {name}").format(name=name)
    if gender == "M":
        return t._("Mr {name}").format(name=name)
    return name


class Wording:
    """The words a workbook repeats, for one dataset, rules and language: each cadre's name
    with a title (:func:`honorific`) and each rule's reason (:func:`rule_reason`), worked out
    once. Same answers as those functions; a pandas lookup per name was most of the time of
    wording a national plan's 10,000 explanations."""

    def __init__(self, data: ProblemData, rules: Rules, t: Translator) -> None:
        cadres = data.cadres
        self.rules, self.t = rules, t
        self._name = data.cadre_name
        self._gender = dict(zip(cadres.index, cadres["gender"], strict=True))
        self._who: dict[str, str] = {}
        self._reasons: dict[tuple[str, str | None], str] = {}

    def who(self, cadre_id: str) -> str:
        """:func:`honorific` of the cadre."""
        said = self._who.get(cadre_id)
        if said is None:
            said = self._who[cadre_id] = _titled(
                self._name(cadre_id), self._gender.get(cadre_id), self.t
            )
        return said

    def reason(self, rule: str, post_position: str | None = None) -> str:
        """:func:`rule_reason` of the rule."""
        key = (rule, post_position)
        said = self._reasons.get(key)
        if said is None:
            said = self._reasons[key] = rule_reason(rule, self.rules, self.t, post_position)
        return said


def rule_reason(rule: str, rules: Rules, t: Translator, post_position: str | None = None) -> str:
    """Why a rule refuses a cadre, in plain words ('has held the current post less than 2
    years'); a rule without its own phrase is named by its label."""
    n_ = t.number
    phrases: dict[str, str] = {
        "minimum_tenure": t._("has held the current post less than {n} years").format(
            n=n_(rules.min_years_in_post, 0 if float(rules.min_years_in_post).is_integer() else 1)
        ),
        "maximum_tenure": t._("has held the post for the maximum tenure"),
        "rating": t._("was not rated {rating} or better in each of the last {n} years").format(
            rating=t.pgettext("rating", str(rules.min_rating)), n=rules.rating_years
        ),
        "retirement": t._("is less than {n} years from retirement").format(
            n=n_(rules.min_years_to_retirement)
        ),
        "retirement_from_office": t._(
            "comes from an office and is less than {n} years from retirement"
        ).format(n=n_(rules.min_years_to_retirement_from_office)),
        "discipline": t._("is under a disciplinary measure"),
        "travel_distance": t._("lives too far away (more than {n} km)").format(
            n=n_(rules.max_travel_km) if rules.max_travel_km is not None else "–"
        ),
        "personal_travel_limit": t._("lives beyond their own travel limit"),
        "planning_list": t._("is not on the planning list for {position}").format(
            position=t.position(post_position) if post_position else ""
        ),
        "exclusion": t._("was excluded by the planner"),
        "not_movable": t._("cannot be moved"),
        "out_of_scope_post": t._("holds a post outside this plan"),
        "other_province": t._("works in another province"),
        "merged_commune": t._("the commune is merged"),
    }
    return phrases.get(rule, t.rule(rule))


def plain_explanation(
    data: ProblemData,
    rules: Rules,
    a: Assignment,
    t: Translator,
    wording: Wording | None = None,
) -> str:
    """The choice for one post in plain words with names: 'Chọn ông A (cách 12 km, không phải
    người địa phương); bà B gần hơn 3 km nhưng chưa đủ 2 năm giữ chức vụ hiện tại'.

    ``wording``: names and reasons worked out once, for many explanations (a workbook's)."""
    if a.cadre_id is None:
        return t._("Post left vacant")
    who_of: Callable[[str], str]
    reason_of: Callable[[str, str | None], str]
    if wording is not None:  # a workbook's many explanations: names and reasons worked out once
        who_of, reason_of = wording.who, wording.reason
    else:
        who_of = lambda cid: honorific(data, cid, t)  # noqa: E731
        reason_of = lambda rule, position: rule_reason(rule, rules, t, position)  # noqa: E731
    who = who_of(a.cadre_id)
    facts = [t._("{km} away").format(km=t.km(a.travel_km))]
    facts.append(t._("non-local") if a.non_local else t._("local"))
    verb = t._("Chose {who}") if a.changed else t._("Kept {who}")
    parts = [f"{verb.format(who=who)} ({', '.join(facts)})"]
    extra = a.model_extra or {}
    alts = extra.get("alternatives", a.alternatives) or []
    for alt in alts:
        if not isinstance(alt, dict) or not alt.get("cadre_id"):
            continue
        other = who_of(str(alt["cadre_id"]))
        rule = alt.get("failed_rule")
        km = alt.get("travel_km")
        if rule:
            reason = reason_of(str(rule), a.position)
            if isinstance(km, int | float) and km < a.travel_km:
                parts.append(
                    t._("{who} is {km} nearer but {reason}").format(
                        who=other, km=t.km(a.travel_km - km), reason=reason
                    )
                )
            else:
                parts.append(t._("{who} {reason}").format(who=other, reason=reason))
        elif (alt.get("why_not") or "").startswith("holds "):
            parts.append(t._("{who} is needed at another post in this plan").format(who=other))
        elif isinstance(alt.get("cost_difference"), int | float):
            parts.append(t._("{who} would cost more in the plan as a whole").format(who=other))
    return "; ".join(parts)
