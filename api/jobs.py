"""The job runner: solves run in spawned worker processes, at most ``workers`` at a time.

A dispatcher thread in the API process starts queued jobs, drains the one message queue the
workers write to (progress, result, error), and notices a worker that died without a word (its
job is marked failed with the exit code). Plans reach the store in one transaction, only when
complete. Progress is kept in memory for fast polling and written to the store at most twice a
second. The API never waits on a solve.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .store import Store

PROGRESS_WRITE_S = 0.5


@dataclass
class _Running:
    process: Any
    cancel: Any
    started: float = field(default_factory=time.monotonic)
    cancel_at: float | None = None
    result: bool = False


class JobRunner:
    """Queue + worker processes. ``submit`` and ``cancel`` return at once."""

    def __init__(
        self,
        store: Store,
        workers: int = 2,
        cancel_grace_s: float = 10.0,
        targets: dict[str, str] | None = None,
    ) -> None:
        """``targets``: job kind (plan, repair, roadmap) → ``module:function`` the worker calls
        (text, resolved in the worker process; see ``Settings.solve_target``)."""
        self.store = store
        self.workers = workers
        self.cancel_grace_s = cancel_grace_s
        self.targets = dict(targets or {})
        self._ctx = mp.get_context("spawn")
        self._out: Any = self._ctx.Queue()
        self._pending: deque[str] = deque()
        self._running: dict[str, _Running] = {}
        self._progress: dict[str, dict[str, Any]] = {}
        self._written: dict[str, float] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- public
    def start(self) -> None:
        for job in self.store.unfinished_jobs():  # resume what a restart interrupted
            self.store.update_job(job.id, status="queued")
            self._pending.append(job.id)
        self._thread = threading.Thread(target=self._loop, name="job-runner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            running = list(self._running.items())
        for _job_id, r in running:
            r.process.terminate()
            r.process.join(timeout=5)
        self._out.close()
        self._out.join_thread()

    def submit(self, job_id: str) -> None:
        with self._lock:
            self._pending.append(job_id)
        self._wake.set()

    def cancel(self, job_id: str) -> str:
        """Cancel: a queued job ends at once; a running one is asked to stop (keeping its best
        plan so far) and killed if it has not stopped after the grace period."""
        with self._lock:
            if job_id in self._pending:
                self._pending.remove(job_id)
                self.store.finish_job(job_id, "cancelled", [], progress=self._progress.get(job_id))
                return "cancelled"
            r = self._running.get(job_id)
            if r is not None:
                r.cancel.set()
                r.cancel_at = r.cancel_at or time.monotonic()
                return "cancelling"
        return "finished"

    def queue_position(self, job_id: str) -> int | None:
        """1 = next to start; None when not waiting."""
        with self._lock:
            try:
                return self._pending.index(job_id) + 1
            except ValueError:
                return None

    def progress(self, job_id: str) -> dict[str, Any] | None:
        return self._progress.get(job_id)

    def running_count(self) -> int:
        return len(self._running)

    # ----------------------------------------------------------------- loop
    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self._drain(timeout=0.1)
                self._reap()
                self._dispatch()
            except Exception as err:
                print(f"job runner: {type(err).__name__}: {err}", flush=True)
                time.sleep(0.2)

    def _dispatch(self) -> None:
        from .worker import run_job

        while True:
            with self._lock:
                if len(self._running) >= self.workers or not self._pending:
                    return
                job_id = self._pending.popleft()
            job = self.store.get_job(job_id)
            if job is None or job.status != "queued":
                continue
            dataset = self.store.get_dataset(job.dataset_id)
            if dataset is None:
                self.store.finish_job(job_id, "failed", [], error="dataset was deleted")
                continue
            spec = {
                "tables": dataset.tables,
                "scope": job.scope_unit_id,
                "rules": job.rules,
                "repair": job.spec.get("repair"),
                "kind": job.kind,
                "target": self.targets.get(job.kind),
            }
            cancel = self._ctx.Event()
            proc = self._ctx.Process(
                target=run_job,
                args=(job_id, spec, self._out, cancel),
                name=f"solve-{job_id[:8]}",
                daemon=True,
            )
            self.store.update_job(job_id, status="running")
            proc.start()
            with self._lock:
                self._running[job_id] = _Running(proc, cancel)

    def _drain(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                msg = self._out.get(timeout=max(left, 0.0)) if left > 0 else self._out.get_nowait()
            except queue.Empty:
                return
            except (EOFError, OSError):
                return
            self._handle(msg)

    def _handle(self, msg: tuple[Any, ...]) -> None:
        kind, job_id, payload = msg[0], msg[1], msg[2]
        if kind == "progress":
            self._progress[job_id] = payload
            now = time.monotonic()
            if now - self._written.get(job_id, 0.0) >= PROGRESS_WRITE_S:
                self._written[job_id] = now
                self.store.update_job(job_id, progress=payload)
            return
        r = self._running.get(job_id)
        if r is not None:
            r.result = True
        last = self._progress.get(job_id, {})
        if kind == "error":
            self.store.finish_job(job_id, "failed", [], error=str(payload), progress=last)
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
            if not r.result:
                self._drain(timeout=0.3)  # its last words may still be in the pipe
            if not r.result:
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
