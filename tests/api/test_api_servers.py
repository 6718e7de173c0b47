"""Several servers (and a ``rotation worker``) on one database, as real processes on 127.0.0.1:
a job runs once; a cancel through either server works; a killed server's job is requeued once
(then failed) and its worker process does not outlive it; a graceful stop hands the job over.
Each test runs on SQLite and on PostgreSQL (scripts/pg.sh)."""

from __future__ import annotations

import datetime as dt
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from api_helpers import AS_OF_RULES, tiny_zip
from test_api_postgres import postgres_cluster

from api.jobs import Leases
from api.models import Job, utcnow
from api.store import Store
from bench.load import (
    Process,
    Server,
    child_pids,
    pid_gone,
    read_runs,
    service_env,
    worker_process,
)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")

LEASE_S = 2.0
GRACEFUL = (0, -signal.SIGTERM)
TESTS = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def backend(request) -> Iterator[Callable[[Path], str]]:
    """A function giving a fresh database URL for a test (SQLite file, or a PostgreSQL
    database on the cluster the module starts and stops)."""
    if request.param == "sqlite":
        yield lambda tmp: f"sqlite:///{tmp / 'shared.sqlite3'}"
        return
    with postgres_cluster() as cluster:
        yield lambda _tmp: cluster.new_database()


class Cluster:
    """Servers and workers of one test on one database; everything is stopped at the end."""

    def __init__(self, url: str, tmp: Path, target: str) -> None:
        self.url = url
        self.tmp = tmp
        self.runs = tmp / "runs.log"
        self.target = target
        self.processes: list[Process] = []
        self.store: Store | None = None
        self.admin = ""

    def env(self, **kw) -> dict[str, str]:
        return service_env(
            self.url,
            self.tmp,
            extra_path=[TESTS / "api", TESTS],
            JOB_LEASE_S=LEASE_S,
            ROTATION_SOLVE_TARGET=self.target,
            ROTATION_RUNS_LOG=self.runs,
            **{"WORKERS": 1, **kw},
        )

    def server(self, **kw) -> Server:
        server = Server.make(self.env(**kw), self.tmp / f"server{len(self.processes)}.log")
        self.processes.append(server.start())
        server.wait_ready()
        if self.store is None:
            self.store = Store(self.url)
            self.admin = self.store.create_key("admin", None)[1]
        return server

    def worker(self) -> Process:
        proc = worker_process(self.env(), self.tmp / f"worker{len(self.processes)}.log")
        self.processes.append(proc.start())
        return proc

    @property
    def h(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin}"}

    def upload(self, server: Server) -> str:
        r = httpx.post(
            server.url + "/v1/datasets",
            headers=self.h,
            files={"file": ("tiny.zip", tiny_zip(), "application/zip")},
            timeout=60,
        )
        assert r.status_code == 201, r.text
        return r.json()["dataset_id"]

    def submit(self, server: Server, dataset_id: str, seed: int) -> str:
        r = httpx.post(
            f"{server.url}/v1/datasets/{dataset_id}/plans",
            json={**AS_OF_RULES, "seed": seed},
            headers=self.h,
            timeout=30,
        )
        assert r.status_code == 202, r.text
        return r.json()["job_id"]

    def job(self, job_id: str) -> Job:
        assert self.store is not None
        job = self.store.get_job(job_id)
        assert job is not None
        return job

    def info(self, server: Server, job_id: str) -> dict:
        r = httpx.get(f"{server.url}/v1/jobs/{job_id}", headers=self.h, timeout=30)
        assert r.status_code == 200, r.text
        return r.json()

    def wait(self, what: Callable[[], object], timeout: float = 60, why: str = "") -> object:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = what()
            if got:
                return got
            time.sleep(0.1)
        logs = "\n".join(p.output()[-1500:] for p in self.processes)
        raise AssertionError(f"timed out waiting for {why}\n{logs}")

    def running_on(self, job_id: str, runs: int) -> Job:
        """Wait until the job runs (its solve has started ``runs`` times in all); the row."""

        def ready() -> Job | None:
            job = self.job(job_id)
            started = len(read_runs(self.runs))
            ok = job.status == "running" and started >= runs and job.progress.get("step")
            return job if ok else None

        job = self.wait(ready, why=f"job {job_id} running (run {runs})")
        assert isinstance(job, Job)
        return job

    def holder(self, job: Job, servers: list[Server]) -> Server:
        pid = int(str(job.worker_id).split(":")[1])
        return next(s for s in servers if s.pid == pid)

    def close(self) -> None:
        for p in self.processes:
            p.stop(timeout=15)
        if self.store is not None:
            self.store.dispose()


