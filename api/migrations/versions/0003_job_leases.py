"""Job leases: the runner holding a running job (``worker_id``), until when (``lease_until``),
how often a lease expired (``lease_expiries``) and a cancel flag any server can set.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("worker_id", sa.String(96), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("lease_expiries", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_index("ix_jobs_status_created", ["status", "created_at"])


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_status_created")
        batch.drop_column("cancel_requested")
        batch.drop_column("lease_expiries")
        batch.drop_column("lease_until")
        batch.drop_column("worker_id")
