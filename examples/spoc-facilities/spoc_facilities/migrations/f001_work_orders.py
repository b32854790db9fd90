"""facilities: work orders table

Revision ID: f001_facilities
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f001_facilities"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("facilities",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "facilities_work_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name="fk_facilities_work_orders_request_id_requests",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_facilities_work_orders"),
        sa.UniqueConstraint("request_id", name="uq_facilities_work_orders_request_id"),
    )
    op.create_index("ix_facilities_work_orders_open", "facilities_work_orders", ["closed_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_facilities_work_orders_open", table_name="facilities_work_orders")
    op.drop_table("facilities_work_orders")