@pytest.fixture
def cluster(backend, tmp_path, request) -> Iterator[Callable[[str], Cluster]]:
    made: list[Cluster] = []

    def make(target: str) -> Cluster:
        made.append(Cluster(backend(tmp_path), tmp_path, target))
        return made[-1]

    yield make
    for c in made:
        c.close()
        for p in c.processes:
            assert "Traceback" not in p.output(), p.output()[-3000:]


def test_jobs_run_once_across_two_servers_and_a_worker(cluster):
    """Ten jobs sent alternately to two servers, with a ``rotation worker`` also claiming: each
    runs exactly once (one solve per seed), all end done, and more than one runner ran them."""
    c = cluster("bench.load:counted_solve")
    a, b = c.server(), c.server()
    c.worker()
    ds = c.upload(a)
    ids = [c.submit((a, b)[i % 2], ds, seed=i + 1) for i in range(10)]
    c.wait(lambda: all(c.job(j).status == "done" for j in ids), timeout=240, why="ten jobs done")
    runs = Counter(seed for seed, _pid in read_runs(c.runs))
    assert runs == Counter(range(1, 11)), runs
    holders = {c.job(j).worker_id for j in ids}
    assert len(holders) >= 2, holders
    for j in ids:
        assert c.info(b, j)["status"] == "done"


def test_cancel_through_either_server(cluster):
    """A running job is cancelled through the server that does not run it, and another through
    the one that does: both end cancelled, keeping their best plan."""
    c = cluster("bench.load:counted_slow_solve")
    servers = [c.server(), c.server()]
    ds = c.upload(servers[0])
    for n, through_holder in enumerate((False, True), start=1):
        job_id = c.submit(servers[0], ds, seed=n)
        job = c.running_on(job_id, runs=n)
        holder = c.holder(job, servers)
        other = next(s for s in servers if s is not holder)
        via = holder if through_holder else other
        t0 = time.monotonic()
        r = httpx.delete(f"{via.url}/v1/jobs/{job_id}", headers=c.h, timeout=30)
        assert r.status_code == 202, r.text
        c.wait(lambda j=job_id: c.job(j).status == "cancelled", timeout=30, why="cancelled")
        assert time.monotonic() - t0 < 10  # the flag was seen, not the grace period
        info = c.info(other, job_id)
        assert info["status"] == "cancelled" and len(info["plan_ids"]) == 1, info
        plan = httpx.get(f"{other.url}/v1/plans/{info['plan_ids'][0]}", headers=c.h, timeout=30)
        assert plan.status_code == 200 and len(plan.json()["assignments"]) == 6
    assert len(read_runs(c.runs)) == 2


def test_killed_server_job_requeued_once_then_failed(cluster):
    """A second server starting does not take a running job; ``kill -9`` of the server running
    it: its worker process is gone within seconds, the job is requeued once on the other server
    (the lease expired); killed again, a third server fails it with the reason."""
    c = cluster("bench.load:counted_slow_solve")
    a = c.server()
    ds = c.upload(a)
    job_id = c.submit(a, ds, seed=7)
    job = c.running_on(job_id, runs=1)
    assert c.holder(job, [a]) is a
    b = c.server()
    time.sleep(2 * LEASE_S)  # longer than a lease: A renews it, B must not take the job
    job = c.job(job_id)
    assert job.status == "running" and c.holder(job, [a, b]) is a and job.lease_expiries == 0
    assert len(read_runs(c.runs)) == 1

    first_pid = read_runs(c.runs)[0][1]
    assert first_pid in child_pids(a.pid)
    a.kill()
    c.wait(lambda: pid_gone(first_pid), timeout=5, why="the killed server's worker to end")

    job = c.running_on(job_id, runs=2)
    assert c.holder(job, [a, b]) is b and job.lease_expiries == 1
    assert [seed for seed, _ in read_runs(c.runs)] == [7, 7]
    second_pid = read_runs(c.runs)[1][1]
    b.kill()
    c.wait(lambda: pid_gone(second_pid), timeout=5, why="the second worker to end")
    third = c.server()
    c.wait(lambda: c.job(job_id).status == "failed", timeout=30, why="failed after two expiries")
    info = c.info(third, job_id)
    assert "expired twice" in info["error"], info
    assert len(read_runs(c.runs)) == 2  # not run a third time


