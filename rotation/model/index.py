"""Index structures over the eligible pairs (by post, by cadre, keep pairs, target groups),
built once with numpy so no rule loops over all (cadre, post) combinations."""

from __future__ import annotations

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
        self.pairs_of_post: list[list[int]] = [
            order[bounds[p] : bounds[p + 1]].tolist() for p in range(len(posts))
        ]
        corder = np.argsort(elig.pair_cadre, kind="stable")
        cads, starts = np.unique(elig.pair_cadre[corder], return_index=True)
        ends = np.append(starts[1:], len(corder)) if len(starts) else starts
        self.pairs_of_cadre: dict[int, list[int]] = {
            int(c): corder[s:t].tolist() for c, s, t in zip(cads, starts, ends, strict=True)
        }
        self.keep_pair = {int(elig.pair_post[k]): int(k) for k in np.nonzero(elig.pair_keep)[0]}
        self.has_incumbent = posts["incumbent_id"].notna().to_numpy()

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
