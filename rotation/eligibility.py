"""Which cadre may hold which post: (cadre, post) pairs, computed once, vectorised, with the
reason for every refusal.

Only eligible pairs become decision variables. A pair is either a *keep* pair (the incumbent stays)
or a *new post* pair (the cadre takes a post other than the one held before), which must pass:

- cadre level (rule names from rotation.rulebook): ``out_of_scope_post``, ``not_movable``,
  ``minimum_tenure``, ``rating``, ``retirement``, ``discipline``;
- pair level: ``retirement_from_office`` (office → commune post), ``travel_distance``,
  ``personal_travel_limit``, ``planning_list``, ``exclusion``,
  and the post's own province when ``same_province`` (reason ``other_province``).

A keep pair is refused only by ``maximum_tenure``. Incumbents who are not movable or below the
minimum tenure *must* keep their post (``must_keep``), which the model enforces.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pandas as pd

from .concepts import (
    cadre_facts,
    in_group,
    local_pairs,
    support_vnd,
    wish_rank,
)
from .data import ColumnLookup, ProblemData
from .geo import distances
from .rules import Rules

CADRE_RULES = (
    "out_of_scope_post",
    "not_movable",
    "minimum_tenure",
    "rating",
    "retirement",
    "discipline",
)
PAIR_RULES = (
    "retirement_from_office",
    "travel_distance",
    "personal_travel_limit",
    "planning_list",
    "exclusion",
    "other_province",
)


@dataclass
class Eligibility:
    """Eligible pairs as parallel numpy arrays (no per-pair Python objects)."""

    data: ProblemData
    rules: Rules
    posts: pd.DataFrame  # in-scope posts (index post_id), with scope columns
    facts: pd.DataFrame  # rotation.concepts.cadre_facts
    cadre_block: pd.Series  # cadre_id -> first cadre-level rule refusing new posts ('' = none)
    pair_post: np.ndarray  # int32 index into posts
    pair_cadre: np.ndarray  # int32 index into data.cadres
    pair_km: np.ndarray  # float64 km residence -> post unit
    pair_non_local: np.ndarray  # bool
    pair_keep: np.ndarray  # bool: the incumbent keeping the post
    pair_support_vnd: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    must_keep: dict[int, int] = field(default_factory=dict)  # post idx -> cadre idx (+ reason)
    must_keep_reason: dict[int, str] = field(default_factory=dict)
    over_tenure: dict[int, int] = field(default_factory=dict)  # post idx -> incumbent idx
    bonus: dict[str, np.ndarray] = field(default_factory=dict)  # soft-term indicators per pair

    @property
    def n_pairs(self) -> int:
        return len(self.pair_post)

    @cached_property
    def _cadre_ids(self) -> list[str]:
        return [str(c) for c in self.data.cadres.index]

    def cadre_id(self, idx: int) -> str:
        """The id of cadre ``idx`` (from a list built once, as :meth:`post_id`)."""
        return self._cadre_ids[idx]

    @cached_property
    def _post_ids(self) -> list[str]:
        return [str(p) for p in self.posts.index]

    def post_id(self, idx: int) -> str:
        """The id of in-scope post ``idx`` (a list, not a pandas lookup, per call: the model's
        rows ask once per post)."""
        return self._post_ids[idx]

    def pairs_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "post_id": self.posts.index.to_numpy()[self.pair_post],
                "cadre_id": self.data.cadres.index.to_numpy()[self.pair_cadre],
                "km": self.pair_km,
                "non_local": self.pair_non_local,
                "keep": self.pair_keep,
            }
        )

    def subset(self, mask: np.ndarray) -> Eligibility:
        """The same eligibility restricted to the pairs where ``mask`` is true."""
        return replace(
            self,
            pair_post=self.pair_post[mask],
            pair_cadre=self.pair_cadre[mask],
            pair_km=self.pair_km[mask],
            pair_non_local=self.pair_non_local[mask],
            pair_keep=self.pair_keep[mask],
            pair_support_vnd=self.pair_support_vnd[mask],
            bonus={k: v[mask] for k, v in self.bonus.items()},
        )

    def cheapest_per_post(
        self, score: np.ndarray, k: int, among: np.ndarray | None = None
    ) -> np.ndarray:
        """Mask of the ``k`` pairs with the smallest ``score`` at each post (only pairs where
        ``among`` is true, when given)."""
        idx = np.nonzero(among)[0] if among is not None else np.arange(self.n_pairs)
        order = idx[np.lexsort((score[idx], self.pair_post[idx]))]
        posts = self.pair_post[order]
        rank = np.arange(len(order)) - np.searchsorted(posts, posts, side="left")
        mask = np.zeros(self.n_pairs, dtype=bool)
        mask[order[rank < k]] = True
        return mask

    def pairs_in(self, wanted: set[tuple[str, str]]) -> np.ndarray:
        """Mask of the pairs whose (post_id, cadre_id) is in ``wanted``."""
        mask = np.zeros(self.n_pairs, dtype=bool)
        if wanted:
            pids = self.posts.index.to_numpy()[self.pair_post]
            cids = self.data.cadres.index.to_numpy()[self.pair_cadre]
            mask = np.array([(p, c) in wanted for p, c in zip(pids, cids, strict=True)], bool)
        return mask

    # ------------------------------------------------------------------ refusals
    def why_not(self, cadre_id: str, post_id: str) -> list[tuple[str, str]]:
        """Every rule refusing ``cadre_id`` for ``post_id``: [(rule, detail)], [] = eligible."""
        return refusal_reasons(
            self.data, self.rules, self.facts, cadre_id, post_id, self._refusal_tables
        )

    @cached_property
    def _refusal_tables(self) -> RefusalTables:
        """The tables :func:`refusal_reasons` reads, by id (made once per eligibility)."""
        return RefusalTables(self.data, self.facts)


def in_scope_posts(data: ProblemData, rules: Rules) -> pd.DataFrame:
    """Posts of the plan's positions, with province, district and target scope columns."""
    posts = data.posts[data.posts["position"].isin(rules.positions)]
    posts = posts[~posts.index.isin(data.merged_posts)].copy()  # merged communes: not filled
    posts["province_id"] = data.units["province_id"].reindex(posts["unit_id"]).to_numpy()
    posts["district_scope"] = data.scope_of(posts["unit_id"], "district").to_numpy()
    return posts.sort_index()


