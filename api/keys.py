"""API keys from the command line: ``rotation keys create|list|revoke``.

The main CLI mounts :data:`keys_app`. Only a salted sha256 of each key is stored; the key itself
is printed once, alone on the last line, so scripts can capture it with ``tail -n 1``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from .settings import Settings
from .store import ROLES, Store


def _store(database_url: str | None) -> Store:
    return Store(database_url or _default_url())


def _default_url() -> str:
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings.database_url


def create_key(role: str, scope: str | None, database_url: str | None = None) -> str:
    """Create a key (role admin | planner | viewer; scope a province/district unit id or None)
    and return it; it cannot be shown again."""
    store = _store(database_url)
    try:
        key_id, key = store.create_key(role, scope)
        store.audit(None, "create", f"key:{key_id}")
        return key
    finally:
        store.dispose()


def list_keys(database_url: str | None = None) -> list[dict[str, Any]]:
    """Every key's id, role, scope and whether it is revoked (never the secret)."""
    store = _store(database_url)
    try:
        return store.list_keys()
    finally:
        store.dispose()


def revoke_key(key_id: str, database_url: str | None = None) -> bool:
    """Revoke a key by id; False when there is no such key."""
    store = _store(database_url)
    try:
        ok = store.revoke_key(key_id)
        if ok:
            store.audit(None, "revoke", f"key:{key_id}")
        return ok
    finally:
        store.dispose()


keys_app = typer.Typer(help="Manage API keys of the HTTP service.", no_args_is_help=True)
DbOption = Annotated[
    str | None,
    typer.Option(
        "--database-url", envvar="DATABASE_URL", help="store URL (default: the service's)"
    ),
]


@keys_app.command("create")
def create_cmd(
    role: Annotated[str, typer.Option("--role", help=f"one of {', '.join(ROLES)}")],
    scope: Annotated[
        str | None, typer.Option("--scope", help="province or district unit id")
    ] = None,
    database_url: DbOption = None,
) -> None:
    """Create a key; the key is printed alone on the last line."""
    if role not in ROLES:
        typer.echo(f"--role must be one of {', '.join(ROLES)}", err=True)
        raise typer.Exit(2)
    key = create_key(role, scope, database_url)
    typer.echo(f"created {role} key (scope {scope or 'all'}); store it now, it is not kept:")
    typer.echo(key)


@keys_app.command("list")
def list_cmd(database_url: DbOption = None) -> None:
    """List keys (id, role, scope, revoked)."""
    for k in list_keys(database_url):
        state = "revoked" if k["revoked"] else "active"
        typer.echo(f"{k['id']}\t{k['role']}\t{k['scope'] or '*'}\t{state}\t{k['created_at']}")


@keys_app.command("revoke")
def revoke_cmd(key_id: str, database_url: DbOption = None) -> None:
    """Revoke a key by its id."""
    if not revoke_key(key_id, database_url):
        typer.echo(f"no key with id {key_id!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")
