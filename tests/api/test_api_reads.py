"""Fast reads: with a 200,000-row dataset stored (and big plans on it), listing datasets, plans
and reading jobs and summaries reads only summaries (the test checks the SQL; the p95 < 50 ms
target is measured by running this file as a script).

Run as a script for the figures (``python tests/api/test_api_reads.py``): it prints p50/p95 per
route.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api_helpers import Api, open_api

ROWS = 200_000
"""Cadre rows of the big dataset."""
P95_MS = 50.0
REPEAT = 40


def big_world(api: Api) -> dict[str, str]:
    """The tiny dataset uploaded, then a copy of it stored with 200,000 extra cadre rows, a job
    and three plans of 20,000 assignments each on the copy (written to the store directly: the
    reads are under test, not the upload)."""
    from api.models import PlanRow
    from api.store import plan_summary_columns

    small = api.upload_zip()
    ds = api.store.get_dataset(small)
    tables = {k: v for k, v in ds.tables.items()}
    cadres = dict(tables["cadres"])
    template = cadres["rows"][0]
    i = cadres["columns"].index("cadre_id")
    extra = []
    for n in range(ROWS):
        row = list(template)
        row[i] = f"X{n:07d}"
        extra.append(row)
    cadres["rows"] = cadres["rows"] + extra
    tables["cadres"] = cadres
    big = api.store.add_dataset(
        name="big",
        province_id=ds.province_id,
        created_by=None,
        tables=tables,
        hierarchy=ds.hierarchy,
        summary=ds.summary,
    )
    job = api.store.add_job(
        dataset_id=big.id, kind="plan", scope_unit_id=None, rules={}, spec={}, created_by=None
    )
    assignment = {
        "post_id": "S-C11",
        "unit_id": "C11",
        "position": "secretary",
        "cadre_id": "K11",
        "alternatives": [{"cadre_id": "K12", "why_not": "x" * 80}] * 3,
    }
    body = {"status": "optimal", "objective": 1.0, "assignments": [assignment] * 20_000}
    with api.store.session() as s:
        for rank in (1, 2, 3):
            s.add(
                PlanRow(
                    id=f"bigplan{rank}",
                    job_id=job.id,
                    dataset_id=big.id,
                    scope_unit_id=None,
                    rank=rank,
                    status="optimal",
                    body={**body, "kpis": {"changed_posts": rank}},
                    **plan_summary_columns({**body, "kpis": {"changed_posts": rank}}),
                )
            )
    api.store.update_job(job.id, status="done", plan_ids=["bigplan1", "bigplan2", "bigplan3"])
    return {"dataset": big.id, "job": job.id}


def timings(api: Api, world: dict[str, str]) -> dict[str, dict[str, float]]:
    """p50 / p95 (ms) of each summary read, for an unscoped and a district key."""
    routes = {
        "GET /v1/datasets": "/v1/datasets",
        "GET /v1/datasets/{id}": f"/v1/datasets/{world['dataset']}",
        "GET /v1/datasets/{id}/plans": f"/v1/datasets/{world['dataset']}/plans",
        "GET /v1/jobs/{id}": f"/v1/jobs/{world['job']}",
    }
    out: dict[str, dict[str, float]] = {}
    for who, headers in (("admin", api.key("admin")), ("D1 viewer", api.key("viewer", "D1"))):
        for name, url in routes.items():
            api.client.get(url, headers=headers)  # warm
            ms = []
            for _ in range(REPEAT):
                t0 = time.perf_counter()
                r = api.client.get(url, headers=headers)
                ms.append((time.perf_counter() - t0) * 1000)
                assert r.status_code in (200, 404), (url, r.text)
            ms.sort()
            out[f"{name} ({who})"] = {
                "p50": statistics.median(ms),
                "p95": ms[int(0.95 * (len(ms) - 1))],
            }
    return out


@pytest.fixture(scope="module")
def world(api: Api) -> dict[str, str]:
    return big_world(api)


def test_summary_reads_load_no_tables(api: Api, world: dict[str, str]) -> None:
    """Every listing and summary read on the 200k-row dataset reads only summaries: no SQL
    statement selects a dataset's tables or a plan's body. (The p95 figures are a benchmark,
    not a timed test: run this file as a script; bench/README.md has them.)"""
    from sqlalchemy import event

    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(api.store.engine, "before_cursor_execute", record)
    try:
        figures = timings(api, world)
    finally:
        event.remove(api.store.engine, "before_cursor_execute", record)
    assert figures and seen
    heavy = [s for s in seen if "datasets.tables" in s or "plans.body" in s]
    assert heavy == [], heavy[:3]


def test_plan_list_is_the_summary(api: Api, world: dict[str, str]) -> None:
    """The plan list carries objective and KPIs from the plan body (read by the database)."""
    listed = api.client.get(
        f"/v1/datasets/{world['dataset']}/plans", headers=api.key("admin")
    ).json()
    assert [(p["rank"], p["objective"], p["kpis"]) for p in listed] == [
        (r, 1.0, {"changed_posts": r}) for r in (1, 2, 3)
    ]


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for api in open_api(Path(tmp) / "reads.sqlite3"):
            t0 = time.perf_counter()
            world = big_world(api)
            print(f"stored the {ROWS}-row dataset in {time.perf_counter() - t0:.1f} s")
            figures: Any = timings(api, world)
            for name, f in figures.items():
                print(f"{name:45s} p50 {f['p50']:7.1f} ms   p95 {f['p95']:7.1f} ms")


if __name__ == "__main__":
    main()
