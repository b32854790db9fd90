"""The outbox's claim index also orders by id, so a worker claims one message at a time with a
plain index scan (oldest first) instead of sorting every due row.

Bodies stored before sealing existed are sealed by ``spoc db upgrade`` right after the
migrations (it needs SPOC_SECRET_KEY, which a migration does not see): the schema is the same.

Revision ID: 0009_records_integrity
Revises: 0008_portal_identity
"""

from __future__ import annotations

from alembic import op

revision = "0009_records_integrity"
down_revision = "0008_portal_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_due")
        batch_op.create_index("ix_outbox_due", ["status", "next_attempt_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_due")
        batch_op.create_index("ix_outbox_due", ["status", "next_attempt_at"], unique=False)