def _cadre_blocks(data: ProblemData, rules: Rules, facts: pd.DataFrame) -> pd.Series:
    """First cadre-level rule refusing any new post ('' = free to take one)."""
    c = data.cadres
    in_scope = set(data.posts.index[data.posts["position"].isin(rules.positions)])
    cur = facts["current_post"]
    loses = cur.isin(data.merged_posts)  # the post disappears in a merger: free to move
    block = np.full(len(c), "", dtype=object)
    checks = [
        ("out_of_scope_post", cur.notna() & ~cur.isin(in_scope) & ~loses),
        ("not_movable", ~c["movable"].astype(bool)),
        ("minimum_tenure", (facts["tenure_years"] < rules.min_years_in_post) & ~loses),
        ("rating", ~facts["rating_ok"].astype(bool)),
        ("retirement", facts["years_to_retirement"] < rules.min_years_to_retirement),
        ("discipline", facts["under_discipline"].astype(bool)),
    ]
    for rule, mask in checks:  # on the array: a Series set by a mask array took 1 ms a rule
        block[(block == "") & mask.to_numpy()] = rule
    return pd.Series(block, index=c.index, dtype=object)


def compute_eligibility(data: ProblemData, rules: Rules) -> Eligibility:
    """All eligible (cadre, post) pairs, province by province, vectorised."""
    facts = cadre_facts(data, rules)
    posts = in_scope_posts(data, rules)
    block = _cadre_blocks(data, rules, facts)
    cadres = data.cadres
    cad_pos = {cid: i for i, cid in enumerate(cadres.index)}
    post_pos = {pid: i for i, pid in enumerate(posts.index)}
    dist = distances(data, rules)
    cadre_prov = data.units["province_id"].reindex(cadres["current_unit_id"]).to_numpy()
    prev_pos = data.posts["position"].reindex(facts["current_post"]).to_numpy()
    personal = cadres["max_travel_km"].astype(float).to_numpy()
    planned = cadres["planned_positions"].to_numpy()
    excluded = {(e.post_id, e.cadre_id) for e in rules.exclude}
    limit = np.inf if rules.max_travel_km is None else rules.max_travel_km
    # Reg. 65: from an office to a commune post only with enough years before retirement
    office_short = (
        facts["from_office"].astype(bool)
        & (facts["years_to_retirement"] < rules.min_years_to_retirement_from_office)
    ).to_numpy()
    post_is_commune = data.units["level"].reindex(posts["unit_id"]).to_numpy() == "commune"

    # positions as codes: has_plan[code, cadre] = the cadre is planned for that position;
    # prev_code[cadre] = the code of the position the cadre holds now (-1: none of them)
    positions = list(dict.fromkeys(posts["position"].tolist()))
    pos_code = {pos: k for k, pos in enumerate(positions)}
    has_plan = np.array([[pos in pl for pl in planned] for pos in positions], dtype=bool).reshape(
        len(positions), len(planned)
    )
    post_code = np.fromiter((pos_code[p] for p in posts["position"]), np.int64, len(posts))
    prev_code = np.fromiter(
        (pos_code.get(p, -1) if isinstance(p, str) else -1 for p in prev_pos),
        np.int64,
        len(prev_pos),
    )
    out_post, out_cad, out_km, out_nl, out_keep = [], [], [], [], []
    free = (block == "").to_numpy()
    groups = (
        posts.groupby("province_id", sort=True).indices
        if rules.same_province
        else {None: np.arange(len(posts))}
    )
    for prov, p_idx in groups.items():
        cand = (
            np.nonzero(free & (cadre_prov == prov))[0] if prov is not None else np.nonzero(free)[0]
        )
        prov_posts = posts.iloc[p_idx]
        if len(cand):
            res_ids = cadres["residence_id"].to_numpy()[cand]
            ci, pj, km = dist.pairs(res_ids, prov_posts["unit_id"].to_numpy(), limit)
            ok = np.isfinite(km)  # inf = no route known: never
            ok &= ~(office_short[cand[ci]] & post_is_commune[p_idx[pj]])
            pers = personal[cand][ci]
            ok &= ~(~np.isnan(pers) & (km > pers + 1e-9))
            if rules.require_planning:  # planned for the post's position, or holding it now
                code = post_code[p_idx[pj]]
                ok &= has_plan[code, cand[ci]] | (prev_code[cand[ci]] == code)
            ci, pj, km = ci[ok], pj[ok], km[ok]
            c_sel = cand[ci]
            nl = ~local_pairs(
                data,
                rules,
                cadres["hometown_id"].to_numpy()[cand],
                res_ids,
                prov_posts["unit_id"].to_numpy(),
                pairs=(ci, pj),
            )
            out_post.append(p_idx[pj])
            out_cad.append(c_sel)
            out_km.append(km)
            out_nl.append(nl)
            out_keep.append(np.zeros(len(ci), dtype=bool))
    pair_post = np.concatenate(out_post) if out_post else np.zeros(0, dtype=np.int64)
    pair_cad = np.concatenate(out_cad) if out_cad else np.zeros(0, dtype=np.int64)
    pair_km = np.concatenate(out_km) if out_km else np.zeros(0)
    pair_nl = np.concatenate(out_nl) if out_nl else np.zeros(0, dtype=bool)
    pair_keep = np.concatenate(out_keep) if out_keep else np.zeros(0, dtype=bool)

    # keep pairs: an incumbent staying is a different pair from "taking a new post"; drop the
    # new-post version of it and add the keep pair unless the maximum tenure is reached.
    inc = posts["incumbent_id"]
    inc_post_idx = np.array([post_pos[p] for p in inc.dropna().index], dtype=np.int64)
    inc_cad_idx = np.array([cad_pos[c] for c in inc.dropna()], dtype=np.int64)
    if len(pair_post):
        is_inc_pair = np.isin(
            pair_post * len(cadres) + pair_cad, inc_post_idx * len(cadres) + inc_cad_idx
        )
        keep_mask = ~is_inc_pair
        pair_post, pair_cad, pair_km, pair_nl, pair_keep = (
            a[keep_mask] for a in (pair_post, pair_cad, pair_km, pair_nl, pair_keep)
        )
    over = facts["tenure_years"].to_numpy()[inc_cad_idx] >= (
        np.inf if rules.max_years_in_post is None else rules.max_years_in_post
    )
    stay_p, stay_c = inc_post_idx[~over], inc_cad_idx[~over]
    if len(stay_p):
        units = posts["unit_id"].to_numpy()[stay_p]
        res = cadres["residence_id"].to_numpy()[stay_c]
        km_keep = np.array([dist.km(r, u) for r, u in zip(res, units, strict=True)])
        home = cadres["hometown_id"].to_numpy()[stay_c]
        nl_keep = ~local_pairs(data, rules, home, res, units)
        pair_post = np.concatenate([pair_post, stay_p])
        pair_cad = np.concatenate([pair_cad, stay_c])
        pair_km = np.concatenate([pair_km, km_keep])
        pair_nl = np.concatenate([pair_nl, nl_keep])
        pair_keep = np.concatenate([pair_keep, np.ones(len(stay_p), dtype=bool)])

    # exclusions (few): drop those pairs
    if excluded and len(pair_post):
        keys = set(
            zip(posts.index.to_numpy()[pair_post], cadres.index.to_numpy()[pair_cad], strict=True)
        )
        hit = keys & excluded
        if hit:
            mask = np.array(
                [
                    (posts.index[p], cadres.index[c]) not in hit
                    for p, c in zip(pair_post, pair_cad, strict=True)
                ]
            )
            pair_post, pair_cad, pair_km, pair_nl, pair_keep = (
                a[mask] for a in (pair_post, pair_cad, pair_km, pair_nl, pair_keep)
            )

    order = np.lexsort((pair_cad, pair_post))
    elig = Eligibility(
        data=data,
        rules=rules,
        posts=posts,
        facts=facts,
        cadre_block=block,
        pair_post=pair_post[order].astype(np.int32),
        pair_cadre=pair_cad[order].astype(np.int32),
        pair_km=np.round(pair_km[order].astype(float), 3),
        pair_non_local=pair_nl[order].astype(bool),
        pair_keep=pair_keep[order].astype(bool),
    )
    for p, c, o in zip(inc_post_idx, inc_cad_idx, over, strict=True):
        reason = block.iat[c]
        if o:
            elig.over_tenure[int(p)] = int(c)
        # not movable = never rotated to another post; at the tenure limit the cadre is released
        # (maximum tenure wins), so "must keep" only holds below the limit
        if reason == "minimum_tenure" or (reason == "not_movable" and not o):
            elig.must_keep[int(p)] = int(c)
            elig.must_keep_reason[int(p)] = reason
    elig.bonus = _bonus_indicators(data, rules, facts, elig)
    elig.pair_support_vnd = support_vnd(rules, elig.pair_km, ~elig.pair_keep)
    return elig


