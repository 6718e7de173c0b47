"""Dependencies as ``Annotated`` aliases: the store, the job runner, settings and the caller.

Routes get everything through these, never through module globals, so tests can override them
(``app.dependency_overrides[get_store] = ...``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, HTTPException, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .jobs import JobRunner
from .models import Dataset, Job, PlanRow, RoadmapRow
from .scoping import within
from .settings import Settings
from .store import Store

if TYPE_CHECKING:
    from rotation.rules import Rules

bearer = HTTPBearer(auto_error=False, description="API key: `Authorization: Bearer rk_…`")


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_runner(request: Request) -> JobRunner:
    return request.app.state.runner


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


StoreDep = Annotated[Store, Depends(get_store)]
RunnerDep = Annotated[JobRunner, Depends(get_runner)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


@dataclass(frozen=True)
class Principal:
    """The caller: key id, role (admin | planner | viewer) and scope unit (None = everything)."""

    key_id: str
    role: str
    scope: str | None

    @property
    def can_write(self) -> bool:
        return self.role in ("admin", "planner")


def get_principal(
    request: Request,
    store: StoreDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller, or 401. The principal (or the key id a failed attempt named) is kept on the
    request so that refusals can be audited (api/problems.py)."""
    if creds is None or not creds.credentials:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing API key (Authorization: Bearer)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    parts = creds.credentials.split("_", 2)
    if len(parts) == 3 and parts[0] == "rk" and parts[1].isalnum() and len(parts[1]) <= 32:
        request.state.presented_key_id = parts[1]  # the public half only, never the secret
    row = store.check_key(creds.credentials)
    if row is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "unknown or revoked API key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = Principal(key_id=row.id, role=row.role, scope=row.scope_unit_id)
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]

STREAM_TOKEN_DOC = (
    "a stream token from `POST /v1/jobs/{job_id}/stream-token`, for clients that cannot send "
    "an Authorization header (a browser's EventSource); short-lived, for this job only. An API "
    "key is never accepted here."
)


def get_stream_principal(
    job_id: str,
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    token: Annotated[str | None, Query(description=STREAM_TOKEN_DOC, max_length=512)] = None,
) -> Principal:
    """Who opens a job's event stream: the key in the Authorization header, or a stream token
    in ``?token=`` (api/stream_tokens.py) bound to this job, acting as the key that asked for
    it. 401 for a missing, tampered, expired or foreign token (and for an API key put in the
    URL, which is refused outright), 403 for a good token of another job."""
    from . import stream_tokens

    if token is None:
        return get_principal(request, store, creds)
    try:
        key_id = stream_tokens.key_id_of(token)
        request.state.presented_key_id = key_id if key_id.isalnum() and len(key_id) <= 32 else None
        row = store.active_key(key_id)
        stream_tokens.verify(
            token,
            row,
            job_id,
            settings.stream_token_ttl_s,
            settings.stream_secret.get_secret_value(),
        )
    except stream_tokens.TokenError as err:
        headers = {"WWW-Authenticate": "Bearer"} if err.status == 401 else None
        raise HTTPException(err.status, err.message, headers=headers) from None
    assert row is not None
    principal = Principal(key_id=row.id, role=row.role, scope=row.scope_unit_id)
    request.state.principal = principal
    return principal


StreamPrincipalDep = Annotated[Principal, Depends(get_stream_principal)]


def get_writer(p: PrincipalDep) -> Principal:
    if not p.can_write:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "this key is read-only (role viewer)")
    return p


WriterDep = Annotated[Principal, Depends(get_writer)]


# --------------------------------------------------------------------------- visibility
def _not_found(what: str, ident: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"{what} {ident!r} not found")


def dataset_visible(ds: Dataset, p: Principal) -> bool:
    return p.scope is None or p.scope in ds.hierarchy


def visible_dataset(store: Store, p: Principal, dataset_id: str) -> Dataset:
    """The dataset *without its tables* (see ``Store.dataset_meta``; read them with
    :func:`dataset_tables`), or 404 when it does not exist *or* lies outside the key's scope."""
    ds = store.dataset_meta(dataset_id)
    if ds is None or not dataset_visible(ds, p):
        raise _not_found("dataset", dataset_id)
    return ds


def dataset_tables(store: Store, ds: Dataset) -> dict[str, Any]:
    """The stored tables of a dataset already found visible (404 if deleted meanwhile)."""
    tables = store.dataset_tables(ds.id)
    if tables is None:
        raise _not_found("dataset", ds.id)
    return tables


def _scoped_visible(store: Store, p: Principal, dataset_id: str, scope: str | None) -> bool:
    if p.scope is None:
        return True
    ds = store.dataset_meta(dataset_id)
    return ds is not None and dataset_visible(ds, p) and within(ds.hierarchy, scope, p.scope)


