"""healthcare: the access log's rows name the key of their HMAC (NULL: a legacy SHA-256 row)

Rows written before keep their plain SHA-256 hashes and a NULL key id: the first keyed row
links to the last of them, so they are covered from the upgrade on (a chain epoch, not a
rewrite of the log).

Revision ID: h004_records_integrity
Revises: h003_portal_identity
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "h004_records_integrity"
down_revision: str | Sequence[str] | None = "h003_portal_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("healthcare_access_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("healthcare_access_log", schema=None) as batch_op:
        batch_op.drop_column("key_id")
