"""Jobs: poll, stream progress (server-sent events), cancel."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from ..deps import (
    PrincipalDep,
    RunnerDep,
    SettingsDep,
    StoreDep,
    StreamPrincipalDep,
    WriterDep,
    visible_job,
)
from ..documents import JobProgress
from ..jobs import JobRunner
from ..models import Job
from ..schemas import JobInfo, StreamTokenInfo
from ..store import TERMINAL, Store

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

SSE_POLL_S = 0.2
SSE_KEEPALIVE_S = 15.0
STREAM_FIELDS = ("status", "progress", "queue_position", "plan_ids", "roadmap_id")


def job_info(
    job: Job,
    runner: JobRunner,
    store: Store | None = None,
    positions: dict[str, int] | None = None,
) -> JobInfo:
    """The job as the API shows it (``positions``: queue positions already read, by job id)."""
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
        progress=JobProgress.model_validate(live or job.progress or {}),
        queue_position=_position(job, runner, positions),
        plan_ids=list(job.plan_ids or []),
        roadmap_id=roadmap_id,
        error=job.error,
        created_at=job.created_at.isoformat(),
        updated_at=job.updated_at.isoformat(),
    )


def _position(job: Job, runner: JobRunner, positions: dict[str, int] | None) -> int | None:
    if job.status != "queued":
        return None
    if positions is not None:
        return positions.get(job.id)
    return runner.queue_position(job.id)


@router.get("/{job_id}", response_model=JobInfo, response_model_exclude_unset=True)
def get_job(job_id: str, store: StoreDep, runner: RunnerDep, who: PrincipalDep) -> JobInfo:
    """Where a job is: status, latest progress, place in the queue, plans when done."""
    return job_info(visible_job(store, who, job_id), runner, store)


@router.post("/{job_id}/stream-token", response_model=StreamTokenInfo)
def stream_token(
    job_id: str, store: StoreDep, settings: SettingsDep, who: PrincipalDep
) -> StreamTokenInfo:
    """A short-lived token that opens this job's event stream with this key's role and scope,
    for a browser's ``EventSource`` (which cannot send the Authorization header):
    ``GET /v1/jobs/{job_id}/events?token=…``. The API key itself is never accepted in a URL."""
    import datetime as dt

    from .. import stream_tokens

    job = visible_job(store, who, job_id)
    row = store.active_key(who.key_id)
    if row is None:  # revoked since the request was authenticated
        raise HTTPException(
            401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"}
        )
    issued = stream_tokens.issue(
        row, job.id, settings.stream_token_ttl_s, settings.stream_secret.get_secret_value()
    )
    return StreamTokenInfo(
        token=issued.token,
        expires_in_s=issued.expires_in_s,
        expires_at=dt.datetime.fromtimestamp(issued.expires_at, dt.UTC).isoformat(),
        events_url=f"/v1/jobs/{job.id}/events?token={issued.token}",
    )


class StreamHub:
    """The open event streams of one app, served without a thread per stream.

    One poller task reads every watched job in one query per tick (in a worker thread, so the
    event loop never waits on the database) and wakes the streams; each stream is an async
    generator that only compares the snapshot with what it sent last. Streams are counted per
    key, for the cap (``Settings.max_streams_per_key``).
    """

    def __init__(self, store: Store, runner: JobRunner, poll_s: float = SSE_POLL_S) -> None:
        self.store = store
        self.runner = runner
        self.poll_s = poll_s
        self.loop = asyncio.get_running_loop()
        self.per_key: Counter[str] = Counter()
        self.watched: Counter[str] = Counter()
        self.snapshots: dict[str, dict[str, Any] | None] = {}
        """job id → the stream payload, or None once the job is gone (deleted)."""
        self._tick = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def open(self, key_id: str, job_id: str, cap: int) -> bool:
        """Count a new stream of this key on this job; False when the key is at its cap."""
        if self.per_key[key_id] >= cap:
            return False
        self.per_key[key_id] += 1
        self.watched[job_id] += 1
        if self._task is None or self._task.done():
            self._task = self.loop.create_task(self._poll(), name="sse-poller")
        return True

    def close(self, key_id: str, job_id: str) -> None:
        self.per_key[key_id] -= 1
        if self.per_key[key_id] <= 0:
            del self.per_key[key_id]
        self.watched[job_id] -= 1
        if self.watched[job_id] <= 0:
            del self.watched[job_id]
            self.snapshots.pop(job_id, None)

    def open_count(self) -> int:
        return sum(self.per_key.values())

    async def wait(self) -> None:
        """Until the next poll has refreshed the snapshots."""
        await self._tick.wait()

    async def _poll(self) -> None:
        while self.watched:
            ids = list(self.watched)
            try:
                fresh = await asyncio.to_thread(self._read, ids)
            except Exception as err:  # the store is briefly unreachable: keep the streams
                print(f"event streams: {type(err).__name__}: {err}", flush=True)
                fresh = {}
            self.snapshots.update({k: v for k, v in fresh.items() if k in self.watched})
            tick, self._tick = self._tick, asyncio.Event()
            tick.set()
            await asyncio.sleep(self.poll_s)

    def _read(self, ids: list[str]) -> dict[str, dict[str, Any] | None]:
        with self.store.session() as s:
            jobs = {j.id: j for j in s.scalars(select(Job).where(Job.id.in_(ids)))}
            queued = s.scalars(
                select(Job.id).where(Job.status == "queued").order_by(Job.created_at, Job.id)
            ).all()
        positions = {job_id: n for n, job_id in enumerate(queued, start=1)}
        out: dict[str, dict[str, Any] | None] = {}
        for job_id in ids:
            job = jobs.get(job_id)
            if job is None:
                out[job_id] = None
                continue
            info = job_info(job, self.runner, self.store, positions).model_dump(
                mode="json", exclude_unset=True
            )
            out[job_id] = {k: info[k] for k in STREAM_FIELDS}
        return out


def stream_hub(request: Request, store: Store, runner: JobRunner) -> StreamHub:
    """This app's hub (made on first use, on the running event loop)."""
    hub: StreamHub | None = getattr(request.app.state, "streams", None)
    if hub is None or hub.loop is not asyncio.get_running_loop() or hub.store is not store:
        hub = StreamHub(store, runner)
        request.app.state.streams = hub
    return hub


