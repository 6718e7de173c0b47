"""Scope isolation: a district key sees its district only; other objects answer 404."""

from __future__ import annotations

import pytest
from api_helpers import AS_OF_RULES


@pytest.fixture(scope="module")
def world(api):
    """One tiny dataset; a D1 planner's plan and a D2 planner's plan on it; and another province's
    (2-level) dataset, without districts, uploaded by a province key."""
    from builders import tiny_problem

    ds = api.upload_zip()
    d1, d2 = api.key("planner", "D1"), api.key("planner", "D2")
    job1 = api.plan(ds, AS_OF_RULES, headers=d1)
    job2 = api.plan(ds, AS_OF_RULES, headers=d2)
    other = tiny_problem(two_level=True)  # no district units at all
    other_ds = api.upload_zip(headers=api.key("planner", "P"), data=other)
    return {"ds": ds, "d1": d1, "d2": d2, "job1": job1, "job2": job2, "other": other_ds}


def test_district_plan_covers_district(api, world):
    """A plan asked with a D1 key has D1 posts only."""
    assert world["job1"]["status"] == "done", world["job1"]
    plan = api.client.get(f"/v1/plans/{world['job1']['plan_ids'][0]}", headers=world["d1"]).json()
    assert {a["post_id"] for a in plan["assignments"]} == {"S-C11", "S-C12", "S-C13"}
    assert plan["scope"] == "D1"


def test_other_district_404(api, world):
    """D2's key cannot read D1's job or plan, even with the exact ids."""
    d2 = world["d2"]
    assert api.client.get(f"/v1/jobs/{world['job1']['job_id']}", headers=d2).status_code == 404
    pid = world["job1"]["plan_ids"][0]
    assert api.client.get(f"/v1/plans/{pid}", headers=d2).status_code == 404
    assert api.client.get(f"/v1/plans/{pid}/export", headers=d2).status_code == 404
    assert api.client.delete(f"/v1/jobs/{world['job1']['job_id']}", headers=d2).status_code == 404
    listed = api.client.get(f"/v1/datasets/{world['ds']}/plans", headers=d2).json()
    assert pid not in [p["plan_id"] for p in listed]
    other = world["job2"]["plan_ids"][0]
    assert api.client.get(f"/v1/compare?plans={pid},{other}", headers=d2).status_code == 404


def test_other_province_dataset_404(api, world):
    """A D1 key cannot see a dataset without D1 in it; the province key sees it."""
    assert api.client.get(f"/v1/datasets/{world['other']}", headers=world["d1"]).status_code == 404
    ids = [d["dataset_id"] for d in api.client.get("/v1/datasets", headers=world["d1"]).json()]
    assert world["other"] not in ids and world["ds"] in ids
    r = api.client.get(f"/v1/datasets/{world['other']}", headers=api.key("viewer", "P"))
    assert r.status_code == 200


def test_scoped_summary(api, world):
    """A district key's dataset summary counts its district only (cadres, units, posts), in the
    read and in the listing; the unscoped key sees the province-wide counts."""
    s = api.client.get(f"/v1/datasets/{world['ds']}", headers=world["d1"]).json()["summary"]
    assert [c["scope"] for c in s["coverage"]] == ["D1"] and s["posts"] == 3
    assert (s["cadres"], s["units"], s["vacant_posts"]) == (5, 4, 0)
    assert s["positions"] == {"secretary": 3} and s["warnings"] == [] and "by_scope" not in s
    listed = api.client.get("/v1/datasets", headers=world["d1"]).json()
    assert next(d for d in listed if d["dataset_id"] == world["ds"])["summary"] == s
    full = api.client.get(f"/v1/datasets/{world['ds']}", headers=api.key("admin")).json()
    assert (full["summary"]["cadres"], full["summary"]["units"]) == (10, 9)
    assert "by_scope" not in full["summary"]


def test_scoped_summary_without_stored_counts(api, world):
    """A dataset stored before per-scope counts existed still gets scoped counts (computed)."""
    ds = api.store.get_dataset(world["ds"])
    old = api.store.add_dataset(
        name="before-by-scope",
        province_id=ds.province_id,
        created_by=None,
        tables=ds.tables,
        hierarchy=ds.hierarchy,
        summary={k: v for k, v in ds.summary.items() if k != "by_scope"},
    )
    s = api.client.get(f"/v1/datasets/{old.id}", headers=world["d1"]).json()["summary"]
    assert (s["cadres"], s["units"], s["posts"]) == (5, 4, 3)


def test_province_key_sees_district_plans(api, world):
    """A province key sees both districts' plans."""
    p = api.key("viewer", "P")
    for job in ("job1", "job2"):
        assert api.client.get(f"/v1/jobs/{world[job]['job_id']}", headers=p).status_code == 200


def test_upload_outside_scope_403(api):
    """A scoped key cannot upload a dataset that does not contain its unit."""
    r = api.client.post(
        "/v1/datasets",
        headers=api.key("planner", "ZZ"),
        files={"file": ("t.zip", __import__("api_helpers").tiny_zip(), "application/zip")},
    )
    assert r.status_code == 403


def test_planner_cannot_delete_others_dataset(api, world):
    """Only an admin or the uploader deletes a dataset."""
    assert api.client.delete(f"/v1/datasets/{world['ds']}", headers=world["d1"]).status_code == 403
