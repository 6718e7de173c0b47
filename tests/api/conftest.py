"""Fixtures for the API tests: an app on a fresh SQLite file per module, keys, tiny uploads;
and the session's housekeeping (every server the tests start is stopped at the end)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api_helpers import Api, open_api

ROOT = Path(__file__).resolve().parents[2]
PG_DIR = Path(os.environ.get("ROTATION_PG_DIR", "/tmp/rotation-pg"))
"""Where scripts/pg.sh keeps its throwaway cluster (same default and variable as the script)."""


def pg_running() -> bool:
    """Is the throwaway PostgreSQL cluster of scripts/pg.sh running (its postmaster.pid)?"""
    return (PG_DIR / "postmaster.pid").exists()


@pytest.fixture(scope="session", autouse=True)
def stop_started_servers() -> Iterator[None]:
    """PostgreSQL started by the tests (scripts/pg.sh, from test_api_postgres.py) is stopped at
    the end of the session; a cluster that was already running before it is left alone."""
    was_running = pg_running()
    yield
    if not was_running and pg_running():
        subprocess.run(
            [str(ROOT / "scripts" / "pg.sh"), "stop"], capture_output=True, timeout=120, check=False
        )


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """One app per test module on its own SQLite file."""
    db = tmp_path_factory.mktemp("db") / "api.sqlite3"
    yield from open_api(db)


@pytest.fixture(scope="module")
def tiny_id(api: Api) -> str:
    return api.upload_zip()


@pytest.fixture(scope="module")
def done_job(api: Api, tiny_id: str) -> dict:
    job = api.plan(tiny_id)
    assert job["status"] == "done", job
    return job
