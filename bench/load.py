"""Load against a real server on 127.0.0.1: many open event streams and many jobs at once.

    python -m bench.load                      # 100 streams, 50 jobs, Hai Duong, 2 workers
    python -m bench.load --streams 100 --jobs 50 --workers 2

Starts ``uvicorn api.main:app`` in a subprocess on a fresh SQLite file, uploads a dataset,
submits the jobs (each with its own ``seed``, which the solve target writes to a run log, so a
job run twice is seen), opens the streams (spread over the jobs, several viewer keys to stay
under the per-key cap) and polls ``/health`` the whole time. Prints (and returns) the figures:
requests, p50/p95 latency of ``/health`` and of every request, jobs run exactly once, streams
that saw their job's end, nothing lost. The servers here (:class:`Server`, :class:`Worker`) are
also what the multi-server tests start.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Self

import httpx

ROOT = Path(__file__).resolve().parents[1]
RUNS_LOG_ENV = "ROTATION_RUNS_LOG"
TERMINAL = ("done", "infeasible", "failed", "cancelled")
SLOW_SAFETY_S = 120.0


# =========================================================================== solve target
def counted_solve(data: Any, rules: Any, progress: Any = None, stop: Any = None) -> Any:
    """The real solve, after writing ``<seed> <pid>`` to the run log (``ROTATION_RUNS_LOG``):
    the log tells how many times each job (one seed per job) was run. Resolved by name in the
    worker process (``ROTATION_SOLVE_TARGET=bench.load:counted_solve``)."""
    from rotation.solve import solve

    log_runs(rules.seed)
    return solve(data, rules, progress=progress, stop=stop)


def counted_slow_solve(data: Any, rules: Any, progress: Any = None, stop: Any = None) -> Any:
    """Like :func:`counted_solve`, then keep "searching" (progress every 0.1 s) until ``stop``
    is set (or ``SLOW_SAFETY_S``): a job that is surely running when a test acts on it."""
    from rotation.solve import solve

    log_runs(rules.seed)
    result = solve(data, rules)
    deadline = time.monotonic() + SLOW_SAFETY_S
    step = 0
    while time.monotonic() < deadline:
        step += 1
        if progress is not None:
            progress({"phase": "searching", "step": step, "plans": len(result.plans)})
        if stop is not None and stop.wait(0.1):
            break
    return result


def log_runs(seed: int) -> None:
    path = os.environ.get(RUNS_LOG_ENV)
    if path:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{seed} {os.getpid()}\n".encode())
        finally:
            os.close(fd)


def read_runs(path: Path) -> list[tuple[int, int]]:
    """(seed, worker pid) per run, in order."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        seed, pid = line.split()
        out.append((int(seed), int(pid)))
    return out


# =========================================================================== processes
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def service_env(
    db_url: str, data_dir: Path, extra_path: Sequence[Path] = (), **env: Any
) -> dict[str, str]:
    """Environment of a server or worker: the store, the data dir, ``sys.path`` for solve
    targets, and any setting (``WORKERS=1``, ``JOB_LEASE_S=2``, ...)."""
    path = [str(ROOT), *map(str, extra_path), os.environ.get("PYTHONPATH", "")]
    return {
        **os.environ,
        "DATABASE_URL": db_url,
        "ROTATION_DATA_DIR": str(data_dir),
        "PYTHONPATH": os.pathsep.join(p for p in path if p),
        **{k: str(v) for k, v in env.items()},
    }


@dataclass
class Process:
    """A service process (server or worker) started by a test or this benchmark."""

    argv: list[str]
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
            )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """``kill -9``: no cleanup at all."""
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self, timeout: float = 30) -> int | None:
        """Graceful stop (SIGTERM); kill -9 if it has not ended after ``timeout``."""
        if self.proc is None:
            return None
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Server(Process):
    url: str = ""

    @classmethod
    def make(cls, env: dict[str, str], log: Path) -> Server:
        port = free_port()
        argv = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1"]
        argv += ["--port", str(port), "--log-level", "warning", "--timeout-graceful-shutdown", "5"]
        return cls(argv, env, log, url=f"http://127.0.0.1:{port}")

    def wait_ready(self, timeout: float = 120) -> Server:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"server exited:\n{self.output()[-3000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server not ready after {timeout} s:\n{self.output()[-3000:]}")


