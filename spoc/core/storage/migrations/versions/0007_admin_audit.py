"""The admin audit trail: every change of who may do or see what.

Revision ID: 0007_admin_audit
Revises: 0006_outbox_request_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007_admin_audit"
down_revision = "0006_outbox_request_index"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "admin_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "actor_kind",
            sa.Enum(
                "agent",
                "requester",
                "system",
                name="admin_audit_actor_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_kind", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("before", JSON, nullable=False),
        sa.Column("after", JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_audit")),
    )
    op.create_index("ix_admin_audit_at", "admin_audit", ["at", "id"])
    op.create_index("ix_admin_audit_action_at", "admin_audit", ["action", "at"])
    op.create_index("ix_admin_audit_actor_at", "admin_audit", ["actor_id", "at"])
    op.create_index("ix_admin_audit_target", "admin_audit", ["target_kind", "target_id", "at"])


def downgrade() -> None:
    op.drop_table("admin_audit")
