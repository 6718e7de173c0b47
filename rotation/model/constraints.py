"""Hard rules as linear rows over the eligible pairs: one function per rule family, named as a
planner names it (the same names as rotation.rulebook, the validator, diagnoses and explanations).

Each function yields :class:`Row` instances (a rule at one post, cadre or scope) in a neutral
linear form. The CP-SAT builder (``variables.py``) and the LP relaxation (``lp.py``) both consume
the same rows, so the bound used to prune pairs and the exact model can never disagree about a
rule. Eligibility rules (travel, planning list, rating, retirement, tenure, exclusions) act
earlier, by removing pairs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from ..concepts import holders_non_local, in_group, relative_pairs
from .index import PairIndex


@dataclass
class Row:
    """``lo <= sum(coefs * x[pairs]) + sum(vacant[vacs]) + sum(arrive[arrivals]) <= hi`` for one
    rule instance.

    ``arrivals`` are pairs whose *arrival* counts (the cadre takes the post in this plan): in a
    single plan a new-post pair arrives exactly when it is chosen, so a single plan's rows never
    need them; in a term roadmap a cadre may hold a post taken in an earlier round, and the
    change cap counts arrivals (see :meth:`PairIndex.change_terms`). ``arrival_coefs``: the
    arrivals' coefficients (all 1 when ``None``).
    """

    rule: str
    scope: str
    detail: str
    pairs: np.ndarray
    coefs: np.ndarray
    lo: float | None = None
    hi: float | None = None
    vacs: list[int] = field(default_factory=list)
    relaxable: bool = True  # False: structural, never named in a diagnosis
    arrivals: list[int] = field(default_factory=list)
    arrival_coefs: np.ndarray | None = None

    def arrival_weights(self) -> np.ndarray:
        if self.arrival_coefs is None:
            return np.ones(len(self.arrivals), dtype=np.int64)
        return self.arrival_coefs


def _ones(pairs: list[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    arr = np.asarray(pairs, dtype=np.int64)
    return arr, np.ones(len(arr), dtype=np.int64)


# ------------------------------------------------------------------------ hard rules
def fill_every_post(ix: PairIndex) -> Iterator[Row]:
    """Every in-scope post gets exactly one holder; a vacancy only when ``allow_vacancies``."""
    e = ix.elig
    for p in range(len(e.posts)):
        pairs, coefs = _ones(ix.post_pairs(p))
        if ix.allow_vacancies:
            yield Row(
                "fill_every_post",
                e.post_id(p),
                "filled or vacant",
                pairs,
                coefs,
                1,
                1,
                vacs=[p],
                relaxable=False,
            )
        else:
            yield Row(
                "fill_every_post",
                e.post_id(p),
                "at most one holder",
                pairs,
                coefs,
                None,
                1,
                relaxable=False,
            )
            yield Row("fill_every_post", e.post_id(p), "must be filled", pairs, coefs, 1, None)


def one_post_per_cadre(ix: PairIndex) -> Iterator[Row]:
    """A cadre holds at most one post (structural: never relaxed)."""
    for c, pairs in ix.cadre_pairs():
        if len(pairs) > 1:
            arr, coefs = _ones(pairs)
            yield Row(
                "one_post_per_cadre", ix.elig.cadre_id(c), "", arr, coefs, None, 1, relaxable=False
            )


def keep_required_incumbents(ix: PairIndex) -> Iterator[Row]:
    """Incumbents who are not movable, or below the minimum tenure, keep their post."""
    e = ix.elig
    for p, c in sorted(e.must_keep.items()):
        k = ix.keep_pair.get(p)  # None: maximum tenure refused the keep pair
        pairs, coefs = _ones([] if k is None else [k])
        yield Row(
            e.must_keep_reason[p],
            e.post_id(p),
            f"{e.cadre_id(c)} keeps {e.post_id(p)}",
            pairs,
            coefs,
            1,
            None,
        )


def locks(ix: PairIndex) -> Iterator[Row]:
    """A locked post goes to the named cadre ("put Y in Z")."""
    for lock in ix.elig.rules.locks:
        p = ix.post_index.get(lock.post_id)
        c = ix.cadre_index.get(lock.cadre_id)
        k = ix.pair_index.get((p, c)) if p is not None and c is not None else None
        pairs, coefs = _ones([] if k is None else [k])
        yield Row("lock", lock.post_id, f"{lock.cadre_id} → {lock.post_id}", pairs, coefs, 1, None)


def relatives_same_unit(ix: PairIndex) -> Iterator[Row]:
    """Two relatives never lead the same unit (Regulation 114-QĐ/TW), counting holders of posts
    outside the plan's scope."""
    e = ix.elig
    data = e.data
    if not e.rules.forbid_relatives_same_unit or data.relations.empty:
        return
    post_unit = e.posts["unit_id"].to_numpy()
    fixed_at: dict[str, set[str]] = defaultdict(set)  # unit -> holders of out-of-scope posts
    out = data.posts[~data.posts.index.isin(e.posts.index)]
    for unit, inc in zip(out["unit_id"], out["incumbent_id"], strict=True):
        if isinstance(inc, str):
            fixed_at[unit].add(inc)

    def at_unit(c: int | None) -> dict[str, list[int]]:
        res: dict[str, list[int]] = defaultdict(list)
        for k in ix.pairs_of_one_cadre(c).tolist() if c is not None else []:
            res[post_unit[e.pair_post[k]]].append(k)
        return res

    for pair in sorted(relative_pairs(data), key=sorted):
        a, b = sorted(pair)
        ua, ub = at_unit(ix.cadre_index.get(a)), at_unit(ix.cadre_index.get(b))
        for u in sorted(set(ua) | set(ub)):
            ka, kb = ua.get(u, []), ub.get(u, [])
            fixed = len({a, b} & fixed_at.get(u, set()))
            if fixed >= 2 or (fixed == 0 and (not ka or not kb)):
                continue
            pairs, coefs = _ones(ka + kb)
            yield Row("relatives_same_unit", u, f"{a} and {b}", pairs, coefs, None, 1 - fixed)


