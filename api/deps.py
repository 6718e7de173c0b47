"""Dependencies as ``Annotated`` aliases: the store, the job runner, settings and the caller.

Routes get everything through these, never through module globals, so tests can override them
(``app.dependency_overrides[get_store] = ...``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .jobs import JobRunner
from .models import Dataset, Job, PlanRow, RoadmapRow
from .scoping import within
from .settings import Settings
from .store import Store

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
    store: StoreDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if creds is None or not creds.credentials:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing API key (Authorization: Bearer)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    row = store.check_key(creds.credentials)
    if row is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "unknown or revoked API key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Principal(key_id=row.id, role=row.role, scope=row.scope_unit_id)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


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
    """The dataset, or 404 when it does not exist *or* lies outside the key's scope."""
    ds = store.get_dataset(dataset_id)
    if ds is None or not dataset_visible(ds, p):
        raise _not_found("dataset", dataset_id)
    return ds


def _scoped_visible(store: Store, p: Principal, dataset_id: str, scope: str | None) -> bool:
    if p.scope is None:
        return True
    ds = store.get_dataset(dataset_id)
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


def checked_rules(body: dict | None, settings: Settings):
    """A request's rules body as :class:`rotation.rules.Rules`, or 422 with one line per problem
    (unknown keys name the closest known one; the time limit is capped by the settings)."""
    from rotation.rules import RulesError, load_rules

    try:
        rules = load_rules(body or {})
    except RulesError as err:
        raise HTTPException(422, list(err.messages)) from None
    if rules.time_limit_s > settings.max_time_limit_s:
        raise HTTPException(422, [f"time_limit_s: at most {settings.max_time_limit_s:g} s here"])
    return rules
