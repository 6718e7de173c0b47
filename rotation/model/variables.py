"""CP-SAT decision variables: one boolean per eligible (cadre, post) pair, plus vacancy flags.

Index structures (pairs by post, by cadre, keep pairs) are built once from the eligibility arrays
so the constraint functions never loop over all (cadre, post) combinations.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

import numpy as np
from ortools.sat.python import cp_model

from ..eligibility import Eligibility
from ..rules import NonLocalTarget


class Variables:
    def __init__(self, elig: Eligibility) -> None:
        self.elig = elig
        self.cp = cp_model.CpModel()
        n = elig.n_pairs
        self.x = [self.cp.NewBoolVar(f"x{k}") for k in range(n)]
        posts = elig.posts
        self.post_index = {pid: i for i, pid in enumerate(posts.index)}
        self.cadre_index = {cid: i for i, cid in enumerate(elig.data.cadres.index)}
        order = np.argsort(elig.pair_post, kind="stable")
        bounds = np.searchsorted(elig.pair_post[order], np.arange(len(posts) + 1))
        self.pairs_of_post: list[list[int]] = [
            order[bounds[p] : bounds[p + 1]].tolist() for p in range(len(posts))
        ]
        by_cadre: dict[int, list[int]] = defaultdict(list)
        for k, c in enumerate(elig.pair_cadre.tolist()):
            by_cadre[c].append(k)
        self.pairs_of_cadre = dict(by_cadre)
        self.pair_index = {
            (int(p), int(c)): k
            for k, (p, c) in enumerate(zip(elig.pair_post, elig.pair_cadre, strict=True))
        }
        self.keep_pair = {int(elig.pair_post[k]): int(k) for k in np.nonzero(elig.pair_keep)[0]}
        self.has_incumbent = posts["incumbent_id"].notna().to_numpy()
        self.vacant = (
            {p: self.cp.NewBoolVar(f"vacant{p}") for p in range(len(posts))}
            if elig.rules.allow_vacancies
            else {}
        )

    def target_groups(self, t: NonLocalTarget) -> Iterator[tuple[str, list[int], int]]:
        """(scope unit, post indices, required non-local holders) for one target."""
        e = self.elig
        mask = (e.posts["position"] == t.position).to_numpy()
        idx = np.nonzero(mask)[0]
        scopes = e.data.scope_of(e.posts["unit_id"].to_numpy()[idx], t.scope_level).to_numpy()
        groups: dict[str, list[int]] = defaultdict(list)
        for p, s in zip(idx.tolist(), scopes, strict=True):
            groups[s].append(p)
        for s in sorted(groups):
            yield s, groups[s], t.required(len(groups[s]))

    def changed_expr(self, p: int):
        """1 when post ``p``'s holder changes: the incumbent does not stay (posts with one), or
        the post is filled (vacant posts)."""
        if self.has_incumbent[p]:
            k = self.keep_pair.get(p)
            return 1 if k is None else 1 - self.x[k]
        return sum(self.x[k] for k in self.pairs_of_post[p])
