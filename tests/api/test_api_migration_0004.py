"""Migration 0004 (plan summary columns) on a database holding plans: filled from the bodies,
other tables untouched, and on SQLite the body stored last (so summaries skip it)."""

from __future__ import annotations

import json
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

import api.store as store_module
from api.store import Store


def _upgrade(engine, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(store_module.__file__).parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def test_0004_fills_summaries(tmp_path):
    """Plans written before 0004 get objective and kpis from their bodies; jobs stay."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = create_engine(url)
    _upgrade(engine, "0002")
    body = {"status": "optimal", "objective": 12.5, "kpis": {"changed_posts": 3}, "assignments": []}
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO datasets (id, name, created_at, tables, hierarchy, summary) "
                "VALUES ('d', 'n', '2026-01-01', '{}', '{}', '{}')"
            )
        )
        c.execute(
            text(
                "INSERT INTO jobs (id, dataset_id, kind, rules, spec, status, progress, plan_ids,"
                " created_at, updated_at) VALUES ('j', 'd', 'plan', '{}', '{}', 'done', '{}',"
                " '[\"p\"]', '2026-01-01', '2026-01-01')"
            )
        )
        c.execute(
            text(
                "INSERT INTO plans (id, job_id, dataset_id, rank, status, body, created_at) "
                "VALUES ('p', 'j', 'd', 1, 'optimal', :b, '2026-01-01')"
            ),
            {"b": json.dumps(body)},
        )
    engine.dispose()
    store = Store(url)  # migrates to head
    try:
        [summary] = store.plan_summaries("d")
        assert summary["objective"] == 12.5 and summary["kpis"] == {"changed_posts": 3}
        assert store.get_plan("p").body == body
        assert store.get_job("j").plan_ids == ["p"]
        with store.engine.connect() as c:
            cols = [r[1] for r in c.execute(text("PRAGMA table_info(plans)"))]
            indexes = {r[1] for r in c.execute(text("PRAGMA index_list(plans)"))}
            cascades = {r[2]: r[6] for r in c.execute(text("PRAGMA foreign_key_list(plans)"))}
        assert cols[-1] == "body" and {"objective", "kpis"} <= set(cols)
        assert {"ix_plans_job_id", "ix_plans_dataset_id"} <= indexes
        assert cascades == {"datasets": "CASCADE", "jobs": "CASCADE"}
    finally:
        store.dispose()
