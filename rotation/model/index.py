"""Index structures over the eligible pairs (by post, by cadre, keep pairs, target groups),
built once with numpy so no rule loops over all (cadre, post) combinations."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..eligibility import Eligibility
from ..rules import NonLocalTarget


@dataclass
class ChangeTerms:
    """``changed(post) = const + sum(coefs * x[pairs]) + sum(arrive[arrivals]) + sum(vacant[vacs])``
    (1 when the post changes holder, 0 when it keeps it)."""

    const: int = 0
    pairs: list[int] = field(default_factory=list)
    coefs: list[int] = field(default_factory=list)
    arrivals: list[int] = field(default_factory=list)
    vacs: list[int] = field(default_factory=list)


class PairIndex:
    def __init__(self, elig: Eligibility) -> None:
        self.elig = elig
        posts = elig.posts
        self.n_pairs = elig.n_pairs
        self.allow_vacancies = elig.rules.allow_vacancies
        self.post_index = {pid: i for i, pid in enumerate(posts.index)}
        self.cadre_index = {cid: i for i, cid in enumerate(elig.data.cadres.index)}
        order = np.argsort(elig.pair_post, kind="stable")
        bounds = np.searchsorted(elig.pair_post[order], np.arange(len(posts) + 1))
        order = order.astype(np.int64, copy=False)
        order.setflags(write=False)  # rows hold views of it (post_pairs)
        self._by_post = (order, bounds.tolist())
        corder = np.argsort(elig.pair_cadre, kind="stable").astype(np.int64, copy=False)
        corder.setflags(write=False)
        cads, starts = np.unique(elig.pair_cadre[corder], return_index=True)
        ends = np.append(starts[1:], len(corder)) if len(starts) else starts
        self._by_cadre = (corder, cads.tolist(), starts.tolist(), ends.tolist())
        self.keep_pair = {int(elig.pair_post[k]): int(k) for k in np.nonzero(elig.pair_keep)[0]}
        self.has_incumbent = posts["incumbent_id"].notna().to_numpy()

    def post_pairs(self, p: int) -> np.ndarray:
        """Post ``p``'s pairs, in pair order (a read-only view: never written to)."""
        order, bounds = self._by_post
        return order[bounds[p] : bounds[p + 1]]

    def cadre_pairs(self) -> Iterator[tuple[int, np.ndarray]]:
        """(cadre, its pairs in pair order) for each cadre with a pair, by cadre (views, as
        :meth:`post_pairs`)."""
        corder, cads, starts, ends = self._by_cadre
        for c, s, t in zip(cads, starts, ends, strict=True):
            yield c, corder[s:t]

    def pairs_of_one_cadre(self, c: int) -> np.ndarray:
        """Cadre ``c``'s pairs in pair order (empty when it has none; a view)."""
        corder, cads, starts, ends = self._by_cadre
        i = bisect_left(cads, c)
        if i == len(cads) or cads[i] != c:
            return corder[:0]
        return corder[starts[i] : ends[i]]

    @cached_property
    def pairs_of_post(self) -> list[list[int]]:
        """Each post's pairs (:meth:`post_pairs`) as lists, made on first use."""
        return [self.post_pairs(p).tolist() for p in range(len(self.elig.posts))]

    @cached_property
    def pairs_of_cadre(self) -> dict[int, list[int]]:
        """Each cadre's pairs (:meth:`cadre_pairs`) as lists, made on first use."""
        return {c: pairs.tolist() for c, pairs in self.cadre_pairs()}

    @cached_property
    def pair_index(self) -> dict[tuple[int, int], int]:
        e = self.elig
        return {
            (int(p), int(c)): k
            for k, (p, c) in enumerate(
                zip(e.pair_post.tolist(), e.pair_cadre.tolist(), strict=True)
            )
        }

    def change_terms(self, p: int) -> ChangeTerms:
        """Whether post ``p`` changes holder, as a linear form: 1 − x(incumbent stays) for a post
        with an incumbent (left vacant, it changes too), else 1 when it is filled."""
        if self.has_incumbent[p]:
            k = self.keep_pair.get(p)
            return ChangeTerms(1, [] if k is None else [k], [] if k is None else [-1])
        pairs = self.pairs_of_post[p]
        return ChangeTerms(0, list(pairs), [1] * len(pairs))

    def newcomer_terms(self) -> tuple[np.ndarray, list[int]]:
        """The newly appointed, as (pairs, arrivals): in a single plan every chosen new-post
        pair is a newcomer (no arrival literals needed)."""
        return np.nonzero(~self.elig.pair_keep)[0], []

    def target_groups(self, t: NonLocalTarget) -> Iterator[tuple[str, list[int], int]]:
        """(scope unit, post indices, required non-local holders) for one target."""
        e = self.elig
        idx = np.nonzero((e.posts["position"] == t.position).to_numpy())[0]
        scopes = e.data.scope_of(e.posts["unit_id"].to_numpy()[idx], t.scope_level).to_numpy()
        groups: dict[str, list[int]] = defaultdict(list)
        for p, s in zip(idx.tolist(), scopes, strict=True):
            groups[s].append(p)
        for s in sorted(groups):
            yield s, groups[s], t.required(len(groups[s]), s)
