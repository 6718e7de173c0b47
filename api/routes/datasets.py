"""Datasets: upload (.xlsx, .zip of CSVs, or JSON rows), list, read, delete; plan jobs on them."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from rotation.errors import DataError

from ..deps import (
    PrincipalDep,
    RunnerDep,
    SettingsDep,
    StoreDep,
    WriterDep,
    checked_rules,
    dataset_visible,
    visible_dataset,
)
from ..ingest import (
    Limits,
    UploadError,
    hierarchy,
    parse,
    summary,
    tables_from_json,
    tables_from_xlsx,
    tables_from_zip,
)
from ..models import Dataset
from ..schemas import DatasetCreated, DatasetInfo, JobCreated, PlanSummary
from ..scoping import within
from ..upload import parse_multipart, read_capped
from .plans import plan_summary

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
                    "properties": {"name": {"type": "string"}, "tables": {"type": "object"}},
                }
            },
        },
    }
}


def _scoped_summary(ds: Dataset, scope: str | None) -> dict[str, Any]:
    s = dict(ds.summary)
    if scope is not None:
        s["coverage"] = [
            c
            for c in s.get("coverage", [])
            if within(ds.hierarchy, c["scope"], scope) or within(ds.hierarchy, scope, c["scope"])
        ]
        s["posts"] = sum(c["posts"] for c in s["coverage"])
        s["scope"] = scope
        s.pop("status_table", None)
    return s


def _info(ds: Dataset, scope: str | None) -> DatasetInfo:
    return DatasetInfo(
        dataset_id=ds.id,
        name=ds.name,
        province_id=ds.province_id,
        created_at=ds.created_at.isoformat(),
        summary=_scoped_summary(ds, scope),
    )


def _ingest(raw: bytes, content_type: str, settings: Any) -> tuple[str, Any, list[str]]:
    """Body → (name, tables, warnings); raises UploadError / DataError / HTTPException."""
    limits = Limits(
        max_total_bytes=int(settings.max_uncompressed_mb * 2**20), max_ratio=settings.max_zip_ratio
    )
    if content_type.startswith("multipart/form-data"):
        parts = parse_multipart(raw, content_type)
        if "file" not in parts:
            raise UploadError("multipart form needs a 'file' field (.xlsx or .zip)")
        filename, data = parts["file"]
        filename = filename or "upload"
        name = parts.get("name", (None, b""))[1].decode("utf-8", "replace").strip()
        lower = filename.lower()
        stem = filename.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        if lower.endswith((".xlsm", ".xltm", ".xlam")):
            raise UploadError(f"{filename}: macro-enabled workbooks are refused; save as .xlsx")
        if lower.endswith(".xlsx"):
            tables, warnings = tables_from_xlsx(data, filename, limits)
        elif lower.endswith(".zip"):
            tables, warnings = tables_from_zip(data, limits)
        else:
            raise UploadError(f"{filename}: expected an .xlsx workbook or a .zip of CSV files", 415)
        return name or stem, tables, warnings
    if content_type.startswith("application/json") or not content_type:
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as err:
            raise UploadError(f"malformed JSON: {err}") from None
        if not isinstance(body, dict):
            raise UploadError("the JSON body must be an object with 'name' and 'tables'")
        name = body.get("name") or "dataset"
        if not isinstance(name, str) or len(name) > 200:
            raise UploadError("'name' must be a text of at most 200 characters")
        return name, tables_from_json(body), []
    raise UploadError(
        f"unsupported content type {content_type!r}: send multipart/form-data "
        "(field 'file') or application/json",
        415,
    )


@router.post("", status_code=201, response_model=DatasetCreated, openapi_extra=UPLOAD_BODY)
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
    return DatasetCreated(dataset_id=ds.id, summary=_scoped_summary(ds, who.scope))


@router.get("", response_model=list[DatasetInfo])
def list_datasets(store: StoreDep, who: PrincipalDep) -> list[DatasetInfo]:
    """The datasets this key can see."""
    return [_info(ds, who.scope) for ds in store.list_datasets() if dataset_visible(ds, who)]


@router.get("/{dataset_id}", response_model=DatasetInfo)
def get_dataset(dataset_id: str, store: StoreDep, who: PrincipalDep) -> DatasetInfo:
    """One dataset's summary, with coverage per scope (restricted to the key's scope)."""
    return _info(visible_dataset(store, who, dataset_id), who.scope)


@router.delete("/{dataset_id}", status_code=204)
def delete_dataset(dataset_id: str, store: StoreDep, who: WriterDep) -> Response:
    """Delete a dataset with its jobs and plans (admins, or the key that uploaded it)."""
    ds = visible_dataset(store, who, dataset_id)
    if who.role != "admin" and ds.created_by != who.key_id:
        raise HTTPException(403, "only an admin or the uploader may delete this dataset")
    store.delete_dataset(ds.id)
    store.audit(who.key_id, "delete", f"dataset:{ds.id}")
    return Response(status_code=204)


@router.post("/{dataset_id}/plans", status_code=202, response_model=JobCreated)
def create_plan_job(
    dataset_id: str,
    store: StoreDep,
    runner: RunnerDep,
    settings: SettingsDep,
    who: WriterDep,
    rules: Annotated[dict[str, Any] | None, Body(description="rules (contract §2)")] = None,
) -> JobCreated:
    """Start a plan job (202); poll GET /v1/jobs/{id}. The plan covers the key's scope only."""
    ds = visible_dataset(store, who, dataset_id)
    rules = rules or {}
    checked_rules(rules, settings)
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


@router.get("/{dataset_id}/plans", response_model=list[PlanSummary])
def list_plans(dataset_id: str, store: StoreDep, who: PrincipalDep) -> list[PlanSummary]:
    """The plans (variants) made on this dataset that the key can see, with their KPIs."""
    ds = visible_dataset(store, who, dataset_id)
    return [
        plan_summary(p)
        for p in store.plans_of_dataset(ds.id)
        if who.scope is None or within(ds.hierarchy, p.scope_unit_id, who.scope)
    ]
