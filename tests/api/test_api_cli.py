"""The service's commands (api/cli.py): registered into ``rotation`` through the
``rotation.commands`` entry point; ``serve`` without the app; ``worker`` runs jobs and hands
unfinished ones back when stopped."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import typer
from api_helpers import AS_OF_RULES, open_api
from typer.testing import CliRunner

from api import cli

ROOT = Path(__file__).resolve().parents[2]


def _fake_install(tmp_path: Path) -> dict[str, str]:
    """An environment whose sys.path holds a distribution declaring the entry point exactly as
    pyproject.toml does (the shared virtualenv's metadata may predate it)."""
    meta = tmp_path / "rotation_service-0.0.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text("Metadata-Version: 2.1\nName: rotation-service\nVersion: 0.0\n")
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '[project.entry-points."rotation.commands"]\nservice = "api.cli:register"' in pyproject
    (meta / "entry_points.txt").write_text("[rotation.commands]\nservice = api.cli:register\n")
    path = [str(ROOT), str(tmp_path), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in path if p)}


def test_entry_point_registers_the_service_commands(tmp_path):
    """`rotation --help` lists serve, worker and keys when the service is installed, and
    `rotation keys create` works through it."""
    env = _fake_install(tmp_path)
    run = [sys.executable, "-m", "rotation"]
    out = subprocess.run([*run, "--help"], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    for command in ("serve", "worker", "keys", "plan"):
        assert command in out.stdout, out.stdout
    url = f"sqlite:///{tmp_path / 'k.sqlite3'}"
    keys = [*run, "keys", "create", "--role", "viewer", "--database-url", url]
    out = subprocess.run(keys, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip().splitlines()[-1].startswith("rk_"), out


def test_broken_plugin_does_not_break_the_library(tmp_path, monkeypatch):
    """A plugin that fails to load is reported and skipped; the library's commands still run."""
    from rotation import cli as rcli

    class Broken:
        name, value = "broken", "nowhere:register"

        def load(self):
            raise ImportError("No module named 'nowhere'")

    monkeypatch.setattr(rcli, "entry_points", lambda group: [Broken()])
    app = typer.Typer()
    assert rcli.load_plugins(app) == []


def test_register_adds_commands():
    """register() adds serve, worker and keys; keys is mounted without importing its module."""
    app = typer.Typer()
    cli.register(app)
    names = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    assert names == {"serve", "worker", "keys"}, names
    (keys,) = [g for g in app.registered_groups if g.name == "keys"]
    from api.keys import keys_app

    assert keys.help == cli.KEYS_HELP == keys_app.info.help


def test_help_lists_keys_without_loading_the_service(tmp_path):
    """`rotation --help` lists keys (lazy) and imports neither SQLAlchemy nor FastAPI; `rotation
    keys --help` then loads the real group and lists its commands."""
    env = _fake_install(tmp_path)
    code = (
        "import sys\nfrom rotation.cli import main\nsys.argv = ['rotation', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('LOADED', ' '.join(sorted(m for m in sys.modules if '.' not in m)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "keys" in out.stdout and "Manage API keys" in out.stdout, out.stdout
    loaded = set(out.stdout.split("LOADED", 1)[1].split())
    assert not loaded & {"sqlalchemy", "fastapi", "alembic", "pandas", "pydantic"}, loaded
    run = [sys.executable, "-m", "rotation", "keys", "--help"]
    out = subprocess.run(run, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    for command in ("create", "list", "revoke"):
        assert command in out.stdout, out.stdout
    assert "--install-completion" not in out.stdout


def test_serve_without_api_exits_1(monkeypatch):
    """When api.main cannot be imported, `serve` says so and exits 1."""
    real = cli.importlib.import_module

    def fake(name, *a, **k):
        if name == "api.main":
            raise ModuleNotFoundError("No module named 'api.main'")
        return real(name, *a, **k)

    monkeypatch.setattr(cli.importlib, "import_module", fake)
    app = typer.Typer()
    cli.register(app)
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 1 and "cannot start the API" in result.output


def test_worker_runs_jobs_of_an_http_only_server(tmp_path):
    """A server with WORKERS=0 only queues; run_worker (the `rotation worker` body) in this
    process solves the job and returns when told to stop (the hand-over of a running job on
    stop is in test_api_servers.py)."""
    db = tmp_path / "w.sqlite3"
    url = f"sqlite:///{db}"
    for api in open_api(db, WORKERS=0):
        h = api.key("admin")
        ds = api.upload_zip(h)
        job_id = api.client.post(f"/v1/datasets/{ds}/plans", json=AS_OF_RULES, headers=h).json()[
            "job_id"
        ]
        time.sleep(1.0)
        assert api.client.get(f"/v1/jobs/{job_id}", headers=h).json()["status"] == "queued"
        stop = threading.Event()
        t = threading.Thread(target=cli.run_worker, args=(1, url, stop, False), daemon=True)
        t.start()
        try:
            job = api.wait(job_id, h, timeout=120)
        finally:
            stop.set()
            t.join(timeout=60)
        assert job["status"] == "done" and len(job["plan_ids"]) == 1, job
        assert not t.is_alive()
