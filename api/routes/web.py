"""The planning page: ``GET /`` and its files (plain ES modules under ``api/static/``), the
labels it shows (from :mod:`rotation.i18n`), and the two reads it needs beyond the plan JSON:
where a dataset stands commune by commune (for the map) and the names behind a plan's ids.

The page is one HTML file and a handful of ES modules served as they are: no build step, no CDN,
no map tiles, so it works offline from the service alone. The API key is sent by the page in the
``Authorization`` header only (kept in ``sessionStorage``), never in a URL.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from rotation.data import ProblemData
from rotation.rules import Rules

from ..deps import PrincipalDep, StoreDep, dataset_tables, visible_dataset, visible_plan
from ..documents import RulesDocument
from ..models import Dataset
from ..store import Store

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
MAP_CACHE_SIZE = 8
"""How many dataset maps (per dataset, scope and position) a process keeps: datasets never
change once stored, so a map is computed once; the national structure takes about a second."""

MAP_TABLES = ("units", "cadres", "posts", "_source")
"""The stored tables the map and the names need: ratings and relations play no part in who is
local or what anything is called, and parsing them doubles the time (national structure)."""

router = APIRouter(tags=["page"])


# --------------------------------------------------------------------------- response models
class Labels(BaseModel):
    """The labels of the codes a planner meets, in one language (from rotation/i18n.py)."""

    lang: Literal["vi", "en"]
    languages: list[str]
    labels: dict[str, dict[str, str]] = Field(
        description="context (position, level, status, rule, kpi, param, …) → code → label"
    )
    currency: str = Field(description="the currency sign of the language ('đ' / 'VND')")


class MapScope(BaseModel):
    """One scope (district, or province in the 2-level hierarchy) for the bars."""

    scope: str
    name: str
    posts: int = Field(description="posts of the position in the scope")
    filled: int = Field(description="posts with a holder")
    non_local: int = Field(description="holders who are not local")
    share: float = Field(description="non_local / filled, 0–1 (0 when nothing is filled)")
    target: float | None = Field(description="the default rules' min_share for the scope, 0–1")


class MapCommune(BaseModel):
    """One commune with its post of the position, its holder and where it lies."""

    unit_id: str
    name: str
    scope: str
    lat: float | None
    lon: float | None
    post_id: str | None
    holder_id: str | None
    holder_name: str | None
    non_local: bool | None = Field(description="None when the post is vacant or missing")


class DatasetMap(BaseModel):
    """Where a dataset stands for one position, commune by commune, under the default rules."""

    dataset_id: str
    name: str
    position: str
    positions: list[str]
    scope_level: str
    scopes: list[MapScope]
    communes: list[MapCommune]


class NamedCadre(BaseModel):
    name: str
    unit_id: str | None = Field(description="where the cadre works today (current_unit_id)")


class NamedUnit(BaseModel):
    name: str
    lat: float | None
    lon: float | None


class NamedPost(BaseModel):
    unit_id: str
    incumbent_id: str | None = Field(description="the holder today, before the plan")


class PlanNames(BaseModel):
    """The names behind a plan's ids: every cadre (holders, alternatives, released, today's
    incumbents) and every unit and post it mentions."""

    plan_id: str
    dataset_id: str
    cadres: dict[str, NamedCadre]
    units: dict[str, NamedUnit]
    posts: dict[str, NamedPost]


class RuleDefaults(BaseModel):
    """The rules a plan gets when a key is not given (rotation/rules.py, one place)."""

    rules: RulesDocument = Field(description="every rules key with its default (contract §2)")


# --------------------------------------------------------------------------- the page
def _static_file(name: str) -> Path:
    """A file under api/static/, or 404 (no path may leave the folder)."""
    root = STATIC_DIR.resolve()
    path = (root / name).resolve()
    if root not in path.parents or not path.is_file():
        raise HTTPException(404, f"no page file {name!r}")
    return path


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def page() -> FileResponse:
    """The planning page."""
    return FileResponse(_static_file("index.html"), headers=PAGE_HEADERS)


@router.get("/static/{name:path}", include_in_schema=False)
def static_file(name: str) -> FileResponse:
    """The page's modules and style sheet, as they are."""
    path = _static_file(name)
    media = MEDIA_TYPES.get(path.suffix, "application/octet-stream")
    return FileResponse(path, media_type=media, headers=PAGE_HEADERS)


@router.get("/v1/labels", response_model=Labels)
def labels(lang: Annotated[Literal["vi", "en"], Query()] = "vi") -> Labels:
    """Labels of positions, levels, statuses, rules, KPIs and rule parameters in one language."""
    from rotation.i18n import CODES, LANGUAGES, translator

    t = translator(lang)
    out: dict[str, dict[str, str]] = {}
    for context, code in CODES:
        out.setdefault(context, {})[code] = t.pgettext(context, code)
    return Labels(lang=lang, languages=list(LANGUAGES), labels=out, currency=t._("VND"))


