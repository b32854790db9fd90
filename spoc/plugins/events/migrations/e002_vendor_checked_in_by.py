"""events: who checked a vendor in (it clears the not-checked-in trigger)

Revision ID: e002_vendor_checked_in_by
Revises: e001_events
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e002_vendor_checked_in_by"
down_revision: str | Sequence[str] | None = "e001_events"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("events_vendors") as batch:
        batch.add_column(sa.Column("checked_in_by", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("checked_in_by_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_events_vendors_checked_in_by_id_agents"),
            "agents",
            ["checked_in_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("events_vendors") as batch:
        batch.drop_constraint(op.f("fk_events_vendors_checked_in_by_id_agents"), type_="foreignkey")
        batch.drop_column("checked_in_by_id")
        batch.drop_column("checked_in_by")
