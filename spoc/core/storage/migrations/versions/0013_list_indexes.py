"""Indexes that serve the keyset orderings of the lists that had none.

- ``ix_outbox_status`` (status, id): the console's outbox page, one status newest first.
- ``ix_requests_contact`` becomes (contact_id, id): the portal's "my requests", newest first,
  and the privacy export and erasure, which walk a contact's requests by id. Nothing orders a
  contact's requests by ``created_at``.
- ``ix_subjects_kind`` becomes ``ix_subjects_kind_id`` (kind, id): the console's subject list
  filtered by kind, by id.

Revision ID: 0013_list_indexes
Revises: 0012_watches
"""

from __future__ import annotations

from alembic import op

revision = "0013_list_indexes"
down_revision = "0012_watches"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_status", "outbox_messages", ["status", "id"])
    op.drop_index("ix_requests_contact", table_name="requests")
    op.create_index("ix_requests_contact", "requests", ["contact_id", "id"])
    op.drop_index("ix_subjects_kind", table_name="subjects")
    op.create_index("ix_subjects_kind_id", "subjects", ["kind", "id"])


def downgrade() -> None:
    op.drop_index("ix_subjects_kind_id", table_name="subjects")
    op.create_index("ix_subjects_kind", "subjects", ["kind"])
    op.drop_index("ix_requests_contact", table_name="requests")
    op.create_index("ix_requests_contact", "requests", ["contact_id", "created_at"])
    op.drop_index("ix_outbox_status", table_name="outbox_messages")
