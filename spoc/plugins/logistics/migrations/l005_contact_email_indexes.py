"""logistics: find a signed-in requester's accounts by their address (verified contacts, orders)

Revision ID: l005_contact_email_indexes
Revises: l004_core_watches
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "l005_contact_email_indexes"
down_revision: str | Sequence[str] | None = "l004_core_watches"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = [
    ("logistics_verified_contacts", "ix_logistics_verified_contacts_email", ["email"]),
    ("logistics_orders", "ix_logistics_orders_customer_email", ["customer_email"]),
]


def upgrade() -> None:
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for table, name, _ in INDEXES:
        op.drop_index(name, table_name=table)
