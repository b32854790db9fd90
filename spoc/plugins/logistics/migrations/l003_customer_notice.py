"""logistics: the proactive customer notice is due until posted (notice_due, customer_told_at)

Rows opened before this revision were told at once (or the setting was off): none is due.

Revision ID: l003_customer_notice
Revises: l002_exception_resolved_at
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "l003_customer_notice"
down_revision: str | Sequence[str] | None = "l002_exception_resolved_at"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("logistics_exceptions") as batch:
        batch.add_column(
            sa.Column("notice_due", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(sa.Column("customer_told_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_logistics_exceptions_notice_due", ["notice_due", "id"])


def downgrade() -> None:
    with op.batch_alter_table("logistics_exceptions") as batch:
        batch.drop_index("ix_logistics_exceptions_notice_due")
        batch.drop_column("customer_told_at")
        batch.drop_column("notice_due")
