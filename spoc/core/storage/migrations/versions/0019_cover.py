"""Cover for open requests: who a request's owner covers for and until when; each absence's
cover started and ended once.

Revision ID: 0019_cover
Revises: 0018_relations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_cover"
down_revision = "0018_relations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("requests") as batch:
        batch.add_column(sa.Column("covering_for_agent_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("cover_until", sa.Date(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_requests_covering_for_agent_id_agents"),
            "agents",
            ["covering_for_agent_id"],
            ["id"],
        )
        batch.create_index("ix_requests_covering", ["covering_for_agent_id", "id"])
    with op.batch_alter_table("absences") as batch:
        batch.add_column(sa.Column("cover_started_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("cover_ended_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_absences_cover_start", ["cover_started_at", "starts_on"])
        batch.create_index("ix_absences_cover_end", ["cover_ended_at", "ends_on"])


def downgrade() -> None:
    with op.batch_alter_table("absences") as batch:
        batch.drop_index("ix_absences_cover_end")
        batch.drop_index("ix_absences_cover_start")
        batch.drop_column("cover_ended_at")
        batch.drop_column("cover_started_at")
    with op.batch_alter_table("requests") as batch:
        batch.drop_index("ix_requests_covering")
        batch.drop_constraint(op.f("fk_requests_covering_for_agent_id_agents"), type_="foreignkey")
        batch.drop_column("cover_until")
        batch.drop_column("covering_for_agent_id")