def test_graceful_stop_hands_the_job_over(cluster):
    """SIGTERM to the server running a job: it hands the job back at once (no expiry counted)
    and the other server runs it; a ``rotation worker`` stopped the same way does likewise."""
    c = cluster("bench.load:counted_slow_solve")
    a = c.server()
    ds = c.upload(a)
    job_id = c.submit(a, ds, seed=3)
    c.running_on(job_id, runs=1)
    w = c.worker()
    time.sleep(1.0)
    assert a.stop(timeout=30) in GRACEFUL  # uvicorn re-raises SIGTERM after its shutdown
    job = c.running_on(job_id, runs=2)
    assert job.lease_expiries == 0 and str(job.worker_id).split(":")[1] == str(w.pid)
    assert w.stop(timeout=30) in GRACEFUL
    b = c.server()
    job = c.running_on(job_id, runs=3)
    assert job.lease_expiries == 0 and c.holder(job, [b]) is b
    r = httpx.delete(f"{b.url}/v1/jobs/{job_id}", headers=c.h, timeout=30)
    assert r.status_code == 202
    c.wait(lambda: c.job(job_id).status == "cancelled", timeout=30, why="cancelled")


def test_lease_rules_on_the_store(backend, tmp_path):
    """The lease rules one statement at a time: claim, lost lease requeued once then failed,
    renew keeps a live lease, a cancel flag is reported to the holder, release is no expiry."""
    store = Store(backend(tmp_path))
    try:
        ds = store.add_dataset(
            name="d", province_id=None, created_by=None, tables={}, hierarchy={}, summary={}
        )
        job = store.add_job(dataset_id=ds.id, kind="plan", scope_unit_id=None, rules={}, spec={})
        one, two = Leases(store, "one", 30), Leases(store, "two", 30)
        got = one.claim()
        assert got is not None and got.id == job.id and two.claim() is None
        assert one.renew([job.id]) == {job.id: False} and two.renew([job.id]) == {}
        assert one.expire() == []  # a live lease stays
        assert one.request_cancel(job.id) == "cancelling"
        assert one.renew([job.id]) == {job.id: True}
        with store.session() as s:
            row = s.get(Job, job.id)
            assert row is not None
            row.cancel_requested = False
        one.release([job.id])
        assert _row(store, job.id).status == "queued"
        assert two.claim() is not None
        _lapse(store, job.id)
        assert one.expire() == [(job.id, "queued")]
        assert _row(store, job.id).lease_expiries == 1
        assert one.claim() is not None
        _lapse(store, job.id)
        assert two.expire() == [(job.id, "failed")]
        assert "expired twice" in (_row(store, job.id).error or "")
        assert one.request_cancel(job.id) == "finished"
        queued = store.add_job(dataset_id=ds.id, kind="plan", scope_unit_id=None, rules={}, spec={})
        assert one.queue_position(queued.id) == 1
        assert two.request_cancel(queued.id) == "cancelled" and one.claim() is None
    finally:
        store.dispose()


def _row(store: Store, job_id: str) -> Job:
    job = store.get_job(job_id)
    assert job is not None
    return job


def _lapse(store: Store, job_id: str) -> None:
    """As if the holder had died: its lease ended a second ago."""
    with store.session() as s:
        row = s.get(Job, job_id)
        assert row is not None
        row.lease_until = utcnow() - dt.timedelta(seconds=1)
