"""The same store on PostgreSQL (started by scripts/pg.sh): migrations, a plan job, restart,
claims under contention (``FOR UPDATE SKIP LOCKED``). The two-server tests run on PostgreSQL too
(tests/api/test_api_servers.py, through :func:`postgres_cluster`)."""

from __future__ import annotations

import subprocess
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from api_helpers import AS_OF_RULES, open_api

ROOT = Path(__file__).resolve().parents[2]
PG_SH = ROOT / "scripts" / "pg.sh"


class PgCluster:
    """The throwaway cluster of scripts/pg.sh; each test gets a fresh database on it."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.names: list[str] = []

    def _admin(self):
        import psycopg

        return psycopg.connect(self.base_url.rsplit("/", 1)[0] + "/postgres", autocommit=True)

    def new_database(self) -> str:
        name = f"rotation_test_{uuid.uuid4().hex[:8]}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.names.append(name)
        return self.base_url.rsplit("/", 1)[0] + f"/{name}"

    def drop_all(self) -> None:
        with self._admin() as conn:
            for name in self.names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def postgres_cluster() -> Iterator[PgCluster]:
    """Start the cluster (skip the test when PostgreSQL cannot start), drop the test databases
    at the end and stop the cluster again if it was not running before."""
    was_running = subprocess.run([str(PG_SH), "status"], capture_output=True).returncode == 0
    try:
        out = subprocess.run([str(PG_SH)], capture_output=True, text=True, timeout=600, check=True)
    except (subprocess.SubprocessError, OSError) as err:
        detail = getattr(err, "stderr", "") or ""
        print(f"PostgreSQL unavailable: {err}\n{detail[-2000:]}")
        pytest.skip(f"scripts/pg.sh failed: {err}")
    cluster = PgCluster(out.stdout.strip().splitlines()[-1])
    try:
        yield cluster
    finally:
        try:
            cluster.drop_all()
        finally:
            if not was_running:
                subprocess.run([str(PG_SH), "stop"], capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def pg() -> Iterator[PgCluster]:
    with postgres_cluster() as cluster:
        yield cluster


def test_postgres_plan_and_restart(pg, tmp_path):
    """Upload, solve and read back across a restart on PostgreSQL."""
    pg_url = pg.new_database()
    for first in open_api(tmp_path / "unused.sqlite3", DATABASE_URL=pg_url):
        assert first.store.url.startswith("postgresql+psycopg://")
        key = first.store.create_key("admin", None)[1]
        h = {"Authorization": f"Bearer {key}"}
        ds = first.upload_zip(h)
        job = first.plan(ds, AS_OF_RULES, headers=h)
        assert job["status"] == "done"
    for second in open_api(tmp_path / "unused.sqlite3", DATABASE_URL=pg_url):
        r = second.client.get(f"/v1/plans/{job['plan_ids'][0]}", headers=h)
        assert r.status_code == 200 and r.json()["assignments"]
        assert second.client.get(f"/v1/datasets/{ds}", headers=h).status_code == 200
        assert not (tmp_path / "unused.sqlite3").exists()


def test_postgres_claims_skip_locked(pg, tmp_path):
    """Eight runners claiming at once from 20 queued jobs: every job is claimed exactly once."""
    from api.jobs import Leases
    from api.store import Store

    store = Store(pg.new_database())
    try:
        ds = store.add_dataset(
            name="d", province_id=None, created_by=None, tables={}, hierarchy={}, summary={}
        )
        for _ in range(20):
            store.add_job(dataset_id=ds.id, kind="plan", scope_unit_id=None, rules={}, spec={})
        claimed: dict[str, list[str]] = {}
        barrier = threading.Barrier(8)

        def claim_all(n: int) -> None:
            leases = Leases(store, f"runner-{n}", 30)
            assert leases.postgres
            got = claimed.setdefault(leases.owner, [])
            barrier.wait()
            while (job := leases.claim()) is not None:
                got.append(job.id)

        threads = [threading.Thread(target=claim_all, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        ids = [j for got in claimed.values() for j in got]
        assert len(ids) == 20 and len(set(ids)) == 20, claimed
    finally:
        store.dispose()
