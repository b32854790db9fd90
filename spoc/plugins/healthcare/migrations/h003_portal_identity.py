"""healthcare: appointment numbers the public sees are random, not the row id

Revision ID: h003_portal_identity
Revises: h002_discharges
Create Date: 2026-12-02
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "h003_portal_identity"
down_revision: str | Sequence[str] | None = "h002_discharges"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def upgrade() -> None:
    with op.batch_alter_table("healthcare_appointments") as batch:
        batch.add_column(sa.Column("number", sa.String(length=16), nullable=True))
    table = sa.table("healthcare_appointments", sa.column("id"), sa.column("number"))
    connection = op.get_bind()
    for (row_id,) in connection.execute(sa.select(table.c.id)):
        number = "APT-" + "".join(secrets.choice(ALPHABET) for _ in range(10))
        connection.execute(table.update().where(table.c.id == row_id).values(number=number))
    with op.batch_alter_table("healthcare_appointments") as batch:
        batch.alter_column("number", existing_type=sa.String(length=16), nullable=False)
        batch.create_unique_constraint(op.f("uq_healthcare_appointments_number"), ["number"])


def downgrade() -> None:
    with op.batch_alter_table("healthcare_appointments") as batch:
        batch.drop_constraint(op.f("uq_healthcare_appointments_number"), type_="unique")
        batch.drop_column("number")