def worker_process(env: dict[str, str], log: Path, workers: int = 1) -> Process:
    """``rotation worker`` (as ``python -m api.cli worker``)."""
    return Process([sys.executable, "-m", "api.cli", "worker", "--workers", str(workers)], env, log)


def child_pids(pid: int) -> list[int]:
    """Direct children of a process (Linux /proc)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def pid_gone(pid: int) -> bool:
    """True when the process no longer runs (gone, or a zombie nobody reaped)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    state = next((ln.split()[1] for ln in status.splitlines() if ln.startswith("State:")), "")
    return state in ("Z", "X")


# =========================================================================== load
@dataclass
class LoadFigures:
    streams: int
    jobs: int
    workers: int
    requests: int
    errors: int
    seconds: float
    health_requests: int
    health_p50_ms: float
    health_p95_ms: float
    request_p50_ms: float
    request_p95_ms: float
    streams_ended: int
    streams_refused: int
    jobs_done: int
    jobs_run_once: int
    jobs_lost: int
    statuses: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        return [
            f"load: {self.streams} event streams and {self.jobs} jobs against one server on "
            f"127.0.0.1 ({self.workers} worker processes), {self.seconds:.1f} s",
            f"requests: {self.requests} ({self.errors} errors); /health x{self.health_requests}: "
            f"p50 {self.health_p50_ms:.1f} ms, p95 {self.health_p95_ms:.1f} ms; every request: "
            f"p50 {self.request_p50_ms:.1f} ms, p95 {self.request_p95_ms:.1f} ms",
            f"streams: {self.streams_ended}/{self.streams} saw their job end, "
            f"{self.streams_refused} refused",
            f"jobs: {self.jobs_done}/{self.jobs} done, {self.jobs_run_once} run exactly once, "
            f"{self.jobs_lost} lost; statuses {self.statuses}",
        ]


def pct(values: Sequence[float], q: float) -> float:
    """The q-quantile (nearest rank) of values, in ms; 0 when empty."""
    if not values:
        return 0.0
    s = sorted(values)
    return 1000 * s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]


def zip_folder(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.glob("*.csv")):
            zf.write(f, f.name)
    return buf.getvalue()


async def _load(
    url: str,
    admin: str,
    viewers: list[str],
    dataset_zip: bytes,
    rules: dict[str, Any],
    streams: int,
    jobs: int,
    timeout: float,
) -> dict[str, Any]:
    latencies: list[float] = []
    health: list[float] = []
    errors = 0
    ended = 0
    refused = 0
    done = asyncio.Event()
    limits = httpx.Limits(max_connections=streams + 50, max_keepalive_connections=streams + 50)
    async with httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits) as client:

        async def call(method: str, path: str, **kw: Any) -> httpx.Response:
            nonlocal errors
            t0 = time.perf_counter()
            r = await client.request(method, path, **kw)
            latencies.append(time.perf_counter() - t0)
            if r.status_code >= 500:
                errors += 1
            return r

        h_admin = {"Authorization": f"Bearer {admin}"}
        r = await call(
            "POST",
            "/v1/datasets",
            headers=h_admin,
            files={"file": ("load.zip", dataset_zip, "application/zip")},
        )
        r.raise_for_status()
        dataset_id = r.json()["dataset_id"]
        job_ids = []
        for i in range(jobs):
            r = await call(
                "POST",
                f"/v1/datasets/{dataset_id}/plans",
                json={**rules, "seed": i + 1},
                headers=h_admin,
            )
            r.raise_for_status()
            job_ids.append(r.json()["job_id"])

        async def stream(i: int) -> None:
            nonlocal ended, refused, errors
            key = viewers[i % len(viewers)]
            job_id = job_ids[i % len(job_ids)]
            t0 = time.perf_counter()
            async with client.stream(
                "GET", f"/v1/jobs/{job_id}/events", headers={"Authorization": f"Bearer {key}"}
            ) as resp:
                latencies.append(time.perf_counter() - t0)
                if resp.status_code == 429:
                    refused += 1
                    return
                if resp.status_code != 200:
                    errors += 1
                    return
                event = ""
                async for line in resp.aiter_lines():
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: ") and event == "end":
                        if json.loads(line[6:]).get("status") in TERMINAL:
                            ended += 1
                        return

        async def poll_health() -> None:
            nonlocal errors
            while not done.is_set():
                t0 = time.perf_counter()
                r = await client.get("/health")
                dt = time.perf_counter() - t0
                health.append(dt)
                latencies.append(dt)
                if r.status_code != 200:
                    errors += 1
                await asyncio.sleep(0.05)

        t0 = time.perf_counter()
        poller = asyncio.create_task(poll_health())
        await asyncio.wait_for(asyncio.gather(*(stream(i) for i in range(streams))), timeout)
        done.set()
        await poller
        statuses: Counter[str] = Counter()
        for job_id in job_ids:
            r = await call("GET", f"/v1/jobs/{job_id}", headers=h_admin)
            statuses[r.json()["status"]] += 1
        return {
            "seconds": time.perf_counter() - t0,
            "latencies": latencies,
            "health": health,
            "errors": errors,
            "ended": ended,
            "refused": refused,
            "statuses": dict(statuses),
        }


