"""healthcare: one discharge record per patient and time (idempotent follow-ups)

Revision ID: h002_discharges
Revises: h001_healthcare
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "h002_discharges"
down_revision: str | Sequence[str] | None = "h001_healthcare"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "healthcare_discharges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("discharged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["subjects.id"],
            name=op.f("fk_healthcare_discharges_patient_id_subjects"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_healthcare_discharges_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_healthcare_discharges")),
        sa.UniqueConstraint(
            "patient_id",
            "discharged_at",
            name=op.f("uq_healthcare_discharges_patient_id_discharged_at"),
        ),
        sa.UniqueConstraint("request_id", name=op.f("uq_healthcare_discharges_request_id")),
    )


def downgrade() -> None:
    op.drop_table("healthcare_discharges")
