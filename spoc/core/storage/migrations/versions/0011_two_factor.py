"""TOTP two-factor for agents: the sealed secret with its last accepted step, and hashed
single-use recovery codes.

Revision ID: 0011_two_factor
Revises: 0010_accounts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_two_factor"
down_revision = "0010_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_two_factor",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("secret_sealed", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_step", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_agent_two_factor_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_agent_two_factor")),
    )
    op.create_table(
        "agent_recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_agent_recovery_codes_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_recovery_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_agent_recovery_codes_code_hash")),
    )
    op.create_index("ix_agent_recovery_codes_agent", "agent_recovery_codes", ["agent_id"])


def downgrade() -> None:
    op.drop_index("ix_agent_recovery_codes_agent", table_name="agent_recovery_codes")
    op.drop_table("agent_recovery_codes")
    op.drop_table("agent_two_factor")
