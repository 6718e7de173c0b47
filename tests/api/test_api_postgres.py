"""The same store on PostgreSQL (started by scripts/pg.sh): migrations, a plan job, restart."""

from __future__ import annotations

import subprocess
import uuid
from pathlib import Path

import pytest
from api_helpers import AS_OF_RULES, open_api

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pg_url() -> str:
    """A fresh database on the throwaway cluster; skipped only when PostgreSQL cannot start."""
    try:
        out = subprocess.run(
            [str(ROOT / "scripts" / "pg.sh")],
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
    except (subprocess.SubprocessError, OSError) as err:
        detail = getattr(err, "stderr", "") or ""
        print(f"PostgreSQL unavailable: {err}\n{detail[-2000:]}")
        pytest.skip(f"scripts/pg.sh failed: {err}")
    base = out.stdout.strip().splitlines()[-1]
    import psycopg

    name = f"rotation_test_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(base.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.rsplit("/", 1)[0] + f"/{name}"


def test_postgres_plan_and_restart(pg_url, tmp_path):
    """Upload, solve and read back across a restart on PostgreSQL."""
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
