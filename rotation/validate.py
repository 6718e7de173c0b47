"""Check a finished plan against the hard rules and its own claims, straight from the data.

The validator is the independent referee: it reads the data, the rules and a plan (contract §3)
and re-derives everything with the shared concept helpers (``rotation.concepts``, distances from
``rotation.geo``). It never calls eligibility, model or plan-building code (``rotation.plan``
gives it only the plan types): the claims a plan makes about itself — each assignment's flags and
km, ``released``, every KPI — are recomputed by its own code in :mod:`rotation.claims`, so a bug
in the code that wrote them is caught here instead of confirmed.

Semantics (contract §2):

- in-scope posts are those whose position is in ``rules.positions``; every other post keeps its
  incumbent, and the plan must not list it;
- the holder of a post *after* the plan is the plan's cadre for in-scope posts and the incumbent
  for the others; a cadre *takes a new post* when that post is not the one held before (office
  cadres always do);
- an ``infeasible`` plan is only checked for a non-empty diagnosis;
- a claim the plan does not make (an optional field left out: ``previous_post_id``, ``changed``,
  ``non_local``, ``travel_km``, ``released``, any KPI) is not a violation; a claim it makes is
  checked. A plan with only the contract's required fields (status; post, unit, position and
  cadre of each assignment) is judged on the hard rules alone.

Rule names are exactly the keys of :data:`rotation.rulebook.HARD_RULES` and
:data:`rotation.rulebook.CLAIMS` (plus :data:`DIAGNOSIS_RULE` while the rulebook lacks it).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import pandas as pd

from .claims import ClaimContext, plan_facts, wrong_holder_claims, wrong_kpis, wrong_names
from .concepts import (
    cadre_facts,
    in_group,
    rating_ok,
    ratings_by_cadre,
    relative_pairs,
    years_between,
)
from .data import ProblemData
from .plan import Assignment, Plan
from .rulebook import CLAIMS, HARD_RULES
from .rules import Rules

DIAGNOSIS_RULE = "claim_diagnosis"
"""A plan's diagnosis is non-empty exactly when its status is ``infeasible`` (contract §3)."""

RULE_ORDER: list[str] = [*HARD_RULES, *CLAIMS]
if DIAGNOSIS_RULE not in RULE_ORDER:
    RULE_ORDER.append(DIAGNOSIS_RULE)
_RANK = {r: i for i, r in enumerate(RULE_ORDER)}

KM_TOL = 1e-6
"""Tolerance on distance limits (km)."""


@dataclass(frozen=True)
class Violation:
    """One broken rule or false claim, on one post and/or cadre (None when not about one)."""

    rule: str
    post_id: str | None
    cadre_id: str | None
    message: str
    post_label: str | None = field(default=None, compare=False)
    """Readable name for the post (its unit's name), for display only."""
    cadre_label: str | None = field(default=None, compare=False)
    """The cadre's full name, for display only."""

    def __str__(self) -> str:
        parts = []
        if self.post_id is not None:
            parts.append(
                f"post {self.post_id}" + (f" ({self.post_label})" if self.post_label else "")
            )
        if self.cadre_id is not None:
            parts.append(
                f"cadre {self.cadre_id}" + (f" ({self.cadre_label})" if self.cadre_label else "")
            )
        where = ", ".join(parts)
        return f"{self.rule}: {where}: {self.message}" if where else f"{self.rule}: {self.message}"

    def sort_key(self) -> tuple[int, str, str, str]:
        return (
            _RANK.get(self.rule, len(_RANK)),
            self.post_id or "",
            self.cadre_id or "",
            self.message,
        )


def _km(x: float) -> str:
    """71.234 → '71.2', 60.0 → '60', inf → 'unreachable'."""
    if math.isinf(x):
        return "∞"
    return f"{x:.1f}".removesuffix(".0")


def _years(x: float) -> str:
    return f"{x:.1f}".removesuffix(".0")


