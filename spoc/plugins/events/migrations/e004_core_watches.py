"""events: vendor triggers fall due on the core's watches; events_watches goes

Each row becomes an ``events_vendor_alerts`` row (what the trigger is about and what became of
it: key, vendor, deliverable, cause, state, request) and the core watch
``events:vendor:<key>`` on the event's subject with its due time and reason, unsettled while
the trigger was waiting. An opened or escalated trigger also gets its request's watch
``events:<cause>`` (its team as ``escalate_to``), unsettled while it was opened; its
escalation trigger stays ``plugin:events:<cause>``, so nothing escalates twice. When a watch
was armed or settled the old rows did not record: that is the time of the carry-over.

Downgrade copies them back; a waiting trigger's team, which only the old row kept, becomes
its cause's default team (``event_operations`` for the check-in, ``vendor_management``
otherwise).

Revision ID: e004_core_watches
Revises: e003_need_erasure_index
Create Date: 2026-12-03
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from spoc import UTCDateTime

revision: str = "e004_core_watches"
down_revision: str | Sequence[str] | None = "e003_need_erasure_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PREFIX = "events:"
ALERT = "events:vendor:"


def _now() -> sa.BindParameter[datetime]:
    return sa.bindparam("now", datetime.now(UTC), type_=UTCDateTime())


def upgrade() -> None:
    op.create_table(
        "events_vendor_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("deliverable_id", sa.Integer(), nullable=True),
        sa.Column("cause", sa.String(length=30), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["deliverable_id"],
            ["events_deliverables.id"],
            name=op.f("fk_events_vendor_alerts_deliverable_id_events_deliverables"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_events_vendor_alerts_request_id_requests"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["events_vendors.id"],
            name=op.f("fk_events_vendor_alerts_vendor_id_events_vendors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events_vendor_alerts")),
        sa.UniqueConstraint("key", name=op.f("uq_events_vendor_alerts_key")),
    )
    op.create_index(
        "ix_events_vendor_alerts_request", "events_vendor_alerts", ["request_id"], unique=False
    )
    op.execute(
        "INSERT INTO events_vendor_alerts (key, vendor_id, deliverable_id, cause, state, "
        "request_id) "
        "SELECT key, vendor_id, deliverable_id, cause, state, request_id FROM events_watches "
        "ORDER BY id"
    )
    op.execute(
        sa.text(
            "INSERT INTO watches (cause, subject_id, due_at, escalate_to, reason, armed_at, "
            "settled_at) "
            "SELECT :alert || w.key, e.subject_id, w.due_at, NULL, w.reason, :now, "
            "CASE WHEN w.state = 'waiting' THEN NULL ELSE :now END "
            "FROM events_watches w JOIN events_vendors v ON v.id = w.vendor_id "
            "JOIN events_events e ON e.id = v.event_id ORDER BY w.id"
        ).bindparams(_now(), alert=ALERT)
    )
    op.execute(
        sa.text(
            "INSERT INTO watches (cause, request_id, due_at, escalate_to, reason, armed_at, "
            "settled_at) "
            "SELECT :prefix || w.cause, w.request_id, w.due_at, w.team_key, w.reason, :now, "
            "CASE WHEN w.state = 'opened' THEN NULL ELSE :now END "
            "FROM events_watches w "
            "WHERE w.state IN ('opened', 'escalated') AND w.request_id IS NOT NULL ORDER BY w.id"
        ).bindparams(_now(), prefix=PREFIX)
    )
    op.drop_index("ix_events_watches_due", table_name="events_watches")
    op.drop_table("events_watches")


def downgrade() -> None:
    op.create_table(
        "events_watches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("deliverable_id", sa.Integer(), nullable=True),
        sa.Column("cause", sa.String(length=30), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("team_key", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["deliverable_id"],
            ["events_deliverables.id"],
            name=op.f("fk_events_watches_deliverable_id_events_deliverables"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_events_watches_request_id_requests"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["events_vendors.id"],
            name=op.f("fk_events_watches_vendor_id_events_vendors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events_watches")),
        sa.UniqueConstraint("key", name=op.f("uq_events_watches_key")),
    )
    op.create_index("ix_events_watches_due", "events_watches", ["state", "due_at"], unique=False)
    op.execute(
        sa.text(
            "INSERT INTO events_watches (key, vendor_id, deliverable_id, cause, due_at, state, "
            "request_id, team_key, reason) "
            "SELECT a.key, a.vendor_id, a.deliverable_id, a.cause, alert.due_at, a.state, "
            "a.request_id, coalesce(escalation.escalate_to, CASE a.cause "
            "WHEN 'not_checked_in' THEN 'event_operations' ELSE 'vendor_management' END), "
            "alert.reason "
            "FROM events_vendor_alerts a "
            "JOIN watches alert ON alert.cause = :alert || a.key "
            "LEFT JOIN watches escalation ON escalation.request_id = a.request_id "
            "AND escalation.cause = :prefix || a.cause ORDER BY a.id"
        ).bindparams(alert=ALERT, prefix=PREFIX)
    )
    op.execute(
        sa.text("DELETE FROM watches WHERE substr(cause, 1, :length) = :prefix").bindparams(
            length=len(PREFIX), prefix=PREFIX
        )
    )
    op.drop_index("ix_events_vendor_alerts_request", table_name="events_vendor_alerts")
    op.drop_table("events_vendor_alerts")
