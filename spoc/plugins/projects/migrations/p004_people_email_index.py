"""projects: find a signed-in requester's projects by their address (sponsors, leads)

Revision ID: p004_people_email_index
Revises: p003_core_watches
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "p004_people_email_index"
down_revision: str | Sequence[str] | None = "p003_core_watches"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = [
    ("projects_people", "ix_projects_people_email", ["email"]),
    ("projects_workstreams", "ix_projects_workstreams_lead_email", ["lead_email"]),
]


def upgrade() -> None:
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for table, name, _ in INDEXES:
        op.drop_index(name, table_name=table)
