"""The index of the console's "who is away and who covers" list: absences by start.

Revision ID: 0021_absences_start
Revises: 0020_assignment
"""

from __future__ import annotations

from alembic import op

revision = "0021_absences_start"
down_revision = "0020_assignment"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_absences_start", "absences", ["starts_on", "id"])


def downgrade() -> None:
    op.drop_index("ix_absences_start", table_name="absences")
