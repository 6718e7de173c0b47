"""Fixtures for the API tests: an app on a fresh SQLite file per module, keys, tiny uploads."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api_helpers import Api, open_api


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
