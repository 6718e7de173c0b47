"""Jobs: concurrency, cancellation, crash handling, restart persistence."""

from __future__ import annotations

import time

from api_helpers import AS_OF_RULES, open_api


def test_two_jobs_concurrently_and_health_stays_fast(api, tiny_id):
    """Two plan jobs both finish; /health answers quickly meanwhile."""
    h = api.key("planner")
    ids = [
        api.client.post(f"/v1/datasets/{tiny_id}/plans", json=AS_OF_RULES, headers=h).json()[
            "job_id"
        ]
        for _ in range(2)
    ]
    t0 = time.perf_counter()
    assert api.client.get("/health").status_code == 200
    assert time.perf_counter() - t0 < 1.0
    for j in ids:
        assert api.wait(j, h)["status"] == "done"


def test_queue_position(tmp_path):
    """With one worker, the second job waits with queue_position 1."""
    for one in open_api(tmp_path / "q.sqlite3", WORKERS=1):
        h = one.key("admin")
        ds = one.upload_zip(h)
        a = one.client.post(f"/v1/datasets/{ds}/plans", json=AS_OF_RULES, headers=h).json()
        while one.client.get(f"/v1/jobs/{a['job_id']}", headers=h).json()["status"] == "queued":
            time.sleep(0.02)
        b = one.client.post(f"/v1/datasets/{ds}/plans", json=AS_OF_RULES, headers=h).json()
        info = one.client.get(f"/v1/jobs/{b['job_id']}", headers=h).json()
        assert info["status"] == "queued" and info["queue_position"] == 1, info
        r = one.client.delete(f"/v1/jobs/{b['job_id']}", headers=h)
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        assert one.wait(a["job_id"], h)["status"] == "done"
        assert one.client.delete(f"/v1/jobs/{a['job_id']}", headers=h).status_code == 409


