"""Helpers for the API tests: an app on a given database, keys, tiny uploads in memory."""

from __future__ import annotations

import io
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings
from rotation.read import write_dataset

AS_OF_RULES = {"as_of": "2026-01-01", "time_limit_s": 10}


def tiny_zip(data=None) -> bytes:
    """The tiny dataset (tests/builders.py) as a .zip of contract CSV files, built in memory."""
    from builders import tiny_problem

    data = data or tiny_problem()
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "tiny"
        write_dataset(data, folder)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in sorted(folder.glob("*.csv")):
                zf.write(f, f.name)
    return buf.getvalue()


def tiny_xlsx(data=None) -> bytes:
    import tempfile

    from builders import tiny_problem

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tiny.xlsx"
        write_dataset(data or tiny_problem(), path)
        return path.read_bytes()


def make_settings(db: Path, **kw) -> Settings:
    url = kw.pop("DATABASE_URL", f"sqlite:///{db}")
    return Settings(**{"ROTATION_DATA_DIR": db.parent, "DATABASE_URL": url, "WORKERS": 2, **kw})


class Api:
    """A TestClient plus the keys made for it."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.store = client.app.state.store
        self.keys: dict[str, str] = {}

    def key(self, role: str, scope: str | None = None) -> dict[str, str]:
        name = f"{role}:{scope}"
        if name not in self.keys:
            self.keys[name] = self.store.create_key(role, scope)[1]
        return {"Authorization": f"Bearer {self.keys[name]}"}

    def upload_zip(self, headers=None, data=None, name="tiny.zip") -> str:
        r = self.client.post(
            "/v1/datasets",
            headers=headers or self.key("admin"),
            files={"file": (name, tiny_zip(data), "application/zip")},
        )
        assert r.status_code == 201, r.text
        return r.json()["dataset_id"]

    def wait(self, job_id: str, headers=None, timeout: float = 60) -> dict:
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            r = self.client.get(f"/v1/jobs/{job_id}", headers=headers or self.key("admin"))
            assert r.status_code == 200, r.text
            body = r.json()
            if body["status"] in ("done", "infeasible", "failed", "cancelled"):
                return body
            time.sleep(0.1)
        raise AssertionError(f"job {job_id} did not finish in {timeout} s")

    def plan(self, dataset_id: str, rules=None, headers=None) -> dict:
        h = headers or self.key("admin")
        r = self.client.post(
            f"/v1/datasets/{dataset_id}/plans", json=rules or AS_OF_RULES, headers=h
        )
        assert r.status_code == 202, r.text
        return self.wait(r.json()["job_id"], h)


def open_api(db: Path, **kw) -> Iterator[Api]:
    app = create_app(make_settings(db, **kw))
    with TestClient(app) as client:
        yield Api(client)