def _bonus_indicators(
    data: ProblemData, rules: Rules, facts: pd.DataFrame, e: Eligibility
) -> dict[str, np.ndarray]:
    """Per-pair 0/1 indicators of the reward terms (only for cadres taking a new post)."""
    c = data.cadres
    new = ~e.pair_keep
    women = in_group(data, facts, "women")
    young = in_group(data, facts, "young")
    minority = in_group(data, facts, "minority")
    excellent = (facts["latest_rating"] == "excellent").to_numpy(dtype=bool)
    wished = wish_rank(
        data, c.index.to_numpy(), e.posts["unit_id"].to_numpy(), pairs=(e.pair_cadre, e.pair_post)
    )
    return {
        "priority_women": new & women[e.pair_cadre],
        "priority_young": new & young[e.pair_cadre],
        "priority_minority": new & minority[e.pair_cadre],
        "rating_fit": new & excellent[e.pair_cadre],
        "preference": new & (wished > 0),
    }


class RefusalTables:
    """The cells :func:`refusal_reasons` reads, by id and column (:class:`ColumnLookup`):
    posts, cadres, their facts (:func:`~rotation.concepts.cadre_facts`) and units."""

    def __init__(self, data: ProblemData, facts: pd.DataFrame) -> None:
        self.post = ColumnLookup(data.posts)
        self.cadre = ColumnLookup(data.cadres)
        self.fact = ColumnLookup(facts)
        self.unit = ColumnLookup(data.units)