def _wait_running(api, job_id: str, h: dict, timeout: float = 30) -> dict:
    """Poll until the job is running and its solve target has reported a search step."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        info = api.client.get(f"/v1/jobs/{job_id}", headers=h).json()
        seen.append(info["status"])
        if info["status"] == "running" and info["progress"].get("phase") == "searching":
            return info
        assert info["status"] in ("queued", "running"), info
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never observed searching; statuses seen {set(seen)}")


def test_cancel_running_job(tmp_path):
    """Cancelling a running solve ends it as cancelled and keeps its best plan, which is valid.

    The solve target is ``solve_targets.slow_solve``: it finds the tiny dataset's plan at once,
    then searches until stopped, so the cancel always reaches a running job."""
    from builders import tiny_problem

    from rotation.plan import Plan
    from rotation.rules import load_rules
    from rotation.validate import validate_plan

    for slow in open_api(
        tmp_path / "slow.sqlite3", solve_target="solve_targets:slow_solve", cancel_grace_s=20.0
    ):
        h = slow.key("admin")
        ds = slow.upload_zip(h)
        job_id = slow.client.post(f"/v1/datasets/{ds}/plans", json=AS_OF_RULES, headers=h).json()[
            "job_id"
        ]
        running = _wait_running(slow, job_id, h)
        assert running["plan_ids"] == [] and running["progress"]["step"] >= 1
        t0 = time.monotonic()
        r = slow.client.delete(f"/v1/jobs/{job_id}", headers=h)
        assert r.status_code == 202, r.text
        job = slow.wait(job_id, h, timeout=30)
        assert job["status"] == "cancelled", job
        assert time.monotonic() - t0 < 10  # stopped by the event, not killed after the grace
        assert len(job["plan_ids"]) == 1, job
        plan = slow.client.get(f"/v1/plans/{job['plan_ids'][0]}", headers=h)
        assert plan.status_code == 200
        body = plan.json()
        assert body["status"] in ("optimal", "feasible") and len(body["assignments"]) == 6
        violations = validate_plan(
            tiny_problem(), load_rules(AS_OF_RULES), Plan.model_validate(body)
        )
        assert violations == [], violations
        assert slow.client.delete(f"/v1/jobs/{job_id}", headers=h).status_code == 409


def test_worker_crash_marks_failed(tmp_path):
    """A worker process that dies without a word (os._exit(13)) marks its job failed, with the
    exit code in the reason; the service keeps serving."""
    for crashy in open_api(tmp_path / "crash.sqlite3", solve_target="solve_targets:crash_solve"):
        h = crashy.key("admin")
        ds = crashy.upload_zip(h)
        job_id = crashy.client.post(f"/v1/datasets/{ds}/plans", json=AS_OF_RULES, headers=h).json()[
            "job_id"
        ]
        job = crashy.wait(job_id, h, timeout=30)
        assert job["status"] == "failed", job
        assert "worker process died" in job["error"] and "exit code 13" in job["error"], job
        assert job["plan_ids"] == []
        deadline = time.monotonic() + 5  # the reaper forgets the process just after
        while crashy.client.get("/health").json()["running_jobs"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert crashy.client.get("/health").json()["running_jobs"] == 0


def test_bad_solve_target_fails_job(tmp_path):
    """A solve target that cannot be imported fails the job with the reason (no hang)."""
    for bad in open_api(tmp_path / "bad.sqlite3", solve_target="solve_targets:nope"):
        h = bad.key("admin")
        ds = bad.upload_zip(h)
        job_id = bad.client.post(f"/v1/datasets/{ds}/plans", json=AS_OF_RULES, headers=h).json()[
            "job_id"
        ]
        job = bad.wait(job_id, h, timeout=30)
        assert job["status"] == "failed" and "nope" in job["error"], job


def test_infeasible_job(api, tiny_id):
    """Impossible rules → status infeasible and a plan carrying the diagnosis."""
    rules = {
        **AS_OF_RULES,
        "max_travel_km": 0.5,
        "non_local_targets": [
            {"position": "secretary", "scope_level": "district", "min_share": 1.0}
        ],
    }
    job = api.plan(tiny_id, rules)
    assert job["status"] == "infeasible", job
    plan = api.client.get(f"/v1/plans/{job['plan_ids'][0]}", headers=api.key("admin")).json()
    assert plan["status"] == "infeasible" and plan["diagnosis"]


def test_restart_persistence(tmp_path):
    """Datasets, jobs and plans survive a restart on the same database."""
    db = tmp_path / "persist.sqlite3"
    for first in open_api(db):
        key = first.store.create_key("admin", None)[1]
        h = {"Authorization": f"Bearer {key}"}
        ds = first.upload_zip(h)
        job = first.plan(ds, headers=h)
    for second in open_api(db):
        assert second.client.get(f"/v1/datasets/{ds}", headers=h).status_code == 200
        again = second.client.get(f"/v1/jobs/{job['job_id']}", headers=h).json()
        assert again["status"] == "done" and again["plan_ids"] == job["plan_ids"]
        r = second.client.get(f"/v1/plans/{job['plan_ids'][0]}", headers=h)
        assert r.status_code == 200 and r.json()["assignments"]


def test_keys_cli(tmp_path):
    """`keys create` prints the key alone on its last line; list and revoke work."""
    from typer.testing import CliRunner

    from api.keys import keys_app, list_keys

    url = f"sqlite:///{tmp_path / 'k.sqlite3'}"
    run = CliRunner()
    r = run.invoke(
        keys_app, ["create", "--role", "planner", "--scope", "D1", "--database-url", url]
    )
    assert r.exit_code == 0, r.output
    key = r.output.strip().splitlines()[-1]
    assert key.startswith("rk_")
    keys = list_keys(url)
    assert keys[0]["role"] == "planner" and keys[0]["scope"] == "D1"
    assert run.invoke(keys_app, ["list", "--database-url", url]).exit_code == 0
    r = run.invoke(keys_app, ["revoke", keys[0]["id"], "--database-url", url])
    assert r.exit_code == 0 and list_keys(url)[0]["revoked"]
    assert run.invoke(keys_app, ["create", "--role", "boss", "--database-url", url]).exit_code == 2


def _banner_key(out: str) -> str:
    return [ln for ln in out.splitlines() if ln.startswith("admin API key:")][-1].split()[-1]


def test_demo_startup(tmp_path, capsys):
    """ROTATION_LOAD_DEMO=1 loads the bundled data once and prints the URL, an admin key and a
    working curl; a second start prints the same key (kept in a mode-600 file)."""
    import stat

    db = tmp_path / "demo.sqlite3"
    for demo in open_api(db, ROTATION_LOAD_DEMO=True):
        out = capsys.readouterr().out
        key = _banner_key(out)
        assert key.startswith("rk_")
        assert "http://127.0.0.1:8000" in out and "/docs" in out
        curl = f'curl -H "Authorization: Bearer {key}" http://127.0.0.1:8000/v1/datasets'
        assert curl in out, out
        r = demo.client.get("/v1/datasets", headers={"Authorization": f"Bearer {key}"})
        assert [d["name"] for d in r.json()] == ["hai_duong"]
        assert r.json()[0]["summary"]["posts"] == 207
    key_file = tmp_path / "local-admin.key"
    assert key_file.read_text().strip() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    for again in open_api(db, ROTATION_LOAD_DEMO=True):
        out = capsys.readouterr().out
        assert _banner_key(out) == key and "reused" in out
        assert len(again.store.list_datasets()) == 1
        assert [k["label"] for k in again.store.list_keys()].count("local-admin") == 1


def test_demo_startup_replaces_revoked_key(tmp_path, capsys):
    """A local-admin key that no longer works (revoked) is replaced, and the file rewritten."""
    db = tmp_path / "demo.sqlite3"
    for demo in open_api(db, ROTATION_LOAD_DEMO=True):
        first = _banner_key(capsys.readouterr().out)
        demo.store.revoke_key(first.split("_")[1])
    for again in open_api(db, ROTATION_LOAD_DEMO=True):
        second = _banner_key(capsys.readouterr().out)
        assert second != first
        assert (tmp_path / "local-admin.key").read_text().strip() == second
        h = {"Authorization": f"Bearer {second}"}
        assert again.client.get("/v1/datasets", headers=h).status_code == 200


def test_service_url_from_command_line():
    """The printed URL follows --host/--port (rotation serve / uvicorn) or ROTATION_PUBLIC_URL."""
    from api.main import service_url
    from api.settings import Settings

    s = Settings(public_url=None)
    assert service_url(s, ["rotation", "serve"]) == "http://127.0.0.1:8000"
    assert (
        service_url(s, ["rotation", "serve", "--host", "0.0.0.0", "--port", "9001"])
        == "http://127.0.0.1:9001"
    )
    assert service_url(s, ["uvicorn", "--host=10.0.0.5", "--port=80"]) == "http://10.0.0.5:80"
    assert (
        service_url(Settings(ROTATION_PUBLIC_URL="https://x.example/"), []) == "https://x.example"
    )


def test_deleted_job_stops_its_worker(tmp_path):
    """A running job whose row disappears (its dataset deleted) stops its worker process within
    a few seconds, and nothing is written back for it."""
    for slow in open_api(tmp_path / "del.sqlite3", solve_target="solve_targets:slow_solve"):
        h = slow.key("admin")
        ds = slow.upload_zip(h)
        job_id = slow.client.post(f"/v1/datasets/{ds}/plans", json=AS_OF_RULES, headers=h).json()[
            "job_id"
        ]
        _wait_running(slow, job_id, h)
        runner = slow.client.app.state.runner
        assert runner.running_count() == 1
        slow.store.delete_dataset(ds)
        deadline = time.monotonic() + 10
        while runner.running_count() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert runner.running_count() == 0
        assert slow.store.get_job(job_id) is None and slow.store.plans_of_dataset(ds) == []


def test_cancel_is_a_flag_in_the_store(tmp_path):
    """A cancel recorded in the database by another server (not through this runner) reaches
    the running solve: the job ends cancelled with its best plan."""
    from api.jobs import Leases

    for slow in open_api(tmp_path / "flag.sqlite3", solve_target="solve_targets:slow_solve"):
        h = slow.key("admin")
        ds = slow.upload_zip(h)
        job_id = slow.client.post(f"/v1/datasets/{ds}/plans", json=AS_OF_RULES, headers=h).json()[
            "job_id"
        ]
        _wait_running(slow, job_id, h)
        assert Leases(slow.store, "another-server", 30).request_cancel(job_id) == "cancelling"
        job = slow.wait(job_id, h, timeout=30)
        assert job["status"] == "cancelled" and len(job["plan_ids"]) == 1, job