def _sse(event: str, payload: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(payload, ensure_ascii=False)}\n\n"


async def _events(job_id: str, hub: StreamHub) -> AsyncIterator[str]:
    last: dict[str, Any] | None = None
    quiet = time.monotonic()
    while True:
        await hub.wait()
        if job_id not in hub.snapshots:
            continue
        payload = hub.snapshots[job_id]
        if payload is None:
            yield 'event: end\ndata: {"status": "deleted"}\n\n'
            return
        if payload != last:
            last = payload
            quiet = time.monotonic()
            yield _sse("progress", payload)
        if payload["status"] in TERMINAL:
            yield _sse("end", payload)
            return
        if time.monotonic() - quiet > SSE_KEEPALIVE_S:
            quiet = time.monotonic()
            yield ": keep-alive\n\n"


class _CountedStream(StreamingResponse):
    """A stream that gives its slot back however it ends (end event, client gone, error)."""

    def __init__(self, body: AsyncIterator[str], release: Callable[[], None]) -> None:
        super().__init__(
            body, media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )
        self._body = body
        self._release: Callable[[], None] | None = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.release()

    def release(self) -> None:
        if self._release is not None:
            release, self._release = self._release, None
            release()


@router.get(
    "/{job_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}},
        429: {"description": "this key already has the most open event streams allowed"},
    },
)
async def job_events(
    job_id: str,
    request: Request,
    store: StoreDep,
    runner: RunnerDep,
    settings: SettingsDep,
    who: StreamPrincipalDep,
) -> StreamingResponse:
    """Server-sent events: one ``progress`` event per change, ``end`` when the job ends.
    Authenticated by the Authorization header, or by a stream token in ``?token=`` (from
    ``POST /v1/jobs/{job_id}/stream-token``) for a browser's ``EventSource``.

    Served on the event loop (no thread per stream); at most ``MAX_STREAMS_PER_KEY`` open
    streams per key (429 beyond)."""
    await run_in_threadpool(visible_job, store, who, job_id)
    hub = stream_hub(request, store, runner)
    cap = settings.max_streams_per_key
    if not hub.open(who.key_id, job_id, cap):
        raise HTTPException(
            429,
            f"at most {cap} open event streams per key; close one first",
            headers={"Retry-After": "5"},
        )
    return _CountedStream(_events(job_id, hub), lambda: hub.close(who.key_id, job_id))


@router.delete(
    "/{job_id}",
    response_model=JobInfo,
    responses={
        202: {"description": "cancellation requested; the job as it is now", "model": JobInfo},
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
        info.model_dump(mode="json", exclude_unset=True),
        status_code=202 if outcome == "cancelling" else 200,
    )
