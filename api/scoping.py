"""What a key may see, and the dataset a scoped solve works on.

A key's scope is a unit id (a province or a district; none = everything). A unit is *within* a
scope when it is the scope unit or lies under it. A solve for a scoped key works on a filtered
copy of the dataset: the posts whose unit is within the scope, and the cadres whose current unit
or residence is within it, except cadres holding a post outside the scope (they keep it). Every
unit stays (distances and the hierarchy need them).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from rotation.data import CADRE_COLUMNS, POST_COLUMNS, UNIT_COLUMNS, ProblemData


def within(hierarchy: dict[str, list[Any]], unit_id: str | None, scope: str | None) -> bool:
    """Is ``unit_id`` (None = the whole dataset) inside ``scope`` (None = everything)?"""
    if scope is None:
        return True
    if unit_id is None:
        return False
    if unit_id == scope:
        return True
    info = hierarchy.get(unit_id)
    return info is not None and scope in (info[1], info[2])


def units_within(data: ProblemData, scope: str) -> set[str]:
    u = data.units
    mask = (u.index == scope) | (u["province_id"] == scope) | (u["district_id"] == scope)
    return set(u.index[mask])


def restrict(data: ProblemData, scope: str | None) -> ProblemData:
    """The dataset a key with this scope plans on (see the module docstring)."""
    if scope is None:
        return data
    inside = units_within(data, scope)
    posts = data.posts[data.posts["unit_id"].isin(inside)]
    held_elsewhere = set(data.posts["incumbent_id"].dropna()) - set(posts["incumbent_id"].dropna())
    c = data.cadres
    keep = (c["current_unit_id"].isin(inside) | c["residence_id"].isin(inside)) & ~c.index.isin(
        list(held_elsewhere)
    )
    keep |= c.index.isin(list(posts["incumbent_id"].dropna()))
    return rebuild(data, cadres=c[keep], posts=posts)


def rebuild(data: ProblemData, **tables: Any) -> ProblemData:
    """A fresh ProblemData with some tables replaced; ratings/relations follow the cadres."""
    cadres = tables.get("cadres", data.cadres)
    posts = tables.get("posts", data.posts)
    ids = set(cadres.index)
    ratings = data.ratings[data.ratings["cadre_id"].isin(ids)].reset_index(drop=True)
    rel = data.relations
    relations = rel[rel["cadre_id"].isin(ids) & rel["relative_id"].isin(ids)].reset_index(drop=True)
    out = ProblemData.build(
        units=data.units[UNIT_COLUMNS].copy(),
        cadres=cadres[CADRE_COLUMNS].copy(),
        posts=posts[POST_COLUMNS].copy(),
        ratings=ratings,
        relations=relations,
        travel=data.travel,
        roads=data.roads,
        name=data.name,
    )
    return out


def scope_counts(data: ProblemData) -> dict[str, int | dict[str, int]]:
    """Units, cadres, posts, vacant posts and posts per position of a (restricted) dataset."""
    posts = data.posts
    return {
        "units": len(data.units),
        "cadres": len(data.cadres),
        "posts": len(posts),
        "vacant_posts": int(posts["incumbent_id"].isna().sum()),
        "positions": {str(k): int(v) for k, v in posts["position"].value_counts().items()},
    }


def counts_by_scope(data: ProblemData) -> dict[str, dict[str, Any]]:
    """For every province and district unit, the counts a key scoped to it may see (the same
    cadres and posts :func:`restrict` keeps; units within the scope), computed once at upload
    so a scoped summary needs no table.

    A cadre holding a post counts where the post lies; any other cadre where their current unit
    or residence lies (both, when they differ).
    """
    u = data.units
    area = u.index[u["level"].isin(["province", "district"])]

    def scopes_of(units: pd.Series) -> pd.DataFrame:
        """(row, scope) pairs: each unit is within itself, its province and its district."""
        frames = [
            pd.DataFrame({"row": units.index, "scope": units.to_numpy()}),
            pd.DataFrame({"row": units.index, "scope": units.map(u["province_id"]).to_numpy()}),
            pd.DataFrame({"row": units.index, "scope": units.map(u["district_id"]).to_numpy()}),
        ]
        out = pd.concat(frames).dropna()
        return out[out["scope"].isin(area)].drop_duplicates()

    posts = data.posts
    post_scopes = scopes_of(posts["unit_id"])
    post_scopes = post_scopes.join(posts[["incumbent_id", "position"]], on="row")
    c = data.cadres
    holding = posts.dropna(subset=["incumbent_id"]).set_index("incumbent_id")["unit_id"]
    holding = holding[~holding.index.duplicated()]
    held = c.index.isin(holding.index)
    free = c[~held]
    cadre_scopes = pd.concat(
        [
            scopes_of(holding[holding.index.isin(c.index)]),
            scopes_of(free["current_unit_id"]),
            scopes_of(free["residence_id"]),
        ]
    ).drop_duplicates()
    unit_scopes = scopes_of(pd.Series(u.index, index=u.index))

    cadres_n = cadre_scopes.groupby("scope").size()
    units_n = unit_scopes.groupby("scope").size()
    posts_n = post_scopes.groupby("scope").size()
    vacant_n = post_scopes[post_scopes["incumbent_id"].isna()].groupby("scope").size()
    out: dict[str, dict[str, Any]] = {}
    for scope in sorted(str(a) for a in area):
        mine = post_scopes[post_scopes["scope"] == scope]
        out[scope] = {
            "units": int(units_n.get(scope, 0)),
            "cadres": int(cadres_n.get(scope, 0)),
            "posts": int(posts_n.get(scope, 0)),
            "vacant_posts": int(vacant_n.get(scope, 0)),
            "positions": {str(k): int(v) for k, v in mine["position"].value_counts().items()},
        }
    return out