def _non_local_pairs(ix: PairIndex, posts: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
    """The pairs of these posts whose cadre would be a non-local holder, each with coefficient
    1: the count both target rows bound."""
    parts = [ix.post_pairs(p) for p in posts]
    ks = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    return _ones(ks[ix.elig.pair_non_local[ks]])  # the same pairs, in the same order


def non_local_target(ix: PairIndex) -> Iterator[Row]:
    """At least ceil(min_share × n) of each scope's n posts of the position go to non-local
    holders."""
    e = ix.elig
    for t in e.rules.non_local_targets:
        for scope, posts, required in ix.target_groups(t):
            if required <= 0:
                continue
            pairs, coefs = _non_local_pairs(ix, posts)
            yield Row(
                "non_local_target",
                scope,
                f"{t.min_share:.0%} non-local {t.position} posts: {required} of {len(posts)}",
                pairs,
                coefs,
                required,
                None,
            )


def never_below_current(ix: PairIndex) -> Iterator[Row]:
    """No scope of a non-local target ends with fewer non-local holders than today: "more and
    more non-local", never fewer (rules ``never_below_current``). Only scopes where today's count
    exceeds the target's requirement need a row of their own."""
    e = ix.elig
    if not e.rules.never_below_current:
        return
    today = holders_non_local(e.data, e.rules, e.posts).to_numpy()
    for t in e.rules.non_local_targets:
        for scope, posts, required in ix.target_groups(t):
            now = int(today[posts].sum())
            if now <= required:
                continue
            pairs, coefs = _non_local_pairs(ix, posts)
            yield Row(
                "never_below_current",
                scope,
                f"today {now} of {len(posts)} {t.position} posts have non-local holders",
                pairs,
                coefs,
                now,
                None,
            )


def max_changes(ix: PairIndex) -> Iterator[Row]:
    """At most ``count`` posts change holder in each scope (a host locality's capacity; at
    commune level, continuity: not every key post of a commune changes at once). One row per
    cap of ``max_changes`` and scope unit.

    Whether a post changes holder is the index's business (:meth:`PairIndex.change_terms`): in
    a single plan changed(p) = 1 − x(incumbent stays) for a post with an incumbent, and = filled
    for a vacant post; a post left vacant that had an incumbent counts as changed (the constant).
    """
    e = ix.elig
    for mc in e.rules.change_caps:
        scopes = e.data.scope_of(e.posts["unit_id"], mc.scope_level).to_numpy()
        groups: dict[str, list[int]] = defaultdict(list)
        for p, s in enumerate(scopes):
            groups[s].append(p)
        for scope in sorted(groups):
            cap = mc.cap(scope)
            if mc.scope_level == "commune" and cap >= len(groups[scope]):
                continue  # cannot bind: no row (a commune with one post in the plan)
            const = 0
            ks: list[int] = []
            cs: list[int] = []
            arrivals: list[int] = []
            vacs: list[int] = []
            for p in groups[scope]:
                ch = ix.change_terms(p)
                const += ch.const
                ks += ch.pairs
                cs += ch.coefs
                arrivals += ch.arrivals
                vacs += ch.vacs
            yield Row(
                "max_changes",
                scope,
                f"at most {cap} changes",
                np.asarray(ks, dtype=np.int64),
                np.asarray(cs, dtype=np.int64),
                None,
                cap - const,
                vacs=vacs,
                arrivals=arrivals,
            )


PRIORITY_SCALE = 10_000
"""Shares of ``priority_shares`` are written in ten-thousandths, so the row has integer
coefficients: sum over new-post pairs of (10000·in_group − 10000·min_share) ≥ 0."""


def priority_shares(ix: PairIndex) -> Iterator[Row]:
    """Among the cadres who take a new post, at least ``min_share`` are women / young /
    ethnic minority (Conclusion 210: priority groups), one row per group. The newly appointed
    are the index's business (:meth:`PairIndex.newcomer_terms`: a single plan's new-post pairs,
    a roadmap round's arrivals)."""
    e = ix.elig
    if not e.rules.priority_shares:
        return
    new, arrivals = ix.newcomer_terms()
    arr = np.asarray(arrivals, dtype=np.int64)
    for ps in e.rules.priority_shares:
        group = in_group(e.data, e.facts, ps.group)
        share = round(ps.min_share * PRIORITY_SCALE)

        def coefs_of(ks: np.ndarray, group: np.ndarray = group, share: int = share) -> np.ndarray:
            return np.where(group[e.pair_cadre[ks]], PRIORITY_SCALE - share, -share).astype(
                np.int64
            )

        coefs, acoefs = coefs_of(new), coefs_of(arr)
        nz, anz = coefs != 0, acoefs != 0
        yield Row(
            "priority_shares",
            ps.group,
            f"at least {ps.min_share:.0%} {ps.group} among the newly appointed",
            new[nz].astype(np.int64),
            coefs[nz],
            0,
            None,
            arrivals=arr[anz].tolist(),
            arrival_coefs=acoefs[anz],
        )


def budget_vnd(ix: PairIndex) -> Iterator[Row]:
    """The plan's total support allowance (VND, see ``rules.support``) stays within
    ``budget_vnd``; support is paid once, when a cadre takes a new post (a roadmap round's
    arrivals, :meth:`PairIndex.newcomer_terms`)."""
    e = ix.elig
    if e.rules.budget_vnd is None:
        return
    new, arrivals = ix.newcomer_terms()
    pay = e.pair_support_vnd
    nz = new[pay[new] != 0]
    arr = np.asarray(arrivals, dtype=np.int64)
    anz = arr[pay[arr] != 0]
    yield Row(
        "budget_vnd",
        "plan",
        f"support within {e.rules.budget_vnd:,} VND",
        nz.astype(np.int64),
        pay[nz].astype(np.int64),
        None,
        e.rules.budget_vnd,
        arrivals=anz.tolist(),
        arrival_coefs=pay[anz].astype(np.int64),
    )


HARD_CONSTRAINTS = (
    fill_every_post,
    one_post_per_cadre,
    keep_required_incumbents,
    locks,
    relatives_same_unit,
    non_local_target,
    never_below_current,
    max_changes,
    priority_shares,
    budget_vnd,
)
"""The registry of hard rules, in order (Timefold style: one function per rule)."""


def all_rows(ix: PairIndex) -> Iterator[Row]:
    for rule in HARD_CONSTRAINTS:
        yield from rule(ix)
