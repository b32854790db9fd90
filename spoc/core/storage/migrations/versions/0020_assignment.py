"""Assignment inside a team: the team's rule, its cap per agent, and where round-robin stands.

Revision ID: 0020_assignment
Revises: 0019_cover
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_assignment"
down_revision = "0019_cover"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("teams") as batch:
        batch.add_column(
            sa.Column("assignment", sa.String(length=16), nullable=False, server_default="none")
        )
        batch.add_column(sa.Column("assignment_cap", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("last_assigned_agent_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("teams") as batch:
        batch.alter_column("assignment", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("teams") as batch:
        batch.drop_column("last_assigned_agent_id")
        batch.drop_column("assignment_cap")
        batch.drop_column("assignment")
