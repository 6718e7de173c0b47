"""The store: one SQLAlchemy engine, short sessions, and the few queries the routes need.

Every write is one transaction, so a reader never sees a half-written plan or dataset.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, delete, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from .models import ApiKey, AuditLog, Dataset, Job, PlanRow, RoadmapRow, utcnow
from .settings import normalise_url

ROLES = ("admin", "planner", "viewer")
META_CACHE = 256
"""Datasets whose (immutable) hierarchy and summary a store keeps in memory."""
TERMINAL = ("done", "infeasible", "failed", "cancelled")


def new_id() -> str:
    """An unguessable id (128 random bits, hex)."""
    return uuid.uuid4().hex


def migrate(engine: Engine) -> None:
    """``alembic upgrade head`` on this engine (programmatic; no alembic.ini needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        if sqlite:
            # a migration that rebuilds a table (SQLite's ALTER) drops the old one: with foreign
            # keys on, that would cascade and delete the rows that point at it (plans of jobs)
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        with conn.begin():
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        if sqlite:
            bad = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            conn.commit()
            if bad:
                raise RuntimeError(f"migration left dangling references: {bad[:5]}")


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def plan_summary_columns(body: dict[str, Any]) -> dict[str, Any]:
    """The summary columns of a plan row (``objective``, ``kpis``), taken from its body."""
    objective = body.get("objective")
    return {
        "objective": float(objective) if isinstance(objective, int | float) else None,
        "kpis": body.get("kpis") or {},
    }


def hash_secret(secret: str, salt: str) -> str:
    return hashlib.sha256((salt + secret).encode()).hexdigest()


class Store:
    """Datasets, jobs, plans, keys and the audit log in one database."""

    def __init__(self, url: str, *, run_migrations: bool = True) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)
        if run_migrations:
            migrate(self.engine)
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        self._meta: OrderedDict[str, tuple[dict[str, Any], dict[str, Any]]] = OrderedDict()
        self._meta_lock = threading.Lock()

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._session() as s, s.begin():
            yield s

    # ------------------------------------------------------------------ audit
    def audit(self, who: str | None, action: str, obj: str) -> None:
        with self.session() as s:
            s.add(AuditLog(who=who, action=action, object=obj[:100]))

    def audit_rows(self) -> list[dict[str, Any]]:
        with self.session() as s:
            rows = s.scalars(select(AuditLog).order_by(AuditLog.id)).all()
            return [
                {"who": r.who, "action": r.action, "object": r.object, "at": r.at.isoformat()}
                for r in rows
            ]

    # ------------------------------------------------------------------ keys
    def create_key(
        self, role: str, scope_unit_id: str | None, label: str | None = None
    ) -> tuple[str, str]:
        """A new key; returns (key id, the full secret key shown once)."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(24)
        salt = secrets.token_hex(16)
        with self.session() as s:
            s.add(
                ApiKey(
                    id=key_id,
                    salt=salt,
                    hash=hash_secret(secret, salt),
                    role=role,
                    scope_unit_id=scope_unit_id or None,
                    revoked=False,
                    label=label,
                )
            )
        return key_id, f"rk_{key_id}_{secret}"

    def revoke_label(self, label: str, keep: str | None = None) -> int:
        """Revoke every active key with this label except ``keep``; returns how many."""
        with self.session() as s:
            rows = s.scalars(
                select(ApiKey).where(ApiKey.label == label, ApiKey.revoked.is_(False))
            ).all()
            n = 0
            for row in rows:
                if row.id != keep:
                    row.revoked = True
                    n += 1
            return n

    def active_key(self, key_id: str) -> ApiKey | None:
        """The key row with this id unless it is unknown or revoked (stream tokens name their
        key by id; api/stream_tokens.py checks the signature with it)."""
        with self.session() as s:
            row = s.get(ApiKey, key_id)
            if row is None or row.revoked:
                return None
            s.expunge(row)
            return row

    def check_key(self, token: str) -> ApiKey | None:
        """The key row for a presented token, or None (unknown, wrong secret or revoked)."""
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != "rk":
            return None
        with self.session() as s:
            row = s.get(ApiKey, parts[1])
            if row is None or row.revoked:
                return None
            if not hmac.compare_digest(row.hash, hash_secret(parts[2], row.salt)):
                return None
            s.expunge(row)
            return row

    def list_keys(self) -> list[dict[str, Any]]:
        with self.session() as s:
            rows = s.scalars(select(ApiKey).order_by(ApiKey.created_at)).all()
            return [
                {
                    "id": r.id,
                    "role": r.role,
                    "scope": r.scope_unit_id,
                    "label": r.label,
                    "revoked": r.revoked,
                    "created_at": r.created_at.isoformat(),
                }
                for r in rows
            ]

    def revoke_key(self, key_id: str) -> bool:
        with self.session() as s:
            row = s.get(ApiKey, key_id)
            if row is None:
                return False
            row.revoked = True
            return True

    # ------------------------------------------------------------------ datasets
    def add_dataset(self, **fields: Any) -> Dataset:
        row = Dataset(id=new_id(), **fields)
        with self.session() as s:
            s.add(row)
        return row

    def get_dataset(self, dataset_id: str) -> Dataset | None:
        with self.session() as s:
            return s.get(Dataset, dataset_id)

    def dataset_meta(self, dataset_id: str) -> Dataset | None:
        """The dataset without its tables (name, hierarchy, summary): what visibility checks and
        summaries need; ``tables`` is None on it (use :meth:`dataset_tables`)."""
        found = self.datasets_meta([dataset_id])
        return found[0] if found else None

    def datasets_meta(self, ids: list[str] | None = None) -> list[Dataset]:
        """Datasets (all, or these ids) without their tables, oldest first.

        A dataset never changes once stored, so its hierarchy and summary are cached in memory
        (at most :data:`META_CACHE` datasets); the row's existence and short columns are read
        each time, so a dataset deleted through another server is gone here too. Only the short
        leading columns are read from the row: ``tables`` (tens of MB for a 200k-row dataset)
        is never touched, even where the database stores it before ``hierarchy``/``summary``.
        """
        head = (
            Dataset.id,
            Dataset.name,
            Dataset.province_id,
            Dataset.created_at,
            Dataset.created_by,
        )
        with self.session() as s:
            q = select(*head).order_by(Dataset.created_at)
            if ids is not None:
                q = q.where(Dataset.id.in_(ids))
            rows = s.execute(q).all()
            with self._meta_lock:
                missing = [r.id for r in rows if r.id not in self._meta]
            if missing:
                extra = select(Dataset.id, Dataset.hierarchy, Dataset.summary).where(
                    Dataset.id.in_(missing)
                )
                loaded = {i: (h, m) for i, h, m in s.execute(extra).all()}
            else:
                loaded = {}
        out = []
        with self._meta_lock:
            for key, value in loaded.items():
                self._meta[key] = value
            for r in rows:
                hier, summ = self._meta[r.id]
                self._meta.move_to_end(r.id)
                out.append(Dataset(**r._asdict(), hierarchy=hier, summary=summ))
            while len(self._meta) > META_CACHE:
                self._meta.popitem(last=False)
        return out

    def dataset_tables(self, dataset_id: str) -> dict[str, Any] | None:
        """Only the stored tables of a dataset (None when it does not exist)."""
        with self.session() as s:
            return s.scalars(select(Dataset.tables).where(Dataset.id == dataset_id)).first()

    def list_datasets(self) -> list[Dataset]:
        """Every dataset, without its tables (see :meth:`datasets_meta`)."""
        return self.datasets_meta()

    def find_dataset(self, name: str) -> Dataset | None:
        """The first dataset of this name, without its tables (see :meth:`datasets_meta`)."""
        with self.session() as s:
            q = select(Dataset.id).where(Dataset.name == name).order_by(Dataset.created_at)
            found = s.scalars(q).first()
        return self.dataset_meta(found) if found is not None else None

    def delete_dataset(self, dataset_id: str) -> None:
        """The dataset with its plans, roadmaps and jobs, in one transaction (bulk deletes: no
        plan body or table is loaded to be deleted)."""
        with self.session() as s:
            for model in (PlanRow, RoadmapRow, Job):
                s.execute(delete(model).where(model.dataset_id == dataset_id))
            s.execute(delete(Dataset).where(Dataset.id == dataset_id))
        with self._meta_lock:
            self._meta.pop(dataset_id, None)

    def jobs_of_dataset(self, dataset_id: str) -> list[tuple[str, str | None, str]]:
        """(job id, scope unit id, status) of every job on the dataset; plans and roadmaps
        carry their job's scope, so these scopes are every scope the dataset is used by."""
        with self.session() as s:
            q = select(Job.id, Job.scope_unit_id, Job.status).where(Job.dataset_id == dataset_id)
            return [(str(i), sc, str(st)) for i, sc, st in s.execute(q).all()]

    # ------------------------------------------------------------------ jobs
    def add_job(self, **fields: Any) -> Job:
        row = Job(id=new_id(), status="queued", progress={}, plan_ids=[], **fields)
        with self.session() as s:
            s.add(row)
        return row

    def get_job(self, job_id: str) -> Job | None:
        with self.session() as s:
            return s.get(Job, job_id)

    def unfinished_jobs(self) -> list[Job]:
        with self.session() as s:
            q = select(Job).where(Job.status.in_(("queued", "running"))).order_by(Job.created_at)
            return list(s.scalars(q).all())

    def update_job(self, job_id: str, **fields: Any) -> None:
        with self.session() as s:
            row = s.get(Job, job_id)
            if row is None:
                return
            if row.status in TERMINAL and "status" in fields:
                return  # a finished job stays finished (e.g. cancelled while it completed)
            for k, v in fields.items():
                setattr(row, k, v)
            row.updated_at = utcnow()

    def finish_job(
        self,
        job_id: str,
        status: str,
        plans: list[dict[str, Any]],
        error: str | None = None,
        progress: dict[str, Any] | None = None,
    ) -> list[str]:
        """Store the job's plans and its final status in one transaction."""
        with self.session() as s:
            job = s.get(Job, job_id)
            if job is None or job.status in TERMINAL:
                return []
            ids = []
            for rank, body in enumerate(plans, start=1):
                pid = new_id()
                body = {
                    **body,
                    "plan_id": pid,
                    "job_id": job_id,
                    "dataset_id": job.dataset_id,
                    "rank": rank,
                    "scope": job.scope_unit_id,
                }
                s.add(
                    PlanRow(
                        id=pid,
                        job_id=job_id,
                        dataset_id=job.dataset_id,
                        scope_unit_id=job.scope_unit_id,
                        rank=rank,
                        status=str(body.get("status", "feasible")),
                        body=body,
                        **plan_summary_columns(body),
                    )
                )
                ids.append(pid)
            job.status = status
            job.plan_ids = ids
            job.error = error
            if progress is not None:
                job.progress = progress
            job.updated_at = utcnow()
            return ids

    def finish_roadmap_job(
        self,
        job_id: str,
        status: str,
        body: dict[str, Any] | None,
        error: str | None = None,
        progress: dict[str, Any] | None = None,
    ) -> str | None:
        """Store a roadmap job's roadmap (if any) and its final status in one transaction."""
        with self.session() as s:
            job = s.get(Job, job_id)
            if job is None or job.status in TERMINAL:
                return None
            rid = None
            if body is not None:
                rid = new_id()
                body = {
                    **body,
                    "roadmap_id": rid,
                    "job_id": job_id,
                    "dataset_id": job.dataset_id,
                    "scope": job.scope_unit_id,
                }
                s.add(
                    RoadmapRow(
                        id=rid,
                        job_id=job_id,
                        dataset_id=job.dataset_id,
                        scope_unit_id=job.scope_unit_id,
                        status=str(body.get("status", "feasible"))[:16],
                        body=body,
                    )
                )
            job.status = status
            job.plan_ids = []
            job.error = error
            if progress is not None:
                job.progress = progress
            job.updated_at = utcnow()
            return rid

    def get_roadmap(self, roadmap_id: str) -> RoadmapRow | None:
        with self.session() as s:
            return s.get(RoadmapRow, roadmap_id)

    def roadmap_of_job(self, job_id: str) -> RoadmapRow | None:
        with self.session() as s:
            return s.scalars(select(RoadmapRow).where(RoadmapRow.job_id == job_id)).first()

    def roadmaps_of_dataset(self, dataset_id: str) -> list[RoadmapRow]:
        with self.session() as s:
            q = (
                select(RoadmapRow)
                .where(RoadmapRow.dataset_id == dataset_id)
                .order_by(RoadmapRow.created_at)
            )
            return list(s.scalars(q).all())

    # ------------------------------------------------------------------ plans
    def get_plan(self, plan_id: str) -> PlanRow | None:
        with self.session() as s:
            return s.get(PlanRow, plan_id)

    def plan_summaries(self, dataset_id: str) -> list[dict[str, Any]]:
        """Summary fields of the dataset's plans from the summary columns (``objective``,
        ``kpis``, written with the plan): no plan body is read."""
        cols = (
            PlanRow.id,
            PlanRow.job_id,
            PlanRow.rank,
            PlanRow.status,
            PlanRow.scope_unit_id,
            PlanRow.created_at,
            PlanRow.objective,
            PlanRow.kpis,
        )
        with self.session() as s:
            q = (
                select(*cols)
                .where(PlanRow.dataset_id == dataset_id)
                .order_by(PlanRow.created_at, PlanRow.rank)
            )
            return [dict(r._mapping) for r in s.execute(q).all()]

    def plans_of_dataset(self, dataset_id: str) -> list[PlanRow]:
        with self.session() as s:
            q = (
                select(PlanRow)
                .where(PlanRow.dataset_id == dataset_id)
                .order_by(PlanRow.created_at, PlanRow.rank)
            )
            return list(s.scalars(q).all())
