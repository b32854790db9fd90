"""events: erasure selects needs not yet erased (by their own erased_at), not events

Revision ID: e003_need_erasure_index
Revises: e002_vendor_checked_in_by
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e003_need_erasure_index"
down_revision: str | Sequence[str] | None = "e002_vendor_checked_in_by"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_events_access_needs_unerased",
        "events_access_needs",
        ["erased_at", "event_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_events_access_needs_unerased", table_name="events_access_needs")
