"""Service settings, read once from the environment (pydantic-settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the service. Environment variable names are given as aliases."""

    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore")

    data_dir: Path = Field(
        default=Path("./var"), validation_alias=AliasChoices("ROTATION_DATA_DIR", "data_dir")
    )
    database_url_env: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "database_url")
    )
    max_upload_mb: float = Field(
        default=20.0, gt=0, validation_alias=AliasChoices("MAX_UPLOAD_MB", "max_upload_mb")
    )
    workers: int = Field(default=2, ge=0, validation_alias=AliasChoices("WORKERS", "workers"))
    """Solves this process runs at a time (0: serve HTTP only; ``rotation worker`` runs them)."""
    load_demo: bool = Field(
        default=False, validation_alias=AliasChoices("ROTATION_LOAD_DEMO", "load_demo")
    )
    max_time_limit_s: float = Field(
        default=600.0, gt=0, validation_alias=AliasChoices("MAX_TIME_LIMIT_S", "max_time_limit_s")
    )
    """Largest ``time_limit_s`` a rules body may ask for (seconds): a worker is a scarce thing."""
    max_uncompressed_mb: float = Field(
        default=200.0,
        gt=0,
        validation_alias=AliasChoices("MAX_UNCOMPRESSED_MB", "max_uncompressed_mb"),
    )
    """Total uncompressed size allowed inside an uploaded .zip/.xlsx (MB): zip-bomb guard."""
    max_zip_ratio: float = Field(
        default=100.0, gt=1, validation_alias=AliasChoices("MAX_ZIP_RATIO", "max_zip_ratio")
    )
    """Largest uncompressed/compressed ratio of one zip entry: zip-bomb guard."""
    max_rules_kb: int = Field(
        default=1024,
        gt=0,
        le=64 * 1024,
        validation_alias=AliasChoices("MAX_RULES_KB", "max_rules_kb"),
    )
    """Largest rules body a solve request may send (KB; 413 beyond): rules are a few KB, locks
    and exclusions included (at most 5,000 each)."""
    cors_origins: str = Field(
        default="", validation_alias=AliasChoices("CORS_ORIGINS", "cors_origins")
    )
    """Browser origins allowed to call the API from another site (CORS), comma-separated, e.g.
    ``https://dashboard.tinh.gov.vn``; empty (the default) = CORS off: only same-origin pages
    (the planning page at ``/``) and non-browser clients."""
    cancel_grace_s: float = 10.0
    """After a cancel, how long a solve may take to hand back its best plan before it is killed."""
    job_lease_s: float = Field(
        default=30.0, ge=1.0, le=3600.0, validation_alias=AliasChoices("JOB_LEASE_S", "job_lease_s")
    )
    """How long a runner's claim on a running job lasts unless renewed (renewed every third of
    it). A job whose lease expired (its server or worker died) is requeued once, then failed."""
    max_streams_per_key: int = Field(
        default=20,
        ge=1,
        validation_alias=AliasChoices("MAX_STREAMS_PER_KEY", "max_streams_per_key"),
    )
    """Open ``GET /v1/jobs/{id}/events`` streams one API key may hold in this process (429
    beyond)."""
    stream_token_ttl_s: int = Field(
        default=60,
        ge=5,
        le=3600,
        validation_alias=AliasChoices("STREAM_TOKEN_TTL_S", "stream_token_ttl_s"),
    )
    """How long a stream token (``POST /v1/jobs/{id}/stream-token``) may be used to open the
    job's event stream, in seconds; a stream already open runs to its end."""
    stream_secret: SecretStr = Field(
        default=SecretStr(""),
        validation_alias=AliasChoices("ROTATION_STREAM_SECRET", "stream_secret"),
    )
    """Server secret mixed into the signing key of stream tokens (api/stream_tokens.py); the
    same on every server sharing the database. Empty: tokens are signed with a key derived from
    the issuing API key's stored hash alone."""
    solve_target: str = Field(
        default="rotation.solve:solve",
        validation_alias=AliasChoices("ROTATION_SOLVE_TARGET", "solve_target"),
    )
    """``module:function`` a worker calls to solve a plan job, as
    ``f(data, rules, progress=..., stop=...)`` returning a ``rotation.solve.Result``. A dotted path
    (not a function object) because it is resolved inside the spawned worker process; tests point
    it at a slow or crashing stand-in."""
    roadmap_target: str = Field(
        default="rotation.roadmap.model:solve_roadmap",
        validation_alias=AliasChoices("ROTATION_ROADMAP_TARGET", "roadmap_target"),
    )
    """``module:function`` a worker calls for a roadmap job (same signature, returns an object
    with ``.status`` and ``.to_json()``)."""
    public_url: str | None = Field(
        default=None, validation_alias=AliasChoices("ROTATION_PUBLIC_URL", "public_url")
    )
    """The URL printed at startup (default: from ``--host``/``--port`` on the command line, else
    http://127.0.0.1:8000)."""

    @property
    def database_url(self) -> str:
        """``DATABASE_URL``, or an SQLite file in the data directory."""
        if self.database_url_env:
            return normalise_url(self.database_url_env)
        return f"sqlite:///{(self.data_dir / 'rotation.sqlite3').resolve()}"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def max_rules_bytes(self) -> int:
        return self.max_rules_kb * 1024


def normalise_url(url: str) -> str:
    """``postgresql://`` (and ``postgres://``) → the psycopg 3 driver SQLAlchemy needs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_settings(**overrides: Any) -> Settings:
    """The settings from the environment, with ``overrides`` by field name or variable name
    (``load_settings(DATABASE_URL=...)``); typed for callers without the pydantic mypy plugin."""
    return Settings(**overrides)
