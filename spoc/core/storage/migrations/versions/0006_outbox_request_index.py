"""Index outbox messages by request, so erasing one person's data touches only their rows.

Revision ID: 0006_outbox_request_index
Revises: 0005_api
"""

from __future__ import annotations

from alembic import op

revision = "0006_outbox_request_index"
down_revision = "0005_api"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_request", "outbox_messages", ["request_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_request", table_name="outbox_messages")
