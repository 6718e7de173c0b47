"""Happy paths of every route on the tiny dataset."""

from __future__ import annotations

import json

from api_helpers import AS_OF_RULES, tiny_xlsx


def test_health(api):
    """/health answers without a key."""
    r = api.client.get("/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_openapi_docs(api):
    """The OpenAPI schema and /docs are served."""
    assert api.client.get("/docs").status_code == 200
    paths = api.client.get("/openapi.json").json()["paths"]
    assert "/v1/datasets" in paths and "/v1/jobs/{job_id}/events" in paths


def test_upload_zip_summary(api, tiny_id):
    """A .zip upload is stored; its summary has coverage per district."""
    r = api.client.get(f"/v1/datasets/{tiny_id}", headers=api.key("viewer"))
    assert r.status_code == 200
    s = r.json()["summary"]
    assert s["posts"] == 6 and s["cadres"] == 10
    assert [c["scope"] for c in s["coverage"]] == ["D1", "D2"]
    ids = [d["dataset_id"] for d in api.client.get("/v1/datasets", headers=api.key("admin")).json()]
    assert tiny_id in ids


def test_upload_xlsx(api):
    """An .xlsx upload is accepted."""
    r = api.client.post(
        "/v1/datasets",
        headers=api.key("planner"),
        files={"file": ("t.xlsx", tiny_xlsx(), "application/octet-stream")},
    )
    assert r.status_code == 201, r.text
    assert r.json()["summary"]["posts"] == 6


def test_upload_json(api):
    """A JSON body of rows is accepted."""
    from builders import tiny_problem

    from rotation.read import _text_tables

    tables = {t: df.to_dict(orient="records") for t, df in _text_tables(tiny_problem()).items()}
    r = api.client.post(
        "/v1/datasets", headers=api.key("planner"), json={"name": "json-tiny", "tables": tables}
    )
    assert r.status_code == 201, r.text
    assert r.json()["summary"]["name"] == "json-tiny"


def test_plan_job_and_plan(api, tiny_id, done_job):
    """A plan job finishes; the plan is the contract JSON; lists, explain and exports work."""
    assert done_job["plan_ids"] and done_job["queue_position"] is None
    pid = done_job["plan_ids"][0]
    plan = api.client.get(f"/v1/plans/{pid}", headers=api.key("viewer")).json()
    assert plan["status"] in ("optimal", "feasible")
    for k in ("objective", "bound", "assignments", "released", "kpis", "diagnosis"):
        assert k in plan
    assert len(plan["assignments"]) == 6
    listed = api.client.get(f"/v1/datasets/{tiny_id}/plans", headers=api.key("viewer")).json()
    assert pid in [p["plan_id"] for p in listed]
    r = api.client.get(f"/v1/plans/{pid}/posts/S-C12/explain", headers=api.key("viewer"))
    assert r.status_code == 200 and "alternatives" in r.json()
    assert (
        api.client.get(f"/v1/plans/{pid}/posts/NOPE/explain", headers=api.key("viewer")).status_code
        == 404
    )


def test_exports(api, done_job):
    """CSV, xlsx and GeoJSON exports (when rotation.export exists)."""
    import pytest

    pytest.importorskip("rotation.export")
    pid = done_job["plan_ids"][0]
    h = api.key("viewer")
    r = api.client.get(f"/v1/plans/{pid}/export?format=csv", headers=h)
    assert r.status_code == 200 and "S-C11" in r.text
    r = api.client.get(f"/v1/plans/{pid}/export?format=xlsx", headers=h)
    assert r.status_code == 200 and r.content[:2] == b"PK"
    r = api.client.get(f"/v1/plans/{pid}/export?format=geojson", headers=h)
    assert r.status_code == 200 and json.loads(r.text)["type"] == "FeatureCollection"
    assert api.client.get(f"/v1/plans/{pid}/export?format=pdf", headers=h).status_code == 422


def test_compare(api, tiny_id, done_job):
    """Compare two plans: KPIs side by side and differing posts."""
    other = api.plan(tiny_id, {**AS_OF_RULES, "weights": {"travel_km": 1}})
    a, b = done_job["plan_ids"][0], other["plan_ids"][0]
    r = api.client.get(f"/v1/compare?plans={a},{b}", headers=api.key("viewer"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert [p["plan_id"] for p in body["plans"]] == [a, b]
    assert isinstance(body["differing_posts"], list)
    assert api.client.get(f"/v1/compare?plans={a}", headers=api.key("viewer")).status_code == 422


def test_sse_events(api, tiny_id):
    """The events stream yields progress events and ends with the job."""
    h = api.key("admin")
    job_id = api.client.post(f"/v1/datasets/{tiny_id}/plans", json=AS_OF_RULES, headers=h).json()[
        "job_id"
    ]
    with api.client.stream("GET", f"/v1/jobs/{job_id}/events", headers=h) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        text = "".join(r.iter_text())
    assert "event: progress" in text and "event: end" in text


def test_repair(api, tiny_id, done_job):
    """Repair after a decline: the decliner is not in that post; few posts change."""
    pid = done_job["plan_ids"][0]
    plan = api.client.get(f"/v1/plans/{pid}", headers=api.key("admin")).json()
    moved = next(a for a in plan["assignments"] if a["changed"])
    events = [{"type": "declines", "cadre_id": moved["cadre_id"], "post_id": moved["post_id"]}]
    r = api.client.post(
        f"/v1/plans/{pid}/repair", json={"events": events}, headers=api.key("planner")
    )
    assert r.status_code == 202, r.text
    job = api.wait(r.json()["job_id"])
    assert job["status"] == "done", job
    new = api.client.get(f"/v1/plans/{job['plan_ids'][0]}", headers=api.key("admin")).json()
    holder = {a["post_id"]: a["cadre_id"] for a in new["assignments"]}
    assert holder[moved["post_id"]] != moved["cadre_id"]
    assert new["kpis"]["changed_vs_base"] <= 3
    bad = api.client.post(
        f"/v1/plans/{pid}/repair",
        headers=api.key("planner"),
        json={"events": [{"type": "leaves", "cadre_id": "NOBODY"}]},
    )
    assert bad.status_code == 422


def test_delete_dataset(api):
    """DELETE removes a dataset; then it is 404."""
    h = api.key("admin")
    ds = api.upload_zip(h)
    assert api.client.delete(f"/v1/datasets/{ds}", headers=h).status_code == 204
    assert api.client.get(f"/v1/datasets/{ds}", headers=h).status_code == 404
    actions = {r["action"] for r in api.store.audit_rows()}
    assert {"create", "delete", "solve"} <= actions


def test_compare_refuses_plans_of_two_datasets(api, tiny_id, done_job):
    """Plans of different datasets are not compared: 422 naming the field (as the CLI's exit 2)."""
    second = api.upload_zip(name="second.zip")
    other = api.plan(second, AS_OF_RULES)
    a, b = done_job["plan_ids"][0], other["plan_ids"][0]
    r = api.client.get(f"/v1/compare?plans={a},{b}", headers=api.key("viewer"))
    assert r.status_code == 422, r.text
    assert "different datasets" in r.json()["detail"]
