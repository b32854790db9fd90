"""Magic sign-in links are single use: the first use is recorded.

Revision ID: 0008_portal_identity
Revises: 0007_admin_audit
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_portal_identity"
down_revision = "0007_admin_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("magic_links") as batch:
        batch.add_column(sa.Column("used_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("magic_links") as batch:
        batch.drop_column("used_at")
