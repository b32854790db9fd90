"""events: find a signed-in requester's events by their address (attendees, vendors)

Revision ID: e005_attendee_email_index
Revises: e004_core_watches
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e005_attendee_email_index"
down_revision: str | Sequence[str] | None = "e004_core_watches"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = [
    ("events_attendees", "ix_events_attendees_email", ["email"]),
    ("events_vendors", "ix_events_vendors_onsite_email", ["onsite_email"]),
]


def upgrade() -> None:
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for table, name, _ in INDEXES:
        op.drop_index(name, table_name=table)
