"""logistics: when the control tower resolved an exception's request on delivery

Revision ID: l002_exception_resolved_at
Revises: l001_logistics
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "l002_exception_resolved_at"
down_revision: str | Sequence[str] | None = "l001_logistics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("logistics_exceptions") as batch:
        batch.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("logistics_exceptions") as batch:
        batch.drop_column("resolved_at")
