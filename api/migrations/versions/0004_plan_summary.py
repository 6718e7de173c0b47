"""Plan summary columns: ``objective`` and ``kpis`` of each plan beside its body, so listing a
dataset's plans reads no plan body (issue 10, fast reads). Existing plans are filled from their
bodies.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


ORDER = ("id", "job_id", "dataset_id", "scope_unit_id", "rank", "status", "objective", "kpis")
"""On SQLite the table is rebuilt with ``body`` last: SQLite reaches a column stored after a
large value by walking that value's overflow pages, so summary columns must come before it.
(PostgreSQL keeps large values out of line; there the columns are simply added.)"""


def upgrade() -> None:
    objective = sa.Column("objective", sa.Float(), nullable=True)
    kpis = sa.Column("kpis", sa.JSON(), nullable=True)
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(
            "plans", recreate="always", partial_reordering=[(*ORDER, "created_at", "body")]
        ) as batch:
            batch.add_column(objective)
            batch.add_column(kpis)
    else:
        op.add_column("plans", objective)
        op.add_column("plans", kpis)
    plans = sa.table(
        "plans",
        sa.column("id", sa.String),
        sa.column("body", sa.JSON),
        sa.column("objective", sa.Float),
        sa.column("kpis", sa.JSON),
    )
    conn = op.get_bind()
    ids = [r[0] for r in conn.execute(sa.select(plans.c.id))]
    for plan_id in ids:  # one body at a time: memory stays bounded
        body = conn.execute(sa.select(plans.c.body).where(plans.c.id == plan_id)).scalar_one()
        body = body or {}
        value = body.get("objective")
        conn.execute(
            plans.update()
            .where(plans.c.id == plan_id)
            .values(
                objective=float(value) if isinstance(value, int | float) else None,
                kpis=body.get("kpis") or {},
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("kpis")
        batch.drop_column("objective")
