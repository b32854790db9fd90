"""Watches: one table for every plugin's "deadline the sweep acts on once, then settles".

Revision ID: 0012_watches
Revises: 0011_two_factor
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_watches"
down_revision = "0011_two_factor"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cause", sa.String(length=100), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("escalate_to", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("armed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_watches_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_watches_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watches")),
        sa.UniqueConstraint("request_id", "cause", name=op.f("uq_watches_request_id_cause")),
        sa.UniqueConstraint("subject_id", "cause", name=op.f("uq_watches_subject_id_cause")),
    )
    op.create_index("ix_watches_due", "watches", ["settled_at", "due_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_watches_due", table_name="watches")
    op.drop_table("watches")
