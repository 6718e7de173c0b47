"""A dashboard developer's view: a typed Python client generated from ``/openapi.json`` with
``openapi-python-client`` (into a temporary folder), imported, and every route called through it
against the app served by uvicorn on 127.0.0.1. The test fails when the generator drops an
operation, when a route of the document is not called here, or when an answer does not parse
into the generated model of its documented status (an undocumented status raises
``UnexpectedStatus``)."""

from __future__ import annotations

import importlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from api_helpers import AS_OF_RULES, make_settings, tiny_zip

from api.main import create_app

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GENERATOR = shutil.which("openapi-python-client") or str(
    Path(sys.executable).with_name("openapi-python-client")
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any], str]]:
    """The app under uvicorn on a free port of 127.0.0.1 (in a thread), its OpenAPI document
    and an admin key."""
    import uvicorn

    tmp = tmp_path_factory.mktemp("client-db")
    app = create_app(make_settings(tmp / "api.sqlite3", WORKERS=1))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    t0 = time.monotonic()
    while not server.started:
        assert thread.is_alive() and time.monotonic() - t0 < 60, "uvicorn did not start"
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    import httpx

    doc = httpx.get(url + "/openapi.json", timeout=30).json()
    key = app.state.store.create_key("admin", None)[1]
    try:
        yield url, doc, key
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def client_pkg(served, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The client generated from the served document, importable as ``rotation_client``."""
    _, doc, _ = served
    out = tmp_path_factory.mktemp("generated")
    spec = out / "openapi.json"
    spec.write_text(json.dumps(doc), encoding="utf-8")
    if not Path(GENERATOR).exists():
        pytest.fail("openapi-python-client is not installed (pip install -e '.[dev]')")
    config = out / "config.yaml"
    # the generator reads a file answer as bytes only for media types it knows: the workbook
    # is one (its documented option for vendor types)
    config.write_text(
        "project_name_override: rotation-client\n"
        "package_name_override: rotation_client\n"
        "content_type_overrides:\n"
        f"  {XLSX}: application/octet-stream\n"
    )
    run = subprocess.run(
        [
            GENERATOR,
            "generate",
            "--path",
            str(spec),
            "--meta",
            "none",
            "--config",
            str(config),
            "--output-path",
            str(out / "rotation_client"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=out,
        # its post-hooks (ruff) complete the imports of the generated code: ruff of this venv
        env={
            **os.environ,
            "PATH": os.pathsep.join([str(Path(GENERATOR).parent), os.environ.get("PATH", "")]),
        },
    )
    text = run.stdout + run.stderr
    assert run.returncode == 0, text
    # every operation must be generated: the generator skips (with a warning) what it cannot read
    assert "will not be generated" not in text and "Unable to parse" not in text, text
    patched = _import_unset(out / "rotation_client")
    assert patched <= {"create_dataset.py"}, patched  # only the known generator slip
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("rotation_client")
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m.split(".")[0] == "rotation_client"]:
            del sys.modules[name]


def _import_unset(root: Path) -> set[str]:
    """openapi-python-client 0.29 forgets ``Unset`` in the imports of an operation whose request
    body has several media types (our upload: multipart or JSON); add it, and say where."""
    patched = set()
    for f in root.glob("api/*/*.py"):
        text = f.read_text(encoding="utf-8")
        if "| Unset" in text and not re.search(r"^from \.\.\.types import .*\bUnset\b", text, re.M):
            f.write_text("from ...types import Unset\n" + text, encoding="utf-8")
            patched.add(f.name)
    return patched


def _op(pkg: ModuleType, name: str) -> Any:
    """The generated module of operation ``name`` (operationId = the route's function name)."""
    api_dir = Path(pkg.__file__).parent / "api"
    found = sorted(api_dir.glob(f"*/{name}.py"))
    assert found, f"no generated function for operation {name!r}"
    tag = found[0].parent.name
    return importlib.import_module(f"{pkg.__name__}.api.{tag}.{name}")


class Caller:
    """Calls generated operations and records which were called and what they answered."""

    def __init__(self, pkg: ModuleType, url: str, key: str) -> None:
        self.pkg = pkg
        self.client = pkg.AuthenticatedClient(
            base_url=url, token=key, raise_on_unexpected_status=True, timeout=120
        )
        self.anonymous = pkg.Client(base_url=url, raise_on_unexpected_status=True, timeout=120)
        self.models = importlib.import_module(f"{pkg.__name__}.models")
        self.called: set[str] = set()

    def __call__(self, name: str, *args: Any, expect: Any, client: Any = None, **kw: Any) -> Any:
        """Call operation ``name``; its status must be 2xx and its body parse into ``expect``
        (a generated model class, ``list``, None for a file or a stream, "empty" for 204)."""
        r = _op(self.pkg, name).sync_detailed(*args, client=client or self.client, **kw)
        self.called.add(name)
        assert 200 <= r.status_code < 300, (name, r.status_code, r.content[:500])
        if expect == "empty":
            assert r.status_code == 204 and not r.content, name
        elif expect is None:
            assert r.content, name
        elif expect is list:
            assert isinstance(r.parsed, list), (name, r.parsed)
        else:
            assert isinstance(r.parsed, expect), (name, type(r.parsed), r.content[:500])
        return r

    def wait(self, job_id: str) -> Any:
        t0 = time.monotonic()
        while time.monotonic() - t0 < 120:
            job = self("get_job", job_id, expect=self.models.JobInfo).parsed
            if job.status.value in ("done", "infeasible", "failed", "cancelled"):
                return job
            time.sleep(0.2)
        raise AssertionError(f"job {job_id} did not finish")


def test_generated_client_calls_every_route(served, client_pkg):
    """Every operation of the document, called through the generated client, answers with a
    documented status and a body that parses into the generated model."""
    url, doc, admin_key = served
    call = Caller(client_pkg, url, admin_key)
    m = call.models
    types = importlib.import_module(f"{client_pkg.__name__}.types")

    call("health", expect=m.Health, client=call.anonymous)
    body = m.CreateDatasetFilesBody(
        file=types.File(
            payload=io.BytesIO(tiny_zip()), file_name="tiny.zip", mime_type="application/zip"
        )
    )
    created = call("create_dataset", body=body, expect=m.DatasetCreated).parsed
    ds = created.dataset_id
    assert created.summary.posts == 6 and created.summary.status_table[0].posts == 3
    listed = call("list_datasets", expect=list).parsed
    assert ds in [d.dataset_id for d in listed]
    got = call("get_dataset", ds, expect=m.DatasetInfo).parsed
    assert got.summary.positions.additional_properties == {"secretary": 6}
    call("dataset_map", ds, expect=m.DatasetMap)
    call("rule_defaults", expect=m.RuleDefaults)
    call("labels", expect=m.Labels)

    rules = m.Rules.from_dict({**AS_OF_RULES, "candidates": 2})
    job_id = call("create_plan_job", ds, body=rules, expect=m.JobCreated).parsed.job_id
    token = call("stream_token", job_id, expect=m.StreamTokenInfo).parsed
    # the stream with the token alone (no Authorization header), as EventSource opens it
    events = call("job_events", job_id, token=token.token, expect=None, client=call.anonymous)
    assert b"event: end" in events.content
    job = call.wait(job_id)
    assert job.status.value == "done", job
    plan_ids = list(job.plan_ids)
    assert len(plan_ids) == 2
    plans = call("list_plans", ds, expect=list).parsed
    assert {p.plan_id for p in plans} >= set(plan_ids)
    plan = call("get_plan", plan_ids[0], expect=m.PlanDocument).parsed
    assert plan.status.value == "optimal" and plan.kpis.non_local_share.overall > 0
    moved = next(a for a in plan.assignments if a.changed)
    assert moved.cadre_name and moved.unit_name and isinstance(moved.travel_km, float)
    assert plan.rules.as_of.isoformat() == "2026-01-01"
    call("explain_post", plan_ids[0], moved.post_id, expect=m.PostExplanation)
    call("names_of_plan", plan_ids[0], expect=m.PlanNames)
    for fmt in ("csv", "xlsx", "geojson"):
        call("export_plan", plan_ids[0], format_=_enum(m, "ExportPlanFormat", fmt), expect=None)
    compared = call("compare", plans=",".join(plan_ids), expect=m.Compared).parsed
    assert len(compared.plans) == 2
    repair = m.RepairRequest(
        events=[m.Declines(type_="declines", cadre_id=moved.cadre_id, post_id=moved.post_id)]
    )
    repair_job = call("repair_plan", plan_ids[0], body=repair, expect=m.JobCreated).parsed
    assert call.wait(repair_job.job_id).status.value == "done"

    roadmap_rules = m.Rules.from_dict(
        {**AS_OF_RULES, "horizon": {"rounds": ["2026-01-01", "2027-01-01"]}}
    )
    rj = call("create_roadmap_job", ds, body=roadmap_rules, expect=m.JobCreated).parsed
    roadmap_job = call.wait(rj.job_id)
    assert roadmap_job.status.value == "done"
    roadmaps = call("list_roadmaps", ds, expect=list).parsed
    assert roadmaps[0].proven in (True, False)
    roadmap = call("get_roadmap", roadmap_job.roadmap_id, expect=m.RoadmapDocument).parsed
    assert len(roadmap.rounds) == 2 and roadmap.rounds[0].plan.assignments
    for fmt in ("json", "xlsx"):
        call(
            "export_roadmap",
            roadmap_job.roadmap_id,
            format_=_enum(m, "ExportRoadmapFormat", fmt),
            expect=None,
        )
    vacated = roadmap.rounds[1].plan.assignments[0].post_id
    fix = m.RoadmapRepairRequest(events=[m.RoundVacant(type_="vacant", post_id=vacated, round_=2)])
    fj = call(
        "repair_roadmap_job", roadmap_job.roadmap_id, body=fix, expect=m.RoadmapRepairCreated
    ).parsed
    assert fj.repair_of == roadmap_job.roadmap_id and fj.from_round == 2
    assert call.wait(fj.job_id).status.value == "done"

    sweep_body = m.CreateSweepJobBody.from_dict(
        {"rules": AS_OF_RULES, "vary": {"weights.change": [10, 50]}}
    )
    sj = call("create_sweep_job", ds, body=sweep_body, expect=m.JobCreated).parsed
    assert call.wait(sj.job_id).status.value == "done"
    sweep = call("get_sweep", sj.job_id, expect=m.SweepTable).parsed
    assert [v.id for v in sweep.variants] == ["v01", "v02"]
    for fmt in ("json", "xlsx"):
        call("export_sweep", sj.job_id, format_=_enum(m, "ExportSweepFormat", fmt), expect=None)

    # cancel: a job that is still queued or running (202/200), else already finished (409,
    # a Problem): both are documented answers that parse
    slow = m.Rules.from_dict({**AS_OF_RULES, "candidates": 5})
    cj = call("create_plan_job", ds, body=slow, expect=m.JobCreated).parsed
    r = _op(client_pkg, "cancel_job").sync_detailed(cj.job_id, client=call.client)
    call.called.add("cancel_job")
    assert (r.status_code in (200, 202) and isinstance(r.parsed, m.JobInfo)) or (
        r.status_code == 409 and isinstance(r.parsed, m.Problem)
    ), (r.status_code, r.content)
    call.wait(cj.job_id)
    call("delete_dataset", ds, expect="empty")

    documented = {op["operationId"] for ops in doc["paths"].values() for op in ops.values()}
    assert call.called == documented, (documented - call.called, call.called - documented)


def _enum(models: Any, name: str, value: str) -> Any:
    return getattr(models, name)(value)