def _str_or_none(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


class _Checker:
    def __init__(self, data: ProblemData, rules: Rules, plan: Plan) -> None:
        self.data = data
        self.rules = rules
        self.plan = plan
        self.out: list[Violation] = []
        posts = data.posts
        self.incumbent: dict[str, str | None] = {
            p: _str_or_none(c) for p, c in posts["incumbent_id"].items()
        }
        self.unit: dict[str, str] = posts["unit_id"].to_dict()
        self.position: dict[str, str] = posts["position"].to_dict()
        positions = set(rules.positions)
        self.merged: set[str] = set(data.merged_posts)  # merged communes: their posts are gone
        self.in_scope: set[str] = {
            p for p, pos in self.position.items() if pos in positions and p not in self.merged
        }
        self.prev_post: dict[str, str] = {c: p for p, c in self.incumbent.items() if c}
        self.cadres = data.cadres
        self.claims = ClaimContext(data, rules)

    # ------------------------------------------------------------------ helpers
    def add(self, rule: str, post_id: str | None, cadre_id: str | None, message: str) -> None:
        post_label = None
        if post_id is not None and post_id in self.unit:
            post_label = self.data.unit_name(self.unit[post_id])
        cadre_label = None
        if cadre_id is not None and cadre_id in self.cadres.index:
            cadre_label = self.data.cadre_name(cadre_id)
        self.out.append(Violation(rule, post_id, cadre_id, message, post_label, cadre_label))

    def km(self, from_id: str, to_id: str) -> float:
        return self.claims.km(from_id, to_id)

    def province(self, unit_id: str) -> str | None:
        if unit_id not in self.data.units.index:
            return None
        return _str_or_none(self.data.units.at[unit_id, "province_id"])

    def post_text(self, post_id: str | None) -> str:
        if post_id is None:
            return "no post"
        return f"{post_id} ({self.data.unit_name(self.unit.get(post_id))})"

    def cadre_text(self, cadre_id: str | None) -> str:
        if cadre_id is None:
            return "nobody (vacant)"
        return f"{cadre_id} ({self.data.cadre_name(cadre_id)})"

    # ------------------------------------------------------------------ run
    def run(self) -> list[Violation]:
        plan = self.plan
        if plan.status == "infeasible":
            if not plan.diagnosis:
                self.add(
                    DIAGNOSIS_RULE, None, None, "status is infeasible but the diagnosis is empty"
                )
            return self.sorted()
        if plan.diagnosis:
            self.add(
                DIAGNOSIS_RULE,
                None,
                None,
                f"status is {plan.status} but the diagnosis lists {len(plan.diagnosis)} item(s)",
            )
        self.check_known()
        self.after_state()
        self.check_fill()
        self.check_one_post()
        self.check_keepers()
        self.check_locks()
        self.check_new_posts()
        self.check_relatives()
        self.check_targets()
        self.check_max_changes()
        self.check_priority_shares()
        self.check_budget()
        self.check_claims()
        return self.sorted()

    def sorted(self) -> list[Violation]:
        return sorted(self.out, key=Violation.sort_key)

    # ------------------------------------------------------------------ structure
    def check_known(self) -> None:
        """unknown_post / unknown_cadre; keep the assignments the other checks can read."""
        self.known: list[Assignment] = []
        for a in self.plan.assignments:
            if a.post_id not in self.unit:
                self.add("unknown_post", a.post_id, a.cadre_id, "the post is not in the data")
                continue
            if a.cadre_id is not None and a.cadre_id not in self.cadres.index:
                self.add("unknown_cadre", a.post_id, a.cadre_id, "the cadre is not in the data")
            self.known.append(a)
        for c in self.plan.released:
            if c not in self.cadres.index:
                self.add("unknown_cadre", None, c, "released cadre is not in the data")
        # in-scope pairs with a known cadre: what every per-cadre rule reads
        self.pairs: list[tuple[str, str]] = [
            (a.post_id, a.cadre_id)
            for a in self.known
            if a.post_id in self.in_scope
            and a.cadre_id is not None
            and a.cadre_id in self.cadres.index
        ]

    def after_state(self) -> None:
        """Holder of every post after the plan; posts every cadre holds after the plan."""
        holder: dict[str, str | None] = {}
        for a in self.known:
            if a.post_id in self.in_scope and a.post_id not in holder:
                holder[a.post_id] = a.cadre_id
        for p in self.in_scope:
            holder.setdefault(p, None)  # missing from the plan: nobody holds it
        for p in self.unit:
            if p not in self.in_scope:
                holder[p] = None if p in self.merged else self.incumbent[p]
        self.holder = holder
        holds: dict[str, set[str]] = defaultdict(set)
        for a in self.known:
            if a.post_id in self.in_scope and a.cadre_id is not None:
                holds[a.cadre_id].add(a.post_id)
        for p in self.unit:
            if p not in self.in_scope and p not in self.merged and self.incumbent[p]:
                holds[self.incumbent[p]].add(p)  # type: ignore[index]
        self.holds = holds

    def check_fill(self) -> None:
        counts: dict[str, int] = defaultdict(int)
        for a in self.known:
            counts[a.post_id] += 1
            if a.post_id in self.merged:
                into = self.data.units.at[self.unit[a.post_id], "merged_into"]
                self.add(
                    "merged_commune",
                    a.post_id,
                    a.cadre_id,
                    f"the commune is merged into {into} ({self.data.unit_name(into)}): its "
                    "post is not filled",
                )
            elif a.post_id not in self.in_scope:
                self.add(
                    "fill_every_post",
                    a.post_id,
                    a.cadre_id,
                    f"position {self.position[a.post_id]} is outside the plan's positions "
                    f"({', '.join(self.rules.positions)}); the post keeps its incumbent "
                    "and must not be in the plan",
                )
            elif a.cadre_id is None and not self.rules.allow_vacancies:
                self.add(
                    "fill_every_post",
                    a.post_id,
                    None,
                    "left vacant, but the rules do not allow vacancies",
                )
        for p in sorted(self.in_scope):
            n = counts.get(p, 0)
            if n == 0:
                self.add("fill_every_post", p, None, "the post is missing from the plan")
            elif n > 1:
                self.add("fill_every_post", p, None, f"the post appears {n} times in the plan")

    def check_one_post(self) -> None:
        for c, posts in sorted(self.holds.items()):
            if len(posts) > 1:
                names = ", ".join(self.post_text(p) for p in sorted(posts))
                for p in sorted(posts):
                    if p in self.in_scope:
                        self.add(
                            "one_post_per_cadre",
                            p,
                            c,
                            f"holds {len(posts)} posts after the plan: {names}",
                        )

    # ------------------------------------------------------------------ keepers
    def check_keepers(self) -> None:
        """out_of_scope_post, not_movable, minimum_tenure, maximum_tenure."""
        facts = cadre_facts(self.data, self.rules)
        self.facts = facts
        taken: dict[str, list[str]] = defaultdict(list)
        for p, c in self.pairs:
            taken[c].append(p)
        r = self.rules
        for c in sorted(self.cadres.index):
            cur = self.prev_post.get(c)
            new = sorted(taken.get(c, []))
            loses = cur is not None and cur in self.merged  # the post disappears in a merger
            if loses:
                cur = None  # free like an office cadre; the minimum tenure no longer holds
            if cur is not None and cur not in self.in_scope:
                for p in new:
                    self.add(
                        "out_of_scope_post",
                        p,
                        c,
                        f"holds {self.post_text(cur)} (position {self.position[cur]}, outside "
                        "the plan's positions) and must keep it",
                    )
                continue
            movable = bool(self.cadres.at[c, "movable"])
            tenure = float(facts.at[c, "tenure_years"])
            short = tenure < r.min_years_in_post and not loses
            for rule, applies, why in (
                ("not_movable", not movable, "is marked not movable"),
                (
                    "minimum_tenure",
                    short,
                    f"has {_years(tenure)} years in the current post, less than "
                    f"min_years_in_post {_years(r.min_years_in_post)}",
                ),
            ):
                if not applies:
                    continue
                over = r.max_years_in_post is not None and tenure >= r.max_years_in_post
                if cur is not None:
                    h = self.holder.get(cur)
                    if rule == "not_movable" and over and not [p for p in new if p != cur]:
                        continue  # at the tenure limit a not-movable cadre is released, not moved
                    if h != c:
                        elsewhere = [p for p in new if p != cur]
                        extra = f" and takes {self.post_text(elsewhere[0])}" if elsewhere else ""
                        self.add(
                            rule,
                            cur,
                            c,
                            f"{why} but leaves the post (now held by {self.cadre_text(h)}){extra}",
                        )
                else:
                    for p in new:
                        self.add(rule, p, c, f"{why} but takes a post from the office")
            if (
                r.max_years_in_post is not None
                and cur is not None
                and tenure >= r.max_years_in_post
                and self.holder.get(cur) == c
            ):
                self.add(
                    "maximum_tenure",
                    cur,
                    c,
                    f"keeps the post after {_years(tenure)} years, max_years_in_post "
                    f"{_years(r.max_years_in_post)}",
                )

    def check_locks(self) -> None:
        for lk in self.rules.locks:
            if lk.post_id not in self.unit:
                self.add("lock", lk.post_id, lk.cadre_id, "locked post is not in the data")
                continue
            h = self.holder.get(lk.post_id)
            if h != lk.cadre_id:
                self.add(
                    "lock",
                    lk.post_id,
                    lk.cadre_id,
                    f"locked to this cadre, but held by {self.cadre_text(h)}",
                )
        for ex in self.rules.exclude:
            if (ex.post_id, ex.cadre_id) in set(self.pairs):
                self.add(
                    "exclusion",
                    ex.post_id,
                    ex.cadre_id,
                    "the rules exclude this cadre from this post",
                )

    # ------------------------------------------------------------------ new posts
    def check_new_posts(self) -> None:
        r = self.rules
        ratings = ratings_by_cadre(self.data)
        for p, c in self.pairs:
            prev = self.prev_post.get(c)
            if prev == p:
                continue
            row = self.cadres.loc[c]
            pos = self.position[p]
            if r.require_planning:
                pl = row["planned_positions"]
                planned = tuple(pl) if isinstance(pl, (tuple, list)) else ()
                lateral = prev is not None and self.position.get(prev) == pos
                if pos not in planned and not lateral:
                    self.add(
                        "planning_list",
                        p,
                        c,
                        f"position {pos} is not on the planning list "
                        f"({', '.join(planned) or 'empty'}) and is not the current position",
                    )
            if not rating_ok(ratings.get(c, {}), r):
                got = ratings.get(c, {})
                years = [r.as_of.year - k for k in range(1, r.rating_years + 1)]
                shown = ", ".join(f"{y}: {got.get(y, 'missing')}" for y in sorted(years))
                self.add(
                    "rating", p, c, f"rated {shown}; needs at least {r.min_rating} in each year"
                )
            rd = self.facts.at[c, "retirement_date"]  # concepts.retirement_date, per cadre
            left = years_between(r.as_of, rd)
            if left < r.min_years_to_retirement:
                self.add(
                    "retirement",
                    p,
                    c,
                    f"retires on {rd.isoformat()}, {_years(left)} years after "
                    f"{r.as_of.isoformat()}; needs {_years(r.min_years_to_retirement)}",
                )
            until = self.facts.at[c, "discipline_until"]
            if until is not None and r.as_of < until:
                self.add(
                    "discipline",
                    p,
                    c,
                    f"under a disciplinary measure until {until.isoformat()} "
                    f"(discipline_months after the measure); takes no new post before",
                )
            office = self.data.units.at[row["current_unit_id"], "level"] != "commune"
            to_commune = self.data.units.at[self.unit[p], "level"] == "commune"
            if office and to_commune and left < r.min_years_to_retirement_from_office:
                self.add(
                    "retirement_from_office",
                    p,
                    c,
                    f"comes from an office and retires on {rd.isoformat()}, {_years(left)} "
                    f"years after {r.as_of.isoformat()}; needs "
                    f"{_years(r.min_years_to_retirement_from_office)} (Reg. 65)",
                )
            km = self.km(row["residence_id"], self.unit[p])
            if r.max_travel_km is not None and not km <= r.max_travel_km + KM_TOL:
                self.add(
                    "travel_distance",
                    p,
                    c,
                    f"{_km(km)} km from residence, limit {_km(r.max_travel_km)} km",
                )
            if r.same_province:
                home_prov = self.province(row["current_unit_id"])
                post_prov = self.province(self.unit[p])
                if home_prov != post_prov:
                    self.add(
                        "other_province",
                        p,
                        c,
                        f"works in province {home_prov} "
                        f"({self.data.unit_name(home_prov)}), the post is in {post_prov} "
                        f"({self.data.unit_name(post_prov)})",
                    )
            own = row["max_travel_km"]
            if own is not None and pd.notna(own) and not km <= float(own) + KM_TOL:
                self.add(
                    "personal_travel_limit",
                    p,
                    c,
                    f"{_km(km)} km from residence, personal limit {_km(float(own))} km",
                )

    # ------------------------------------------------------------------ units and scopes
    def check_relatives(self) -> None:
        if not self.rules.forbid_relatives_same_unit:
            return
        pairs = relative_pairs(self.data)
        if not pairs:
            return
        by_unit: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for p, c in self.holder.items():
            if c is not None:
                by_unit[self.unit[p]].append((c, p))
        for unit, held in sorted(by_unit.items()):
            for (c1, p1), (c2, p2) in combinations(sorted(held), 2):
                if c1 != c2 and frozenset((c1, c2)) in pairs:
                    # report on the cadre who arrives (if any), naming the relative
                    c, p, oc, op = (c1, p1, c2, p2)
                    if self.prev_post.get(c2) != p2 and self.prev_post.get(c1) == p1:
                        c, p, oc, op = (c2, p2, c1, p1)
                    self.add(
                        "relatives_same_unit",
                        p,
                        c,
                        f"a relative, {self.cadre_text(oc)}, holds {op} at the same unit "
                        f"{unit} ({self.data.unit_name(unit)})",
                    )

    def _scopes(self, post_ids: list[str], level: str) -> list[str]:
        return self.data.scope_of([self.unit[p] for p in post_ids], level).tolist()

    def _non_local_all(self, pairs: list[tuple[str | None, str]]) -> list[bool]:
        """Whether each (cadre, post) has a non-local holder (no holder, or one not in the
        data: no), learned for all of them at once (:meth:`ClaimContext.learn_locality`)."""
        self.claims.learn_locality(pairs)
        return [self.claims.non_local(c, p) for c, p in pairs]

    def check_targets(self) -> None:
        """non_local_target and never_below_current (today's count per scope, from the data)."""
        for t in self.rules.non_local_targets:
            posts = sorted(
                p for p, pos in self.position.items() if pos == t.position and p not in self.merged
            )
            if not posts:
                continue
            per: dict[str, list[int]] = {}
            held_after = self._non_local_all([(self.holder.get(p), p) for p in posts])
            held_today = self._non_local_all([(self.incumbent[p], p) for p in posts])
            scopes = self._scopes(posts, t.scope_level)
            for s, nl_after, nl_today in zip(scopes, held_after, held_today, strict=True):
                n_nl = per.setdefault(str(s), [0, 0, 0])
                n_nl[0] += 1
                n_nl[1] += int(nl_after)
                n_nl[2] += int(nl_today)
            if self.rules.never_below_current:
                for s, (n, nl, today) in sorted(per.items()):
                    if nl < today:
                        self.add(
                            "never_below_current",
                            None,
                            None,
                            f"{t.scope_level} {s} ({self.data.unit_name(s)}): {nl} of {n} "
                            f"{t.position} posts have a non-local holder after the plan, "
                            f"{today} today",
                        )
            for s, (n, nl, _today) in sorted(per.items()):
                need = t.required(n, s)
                if nl < need:
                    self.add(
                        "non_local_target",
                        None,
                        None,
                        f"{t.scope_level} {s} ({self.data.unit_name(s)}): {nl} of {n} "
                        f"{t.position} posts have a non-local holder, need {need} "
                        f"({t.min_share:.0%})",
                    )

    def check_max_changes(self) -> None:
        changed = sorted(p for p in self.in_scope if self.holder.get(p) != self.incumbent[p])
        for mc in self.rules.change_caps:
            per: dict[str, list[str]] = defaultdict(list)
            for p, s in zip(changed, self._scopes(changed, mc.scope_level), strict=True):
                per[str(s)].append(p)
            for s, ps in sorted(per.items()):
                if len(ps) > mc.cap(s):
                    self.add(
                        "max_changes",
                        None,
                        None,
                        f"{mc.scope_level} {s} ({self.data.unit_name(s)}): {len(ps)} posts "
                        f"change holder ({', '.join(ps)}), limit {mc.cap(s)}",
                    )

    def _new_appointees(self) -> list[tuple[str, str]]:
        return [(p, c) for p, c in self.pairs if self.prev_post.get(c) != p]

    def check_priority_shares(self) -> None:
        new = self._new_appointees()
        for ps in self.rules.priority_shares:
            member = in_group(self.data, self.facts, ps.group)
            pos = {c: i for i, c in enumerate(self.cadres.index)}
            k = sum(int(member[pos[c]]) for _, c in new)
            if k < ps.min_share * len(new) - 1e-9:
                self.add(
                    "priority_shares",
                    None,
                    None,
                    f"{k} of {len(new)} newly appointed cadres are {ps.group}, need at least "
                    f"{ps.min_share:.0%}",
                )

    def check_budget(self) -> None:
        if self.rules.budget_vnd is None:
            return
        total = 0
        for p, c in self._new_appointees():
            km = self.km(self.cadres.at[c, "residence_id"], self.unit[p])
            total += self.rules.support.vnd(round(km, 3)) if math.isfinite(km) else 0
        if total > self.rules.budget_vnd:
            self.add(
                "budget_vnd",
                None,
                None,
                f"support allowances total {total:,} VND, budget {self.rules.budget_vnd:,} VND",
            )

    # ------------------------------------------------------------------ claims
    def check_claims(self) -> None:
        """Each assignment's claims, ``released`` and the KPIs, against the data (only the claims
        the plan makes; see :mod:`rotation.claims`)."""
        self.claims.learn_locality((a.cadre_id, a.post_id) for a in self.known)
        for a in self.known:
            post = self.data.posts.loc[a.post_id]
            if a.unit_id != post["unit_id"] or a.position != post["position"]:
                self.add(
                    "claim_unit_position",
                    a.post_id,
                    a.cadre_id,
                    f"claims unit {a.unit_id} / {a.position}, the data says "
                    f"{post['unit_id']} / {post['position']}",
                )
            for rule, why in wrong_holder_claims(a, self.claims.holding(a), self.rules):
                self.add(rule, a.post_id, a.cadre_id, why)
            for rule, why in wrong_names(a, self.data):
                self.add(rule, a.post_id, a.cadre_id, why)
        if "released" in self.plan.model_fields_set:
            self.check_released()
        self.check_kpis()

    def check_released(self) -> None:
        expected = {
            c
            for p, c in self.incumbent.items()
            if (p in self.in_scope or p in self.merged) and c is not None and not self.holds.get(c)
        }
        claimed = {c for c in self.plan.released if c in self.cadres.index}
        for c in sorted(expected - claimed):
            self.add(
                "claim_released",
                self.prev_post.get(c),
                c,
                "holds no post after the plan but is not listed in released",
            )
        for c in sorted(claimed - expected):
            held = sorted(self.holds.get(c, ()))
            why = (
                f"holds {self.post_text(held[0])} after the plan"
                if held
                else "held no in-scope post before the plan"
            )
            self.add(
                "claim_released", held[0] if held else None, c, f"listed in released but {why}"
            )

    def check_kpis(self) -> None:
        claimed = self.plan.kpis.model_dump(exclude_unset=True) if self.plan.kpis else {}
        for line in wrong_kpis(plan_facts(self.claims, self.known), claimed):
            self.add("claim_kpis", None, None, line)


def validate_plan(data: ProblemData, rules: Rules, plan: Plan) -> list[Violation]:
    """Every hard rule broken and every false claim in ``plan``, ordered by rule (rulebook
    order), then post, then cadre. An empty list means the plan is valid."""
    return _Checker(data, rules, plan).run()


def format_violations(violations: list[Violation]) -> str:
    """One line per violation (what ``rotation validate`` prints)."""
    return "\n".join(str(v) for v in violations)
