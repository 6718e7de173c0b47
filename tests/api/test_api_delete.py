"""Scope-correct deletion (README "who may do what"), cancelling jobs, and audited refusals."""

from __future__ import annotations

import time

from api_helpers import AS_OF_RULES, open_api

from api.deps import get_runner


def _exists(api, ds: str) -> bool:
    return api.store.dataset_meta(ds) is not None


def test_scoped_admin_cannot_delete_province_dataset(api):
    """A D1 admin may not delete a province-wide dataset the unscoped admin uploaded (403);
    nothing is removed, and the refusal is audited."""
    ds = api.upload_zip()
    job = api.plan(ds)
    r = api.client.delete(f"/v1/datasets/{ds}", headers=api.key("admin", "D1"))
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert _exists(api, ds) and api.store.get_plan(job["plan_ids"][0]) is not None
    assert any(
        a["action"] == "refused" and a["object"] == f"DELETE /v1/datasets/{ds}"
        for a in api.store.audit_rows()
    )


def test_uploader_refused_when_other_scopes_use_it(api):
    """A D1 planner's upload with a D2 plan on it: the D1 planner's delete is refused (409) and
    the D2 plan stays."""
    d1, d2 = api.key("planner", "D1"), api.key("planner", "D2")
    ds = api.upload_zip(headers=d1)
    job2 = api.plan(ds, AS_OF_RULES, headers=d2)
    r = api.client.delete(f"/v1/datasets/{ds}", headers=d1)
    assert r.status_code == 409, r.text
    assert "outside your scope" in r.json()["detail"]
    assert _exists(api, ds)
    assert api.client.get(f"/v1/plans/{job2['plan_ids'][0]}", headers=d2).status_code == 200


def test_uploader_deletes_own_dataset(api):
    """A D1 planner deletes its upload when only D1 objects use it: dataset, jobs, plans gone."""
    d1 = api.key("planner", "D1")
    ds = api.upload_zip(headers=d1)
    job = api.plan(ds, AS_OF_RULES, headers=d1)
    assert api.client.delete(f"/v1/datasets/{ds}", headers=d1).status_code == 204
    assert not _exists(api, ds)
    assert api.store.get_job(job["job_id"]) is None
    assert api.store.get_plan(job["plan_ids"][0]) is None


def test_scoped_admin_deletes_dataset_inside_scope(api):
    """A province (P) admin deletes the unscoped admin's dataset lying wholly in P."""
    ds = api.upload_zip()
    assert api.client.delete(f"/v1/datasets/{ds}", headers=api.key("admin", "P")).status_code == 204
    assert not _exists(api, ds)


def test_planner_cannot_delete_others_upload(api):
    """An unscoped planner may not delete the admin's dataset (403)."""
    ds = api.upload_zip()
    assert api.client.delete(f"/v1/datasets/{ds}", headers=api.key("planner")).status_code == 403
    assert _exists(api, ds)


def test_failed_auth_audited(api):
    """A wrong key (401) is in the audit log with the key id it named, never the secret."""
    bad = {"Authorization": "Bearer rk_abc123_not-the-secret"}
    assert api.client.get("/v1/datasets", headers=bad).status_code == 401
    rows = [a for a in api.store.audit_rows() if a["action"] == "auth_failed"]
    assert any(a["object"] == "key:abc123 GET /v1/datasets" for a in rows), rows
    assert all("not-the-secret" not in a["object"] for a in api.store.audit_rows())
    assert api.client.get("/v1/datasets").status_code == 401  # no key at all
    assert len([a for a in api.store.audit_rows() if a["action"] == "auth_failed"]) == len(rows) + 1


def test_viewer_write_refusal_audited(api):
    """A viewer's write (403) is in the audit log under the viewer's key id."""
    key_id, key = api.store.create_key("viewer", None)
    r = api.client.post("/v1/datasets", headers={"Authorization": f"Bearer {key}"}, json={})
    assert r.status_code == 403
    assert any(a["who"] == key_id and a["action"] == "refused" for a in api.store.audit_rows())


class SpyRunner:
    """The app's runner, recording the job ids it is asked to cancel."""

    def __init__(self, runner) -> None:
        self.runner = runner
        self.cancelled: list[str] = []

    def __getattr__(self, name: str):
        return getattr(self.runner, name)

    def cancel(self, job_id: str):
        self.cancelled.append(job_id)
        return self.runner.cancel(job_id)


def _spy_on(app) -> SpyRunner:
    spy = SpyRunner(app.state.runner)
    app.dependency_overrides[get_runner] = lambda: spy
    return spy


def test_delete_cancels_running_job(tmp_path):
    """Deleting a dataset cancels its running job through the runner: the worker stops."""
    for slow in open_api(
        tmp_path / "slow.sqlite3", solve_target="solve_targets:slow_solve", cancel_grace_s=5.0
    ):
        spy = _spy_on(slow.client.app)
        h = slow.key("admin")
        ds = slow.upload_zip(h)
        job_id = slow.client.post(f"/v1/datasets/{ds}/plans", json=AS_OF_RULES, headers=h).json()[
            "job_id"
        ]
        t0 = time.monotonic()
        while slow.store.get_job(job_id).status != "running" and time.monotonic() - t0 < 60:
            time.sleep(0.1)
        assert slow.store.get_job(job_id).status == "running"
        assert slow.client.delete(f"/v1/datasets/{ds}", headers=h).status_code == 204
        assert spy.cancelled == [job_id]
        t0 = time.monotonic()
        while spy.runner.running_count() and time.monotonic() - t0 < 30:
            time.sleep(0.1)
        assert spy.runner.running_count() == 0
        assert slow.store.get_job(job_id) is None