def visible_job(store: Store, p: Principal, job_id: str) -> Job:
    job = store.get_job(job_id)
    if job is None or not _scoped_visible(store, p, job.dataset_id, job.scope_unit_id):
        raise _not_found("job", job_id)
    return job


def visible_plan(store: Store, p: Principal, plan_id: str) -> PlanRow:
    plan = store.get_plan(plan_id)
    if plan is None or not _scoped_visible(store, p, plan.dataset_id, plan.scope_unit_id):
        raise _not_found("plan", plan_id)
    return plan


def visible_roadmap(store: Store, p: Principal, roadmap_id: str) -> RoadmapRow:
    row = store.get_roadmap(roadmap_id)
    if row is None or not _scoped_visible(store, p, row.dataset_id, row.scope_unit_id):
        raise _not_found("roadmap", roadmap_id)
    return row


def checked_rules(body: dict[str, Any] | None, settings: Settings) -> Rules:
    """A request's rules body as :class:`rotation.rules.Rules`, or 422 with one line per problem
    (unknown keys name the closest known one; every field within its documented range; the
    time limit is capped by the settings)."""
    from rotation.rules import RulesError, load_rules

    try:
        rules = load_rules(body or {})
    except RulesError as err:
        raise HTTPException(422, list(err.messages)) from None
    if rules.time_limit_s > settings.max_time_limit_s:
        raise HTTPException(422, [f"time_limit_s: at most {settings.max_time_limit_s:g} s here"])
    return rules


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json_strict(raw: bytes, what: str = "body") -> Any:
    """JSON as RFC 8259 has it: ``NaN``, ``Infinity`` and ``-Infinity`` refused (Python's json
    accepts them), bad UTF-8 and runaway nesting refused; 422 naming ``what``."""
    try:
        return json.loads(raw, parse_constant=_refuse_constant)
    except RecursionError:
        raise HTTPException(422, [f"{what}: JSON nested too deeply"]) from None
    except (ValueError, UnicodeDecodeError) as err:
        raise HTTPException(422, [f"{what}: not valid JSON ({err})"]) from None


async def rules_body(request: Request, settings: SettingsDep) -> dict[str, Any]:
    """The rules body of a solve request, read before anything is queued or stored: at most
    ``MAX_RULES_KB`` (413 beyond, counted as it streams in), JSON without NaN/Infinity (422), a
    JSON object or empty (= all defaults)."""
    limit = settings.max_rules_bytes
    too_big = HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE,
        [f"body: rules larger than the limit of {limit // 1024} KB (MAX_RULES_KB)"],
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_big
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        return {}
    if ctype and ctype != "application/json" and not ctype.endswith("+json"):
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            [f"body: send the rules as application/json, not {ctype!r}"],
        )
    body = parse_json_strict(raw, "body")
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise HTTPException(422, ["body: the rules must be a JSON object of keys to values"])
    return body


RulesBodyDep = Annotated[dict[str, Any], Depends(rules_body)]

RULES_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": False,
        "description": "rules (contract §2; every key optional, see rotation/rules.py for the "
        "defaults and ranges); at most MAX_RULES_KB (default 1 MB); no NaN/Infinity",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RulesDocument"}}},
    }
}
"""OpenAPI for a rules body read by :func:`rules_body` (not by FastAPI's own JSON parser); the
``RulesDocument`` schema (api/documents.py) is put in the components by api/main.py."""


def check_pairs(store: Store, ds: Dataset, scope: str | None, rules: Rules) -> None:
    """Every lock and exclusion names a post and a cadre of the dataset *as the key sees it*
    (the scoped copy a solve works on): else 422 naming the field and value. A post or cadre
    outside the key's scope gets the same answer as one that does not exist."""
    if not rules.locks and not rules.exclude:
        return
    from rotation.errors import DataError

    from .ingest import problem_data
    from .scoping import restrict

    try:
        data = restrict(problem_data(dataset_tables(store, ds)), scope)
    except DataError as err:  # stored tables were checked on upload; say so if not
        raise HTTPException(409, [f"dataset: {p}" for p in err.problems]) from None
    posts, cadres = set(data.posts.index), set(data.cadres.index)
    problems = []
    for name in ("locks", "exclude"):
        for i, pair in enumerate(getattr(rules, name)):
            if pair.post_id not in posts:
                problems.append(f"{name}.{i}.post_id: no post {pair.post_id!r} in this dataset")
            if pair.cadre_id not in cadres:
                problems.append(f"{name}.{i}.cadre_id: no cadre {pair.cadre_id!r} in this dataset")
    if problems:
        raise HTTPException(422, problems)
