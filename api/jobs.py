"""The job runner: job state lives in the database; solves run in spawned worker processes.

Any number of runners (one per ``rotation serve`` or ``rotation worker`` process, on any number
of machines) share one database:

- a runner **claims** a queued job with a lease (PostgreSQL ``SELECT … FOR UPDATE SKIP
  LOCKED``; SQLite a conditional ``UPDATE … WHERE id = … AND status = 'queued'``), so a job is
  started by exactly one runner, and renews the lease while the job runs;
- a job whose lease expired (its runner died) is requeued by whichever runner notices, once;
  if it expires again the job fails with the reason;
- **cancel** is a flag in the database (a queued job is cancelled at once): the runner holding
  the job polls it, so a cancel sent to any server works;
- a graceful stop releases the runner's jobs (queued again, not counted as an expiry) so
  another runner picks them up.

Leases are stamped with each runner's clock (UTC): machines sharing a database must keep their
clocks within a small part of ``Settings.job_lease_s`` (NTP does). A server restarted after a
crash picks its interrupted jobs up once their leases have run out.

Inside one runner a dispatcher thread starts claimed jobs, drains the one message queue the
worker processes write to (progress, result, error) and notices a worker that died without a
word (its job is marked failed with the exit code). Plans reach the store in one transaction,
only when complete, and only while the runner still holds the job. Progress is kept in memory
for fast polling and written to the store at most twice a second. The API never waits on a
solve.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import queue
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import and_, func, or_, select, update

from .models import Job, utcnow
from .store import Store

if TYPE_CHECKING:
    from .settings import Settings

PROGRESS_WRITE_S = 0.5
SYNC_S = 0.5
"""How often a runner polls cancel flags, checks it still holds its jobs and looks for work."""

CancelOutcome = Literal["cancelled", "cancelling", "finished"]


def runner_id() -> str:
    """``host:pid:token``: who holds a job (the token tells two runners of one process apart)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