def run_load(
    streams: int = 100,
    jobs: int = 50,
    workers: int = 2,
    dataset_zip: bytes | None = None,
    rules: dict[str, Any] | None = None,
    per_key: int = 20,
    timeout: float = 600,
    workdir: Path | None = None,
) -> LoadFigures:
    """Start a server, run the load, stop the server (always); the figures."""
    from api.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        work = workdir or Path(tmp)
        db = work / "load.sqlite3"
        runs = work / "runs.log"
        env = service_env(
            f"sqlite:///{db}",
            work,
            WORKERS=workers,
            MAX_STREAMS_PER_KEY=per_key,
            ROTATION_SOLVE_TARGET="bench.load:counted_solve",
        )
        env[RUNS_LOG_ENV] = str(runs)
        server = Server.make(env, work / "server.log").start()
        try:
            server.wait_ready()
            store = Store(f"sqlite:///{db}")
            admin = store.create_key("admin", None)[1]
            viewers = [store.create_key("viewer", None)[1] for _ in range(-(-streams // per_key))]
            store.dispose()
            data = dataset_zip or zip_folder(ROOT / "data" / "hai_duong")
            got = asyncio.run(
                _load(
                    server.url,
                    admin,
                    viewers,
                    data,
                    rules or {"as_of": "2026-01-01", "time_limit_s": 30},
                    streams,
                    jobs,
                    timeout,
                )
            )
        finally:
            server.stop()
        counts = Counter(seed for seed, _pid in read_runs(runs))
    once = sum(1 for i in range(1, jobs + 1) if counts[i] == 1)
    statuses = got["statuses"]
    return LoadFigures(
        streams=streams,
        jobs=jobs,
        workers=workers,
        requests=len(got["latencies"]),
        errors=got["errors"],
        seconds=got["seconds"],
        health_requests=len(got["health"]),
        health_p50_ms=pct(got["health"], 0.5),
        health_p95_ms=pct(got["health"], 0.95),
        request_p50_ms=pct(got["latencies"], 0.5),
        request_p95_ms=pct(got["latencies"], 0.95),
        streams_ended=got["ended"],
        streams_refused=got["refused"],
        jobs_done=statuses.get("done", 0),
        jobs_run_once=once,
        jobs_lost=jobs - sum(statuses.get(s, 0) for s in TERMINAL),
        statuses=statuses,
    )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--streams", type=int, default=100)
    ap.add_argument("--jobs", type=int, default=50)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    figures = run_load(args.streams, args.jobs, args.workers)
    if args.json:
        print(json.dumps(asdict(figures), indent=2))
    else:
        print("\n".join(figures.lines()))
    return 0 if figures.jobs_lost == 0 and figures.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
