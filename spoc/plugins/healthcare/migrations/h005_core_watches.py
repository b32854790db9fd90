"""healthcare: deadlines move onto the core's watches; healthcare_watches goes

Every row is carried over with its due time and settled state, its cause namespaced
(``healthcare:<cause>``) and its team as the watch's ``escalate_to``; the escalation trigger
stays ``plugin:healthcare:<cause>``, so a deadline that already escalated does not again.

Revision ID: h005_core_watches
Revises: h004_records_integrity
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "h005_core_watches"
down_revision: str | Sequence[str] | None = "h004_records_integrity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PREFIX = "healthcare:"


def upgrade() -> None:
    op.execute(
        sa.text(
            "INSERT INTO watches (cause, request_id, due_at, escalate_to, reason, armed_at, "
            "settled_at) "
            "SELECT :prefix || w.cause, w.request_id, w.due_at, w.team_key, w.reason, "
            "r.created_at, w.settled_at "
            "FROM healthcare_watches w JOIN requests r ON r.id = w.request_id ORDER BY w.id"
        ).bindparams(prefix=PREFIX)
    )
    op.drop_index("ix_healthcare_watches_due", table_name="healthcare_watches")
    op.drop_table("healthcare_watches")


def downgrade() -> None:
    op.create_table(
        "healthcare_watches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("cause", sa.String(length=40), nullable=False),
        sa.Column("team_key", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_healthcare_watches_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_healthcare_watches")),
        sa.UniqueConstraint(
            "request_id", "cause", name=op.f("uq_healthcare_watches_request_id_cause")
        ),
    )
    op.create_index(
        "ix_healthcare_watches_due", "healthcare_watches", ["settled_at", "due_at"], unique=False
    )
    op.execute(
        sa.text(
            "INSERT INTO healthcare_watches (request_id, cause, team_key, reason, due_at, "
            "settled_at) "
            "SELECT request_id, substr(cause, :start), coalesce(escalate_to, ''), reason, "
            "due_at, settled_at FROM watches "
            "WHERE request_id IS NOT NULL AND substr(cause, 1, :length) = :prefix ORDER BY id"
        ).bindparams(start=len(PREFIX) + 1, length=len(PREFIX), prefix=PREFIX)
    )
    op.execute(
        sa.text("DELETE FROM watches WHERE substr(cause, 1, :length) = :prefix").bindparams(
            length=len(PREFIX), prefix=PREFIX
        )
    )