def refusal_reasons(
    data: ProblemData,
    rules: Rules,
    facts: pd.DataFrame,
    cadre_id: str,
    post_id: str,
    tables: RefusalTables | None = None,
) -> list[tuple[str, str]]:
    """Every rule refusing one (cadre, post) pair, with a planner's detail; [] = eligible.
    ``tables``: the same data and facts by id, when the caller keeps them (many pairs)."""
    t = tables if tables is not None else RefusalTables(data, facts)
    post, cadre, fact, unit = t.post, t.cadre, t.fact, t.unit
    post_unit = post(post_id, "unit_id")
    cadre(cadre_id, "movable")  # an unknown cadre is refused by a KeyError, as a row lookup is
    fact(cadre_id, "tenure_years")
    out: list[tuple[str, str]] = []
    if post_id in data.merged_posts:
        into = unit(post_unit, "merged_into")
        return [("merged_commune", f"{post_unit} is merged into {into}: post not filled")]
    tenure = fact(cadre_id, "tenure_years")
    keep = post(post_id, "incumbent_id") == cadre_id
    if keep:
        if rules.max_years_in_post is not None and tenure >= rules.max_years_in_post:
            out.append(
                (
                    "maximum_tenure",
                    f"{tenure:.1f} years in post, maximum {rules.max_years_in_post:g}",
                )
            )
        return out
    cur = fact(cadre_id, "current_post")
    loses = isinstance(cur, str) and cur in data.merged_posts
    if isinstance(cur, str) and not loses and post(cur, "position") not in rules.positions:
        out.append(("out_of_scope_post", f"holds {cur}, outside the plan's positions"))
    if not bool(cadre(cadre_id, "movable")):
        out.append(("not_movable", "marked not movable"))
    if tenure < rules.min_years_in_post and not loses:
        out.append(
            (
                "minimum_tenure",
                f"{tenure:.1f} years in current post, minimum {rules.min_years_in_post:g}",
            )
        )
    if not bool(fact(cadre_id, "rating_ok")):
        out.append(
            (
                "rating",
                f"not rated {rules.min_rating} or better in each of the last "
                f"{rules.rating_years} years",
            )
        )
    to_retirement = fact(cadre_id, "years_to_retirement")
    if to_retirement < rules.min_years_to_retirement:
        out.append(
            (
                "retirement",
                f"{to_retirement:.1f} years to retirement, minimum "
                f"{rules.min_years_to_retirement:g}",
            )
        )
    if bool(fact(cadre_id, "under_discipline")):
        until = fact(cadre_id, "discipline_until")
        out.append(("discipline", f"under a disciplinary measure until {until}"))
    if (
        bool(fact(cadre_id, "from_office"))
        and unit(post_unit, "level") == "commune"
        and to_retirement < rules.min_years_to_retirement_from_office
    ):
        out.append(
            (
                "retirement_from_office",
                f"{to_retirement:.1f} years to retirement, minimum "
                f"{rules.min_years_to_retirement_from_office:g} coming from an office",
            )
        )
    km = distances(data, rules).km(cadre(cadre_id, "residence_id"), post_unit)
    if not np.isfinite(km):
        out.append(("travel_distance", "no distance known (no coordinates, travel or road row)"))
    elif rules.max_travel_km is not None and km > rules.max_travel_km + 1e-9:
        out.append(
            ("travel_distance", f"{km:.1f} km from residence, limit {rules.max_travel_km:g} km")
        )
    pers = float(cadre(cadre_id, "max_travel_km"))
    if not np.isnan(pers) and km > pers + 1e-9:
        out.append(
            ("personal_travel_limit", f"{km:.1f} km from residence, personal limit {pers:g} km")
        )
    position = post(post_id, "position")
    if rules.require_planning and position not in cadre(cadre_id, "planned_positions"):
        prev = post(cur, "position") if isinstance(cur, str) else None
        if prev != position:
            out.append(("planning_list", f"not on the planning list for {position}"))
    if any(e.post_id == post_id and e.cadre_id == cadre_id for e in rules.exclude):
        out.append(("exclusion", "excluded by the planner"))
    if rules.same_province:
        prov_c = unit(cadre(cadre_id, "current_unit_id"), "province_id")
        prov_p = unit(post_unit, "province_id")
        if prov_c != prov_p:
            out.append(("other_province", "works in another province"))
    return out
