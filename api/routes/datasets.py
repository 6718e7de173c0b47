"""Datasets: upload (.xlsx, .zip of CSVs, or JSON rows), list, read, delete; plan jobs on them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from rotation.errors import DataError

from ..deps import (
    RULES_BODY_DOC,
    Principal,
    PrincipalDep,
    RulesBodyDep,
    RunnerDep,
    SettingsDep,
    StoreDep,
    WriterDep,
    check_pairs,
    checked_rules,
    dataset_tables,
    dataset_visible,
    visible_dataset,
)
from ..documents import DatasetSummary, typed_status_table
from ..ingest import Limits, UploadError, hierarchy, ingest_upload, parse, summary
from ..models import Dataset
from ..schemas import DatasetCreated, DatasetInfo, JobCreated, PlanSummary
from ..scoping import counts_by_scope, restrict, scope_counts, within
from ..store import TERMINAL, Store
from ..upload import read_capped

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "name": {"type": "string"},
                    },
                }
            },
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["tables"],
                    "properties": {
                        "name": {"type": "string"},
                        "tables": {
                            "type": "object",
                            "description": "table name -> rows (objects of column -> value); "
                            "units, cadres and posts are required (contract §1)",
                            "required": ["units", "cadres", "posts"],
                            "additionalProperties": {"type": "array", "items": {"type": "object"}},
                        },
                    },
                }
            },
        },
    }
}


def _counts_in_scope(store: Store, ds: Dataset, scope: str) -> dict[str, Any]:
    """What a key scoped to ``scope`` may count: from the summary's ``by_scope`` (computed at
    upload), else (a dataset stored before it existed, or a scope below district) from the
    scoped copy of the tables."""
    known = ds.summary.get("by_scope", {}).get(scope)
    if known is not None:
        return dict(known)
    from ..ingest import problem_data

    data = restrict(problem_data(dataset_tables(store, ds)), scope)
    counts = scope_counts(data)
    counts["units"] = sum(1 for u in ds.hierarchy if within(ds.hierarchy, u, scope))
    return counts


def _scoped_summary(store: Store, ds: Dataset, scope: str | None) -> dict[str, Any]:
    """The summary as the key may see it: a scoped key gets the counts of its scope only
    (units, cadres, posts, vacant posts, positions), the coverage rows of its scope and the
    scopes around it, and neither the province-wide status table nor the upload warnings
    (which name rows of other districts)."""
    s = dict(ds.summary)
    s.pop("by_scope", None)
    if "status_table" in s:  # numbers as numbers (datasets stored before kept text cells)
        s["status_table"] = typed_status_table(s["status_table"])
    if scope is not None:
        s["coverage"] = [
            c
            for c in s.get("coverage", [])
            if within(ds.hierarchy, c["scope"], scope) or within(ds.hierarchy, scope, c["scope"])
        ]
        s.update(_counts_in_scope(store, ds, scope))
        s["scope"] = scope
        s.pop("status_table", None)
        s["warnings"] = []
    return s


def _info(store: Store, ds: Dataset, scope: str | None) -> DatasetInfo:
    return DatasetInfo(
        dataset_id=ds.id,
        name=ds.name,
        province_id=ds.province_id,
        created_at=ds.created_at.isoformat(),
        summary=DatasetSummary.model_validate(_scoped_summary(store, ds, scope)),
    )


def _ingest(raw: bytes, content_type: str, settings: Any) -> tuple[str, Any, list[str]]:
    """Body → (name, tables, warnings) through the one reader (rotation.ingest, via
    api.ingest.ingest_upload); raises UploadError / DataError / HTTPException."""
    limits = Limits(
        max_total_bytes=int(settings.max_uncompressed_mb * 2**20), max_ratio=settings.max_zip_ratio
    )
    return ingest_upload(raw, content_type, limits)


@router.post(
    "",
    status_code=201,
    response_model=DatasetCreated,
    response_model_exclude_unset=True,
    openapi_extra=UPLOAD_BODY,
)
async def create_dataset(
    request: Request, store: StoreDep, settings: SettingsDep, who: WriterDep
) -> DatasetCreated:
    """Upload a dataset; 422 lists every problem (file, row, column), nothing is stored."""
    raw = await read_capped(request, settings.max_upload_bytes)
    ctype = request.headers.get("content-type", "").lower()

    def work() -> Dataset:
        name, tables, warnings = _ingest(raw, ctype, settings)
        parsed = parse(tables, name)
        hier = hierarchy(parsed.data)
        if who.scope is not None and who.scope not in hier:
            raise HTTPException(403, f"the dataset does not contain your scope unit {who.scope!r}")
        summ = summary(parsed.data, warnings + parsed.warnings)
        summ["by_scope"] = counts_by_scope(parsed.data)
        provinces = summ["provinces"]
        return store.add_dataset(
            name=name,
            province_id=provinces[0] if provinces else None,
            created_by=who.key_id,
            tables=tables,
            hierarchy=hier,
            summary=summ,
        )

    try:
        ds = await run_in_threadpool(work)
    except UploadError as err:
        raise HTTPException(err.status, [str(err)]) from None
    except DataError as err:
        raise HTTPException(422, [str(p) for p in err.problems]) from None
    store.audit(who.key_id, "create", f"dataset:{ds.id}")
    summ = DatasetSummary.model_validate(_scoped_summary(store, ds, who.scope))
    return DatasetCreated(dataset_id=ds.id, summary=summ)


@router.get("", response_model=list[DatasetInfo], response_model_exclude_unset=True)
def list_datasets(store: StoreDep, who: PrincipalDep) -> list[DatasetInfo]:
    """The datasets this key can see (summaries only; no table is read)."""
    return [_info(store, ds, who.scope) for ds in store.list_datasets() if dataset_visible(ds, who)]


@router.get("/{dataset_id}", response_model=DatasetInfo, response_model_exclude_unset=True)
def get_dataset(dataset_id: str, store: StoreDep, who: PrincipalDep) -> DatasetInfo:
    """One dataset's summary, with coverage per scope (restricted to the key's scope)."""
    return _info(store, visible_dataset(store, who, dataset_id), who.scope)


def deletion_refusal(store: Store, ds: Dataset, who: Principal) -> HTTPException | None:
    """Why this key may not delete this dataset (None = it may). The rules (README, "who may
    do what"):

    - a viewer never deletes (403, before this is reached);
    - an unscoped admin deletes any dataset;
    - a scoped admin deletes a dataset it uploaded or one lying wholly inside its scope; a
      planner only a dataset it uploaded (else 403);
    - a scoped key never deletes what other scopes made: when the dataset has jobs (hence plans
      or roadmaps) of a scope not inside the key's, the deletion is refused with 409 and nothing
      is removed (we refuse rather than delete part of it: a dataset is deleted whole or not).
    """
    if who.role == "admin" and who.scope is None:
        return None
    inside = who.scope is None or all(within(ds.hierarchy, u, who.scope) for u in ds.hierarchy)
    mine = ds.created_by == who.key_id
    if not mine and not (who.role == "admin" and inside):
        return HTTPException(
            403,
            "only an unscoped admin, an admin whose scope holds the whole dataset, or the key "
            "that uploaded it may delete this dataset",
        )
    if who.scope is not None:
        foreign = [
            j
            for j, sc, _ in store.jobs_of_dataset(ds.id)
            if not within(ds.hierarchy, sc, who.scope)
        ]
        if foreign:
            return HTTPException(
                409,
                f"the dataset is used by {len(foreign)} job(s) and their plans outside your "
                "scope; ask an unscoped admin to delete it",
            )
    return None


@router.delete("/{dataset_id}", status_code=204)
def delete_dataset(dataset_id: str, store: StoreDep, runner: RunnerDep, who: WriterDep) -> Response:
    """Delete a dataset with its jobs, plans and roadmaps; its unfinished jobs are cancelled
    first. Scoped keys may delete only what lies wholly in their scope (403 / 409 otherwise)."""
    ds = visible_dataset(store, who, dataset_id)
    refusal = deletion_refusal(store, ds, who)
    if refusal is not None:
        raise refusal
    for job_id, _scope, job_status in store.jobs_of_dataset(ds.id):
        if job_status not in TERMINAL:
            runner.cancel(job_id)
            store.audit(who.key_id, "cancel", f"job:{job_id}")
    store.delete_dataset(ds.id)
    store.audit(who.key_id, "delete", f"dataset:{ds.id}")
    return Response(status_code=204)


@router.post(
    "/{dataset_id}/plans", status_code=202, response_model=JobCreated, openapi_extra=RULES_BODY_DOC
)
def create_plan_job(
    dataset_id: str,
    store: StoreDep,
    runner: RunnerDep,
    settings: SettingsDep,
    who: WriterDep,
    rules: RulesBodyDep,
) -> JobCreated:
    """Start a plan job (202); poll GET /v1/jobs/{id}. The plan covers the key's scope only.
    The rules are checked first (ranges, and locks/exclusions naming posts and cadres of the
    dataset in the key's scope): a refusal stores and queues nothing."""
    ds = visible_dataset(store, who, dataset_id)
    check_pairs(store, ds, who.scope, checked_rules(rules, settings))
    job = store.add_job(
        dataset_id=ds.id,
        kind="plan",
        scope_unit_id=who.scope,
        rules=rules,
        spec={},
        created_by=who.key_id,
    )
    store.audit(who.key_id, "solve", f"job:{job.id}")
    runner.submit(job.id)
    return JobCreated(job_id=job.id)


@router.get(
    "/{dataset_id}/plans", response_model=list[PlanSummary], response_model_exclude_unset=True
)
def list_plans(dataset_id: str, store: StoreDep, who: PrincipalDep) -> list[PlanSummary]:
    """The plans (variants) made on this dataset that the key can see, with their KPIs (read
    as summaries: no plan body is loaded)."""
    ds = visible_dataset(store, who, dataset_id)
    return [
        PlanSummary(
            plan_id=p["id"],
            job_id=p["job_id"],
            rank=p["rank"],
            status=p["status"],
            scope=p["scope_unit_id"],
            objective=p["objective"],
            kpis=p["kpis"] or {},
            created_at=p["created_at"].isoformat(),
        )
        for p in store.plan_summaries(ds.id)
        if who.scope is None or within(ds.hierarchy, p["scope_unit_id"], who.scope)
    ]
