"""Scenario sweeps over HTTP: a small grid on the tiny dataset as one job, the table, its plans as
ordinary plans, the workbook export, scope, and refusals before anything is queued."""

from __future__ import annotations

import io

import pytest
from api_helpers import AS_OF_RULES

SHARE = "non_local_targets[0].min_share"
CAP = "max_changes.count"
GRID = {"rules": AS_OF_RULES, "vary": {SHARE: [0.3, 0.6], CAP: [1, None]}}
"""On 3 communes per district, 60% needs 2 changes per district: infeasible with a cap of 1."""


def _start(api, ds: str, body: dict, headers: dict):
    return api.client.post(f"/v1/datasets/{ds}/sweeps", json=body, headers=headers)


@pytest.fixture(scope="module")
def sweep_job(api, tiny_id) -> dict:
    h = api.key("planner")
    r = _start(api, tiny_id, GRID, h)
    assert r.status_code == 202, r.text
    job = api.wait(r.json()["job_id"], h, timeout=180)
    assert job["status"] == "done", job
    return job


def test_sweep_table_and_plans(api, sweep_job):
    """GET /v1/sweeps/{id}: one row per variant in grid order with its values, status, KPIs
    and plan id; each plan is an ordinary plan that carries its variant's rules and passes the
    validator; the infeasible variant names the rules that block it."""
    from builders import tiny_problem

    from rotation.plan import Plan
    from rotation.rules import Rules
    from rotation.validate import validate_plan

    h = api.key("viewer")
    r = api.client.get(f"/v1/sweeps/{sweep_job['job_id']}", headers=h)
    assert r.status_code == 200, r.text
    table = r.json()
    assert table["status"] == "done" and table["keys"] == [SHARE, CAP]
    rows = table["variants"]
    assert [row["values"] for row in rows] == [
        {SHARE: 0.3, CAP: 1},
        {SHARE: 0.3, CAP: None},
        {SHARE: 0.6, CAP: 1},
        {SHARE: 0.6, CAP: None},
    ]
    assert [row["status"] for row in rows] == ["optimal", "optimal", "infeasible", "optimal"]
    assert sorted(row["plan"] for row in rows) == sorted(sweep_job["plan_ids"])
    progress = sweep_job["progress"]  # the job's last progress event: the sweep's counts
    assert progress["phase"] == "sweep" and progress["total"] == progress["done"] == 4
    assert progress["failed"] == 0 and progress["eta_s"] == 0.0
    assert rows[2]["diagnosis"] and rows[2]["diagnosis_summary"] and rows[2]["kpis"] is None
    data = tiny_problem()
    for row in rows:
        got = api.client.get(f"/v1/plans/{row['plan']}", headers=h)
        assert got.status_code == 200, got.text
        body = got.json()
        assert body["status"] == row["status"]
        rules = Rules.model_validate(body["rules"])
        assert rules.non_local_targets[0].min_share == row["values"][SHARE]
        assert validate_plan(data, rules, Plan.model_validate(body)) == [], row["id"]
        if row["status"] == "optimal":
            assert row["kpis"] == body["kpis"]
            assert body["kpis"]["non_local_share"]["overall"] >= row["values"][SHARE] - 1e-9


def test_sweep_export_xlsx(api, sweep_job):
    """The workbook: one row per variant, Vietnamese headers by default, the plan ids."""
    import openpyxl

    h = api.key("viewer")
    sid = sweep_job["job_id"]
    r = api.client.get(f"/v1/sweeps/{sid}/export", headers=h)
    assert r.status_code == 200, r.text
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "Phương án"
    assert [row[0] for row in rows[1:]] == ["v01", "v02", "v03", "v04"]
    assert set(sweep_job["plan_ids"]) <= {c for row in rows[1:] for c in row}
    r = api.client.get(f"/v1/sweeps/{sid}/export?format=json", headers=h)
    assert r.status_code == 200 and len(r.json()["variants"]) == 4
    assert api.client.get(f"/v1/sweeps/{sid}/export?format=pdf", headers=h).status_code == 422


def test_sweep_refusals_before_queueing(api, tiny_id):
    """A bad key or value, a bad body, too long a time limit: 422 naming it, no job made."""
    h = api.key("planner")
    before = len(api.store.jobs_of_dataset(tiny_id))
    r = _start(api, tiny_id, {"rules": AS_OF_RULES, "vary": {"max_chnges.count": [1, 2]}}, h)
    assert r.status_code == 422 and "did you mean 'max_changes'" in r.text, r.text
    r = _start(api, tiny_id, {"rules": AS_OF_RULES, "vary": {SHARE: [0.3, 1.5]}}, h)
    assert r.status_code == 422 and f"{SHARE}=1.5" in r.text, r.text
    r = _start(api, tiny_id, {"rules": AS_OF_RULES}, h)
    assert r.status_code == 422 and "vary" in r.text
    r = _start(api, tiny_id, {**GRID, "extra": 1}, h)
    assert r.status_code == 422 and "extra" in r.text
    r = _start(api, tiny_id, {"rules": AS_OF_RULES, "vary": {"time_limit_s": [10, 10**6]}}, h)
    assert r.status_code == 422 and "time_limit_s" in r.text
    assert _start(api, tiny_id, GRID, api.key("viewer")).status_code == 403
    assert len(api.store.jobs_of_dataset(tiny_id)) == before


def test_sweep_scope(api, tiny_id, sweep_job):
    """A D1 key's sweep covers D1 posts only; a D2 key cannot read it; the unscoped sweep is
    invisible to district keys; a plan job's id is not a sweep."""
    d1, d2 = api.key("planner", "D1"), api.key("planner", "D2")
    body = {"rules": AS_OF_RULES, "variants": [{SHARE: 0.3}]}
    job = api.wait(_start(api, tiny_id, body, d1).json()["job_id"], d1, timeout=120)
    assert job["status"] == "done", job
    table = api.client.get(f"/v1/sweeps/{job['job_id']}", headers=d1).json()
    assert table["scope"] == "D1" and len(table["variants"]) == 1
    plan = api.client.get(f"/v1/plans/{table['variants'][0]['plan']}", headers=d1).json()
    assert {a["post_id"] for a in plan["assignments"]} == {"S-C11", "S-C12", "S-C13"}
    assert api.client.get(f"/v1/sweeps/{job['job_id']}", headers=d2).status_code == 404
    assert api.client.get(f"/v1/sweeps/{sweep_job['job_id']}", headers=d1).status_code == 404
    plan_job = api.plan(tiny_id)
    r = api.client.get(f"/v1/sweeps/{plan_job['job_id']}", headers=api.key("viewer"))
    assert r.status_code == 404