class Leases:
    """The job table seen as a queue with leases: every query that moves a job between
    ``queued`` and ``running`` is one conditional statement, so concurrent runners (threads,
    processes, machines) never both win."""

    def __init__(self, store: Store, owner: str, lease_s: float) -> None:
        self.store = store
        self.owner = owner
        self.lease_s = lease_s
        self.postgres = store.url.startswith("postgresql")

    def _until(self) -> dt.datetime:
        return utcnow() + dt.timedelta(seconds=self.lease_s)

    def claim(self) -> Job | None:
        """Take the oldest queued job (status → running, held by this runner), or None."""
        now = utcnow()
        held = {"status": "running", "worker_id": self.owner, "updated_at": now}
        oldest = select(Job).where(Job.status == "queued").order_by(Job.created_at, Job.id)
        with self.store.session() as s:
            if self.postgres:
                job = s.scalars(oldest.limit(1).with_for_update(skip_locked=True)).first()
                if job is None:
                    return None
                for k, v in held.items():
                    setattr(job, k, v)
                job.lease_until = self._until()
                s.flush()
                s.expunge(job)
                return job
            candidates = list(
                s.scalars(
                    select(Job.id)
                    .where(Job.status == "queued")
                    .order_by(Job.created_at, Job.id)
                    .limit(8)
                )
            )
        for job_id in candidates:
            with self.store.session() as s:
                won = s.connection().execute(
                    update(Job)
                    .where(Job.id == job_id, Job.status == "queued")
                    .values(**held, lease_until=self._until())
                )
                if won.rowcount == 1:
                    return s.get(Job, job_id)
        return None

    def renew(self, job_ids: list[str]) -> dict[str, bool]:
        """Extend this runner's leases; returns {job id: cancel requested} for the jobs it still
        holds (a job missing from the answer was deleted, finished or taken over)."""
        if not job_ids:
            return {}
        with self.store.session() as s:
            s.connection().execute(
                update(Job)
                .where(Job.id.in_(job_ids), Job.worker_id == self.owner, Job.status == "running")
                .values(lease_until=self._until())
            )
            rows = s.execute(
                select(Job.id, Job.cancel_requested).where(
                    Job.id.in_(job_ids), Job.worker_id == self.owner, Job.status == "running"
                )
            ).all()
        return {job_id: bool(flag) for job_id, flag in rows}

    def holds(self, job_id: str) -> bool:
        with self.store.session() as s:
            owner = s.scalar(select(Job.worker_id).where(Job.id == job_id, Job.status == "running"))
        return owner == self.owner

    def expire(self) -> list[tuple[str, str]]:
        """Requeue (the first time) or fail (the second) every running job whose lease ran out;
        a job whose cancel was requested is cancelled instead. Returns [(job id, new status)]."""
        now = utcnow()
        lapsed = and_(
            Job.status == "running", or_(Job.lease_until.is_(None), Job.lease_until < now)
        )
        with self.store.session() as s:
            rows = s.execute(
                select(Job.id, Job.lease_expiries, Job.cancel_requested, Job.worker_id).where(
                    lapsed
                )
            ).all()
        done: list[tuple[str, str]] = []
        for job_id, expiries, cancel, holder in rows:
            values: dict[str, Any] = {
                "worker_id": None,
                "lease_until": None,
                "lease_expiries": expiries + 1,
                "updated_at": now,
            }
            if cancel:
                values.update(status="cancelled")
            elif expiries >= 1:
                values.update(
                    status="failed",
                    error=(
                        f"the lease of this job expired twice (last held by {holder}): the "
                        "processes running it stopped without finishing; not retried again"
                    ),
                )
            else:
                values.update(
                    status="queued",
                    progress={"phase": "requeued", "reason": f"lease of {holder} expired"},
                )
            with self.store.session() as s:
                won = s.connection().execute(
                    update(Job).where(Job.id == job_id, lapsed).values(**values)
                )
                if won.rowcount == 1:
                    done.append((job_id, str(values["status"])))
        return done

    def release(self, job_ids: list[str]) -> None:
        """Give this runner's jobs back (graceful stop): queued again, or cancelled when a
        cancel was asked for; not counted as an expiry."""
        if not job_ids:
            return
        mine = and_(Job.id.in_(job_ids), Job.worker_id == self.owner, Job.status == "running")
        now = utcnow()
        free = {"worker_id": None, "lease_until": None, "updated_at": now}
        with self.store.session() as s:
            conn = s.connection()
            conn.execute(
                update(Job).where(mine, Job.cancel_requested).values(**free, status="cancelled")
            )
            conn.execute(
                update(Job)
                .where(mine)
                .values(
                    **free,
                    status="queued",
                    progress={"phase": "requeued", "reason": f"{self.owner} stopped"},
                )
            )

    def request_cancel(self, job_id: str) -> CancelOutcome:
        """A queued job is cancelled at once; a running one gets the flag its runner polls."""
        now = utcnow()
        with self.store.session() as s:
            won = s.connection().execute(
                update(Job)
                .where(Job.id == job_id, Job.status == "queued")
                .values(status="cancelled", plan_ids=[], updated_at=now)
            )
            if won.rowcount == 1:
                return "cancelled"
            won = s.connection().execute(
                update(Job)
                .where(Job.id == job_id, Job.status == "running")
                .values(cancel_requested=True, updated_at=now)
            )
            return "cancelling" if won.rowcount == 1 else "finished"

    def queue_position(self, job_id: str) -> int | None:
        """1 = next to start (over every runner); None when the job is not waiting."""
        with self.store.session() as s:
            me = s.execute(select(Job.created_at, Job.status).where(Job.id == job_id)).first()
            if me is None or me.status != "queued":
                return None
            ahead = s.scalar(
                select(func.count())
                .select_from(Job)
                .where(
                    Job.status == "queued",
                    or_(
                        Job.created_at < me.created_at,
                        and_(Job.created_at == me.created_at, Job.id < job_id),
                    ),
                )
            )
        return int(ahead or 0) + 1


@dataclass
class _Running:
    process: Any
    cancel: Any
    started: float = field(default_factory=time.monotonic)
    cancel_at: float | None = None
    result: bool = False
    lost: bool = False
    """The runner no longer holds the job (deleted, or taken over): its result is dropped."""


