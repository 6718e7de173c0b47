"""What a key may see, and the dataset a scoped solve works on.

A key's scope is a unit id (a province or a district; none = everything). A unit is *within* a
scope when it is the scope unit or lies under it. A solve for a scoped key works on a filtered
copy of the dataset: the posts whose unit is within the scope, and the cadres whose current unit
or residence is within it, except cadres holding a post outside the scope (they keep it). Every
unit stays (distances and the hierarchy need them).
"""

from __future__ import annotations

from typing import Any

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
