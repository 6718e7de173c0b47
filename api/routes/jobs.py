"""Jobs: poll, stream progress (server-sent events), cancel."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse, StreamingResponse

from ..deps import PrincipalDep, RunnerDep, StoreDep, WriterDep, visible_job
from ..jobs import JobRunner
from ..models import Job
from ..schemas import JobInfo
from ..store import TERMINAL, Store

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

SSE_POLL_S = 0.2
SSE_KEEPALIVE_S = 15.0


def job_info(job: Job, runner: JobRunner, store: Store | None = None) -> JobInfo:
    live = runner.progress(job.id) if job.status not in TERMINAL else None
    roadmap_id = None
    if job.kind == "roadmap" and job.status in TERMINAL and store is not None:
        row = store.roadmap_of_job(job.id)
        roadmap_id = row.id if row is not None else None
    return JobInfo(
        job_id=job.id,
        dataset_id=job.dataset_id,
        kind=job.kind,
        scope=job.scope_unit_id,
        status=job.status,  # type: ignore[arg-type]
        progress=live or job.progress or {},
        queue_position=runner.queue_position(job.id) if job.status == "queued" else None,
        plan_ids=list(job.plan_ids or []),
        roadmap_id=roadmap_id,
        error=job.error,
        created_at=job.created_at.isoformat(),
        updated_at=job.updated_at.isoformat(),
    )


@router.get("/{job_id}", response_model=JobInfo)
def get_job(job_id: str, store: StoreDep, runner: RunnerDep, who: PrincipalDep) -> JobInfo:
    """Where a job is: status, latest progress, place in the queue, plans when done."""
    return job_info(visible_job(store, who, job_id), runner, store)


def _events(job_id: str, store: Store, runner: JobRunner) -> Iterator[str]:
    last = None
    quiet = time.monotonic()
    while True:
        job = store.get_job(job_id)
        if job is None:
            yield 'event: end\ndata: {"status": "deleted"}\n\n'
            return
        info = job_info(job, runner, store).model_dump(mode="json")
        payload = {
            k: info[k] for k in ("status", "progress", "queue_position", "plan_ids", "roadmap_id")
        }
        if payload != last:
            last = payload
            quiet = time.monotonic()
            yield f"event: progress\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"
        if job.status in TERMINAL:
            yield f"event: end\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"
            return
        if time.monotonic() - quiet > SSE_KEEPALIVE_S:
            quiet = time.monotonic()
            yield ": keep-alive\n\n"
        time.sleep(SSE_POLL_S)


@router.get(
    "/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
def job_events(job_id: str, store: StoreDep, runner: RunnerDep, who: PrincipalDep):
    """Server-sent events: one ``progress`` event per change, ``end`` when the job ends."""
    visible_job(store, who, job_id)
    return StreamingResponse(
        _events(job_id, store, runner),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache"},
    )


@router.delete(
    "/{job_id}",
    response_model=JobInfo,
    responses={
        202: {"description": "cancellation requested"},
        409: {"description": "job already finished"},
    },
)
def cancel_job(job_id: str, store: StoreDep, runner: RunnerDep, who: WriterDep):
    """Cancel a job; a running solve stops and keeps the best plan found so far."""
    job = visible_job(store, who, job_id)
    if job.status in TERMINAL:
        raise HTTPException(409, f"job {job_id!r} already finished ({job.status})")
    outcome = runner.cancel(job.id)
    store.audit(who.key_id, "cancel", f"job:{job.id}")
    info = job_info(store.get_job(job.id) or job, runner, store)
    return JSONResponse(
        info.model_dump(mode="json"), status_code=202 if outcome == "cancelling" else 200
    )
