"""Term roadmaps over HTTP: a 2-round horizon on the tiny dataset, read, export, scope, errors."""

from __future__ import annotations

import io

import pytest
from api_helpers import AS_OF_RULES

HORIZON_RULES = {**AS_OF_RULES, "horizon": {"rounds": ["2026-01-01", "2027-01-01"]}}


def _start(api, ds: str, rules: dict, headers: dict):
    return api.client.post(f"/v1/datasets/{ds}/roadmaps", json=rules, headers=headers)


@pytest.fixture(scope="module")
def roadmap_job(api, tiny_id) -> dict:
    h = api.key("planner")
    r = _start(api, tiny_id, HORIZON_RULES, h)
    assert r.status_code == 202, r.text
    job = api.wait(r.json()["job_id"], h)
    assert job["status"] == "done", job
    return job


def test_roadmap_job_and_read(api, roadmap_job):
    """A roadmap job finishes with a roadmap id; the roadmap has both rounds, each a contract
    plan, KPIs per round, no diagnosis, and it passes the roadmap validator."""
    from builders import tiny_problem

    from rotation.roadmap.validate import validate_roadmap
    from rotation.rules import load_rules

    assert roadmap_job["kind"] == "roadmap" and roadmap_job["plan_ids"] == []
    rid = roadmap_job["roadmap_id"]
    assert rid
    r = api.client.get(f"/v1/roadmaps/{rid}", headers=api.key("viewer"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] in ("optimal", "feasible")
    assert [x["as_of"] for x in body["rounds"]] == ["2026-01-01", "2027-01-01"]
    for x in body["rounds"]:
        assert x["plan"]["status"] in ("optimal", "feasible")
        assert len(x["plan"]["assignments"]) == 6
    assert len(body["kpis_by_round"]) == 2 and body["diagnosis"] == []
    assert body["roadmap_id"] == rid and body["job_id"] == roadmap_job["job_id"]
    problems = validate_roadmap(tiny_problem(), load_rules(HORIZON_RULES), body)
    assert problems == [], problems


def test_roadmap_export(api, roadmap_job):
    """format=json gives the roadmap as a file; format=xlsx a workbook; others 422."""
    import openpyxl

    rid = roadmap_job["roadmap_id"]
    h = api.key("viewer")
    r = api.client.get(f"/v1/roadmaps/{rid}/export?format=json", headers=h)
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert r.json() == api.client.get(f"/v1/roadmaps/{rid}", headers=h).json()
    r = api.client.get(f"/v1/roadmaps/{rid}/export?format=xlsx", headers=h)
    assert r.status_code == 200, r.text
    assert r.content[:2] == b"PK"
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    assert {"timeline", "kpis"} <= set(wb.sheetnames), wb.sheetnames
    assert api.client.get(f"/v1/roadmaps/{rid}/export?format=pdf", headers=h).status_code == 422


def test_roadmap_scope(api, tiny_id, roadmap_job):
    """A D1 key's roadmap covers D1 posts only; a D2 key cannot read it (404), a province key
    can; the unscoped roadmap is invisible to district keys."""
    d1, d2 = api.key("planner", "D1"), api.key("planner", "D2")
    job = api.wait(_start(api, tiny_id, HORIZON_RULES, d1).json()["job_id"], d1)
    assert job["status"] == "done", job
    rid = job["roadmap_id"]
    body = api.client.get(f"/v1/roadmaps/{rid}", headers=d1).json()
    assert body["scope"] == "D1"
    for x in body["rounds"]:
        assert {a["post_id"] for a in x["plan"]["assignments"]} == {"S-C11", "S-C12", "S-C13"}
    assert api.client.get(f"/v1/roadmaps/{rid}", headers=d2).status_code == 404
    assert api.client.get(f"/v1/roadmaps/{rid}/export", headers=d2).status_code == 404
    assert api.client.get(f"/v1/jobs/{job['job_id']}", headers=d2).status_code == 404
    assert api.client.get(f"/v1/roadmaps/{rid}", headers=api.key("viewer", "P")).status_code == 200
    whole = roadmap_job["roadmap_id"]
    assert api.client.get(f"/v1/roadmaps/{whole}", headers=d1).status_code == 404


def test_roadmap_errors(api, tiny_id):
    """Bad horizon or rules → 422 with the field; viewer 403; unknown dataset/roadmap 404."""
    h = api.key("planner")
    r = _start(api, tiny_id, {**AS_OF_RULES, "horizon": {"rounds": ["not a date"]}}, h)
    assert r.status_code == 422 and "horizon.rounds" in r.text, r.text
    r = _start(api, tiny_id, {**AS_OF_RULES, "horizon": {"bogus": 1}}, h)
    assert r.status_code == 422 and "bogus" in r.text, r.text
    r = _start(api, tiny_id, {**AS_OF_RULES, "horizon": {"rounds": []}}, h)
    assert r.status_code == 422, r.text
    r = _start(api, tiny_id, {**HORIZON_RULES, "time_limit_s": 10**6}, h)
    assert r.status_code == 422 and "time_limit_s" in r.text
    r = _start(api, tiny_id, {**HORIZON_RULES, "min_rating": "superb"}, h)
    assert r.status_code == 422
    assert _start(api, tiny_id, HORIZON_RULES, api.key("viewer")).status_code == 403
    assert _start(api, "0" * 32, HORIZON_RULES, h).status_code == 404
    assert api.client.get("/v1/roadmaps/" + "0" * 32, headers=h).status_code == 404
    assert api.client.get("/v1/roadmaps/nope/export", headers=h).status_code == 404


def test_infeasible_roadmap(api, tiny_id):
    """Impossible rules → job infeasible; the roadmap carries the diagnosis; xlsx answers 409."""
    rules = {
        **HORIZON_RULES,
        "max_travel_km": 0.5,
        "non_local_targets": [
            {"position": "secretary", "scope_level": "district", "min_share": 1.0}
        ],
    }
    h = api.key("planner")
    job = api.wait(_start(api, tiny_id, rules, h).json()["job_id"], h)
    assert job["status"] == "infeasible", job
    body = api.client.get(f"/v1/roadmaps/{job['roadmap_id']}", headers=h).json()
    assert body["status"] == "infeasible" and body["diagnosis"] and body["rounds"] == []
    r = api.client.get(f"/v1/roadmaps/{job['roadmap_id']}/export?format=xlsx", headers=h)
    assert r.status_code == 409


def test_roadmap_deleted_with_dataset(api):
    """Deleting a dataset deletes its roadmaps."""
    h = api.key("admin")
    ds = api.upload_zip(h)
    job = api.wait(_start(api, ds, HORIZON_RULES, h).json()["job_id"], h)
    assert job["status"] == "done", job
    assert api.client.delete(f"/v1/datasets/{ds}", headers=h).status_code == 204
    assert api.client.get(f"/v1/roadmaps/{job['roadmap_id']}", headers=h).status_code == 404


def test_cancel_running_roadmap_keeps_rounds(tmp_path):
    """Cancelling a running roadmap job (stand-in target that searches until stopped) ends it
    cancelled, keeping the roadmap found so far."""
    import time

    from api_helpers import open_api
    from test_api_jobs import _wait_running

    for slow in open_api(tmp_path / "slow.sqlite3", roadmap_target="solve_targets:slow_roadmap"):
        h = slow.key("admin")
        ds = slow.upload_zip(h)
        job_id = _start(slow, ds, HORIZON_RULES, h).json()["job_id"]
        _wait_running(slow, job_id, h)
        assert slow.client.delete(f"/v1/jobs/{job_id}", headers=h).status_code == 202
        t0 = time.monotonic()
        job = slow.wait(job_id, h, timeout=30)
        assert job["status"] == "cancelled" and time.monotonic() - t0 < 10, job
        body = slow.client.get(f"/v1/roadmaps/{job['roadmap_id']}", headers=h).json()
        assert len(body["rounds"]) == 2


def test_list_roadmaps_of_dataset(api, tiny_id, roadmap_job):
    """GET /v1/datasets/{id}/roadmaps lists the roadmaps a key may see, with rounds and KPIs;
    a D2 key does not see the unscoped one."""
    rid = roadmap_job["roadmap_id"]
    r = api.client.get(f"/v1/datasets/{tiny_id}/roadmaps", headers=api.key("viewer"))
    assert r.status_code == 200, r.text
    rows = {x["roadmap_id"]: x for x in r.json()}
    assert rid in rows
    assert rows[rid]["rounds"] == ["2026-01-01", "2027-01-01"]
    assert len(rows[rid]["kpis_by_round"]) == 2
    seen_by_d2 = api.client.get(f"/v1/datasets/{tiny_id}/roadmaps", headers=api.key("viewer", "D2"))
    assert seen_by_d2.status_code == 200
    assert rid not in {x["roadmap_id"] for x in seen_by_d2.json()}
    assert (
        api.client.get("/v1/datasets/nope/roadmaps", headers=api.key("viewer")).status_code == 404
    )
