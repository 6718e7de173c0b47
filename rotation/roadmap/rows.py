"""The rules that span rounds of a term roadmap, as rows of their own: one function per rule.

Every single-round rule (fill every post, one post per cadre, keep required incumbents, locks,
relatives, non-local targets, change caps) is the single plan's own row producer applied to each
round (``rotation.model.constraints`` over :class:`~rotation.roadmap.rounds.RoundVariables`).
What only a term has is here, each a :class:`SpanRow` over the holding and arrival literals of
several rounds, named and scoped as a planner names it so a diagnosis can point at it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from ..concepts import retirement_dates, years_between
from ..data import ProblemData
from ..rules import Rules
from .horizon import Horizon, stay_until
from .rounds import RoundTerms


class Term(NamedTuple):
    """``coef`` × (pair ``pair`` of round ``round`` held / arriving)."""

    round: int
    kind: Literal["hold", "arrive"]
    pair: int
    coef: int = 1


@dataclass
class SpanRow:
    """``lo <= sum(terms) <= hi`` for one instance of a cross-round rule; ``round``: the round
    the instance belongs to (the one a diagnosis names)."""

    rule: str
    scope: str
    detail: str
    round: int
    terms: list[Term] = field(default_factory=list)
    lo: int | None = None
    hi: int | None = None
    relaxable: bool = True  # False: structural, never named in a diagnosis


@dataclass
class TermIndex:
    """What the cross-round rules read: the rounds' pairs and variables and the term's facts."""

    base: ProblemData
    rules: Rules
    horizon: Horizon
    rounds: Sequence[RoundTerms]
    retired: list[set[str]]  # cadre ids retired by each round's date

    @property
    def days(self) -> list[dt.date]:
        return self.horizon.rounds

    def pairs_of_cadre(self, k: int, cadre_id: str) -> list[int]:
        r = self.rounds[k]
        c = r.cadre_index.get(cadre_id)
        return r.pairs_of_cadre.get(c, []) if c is not None else []


# ------------------------------------------------------------------------ cross-round rules
def arrival(t: TermIndex) -> Iterator[SpanRow]:
    """A cadre arrives at a post in a round when they hold it then and did not hold it in the
    round before (structural: defines the arrival that the change cap, the change cost and the
    minimum stay count)."""
    for k, r in enumerate(t.rounds):
        for j in r.arrive_pairs:
            prev = int(r.prev[j])
            pid = r.elig.post_id(int(r.elig.pair_post[j]))
            now, was, arr = Term(k, "hold", j), Term(k - 1, "hold", prev), Term(k, "arrive", j)
            for terms, lo, hi in (
                ([arr, now._replace(coef=-1), was], 0, None),  # arrives if newly held
                ([arr, was], None, 1),  # not if held before
                ([arr, now._replace(coef=-1)], None, 0),  # not if not held now
            ):
                yield SpanRow("arrival", pid, "", k, terms, lo, hi, relaxable=False)


def continue_only(t: TermIndex) -> Iterator[SpanRow]:
    """A pair that cannot arrive in a round is held only by continuing from the round before:
    a cadre who took a post earlier may stay on although a newcomer could no longer take it,
    and an original incumbent who left does not come back (structural)."""
    for k, r in enumerate(t.rounds):
        if k == 0:
            continue  # the original incumbents' own posts: kept or left, nothing to continue
        for j in range(r.n_pairs):
            if r.can_arrive[j]:
                continue
            terms = [Term(k, "hold", j)]
            if r.prev[j] >= 0:
                terms.append(Term(k - 1, "hold", int(r.prev[j]), -1))
            pid = r.elig.post_id(int(r.elig.pair_post[j]))
            yield SpanRow("continue_only", pid, "", k, terms, None, 0, relaxable=False)


def minimum_stay(t: TermIndex) -> Iterator[SpanRow]:
    """A cadre who takes a new post keeps it for ``min_stay_years`` (Decree 170/2025 art. 48),
    unless they retire before."""
    h = t.horizon
    for k, r in enumerate(t.rounds):
        for j in range(r.n_pairs):
            if not r.can_arrive[j]:
                continue
            gid = int(r.gids[j])
            cid = r.elig.cadre_id(int(r.elig.pair_cadre[j]))
            pid = r.elig.post_id(int(r.elig.pair_post[j]))
            until = stay_until(t.days[k], h.min_stay_years)
            for k2 in range(k + 1, len(t.rounds)):
                if t.days[k2] >= until or cid in t.retired[k2]:
                    break
                terms = [Term(k, "arrive", j, -1)]
                j2 = t.rounds[k2].pair_of_gid.get(gid)
                if j2 is not None:
                    terms.append(Term(k2, "hold", j2))
                detail = f"{cid} arrives {t.days[k].year}, stays until {until.isoformat()}"
                yield SpanRow("min_stay", pid, detail, k, terms, 0, None)


def office_wait(t: TermIndex) -> Iterator[SpanRow]:
    """A cadre released to an office takes no new post before ``min_years_in_post`` there (their
    office tenure restarts); after that, only a post of a position on their planning list (back
    in an office, a lateral move no longer exists), and only with
    ``min_years_to_retirement_from_office`` left at the arrival (Reg. 65: from an office to a
    commune post).

    Released in round k = held a post in the round before (before round 0: an incumbent of an
    in-scope post) and holds none in round k; each later arrival is then bounded by
    ``arrivals(k2) + held(k − 1) − held(k) <= 1``.
    """
    base, days = t.base, t.days
    wait = t.rules.min_years_in_post
    retire = retirement_dates(base, t.rules)
    from_office = t.rules.min_years_to_retirement_from_office
    # in an office's post before the term: the in-scope posts' incumbents and those of a merged
    # commune's post (it is not filled: its incumbent is released in round 0 unless placed)
    merged = t.base.posts.loc[t.base.posts.index.isin(t.base.merged_posts), "incumbent_id"]
    start = {c for c in t.rounds[0].elig.posts["incumbent_id"] if isinstance(c, str)}
    start |= {c for c in merged if isinstance(c, str)}
    cadres = sorted({r.elig.cadre_id(int(c)) for r in t.rounds for c in r.pairs_of_cadre})
    position = t.rounds[0].elig.posts["position"].to_numpy()
    for c in cadres:
        planned = base.cadres.at[c, "planned_positions"]
        for k in range(len(days)):
            if c in t.retired[k]:
                break
            terms = [Term(k, "hold", j, -1) for j in t.pairs_of_cadre(k, c)]
            if k:
                before = [Term(k - 1, "hold", j) for j in t.pairs_of_cadre(k - 1, c)]
                if not before:
                    continue
                terms += before
                hi = 1
            elif c in start:
                hi = 0  # held a post before the term: 1 − 1
            else:
                continue
            for k2 in range(k + 1, len(days)):
                waiting = years_between(days[k], days[k2]) < wait - 1e-9
                too_late = years_between(days[k2], retire[c]) < from_office
                r2 = t.rounds[k2]
                arrivals = [
                    Term(k2, "arrive", j)
                    for j in t.pairs_of_cadre(k2, c)
                    if r2.can_arrive[j]
                    and (waiting or too_late or position[r2.elig.pair_post[j]] not in planned)
                ]
                if arrivals:
                    detail = f"{c} released {days[k].year}: no new post in {days[k2].year}"
                    yield SpanRow("office_wait", c, detail, k, arrivals + terms, None, hi)


def never_decrease(t: TermIndex) -> Iterator[SpanRow]:
    """With a trajectory's ``never_decrease``, a scope's non-local holders never fall in number
    from one round to the next (a target, once reached, is kept)."""
    e0 = t.rounds[0]
    for target in t.horizon.trajectory:
        if not target.never_decrease:
            continue
        groups: dict[str, list[int]] = defaultdict(list)
        idx = [p for p, pos in enumerate(e0.elig.posts["position"]) if pos == target.position]
        units = e0.elig.posts["unit_id"].to_numpy()[idx]
        for p, s in zip(idx, t.base.scope_of(list(units), target.scope_level), strict=True):
            groups[str(s)].append(p)
        for scope in sorted(groups):
            for k in range(1, len(t.rounds)):
                terms = []
                for kk, sign in ((k, 1), (k - 1, -1)):
                    r = t.rounds[kk]
                    terms += [
                        Term(kk, "hold", j, sign)
                        for p in groups[scope]
                        for j in r.pairs_of_post[p]
                        if r.elig.pair_non_local[j]
                    ]
                detail = f"{target.position}: non-local {t.days[k - 1].year} → {t.days[k].year}"
                yield SpanRow("never_decrease", scope, detail, k, terms, 0, None)


CrossRule = Callable[[TermIndex], Iterator[SpanRow]]

CROSS_ROUND_RULES: tuple[CrossRule, ...] = (
    arrival,
    continue_only,
    minimum_stay,
    office_wait,
    never_decrease,
)
"""The registry of rules that span rounds, in order (one function per rule)."""


def span_rows(t: TermIndex) -> Iterator[SpanRow]:
    for rule in CROSS_ROUND_RULES:
        yield from rule(t)


__all__ = [
    "CROSS_ROUND_RULES",
    "CrossRule",
    "SpanRow",
    "Term",
    "TermIndex",
    "arrival",
    "continue_only",
    "minimum_stay",
    "never_decrease",
    "office_wait",
    "span_rows",
]
