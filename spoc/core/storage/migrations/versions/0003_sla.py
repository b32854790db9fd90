"""SLA clocks, their event log, fired escalation triggers, and the sweep's columns.

Revision ID: 0003_sla
Revises: 0002_portal
Create Date: 2026-11-23 03:54:30.817810
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_sla"
down_revision: str | Sequence[str] | None = "0002_portal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NO_DEADLINE = {"postgresql": "9999-12-31 00:00:00+00", "sqlite": "9999-12-31 00:00:00.000000"}


def upgrade() -> None:
    op.create_table(
        "escalation_triggers",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=100), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_escalation_triggers_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", "trigger", name=op.f("pk_escalation_triggers")),
    )
    op.create_table(
        "sla_clocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=True),
        sa.Column("calendar", sa.String(length=64), nullable=False),
        sa.Column("target_seconds", sa.Integer(), nullable=False),
        sa.Column("warn_seconds", sa.Integer(), nullable=True),
        sa.Column("paused_seconds", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("warn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("warned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
            name=op.f("fk_sla_clocks_escalation_id_escalations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_sla_clocks_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_clocks")),
    )
    with op.batch_alter_table("sla_clocks", schema=None) as batch_op:
        batch_op.create_index("ix_sla_clocks_request", ["request_id", "kind"], unique=False)

    op.create_table(
        "sla_clock_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clock_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["clock_id"],
            ["sla_clocks.id"],
            name=op.f("fk_sla_clock_events_clock_id_sla_clocks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_clock_events")),
    )
    with op.batch_alter_table("sla_clock_events", schema=None) as batch_op:
        batch_op.create_index("ix_sla_clock_events_clock", ["clock_id", "id"], unique=False)
        batch_op.create_index(
            "uq_sla_clock_events_once",
            ["clock_id", "kind"],
            unique=True,
            postgresql_where=sa.text("kind IN ('warned', 'breached')"),
            sqlite_where=sa.text("kind IN ('warned', 'breached')"),
        )

    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True))
        # Existing rows have no deadline yet: they sort after every real one.
        batch_op.add_column(
            sa.Column(
                "deadline_at",
                sa.DateTime(timezone=True),
                nullable=False,
                server_default=NO_DEADLINE[op.get_bind().dialect.name],
            )
        )
        batch_op.create_index("ix_requests_deadline_all", ["deadline_at", "id"], unique=False)
        batch_op.create_index(
            "ix_requests_deadline_owner", ["owner_agent_id", "deadline_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_requests_deadline_team", ["owner_team_id", "deadline_at", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_requests_next_due_at"), ["next_due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_requests_next_due_at"))
        batch_op.drop_index("ix_requests_deadline_team")
        batch_op.drop_index("ix_requests_deadline_owner")
        batch_op.drop_index("ix_requests_deadline_all")
        batch_op.drop_column("deadline_at")
        batch_op.drop_column("next_due_at")

    with op.batch_alter_table("sla_clock_events", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_sla_clock_events_once",
            postgresql_where=sa.text("kind IN ('warned', 'breached')"),
            sqlite_where=sa.text("kind IN ('warned', 'breached')"),
        )
        batch_op.drop_index("ix_sla_clock_events_clock")

    op.drop_table("sla_clock_events")
    with op.batch_alter_table("sla_clocks", schema=None) as batch_op:
        batch_op.drop_index("ix_sla_clocks_request")

    op.drop_table("sla_clocks")
    op.drop_table("escalation_triggers")