@router.get("/v1/rules/defaults", response_model=RuleDefaults)
def rule_defaults() -> RuleDefaults:
    """Every rules key and its default: the page's form starts from these, and offers a field
    (such as a budget) only when the service knows its key."""
    from rotation.rules import load_rules

    return RuleDefaults(rules=RulesDocument.model_validate(load_rules({}).model_dump(mode="json")))


# --------------------------------------------------------------------------- dataset map
def _num(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if x != x else x


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def _problem(tables: dict[str, Any]) -> ProblemData:
    """A dataset's units, cadres and posts as a checked ProblemData (see MAP_TABLES)."""
    from ..ingest import problem_data

    return problem_data({k: v for k, v in tables.items() if k in MAP_TABLES})


def _position(data: ProblemData, rules: Rules, asked: str | None) -> tuple[str, list[str]]:
    """The position to draw (asked, else the first target's, else the first one) and all."""
    positions = sorted({str(p) for p in data.posts["position"]})
    default = next((t.position for t in rules.non_local_targets if t.position in positions), None)
    chosen = asked or default or (positions[0] if positions else "secretary")
    if positions and chosen not in positions:
        raise HTTPException(422, f"position {chosen!r} is not in the dataset ({positions})")
    return chosen, positions


def _target_share(data: ProblemData, rules: Rules, position: str, level: str) -> float | None:
    """The default target's min_share (0–1) for ``position`` at ``level``; a district target
    falls back to the province in the 2-level hierarchy, as ProblemData.scope_of reads it."""
    for t in rules.non_local_targets:
        if t.position == position and (t.scope_level == level or not data.has_districts):
            return t.min_share
    return None


def _holders(
    data: ProblemData, rules: Rules, posts: pd.DataFrame
) -> tuple[dict[str, str | None], dict[str, bool], dict[str, str]]:
    """post → today's holder, post → is the holder non-local (rotation.concepts.local_pairs, the
    one definition), holder → name."""
    from rotation.concepts import local_pairs

    holder_of_post = {
        str(p): _str(h) for p, h in zip(posts.index, posts["incumbent_id"], strict=True)
    }
    cad = data.cadres
    held = [h for h in holder_of_post.values() if h is not None and h in cad.index]
    held_posts = [p for p, h in holder_of_post.items() if h is not None and h in cad.index]
    local = local_pairs(
        data,
        rules,
        cad.loc[held, "hometown_id"].tolist(),
        cad.loc[held, "residence_id"].tolist(),
        posts.loc[held_posts, "unit_id"].tolist(),
    )
    non_local = {p: not bool(x) for p, x in zip(held_posts, local, strict=True)}
    names = {str(c): str(n) for c, n in zip(held, cad.loc[held, "full_name"], strict=True)}
    return holder_of_post, non_local, names


def build_map(
    ds: Dataset, tables: dict[str, Any], scope: str | None, position: str | None
) -> DatasetMap:
    """The map of one dataset for one position, seen from ``scope``: each commune's holder,
    local or not under the default rules, and per scope the share against the default target."""
    from rotation.rules import load_rules

    from ..scoping import restrict, units_within

    data = restrict(_problem(tables), scope)
    rules = load_rules({})  # the defaults, documented in rotation/rules.py
    chosen, positions = _position(data, rules, position)
    level = "district" if data.has_districts else "province"
    target_share = _target_share(data, rules, chosen, level)
    units = data.units
    communes = units[units["level"] == "commune"]
    if scope is not None:
        communes = communes[communes.index.isin(list(units_within(data, scope)))]
    posts = data.posts[data.posts["position"] == chosen]
    post_of_unit = {str(u): str(p) for p, u in zip(posts.index, posts["unit_id"], strict=True)}
    holder_of_post, non_local_of_post, names = _holders(data, rules, posts)
    scope_ids = data.scope_of(list(communes.index), level).tolist()
    per: dict[str, dict[str, int]] = {}
    rows = []
    columns = zip(
        communes.index, communes["name"], communes["lat"], communes["lon"], scope_ids, strict=True
    )
    for uid, name, lat, lon, sc in columns:
        post = post_of_unit.get(str(uid))
        holder = holder_of_post.get(post) if post else None
        nl = non_local_of_post.get(post) if post else None
        rows.append(
            MapCommune(
                unit_id=str(uid),
                name=str(name),
                scope=str(sc),
                lat=_num(lat),
                lon=_num(lon),
                post_id=post,
                holder_id=holder,
                holder_name=names.get(holder) if holder else None,
                non_local=nl,
            )
        )
        if post is not None:
            s = per.setdefault(str(sc), {"posts": 0, "filled": 0, "non_local": 0})
            s["posts"] += 1
            s["filled"] += holder is not None
            s["non_local"] += bool(nl)
    scopes = [
        MapScope(
            scope=sc,
            name=data.unit_name(sc),
            posts=s["posts"],
            filled=s["filled"],
            non_local=s["non_local"],
            share=round(s["non_local"] / s["filled"], 6) if s["filled"] else 0.0,
            target=target_share,
        )
        for sc, s in sorted(per.items())
    ]
    return DatasetMap(
        dataset_id=ds.id,
        name=ds.name,
        position=chosen,
        positions=positions,
        scope_level=level,
        scopes=scopes,
        communes=rows,
    )


def _map_cache(request: Request) -> OrderedDict[tuple[str, str | None, str | None], bytes]:
    """The app's cache of map bodies (JSON bytes), kept on ``app.state`` (never a global)."""
    state = request.app.state
    if not hasattr(state, "page_maps"):
        state.page_maps = OrderedDict()
    cache: OrderedDict[tuple[str, str | None, str | None], bytes] = state.page_maps
    return cache


def _map_json(store: Store, ds: Dataset, scope: str | None, position: str | None) -> bytes:
    return (
        build_map(ds, dataset_tables(store, ds), scope, position).model_dump_json().encode("utf-8")
    )


@router.get("/v1/datasets/{dataset_id}/map", response_model=DatasetMap)
async def dataset_map(
    dataset_id: str,
    request: Request,
    store: StoreDep,
    who: PrincipalDep,
    position: Annotated[str | None, Query(description="a position code, e.g. secretary")] = None,
) -> Response:
    """Where the dataset stands commune by commune (holder, local or not, centroid) and per
    scope against the default target: what the page's map and bars draw."""
    ds = visible_dataset(store, who, dataset_id)
    cache = _map_cache(request)
    key = (ds.id, who.scope, position)
    if key not in cache:
        # computed once per dataset, scope and position, then served as stored JSON bytes
        # (the national structure's 3,321 communes: ~0.6 MB, re-validated on every read else)
        cache[key] = await run_in_threadpool(_map_json, store, ds, who.scope, position)
        while len(cache) > MAP_CACHE_SIZE:
            cache.popitem(last=False)
    cache.move_to_end(key)
    return Response(cache[key], media_type="application/json")


# --------------------------------------------------------------------------- plan names
def plan_names(
    ds: Dataset, tables: dict[str, Any], body: dict[str, Any], plan_id: str, scope: str | None
) -> PlanNames:
    """Names of every cadre, unit and post a plan mentions (see :class:`PlanNames`)."""
    from ..scoping import restrict

    data = restrict(_problem(tables), scope)
    post_ids: set[str] = set()
    cadre_ids: set[str] = {str(c) for c in body.get("released", []) or []}
    for a in body.get("assignments", []) or []:
        post_ids.add(str(a.get("post_id")))
        if a.get("previous_post_id"):
            post_ids.add(str(a["previous_post_id"]))
        if a.get("cadre_id"):
            cadre_ids.add(str(a["cadre_id"]))
        for alt in a.get("alternatives", []) or []:
            if alt.get("cadre_id"):
                cadre_ids.add(str(alt["cadre_id"]))
    all_posts = data.posts
    posts: dict[str, NamedPost] = {}
    for p in sorted(post_ids):
        if p in all_posts.index:
            inc = _str(all_posts.at[p, "incumbent_id"])
            posts[p] = NamedPost(unit_id=str(all_posts.at[p, "unit_id"]), incumbent_id=inc)
            if inc:
                cadre_ids.add(inc)
    cad = data.cadres
    cadres = {
        c: NamedCadre(name=data.cadre_name(c), unit_id=_str(cad.at[c, "current_unit_id"]))
        for c in sorted(cadre_ids)
        if c in cad.index
    }
    unit_ids = {p.unit_id for p in posts.values()} | {
        c.unit_id for c in cadres.values() if c.unit_id
    }
    units = data.units
    named_units = {
        u: NamedUnit(
            name=str(units.at[u, "name"]),
            lat=_num(units.at[u, "lat"]),
            lon=_num(units.at[u, "lon"]),
        )
        for u in sorted(unit_ids)
        if u in units.index
    }
    return PlanNames(
        plan_id=plan_id, dataset_id=ds.id, cadres=cadres, units=named_units, posts=posts
    )


@router.get("/v1/plans/{plan_id}/names", response_model=PlanNames)
async def names_of_plan(plan_id: str, store: StoreDep, who: PrincipalDep) -> PlanNames:
    """The names behind a plan's ids (cadres, units, posts and today's holders), for tables and
    maps that show people and places rather than codes."""
    row = visible_plan(store, who, plan_id)
    ds = visible_dataset(store, who, row.dataset_id)

    def work() -> PlanNames:
        return plan_names(ds, dataset_tables(store, ds), row.body, plan_id, row.scope_unit_id)

    return await run_in_threadpool(work)