class JobRunner:
    """Claims jobs from the database and runs them in worker processes, at most ``workers`` at
    a time (0: a runner that only answers cancels and queue positions, e.g. an HTTP-only
    server). ``submit`` and ``cancel`` return at once."""

    def __init__(
        self,
        store: Store,
        workers: int = 2,
        cancel_grace_s: float = 10.0,
        targets: dict[str, str] | None = None,
        lease_s: float = 30.0,
    ) -> None:
        """``targets``: job kind (plan, repair, roadmap) → ``module:function`` the worker calls
        (text, resolved in the worker process; see ``Settings.solve_target``)."""
        self.store = store
        self.workers = workers
        self.cancel_grace_s = cancel_grace_s
        self.targets = dict(targets or {})
        self.owner = runner_id()
        self.leases = Leases(store, self.owner, lease_s)
        self._ctx = mp.get_context("spawn")
        self._out: Any = self._ctx.Queue()
        self._running: dict[str, _Running] = {}
        self._progress: dict[str, dict[str, Any]] = {}
        self._written: dict[str, float] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_sync = 0.0
        self._next_renew = 0.0
        self._next_expire = 0.0

    @classmethod
    def from_settings(cls, store: Store, settings: Settings, workers: int) -> JobRunner:
        """The runner the service and ``rotation worker`` both start: grace, lease and solve
        targets from the settings."""
        return cls(
            store,
            workers=workers,
            cancel_grace_s=settings.cancel_grace_s,
            lease_s=settings.job_lease_s,
            targets={
                "plan": settings.solve_target,
                "repair": settings.solve_target,
                "roadmap": settings.roadmap_target,
            },
        )

    # ----------------------------------------------------------------- public
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="job-runner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Graceful stop: worker processes are ended and their jobs released (queued again) for
        another runner; results already sent are stored first."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._drain(timeout=0.0)
        with self._lock:
            running = list(self._running.items())
        for _job_id, r in running:
            if r.process.is_alive():
                r.process.terminate()
        for _job_id, r in running:
            r.process.join(timeout=5)
        self._drain(timeout=0.0)
        unfinished = [job_id for job_id, r in running if not r.result and not r.lost]
        try:
            self.leases.release(unfinished)
        except Exception as err:  # the database is gone: the leases will expire instead
            print(f"job runner: could not release {unfinished}: {err}", flush=True)
        with self._lock:
            self._running.clear()
        self._out.close()
        self._out.join_thread()

    def submit(self, job_id: str) -> None:
        """The job is already queued in the store; wake the dispatcher to claim it."""
        self._wake.set()

    def cancel(self, job_id: str) -> str:
        """Cancel: a queued job ends at once; a running one (on this server or any other) is
        asked to stop, keeping its best plan so far, and killed if it has not stopped after the
        grace period. Returns ``cancelled``, ``cancelling`` or ``finished``."""
        outcome = self.leases.request_cancel(job_id)
        if outcome == "cancelling":
            with self._lock:
                r = self._running.get(job_id)
                if r is not None:
                    self._ask_stop(r)
        return outcome

    def queue_position(self, job_id: str) -> int | None:
        """1 = next to start; None when not waiting."""
        return self.leases.queue_position(job_id)

    def progress(self, job_id: str) -> dict[str, Any] | None:
        """The latest progress of a job this runner runs (None: read the store's copy)."""
        return self._progress.get(job_id)

    def running_count(self) -> int:
        return len(self._running)

    # ----------------------------------------------------------------- loop
    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self._drain(timeout=0.1)
                self._reap()
                now = time.monotonic()
                if now >= self._next_renew:
                    self._next_renew = now + min(SYNC_S, self.leases.lease_s / 3)
                    self._sync()
                if now >= self._next_expire:
                    self._next_expire = now + max(1.0, self.leases.lease_s / 3)
                    self.leases.expire()
                if self._wake.is_set() or now >= self._next_sync:
                    self._wake.clear()
                    self._next_sync = now + SYNC_S
                    self._dispatch()
            except Exception as err:
                print(f"job runner: {type(err).__name__}: {err}", flush=True)
                time.sleep(0.2)

    def _ask_stop(self, r: _Running) -> None:
        r.cancel.set()
        r.cancel_at = r.cancel_at or time.monotonic()

    def _sync(self) -> None:
        """Renew this runner's leases, pass on cancel flags, let go of jobs no longer held."""
        with self._lock:
            items = list(self._running.items())
        held = self.leases.renew([job_id for job_id, r in items if not r.result])
        with self._lock:
            for job_id, r in items:
                if r.result:
                    continue
                if job_id not in held:
                    if not r.lost:  # deleted (with its dataset) or taken over: stop solving
                        r.lost = True
                        if r.process.is_alive():
                            r.process.terminate()
                elif held[job_id] and r.cancel_at is None:
                    self._ask_stop(r)

    def _dispatch(self) -> None:
        from .worker import run_job

        while len(self._running) < self.workers and not self._stopping.is_set():
            job = self.leases.claim()
            if job is None:
                return
            dataset = self.store.get_dataset(job.dataset_id)
            if dataset is None:
                self.store.finish_job(job.id, "failed", [], error="dataset was deleted")
                continue
            spec = {
                "tables": dataset.tables,
                "scope": job.scope_unit_id,
                "rules": job.rules,
                "repair": job.spec.get("repair"),
                "sweep": job.spec.get("sweep"),
                "roadmap_repair": job.spec.get("roadmap_repair"),
                "kind": job.kind,
                "target": self.targets.get(job.kind),
            }
            cancel = self._ctx.Event()
            proc = self._ctx.Process(
                target=run_job,
                args=(job.id, spec, self._out, cancel, os.getpid()),
                name=f"solve-{job.id[:8]}",
                daemon=True,
            )
            proc.start()
            with self._lock:
                self._running[job.id] = _Running(proc, cancel)
                if job.cancel_requested:
                    self._ask_stop(self._running[job.id])

    def _drain(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                msg = self._out.get(timeout=max(left, 0.0)) if left > 0 else self._out.get_nowait()
            except queue.Empty:
                return
            except (EOFError, OSError, ValueError):
                return
            self._handle(msg)

    def _handle(self, msg: tuple[Any, ...]) -> None:
        kind, job_id, payload = msg[0], msg[1], msg[2]
        r = self._running.get(job_id)
        if r is not None and r.lost:
            return
        if kind == "progress":
            self._progress[job_id] = payload
            now = time.monotonic()
            if now - self._written.get(job_id, 0.0) >= PROGRESS_WRITE_S:
                self._written[job_id] = now
                self.store.update_job(job_id, progress=payload)
            return
        if r is not None:
            r.result = True
        if not self.leases.holds(job_id):  # requeued elsewhere or deleted meanwhile: not ours
            return
        last = self._progress.get(job_id, {})
        if kind == "error":
            self.store.finish_job(job_id, "failed", [], error=str(payload), progress=last)
            return
        if payload.get("kind") == "sweep":
            cancelled = bool(payload.get("cancelled")) or (
                r is not None and r.cancel_at is not None
            )
            final = "cancelled" if cancelled else "done"
            progress = {**last, "sweep": payload.get("sweep") or {}}
            self.store.finish_job(job_id, final, payload.get("plans") or [], progress=progress)
            return
        if payload.get("kind") == "roadmap":
            self._finish_roadmap(
                job_id, payload, cancelled=r is not None and r.cancel_at is not None, progress=last
            )
            return
        status = payload["status"]
        plans = payload["plans"]
        if payload.get("cancelled") or (r is not None and r.cancel_at is not None):
            final = "cancelled"
            plans = [p for p in plans if p.get("status") != "infeasible"]
        elif status in ("optimal", "feasible"):
            final = "done"
        elif status == "infeasible":
            final = "infeasible"
        else:
            final = "failed"
        error = None
        if final == "failed":
            error = "; ".join(d.get("detail", "") for d in payload.get("diagnosis", [])) or status
        progress = {**last, "stats": payload.get("stats", {})}
        self.store.finish_job(job_id, final, plans, error=error, progress=progress)

    def _finish_roadmap(
        self, job_id: str, payload: dict[str, Any], cancelled: bool, progress: dict[str, Any]
    ) -> None:
        body = payload.get("roadmap") or {}
        status = str(payload.get("status") or body.get("status") or "unknown")
        rounds = body.get("rounds") or []
        if payload.get("cancelled") or cancelled:
            final = "cancelled"
        elif status == "infeasible":
            final = "infeasible"
        elif status in ("optimal", "feasible", "partial") and rounds:
            final = "done"
        else:
            final = "failed"
        error = None
        if final == "failed":
            error = (
                "; ".join(
                    str(d.get("detail", ""))
                    for d in body.get("diagnosis", [])
                    if isinstance(d, dict)
                )
                or f"roadmap status {status}"
            )
        keep = final != "cancelled" or bool(rounds)  # a cancelled roadmap keeps rounds so far
        self.store.finish_roadmap_job(
            job_id, final, body if keep else None, error=error, progress=progress
        )

    def _reap(self) -> None:
        with self._lock:
            items = list(self._running.items())
        for job_id, r in items:
            if r.process.is_alive():
                if r.cancel_at is not None and time.monotonic() - r.cancel_at > self.cancel_grace_s:
                    r.process.terminate()
                continue
            r.process.join(timeout=1)
            if not r.result and not r.lost:
                self._drain(timeout=0.3)  # its last words may still be in the pipe
            if not r.result and not r.lost and self.leases.holds(job_id):
                if r.cancel_at is not None:
                    self.store.finish_job(
                        job_id, "cancelled", [], progress=self._progress.get(job_id)
                    )
                else:
                    code = r.process.exitcode
                    self.store.finish_job(
                        job_id,
                        "failed",
                        [],
                        error=f"worker process died (exit code {code}) before finishing",
                        progress=self._progress.get(job_id),
                    )
            with self._lock:
                self._running.pop(job_id, None)
            self._progress.pop(job_id, None)
            self._written.pop(job_id, None)
