"""projects: when a chase's intake links were dealt with (revoked once the chase ended)

Revision ID: p002_chase_links_revoked
Revises: p001_projects
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "p002_chase_links_revoked"
down_revision: str | Sequence[str] | None = "p001_projects"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("projects_chases") as batch:
        batch.add_column(sa.Column("links_done_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_projects_chases_links", ["links_done_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("projects_chases") as batch:
        batch.drop_index("ix_projects_chases_links")
        batch.drop_column("links_done_at")
