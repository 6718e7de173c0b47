"""The service's commands in ``rotation``: ``serve``, ``worker`` and ``keys``.

The library knows nothing of the web: ``rotation.cli`` loads the ``rotation.commands`` entry
point group (``pyproject.toml``: ``service = "api.cli:register"``) and calls :func:`register`
with its typer app. Heavy imports (FastAPI, SQLAlchemy) happen inside the commands (``keys`` is
mounted lazily), so the other ``rotation`` commands and ``rotation --help`` start fast.
"""

from __future__ import annotations

import importlib
import signal
import threading
from types import FrameType
from typing import Annotated

import typer

SERVICE_COMMANDS = ("serve", "worker", "keys")


def _fail(message: str, code: int = 1) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def serve(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
) -> None:
    """Run the HTTP API (api.main:app) with uvicorn; it also runs WORKERS solves at a time
    (WORKERS=0: HTTP only, solves left to rotation worker)."""
    try:
        importlib.import_module("api.main")
    except Exception as exc:  # any failure to import means there is no API to serve
        _fail(
            f"cannot start the API: 'api.main' is not importable ({exc}); run from the "
            "repository with the package installed (make install)"
        )
    import uvicorn

    uvicorn.run("api.main:app", host=host, port=port)


def worker(
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="solves at a time (default: WORKERS, 2)"),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url", envvar="DATABASE_URL", help="store URL (default: the service's)"
        ),
    ] = None,
) -> None:
    """Run solves without the HTTP server: claim queued jobs from the shared database (leases),
    until SIGTERM or Ctrl-C, which hands unfinished jobs back to the queue."""
    run_worker(workers, database_url)


def run_worker(
    workers: int | None = None,
    database_url: str | None = None,
    stop: threading.Event | None = None,
    announce: bool = True,
) -> None:
    """The ``worker`` command's body: a :class:`api.jobs.JobRunner` on the store until ``stop``
    is set (by default: SIGTERM or SIGINT)."""
    from .jobs import JobRunner
    from .settings import load_settings
    from .store import Store

    settings = load_settings(**({"DATABASE_URL": database_url} if database_url else {}))
    n = workers if workers is not None else max(settings.workers, 1)
    if not database_url:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.database_url)
    runner = JobRunner.from_settings(store, settings, n)
    stop = stop or _stop_on_signals()
    runner.start()
    if announce:
        where = store.engine.url.render_as_string(hide_password=True)
        typer.echo(f"worker {runner.owner}: {n} solve(s) at a time on {where}; Ctrl-C stops")
    try:
        while not stop.wait(0.5):
            pass
    finally:
        runner.stop()
        store.dispose()
        if announce:
            typer.echo(f"worker {runner.owner}: stopped, unfinished jobs handed back")


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)
    return stop


KEYS_HELP = "Manage API keys of the HTTP service."
"""The short help of ``rotation keys`` (the same as ``api.keys.keys_app``'s, checked by a test),
known without importing the storage layer."""


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``worker`` and ``keys`` to the ``rotation`` typer app.

    ``keys`` (which loads SQLAlchemy and the storage layer) is mounted lazily: ``rotation
    --help`` lists it, and its module is imported only when ``rotation keys …`` runs, so the
    other commands (and the help) start fast.
    """
    from rotation.cli_common import lazy_typer

    app.command("serve")(serve)
    app.command("worker")(worker)
    lazy_typer(app, "keys", "api.keys:keys_app", KEYS_HELP)


def main() -> None:
    """``python -m api.cli …``: the ``rotation`` command with the service's commands, whether
    or not the entry point is installed."""
    from rotation.cli import app

    register(app)
    app()


if __name__ == "__main__":
    main()
