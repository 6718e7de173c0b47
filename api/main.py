"""Builds the FastAPI app: settings → store (migrated) → job runner → routers.

``uvicorn api.main:app`` (or ``rotation serve``) serves it; OpenAPI docs at /docs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from . import problems
from .documents import RulesDocument
from .jobs import JobRunner
from .routes import datasets, health, jobs, plans, roadmaps, sweeps, web
from .schemas import Problem
from .scoping import counts_by_scope
from .settings import Settings
from .store import Store

DEMO_DIR = Path(__file__).resolve().parents[1] / "data" / "hai_duong"
DEMO_NAME = "hai_duong"
LOCAL_ADMIN = "local-admin"
"""Label of the admin key the service makes for local use (``make run``), kept in a file."""
KEY_FILE = "local-admin.key"
DEFAULT_URL = "http://127.0.0.1:8000"


def local_admin_key(store: Store, data_dir: Path) -> tuple[str, bool]:
    """The admin key for local use: the one in ``data_dir/local-admin.key`` while it still works
    on this store, else a new one (labelled ``local-admin``; older ones with that label are
    revoked, their secret being lost) written to that file with mode 600.

    Returns (key, created). Only a hash is stored in the database, so the file is the one place
    the key can be read back from; it never leaves the data directory.
    """
    path = data_dir / KEY_FILE
    try:
        key = path.read_text(encoding="utf-8").strip()
    except OSError:
        key = ""
    row = store.check_key(key) if key else None
    if row is not None and row.role == "admin" and row.scope_unit_id is None:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        return key, False
    key_id, key = store.create_key("admin", None, label=LOCAL_ADMIN)
    store.revoke_label(LOCAL_ADMIN, keep=key_id)
    store.audit(None, "create", f"key:{key_id}")
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(key + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return key, True


def service_url(settings: Settings, argv: Sequence[str] | None = None) -> str:
    """Where the service answers, for the startup message: ``ROTATION_PUBLIC_URL``, else the
    ``--host``/``--port`` given to ``rotation serve`` / uvicorn, else http://127.0.0.1:8000."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    args = list(sys.argv if argv is None else argv)
    found: dict[str, str] = {}
    for i, arg in enumerate(args):
        for name in ("--host", "--port"):
            if arg == name and i + 1 < len(args):
                found[name] = args[i + 1]
            elif arg.startswith(name + "="):
                found[name] = arg.split("=", 1)[1]
    host = found.get("--host", "127.0.0.1")
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{found.get('--port', '8000')}"


def startup_banner(
    url: str, key: str, created: bool, key_path: Path, dataset_id: str | None
) -> str:
    """What ``make run`` shows: the URL, the admin key for local use and a curl to try."""
    state = "new" if created else "reused"
    lines = [
        "",
        "=" * 72,
        f"Cadre rotation API: {url}   (OpenAPI docs: {url}/docs)",
        f"demo dataset: {DEMO_NAME} ({dataset_id or 'not found'})",
        f"admin API key: {key}",
        f"  ({state}; local use only; kept in {key_path} with mode 600, reused on restart)",
        "try:",
        f'  curl -H "Authorization: Bearer {key}" {url}/v1/datasets',
        "=" * 72,
        "",
    ]
    return "\n".join(lines)


def load_demo(store: Store, folder: Path = DEMO_DIR) -> str | None:
    """Load the bundled dataset if it is not there yet; returns its id (None if no folder)."""
    from .ingest import hierarchy, parse, summary, tables_from_csv_files

    existing = store.find_dataset(DEMO_NAME)
    if existing is not None:
        return existing.id
    if not folder.is_dir():
        return None
    files = {p.name: p.read_bytes() for p in sorted(folder.glob("*.csv"))}
    tables, warnings = tables_from_csv_files(files)
    parsed = parse(tables, DEMO_NAME)
    summ = summary(parsed.data, warnings + parsed.warnings)
    summ["by_scope"] = counts_by_scope(parsed.data)
    ds = store.add_dataset(
        name=DEMO_NAME,
        province_id=(summ["provinces"] or [None])[0],
        created_by=None,
        tables=tables,
        hierarchy=hierarchy(parsed.data),
        summary=summ,
    )
    store.audit(None, "create", f"dataset:{ds.id}")
    return ds.id


def create_app(settings: Settings | None = None) -> FastAPI:
    """A fresh app; nothing touches the database until the app starts (lifespan)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = Store(settings.database_url)
        runner = JobRunner.from_settings(store, settings, settings.workers)
        app.state.store = store
        app.state.runner = runner
        if settings.load_demo:
            dataset_id = load_demo(store)
            key, created = local_admin_key(store, settings.data_dir)
            print(
                startup_banner(
                    service_url(settings),
                    key,
                    created,
                    (settings.data_dir / KEY_FILE).resolve(),
                    dataset_id,
                ),
                flush=True,
            )
        runner.start()
        try:
            yield
        finally:
            runner.stop()
            store.dispose()

    # /docs and /redoc with their scripts served by the app (fastapi-offline ships Swagger UI
    # and ReDoc): a government intranet reaches no CDN.
    app = FastAPIOffline(
        title="Cadre rotation planner",
        version="1.0",
        description="Upload a dataset, start plan and term-roadmap jobs, read plans (contract §3) "
        "and roadmaps. Every refusal is `application/problem+json` (RFC 9457): `type`, `title`, "
        "`status`, `detail` and `errors: [{field, message}]`. Event streams "
        "(`GET /v1/jobs/{job_id}/events`) also accept a short-lived stream token in `?token=` "
        "(`POST /v1/jobs/{job_id}/stream-token`) for a browser's EventSource; an API key is "
        "never accepted in a URL.",
        lifespan=lifespan,
        # operationId = the route function's name (get_plan, compare, …): what a generated
        # client calls its functions
        generate_unique_id_function=lambda route: route.name,
    )
    app.state.settings = settings
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:  # off by default: a dashboard on another site is allowed by name only
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        )
    problems.install(app)
    app.include_router(health.router)
    for router in (
        datasets.router,
        jobs.router,
        plans.router,
        plans.compare_router,
        roadmaps.router,
        sweeps.router,
        web.router,
    ):
        app.include_router(router)
    _add_problem_schema(app)
    return app


def _add_problem_schema(app: FastAPI) -> None:
    """Put the Problem schema (referenced by every documented refusal) and the Rules schema
    (referenced by every rules body) in the OpenAPI components, and document on each operation
    the refusals that apply to it as problem+json (api/problems.py, ``document``), also where a
    route names a status with a description only."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        doc = build()
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        if "Problem" not in schemas:
            for model in (Problem, RulesDocument):
                schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                for sub, spec in schema.pop("$defs", {}).items():
                    schemas.setdefault(sub, spec)
                schemas.setdefault(model.__name__, schema)
            problems.document(doc)
        return doc

    app.openapi = openapi  # type: ignore[method-assign]


app = create_app()
