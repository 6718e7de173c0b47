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

from dataclasses import dataclass, replace

import numpy as np
from ortools.sat.python import cp_model

from ..data import ProblemData
from ..eligibility import Eligibility, compute_eligibility
from ..model import PairIndex, Variables, pair_costs
from ..model.index import ChangeTerms
from ..rules import Rules


class Candidates:
    """Every pair used in some round, numbered once for the whole term (post and cadre as
    indices into the in-scope posts and the cadres of the term's base data), in the order
    they were first added: arrays ``post``, ``cadre``, ``km``, ``non_local`` by number."""

    def __init__(self) -> None:
        self.post = np.zeros(0, dtype=np.int32)
        self.cadre = np.zeros(0, dtype=np.int32)
        self.km = np.zeros(0, dtype=float)
        self.non_local = np.zeros(0, dtype=bool)
        self._sorted_keys = np.zeros(0, dtype=np.int64)  # (post, cadre) keys, sorted
        self._sorted_gids = np.zeros(0, dtype=np.int64)  # ... and their numbers

    @staticmethod
    def _keys(post: np.ndarray, cadre: np.ndarray) -> np.ndarray:
        return (np.asarray(post, dtype=np.int64) << 32) | np.asarray(cadre, dtype=np.int64)

    def add_many(
        self, post: np.ndarray, cadre: np.ndarray, km: np.ndarray, non_local: np.ndarray
    ) -> np.ndarray:
        """The numbers of the distinct pairs (post[i], cadre[i]); a pair not yet numbered gets
        the next number, in the order given."""
        keys = self._keys(post, cadre)
        pos = np.searchsorted(self._sorted_keys, keys)
        pos_ok = np.minimum(pos, max(len(self._sorted_keys) - 1, 0))
        known = (
            self._sorted_keys[pos_ok] == keys
            if len(self._sorted_keys)
            else np.zeros(len(keys), dtype=bool)
        )
        gids = np.empty(len(keys), dtype=np.int64)
        gids[known] = self._sorted_gids[pos_ok[known]]
        new = np.nonzero(~known)[0]
        gids[new] = len(self) + np.arange(len(new))
        self.post = np.concatenate([self.post, np.asarray(post, dtype=np.int32)[new]])
        self.cadre = np.concatenate([self.cadre, np.asarray(cadre, dtype=np.int32)[new]])
        self.km = np.concatenate([self.km, np.asarray(km, dtype=float)[new]])
        self.non_local = np.concatenate([self.non_local, np.asarray(non_local, dtype=bool)[new]])
        all_keys = np.concatenate([self._sorted_keys, keys[new]])
        all_gids = np.concatenate([self._sorted_gids, gids[new]])
        order = np.argsort(all_keys, kind="stable")
        self._sorted_keys, self._sorted_gids = all_keys[order], all_gids[order]
        return gids

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
    picked_gids = cand.add_many(
        e.pair_post[picked], e.pair_cadre[picked], e.pair_km[picked], e.pair_non_local[picked]
    )
    carried = np.zeros(0, dtype=np.int64)  # continuations: non-keep pairs of the round before
    if before is not None:
        going_on = ~before.elig.pair_keep & ~gone[before.elig.pair_cadre]
        carried = before.gids[going_on].astype(np.int64)
    gids = np.union1d(picked_gids, carried).astype(np.int64)  # sorted, distinct
    by_gid = np.argsort(picked_gids, kind="stable")
    at = np.minimum(np.searchsorted(picked_gids[by_gid], gids), max(len(picked) - 1, 0))
    found = picked_gids[by_gid][at] == gids if len(picked) else np.zeros(len(gids), dtype=bool)
    src = np.where(found, picked[by_gid][at] if len(picked) else -1, -1).astype(np.int64)
    is_cand = src >= 0
    post = cand.post[gids].astype(np.int32)
    cadre = cand.cadre[gids].astype(np.int32)
    km = cand.km[gids].astype(float)
    nl = cand.non_local[gids].astype(bool)
    keep = np.zeros(len(gids), dtype=bool)
    keep[is_cand] = e.pair_keep[src[is_cand]]
    support = np.zeros(len(gids), dtype=e.pair_support_vnd.dtype)
    support[is_cand] = e.pair_support_vnd[src[is_cand]]
    bonus = {}
    for term, flags in e.bonus.items():
        b = np.zeros(len(gids), dtype=bool)
        b[is_cand] = flags[src[is_cand]]
        bonus[term] = b
    prev = _index_in(before.gids if before is not None else np.zeros(0, dtype=np.int64), gids)
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


def _index_in(sorted_gids: np.ndarray, gids: np.ndarray) -> np.ndarray:
    """Each of ``gids``' position in ``sorted_gids`` (ascending, distinct), −1 where absent."""
    if not len(sorted_gids):
        return np.full(len(gids), -1, dtype=np.int64)
    at = np.minimum(np.searchsorted(sorted_gids, gids), len(sorted_gids) - 1)
    return np.where(sorted_gids[at] == gids, at, -1).astype(np.int64)


def restrict_round(
    rp: RoundPairs, keep: np.ndarray, arrive_ok: np.ndarray, before: RoundPairs | None
) -> RoundPairs:
    """``rp`` with only the pairs where ``keep`` holds, arriving only where ``arrive_ok`` also
    holds (reduced-cost fixing: the others are provably 0 in every optimal roadmap), linked to
    the (restricted) round ``before``."""
    idx = np.nonzero(keep)[0]
    gids = rp.gids[idx]
    prev = _index_in(before.gids if before is not None else np.zeros(0, dtype=np.int64), gids)
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
