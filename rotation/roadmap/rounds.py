"""The pairs and variables of each round of a term roadmap.

A round is planned with the same rule rows as a single plan (``rotation.model.constraints``):
each round gets its own :class:`~rotation.eligibility.Eligibility` restricted to the round's
pairs and a :class:`RoundVariables` (a :class:`~rotation.model.PairIndex` with that round's
CP-SAT variables), so every single-round rule producer reads the round as it reads a plan.

A round's pairs are

- the round's *candidates*: every keep pair (an original incumbent staying), plus per post the
  ``per_post`` cheapest eligible and the ``per_post`` cheapest non-local newcomers (by the
  single-round pair cost at the round's date), the locks and the round-by-round plan's pairs;
- *continuations*: a pair taken in an earlier round, which its holder may keep although the
  round's rules would no longer let a newcomer take it (e.g. the planning list changed).

Only a candidate new-post pair can *arrive* (its cadre takes the post in this round); every
other pair can only continue from the round before (``rotation.roadmap.rows``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from ortools.sat.python import cp_model

from ..data import ProblemData
from ..eligibility import Eligibility, compute_eligibility
from ..model import PairIndex, Variables, pair_costs
from ..model.index import ChangeTerms
from ..rules import Rules


@dataclass
class Candidates:
    """Every pair used in some round, numbered once for the whole term (post and cadre as
    indices into the in-scope posts and the cadres of the term's base data)."""

    index: dict[tuple[int, int], int] = field(default_factory=dict)
    post: list[int] = field(default_factory=list)
    cadre: list[int] = field(default_factory=list)
    km: list[float] = field(default_factory=list)
    non_local: list[bool] = field(default_factory=list)

    def add(self, post: int, cadre: int, km: float, non_local: bool) -> int:
        gid = self.index.get((post, cadre))
        if gid is None:
            gid = len(self.post)
            self.index[(post, cadre)] = gid
            self.post.append(post)
            self.cadre.append(cadre)
            self.km.append(km)
            self.non_local.append(non_local)
        return gid

    def __len__(self) -> int:
        return len(self.post)


class RoundTerms(PairIndex):
    """What a round adds to a single plan's pair index: ``gids``, the term-wide candidate number
    of each pair; ``can_arrive``, the pair may be taken in this round (a new-post pair);
    ``prev``, the same pair's index in the round before (−1: it did not exist then). A pair that
    can arrive and existed the round before has its own arrival literal (linked by
    ``rotation.roadmap.rows.arrival``); otherwise arriving is holding. ``arrive_pairs``: the
    pairs with an arrival literal of their own, in order.
    """

    def _init_round(self, gids: np.ndarray, can_arrive: np.ndarray, prev: np.ndarray) -> None:
        self.gids = gids
        self.can_arrive = can_arrive
        self.prev = prev
        self.pair_of_gid = {int(g): j for j, g in enumerate(gids.tolist())}
        self.arrive_pairs: list[int] = np.nonzero(can_arrive & (prev >= 0))[0].tolist()

    def change_terms(self, p: int) -> ChangeTerms:
        """A post changes holder in a round when someone arrives there (or it is left vacant)."""
        arrivals = [k for k in self.pairs_of_post[p] if self.can_arrive[k]]
        return ChangeTerms(arrivals=arrivals, vacs=[p] if self.allow_vacancies else [])

    def newcomer_terms(self) -> tuple[np.ndarray, list[int]]:
        """The newly appointed of a round are its arrivals (support is paid once, on arrival)."""
        return np.zeros(0, dtype=np.int64), np.nonzero(self.can_arrive)[0].tolist()


class RoundIndex(RoundTerms):
    """One round's pair index without solver variables (the LP relaxation's view)."""

    def __init__(
        self, elig: Eligibility, gids: np.ndarray, can_arrive: np.ndarray, prev: np.ndarray
    ) -> None:
        super().__init__(elig)
        self._init_round(gids, can_arrive, prev)


class RoundVariables(RoundTerms, Variables):
    """One round's pair index and variables, in the term's shared model (see
    :class:`RoundTerms`)."""

    def __init__(
        self,
        elig: Eligibility,
        cp: cp_model.CpModel,
        gids: np.ndarray,
        can_arrive: np.ndarray,
        prev: np.ndarray,
        diagnosing: bool = False,
    ) -> None:
        Variables.__init__(self, elig, diagnosing=diagnosing, cp=cp)
        self._init_round(gids, can_arrive, prev)
        self.arrive = {j: cp.new_bool_var(f"arrive{j}") for j in self.arrive_pairs}

    def arrival(self, k: int) -> cp_model.IntVar:
        if not self.can_arrive[k]:
            raise ValueError(f"pair {k} cannot arrive in this round")
        return self.arrive.get(k, self.x[k])


@dataclass
class RoundPairs:
    """One round's eligibility restricted to its pairs, before variables exist."""

    elig: Eligibility
    gids: np.ndarray
    can_arrive: np.ndarray
    prev: np.ndarray

    def pair_of_gid(self) -> dict[int, int]:
        return {int(g): j for j, g in enumerate(self.gids.tolist())}


def round_pairs(
    base: ProblemData,
    rules_k: Rules,
    retired: set[str],
    cand: Candidates,
    before: RoundPairs | None,
    per_post: int | None,
    extra: set[tuple[str, str]],
) -> RoundPairs:
    """The pairs of one round (see the module docstring); ``extra``: (post_id, cadre_id) pairs to
    add to the candidates (locks, the round-by-round plan); ``per_post=None``: every eligible
    pair is a candidate (the exact roadmap)."""
    e = compute_eligibility(base, rules_k)
    if per_post is None:
        pick = np.ones(e.n_pairs, dtype=bool)
    else:
        costs = pair_costs(e)
        new = ~e.pair_keep
        pick = e.pair_keep | e.cheapest_per_post(costs, per_post, new)
        pick |= e.cheapest_per_post(costs, per_post, new & e.pair_non_local)
        pick |= e.pairs_in(extra)
    gone = base.cadres.index.isin(sorted(retired))
    pick &= ~gone[e.pair_cadre]
    picked = np.nonzero(pick)[0]
    gid_of_j: dict[int, int] = {}  # candidate gid -> index in the round's eligibility
    for j in picked.tolist():
        p, c = int(e.pair_post[j]), int(e.pair_cadre[j])
        gid_of_j[cand.add(p, c, float(e.pair_km[j]), bool(e.pair_non_local[j]))] = j
    carried: set[int] = set()  # continuations: non-keep pairs of the round before
    if before is not None:
        for j, g in enumerate(before.gids.tolist()):
            if not before.elig.pair_keep[j] and not gone[before.elig.pair_cadre[j]]:
                carried.add(int(g))
    gids = np.array(sorted(set(gid_of_j) | carried), dtype=np.int64)
    src = np.array([gid_of_j.get(int(g), -1) for g in gids], dtype=np.int64)
    is_cand = src >= 0
    post = np.array([cand.post[g] for g in gids], dtype=np.int32)
    cadre = np.array([cand.cadre[g] for g in gids], dtype=np.int32)
    km = np.array([cand.km[g] for g in gids], dtype=float)
    nl = np.array([cand.non_local[g] for g in gids], dtype=bool)
    keep = np.zeros(len(gids), dtype=bool)
    keep[is_cand] = e.pair_keep[src[is_cand]]
    support = np.zeros(len(gids), dtype=e.pair_support_vnd.dtype)
    support[is_cand] = e.pair_support_vnd[src[is_cand]]
    bonus = {}
    for term, flags in e.bonus.items():
        b = np.zeros(len(gids), dtype=bool)
        b[is_cand] = flags[src[is_cand]]
        bonus[term] = b
    before_of = before.pair_of_gid() if before is not None else {}
    prev = np.array([before_of.get(int(g), -1) for g in gids], dtype=np.int64)
    must = {p: c for p, c in e.must_keep.items() if e.cadre_id(c) not in retired}
    elig = replace(
        e,
        pair_post=post,
        pair_cadre=cadre,
        pair_km=km,
        pair_non_local=nl,
        pair_keep=keep,
        pair_support_vnd=support,
        bonus=bonus,
        must_keep=must,
        must_keep_reason={p: e.must_keep_reason[p] for p in must},
    )
    return RoundPairs(elig, gids, is_cand & ~keep, prev)


def restrict_round(
    rp: RoundPairs, keep: np.ndarray, arrive_ok: np.ndarray, before: RoundPairs | None
) -> RoundPairs:
    """``rp`` with only the pairs where ``keep`` holds, arriving only where ``arrive_ok`` also
    holds (reduced-cost fixing: the others are provably 0 in every optimal roadmap), linked to
    the (restricted) round ``before``."""
    idx = np.nonzero(keep)[0]
    gids = rp.gids[idx]
    before_of = before.pair_of_gid() if before is not None else {}
    prev = np.array([before_of.get(int(g), -1) for g in gids.tolist()], dtype=np.int64)
    return RoundPairs(rp.elig.subset(keep), gids, rp.can_arrive[idx] & arrive_ok[idx], prev)


__all__ = [
    "Candidates",
    "RoundIndex",
    "RoundPairs",
    "RoundTerms",
    "RoundVariables",
    "restrict_round",
    "round_pairs",
]
