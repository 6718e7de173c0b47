"""Builds the FastAPI app: settings → store (migrated) → job runner → routers.

``uvicorn api.main:app`` (or ``rotation serve``) serves it; OpenAPI docs at /docs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from .jobs import JobRunner
from .routes import datasets, health, jobs, plans
from .settings import Settings
from .store import Store

DEMO_DIR = Path(__file__).resolve().parents[1] / "data" / "hai_duong"
DEMO_NAME = "hai_duong"


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
    ds = store.add_dataset(name=DEMO_NAME, province_id=(summ["provinces"] or [None])[0],
                           created_by=None, tables=tables, hierarchy=hierarchy(parsed.data),
                           summary=summ)
    store.audit(None, "create", f"dataset:{ds.id}")
    return ds.id


def create_app(settings: Settings | None = None) -> FastAPI:
    """A fresh app; nothing touches the database until the app starts (lifespan)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        store = Store(settings.database_url)
        runner = JobRunner(store, workers=settings.workers,
                           cancel_grace_s=settings.cancel_grace_s)
        app.state.store = store
        app.state.runner = runner
        if settings.load_demo:
            dataset_id = load_demo(store)
            _key_id, key = store.create_key("admin", None)
            print(f"demo dataset: {dataset_id}", flush=True)
            print(f"admin API key: {key}", flush=True)
        runner.start()
        try:
            yield
        finally:
            runner.stop()
            store.dispose()

    app = FastAPI(
        title="Cadre rotation planner",
        version="1.0",
        description="Upload a dataset, start plan jobs, read plans (contract §3).",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.include_router(health.router)
    app.include_router(datasets.router)
    app.include_router(jobs.router)
    app.include_router(plans.router)
    app.include_router(plans.compare_router)
    return app


app = create_app()
