"""events: events, sessions, vendors, deliverables, watches, attendees, incidents, needs

Revision ID: e001_events
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "e001_events"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("events",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "events_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("venue", sa.String(length=300), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("load_in_starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("load_in_ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("safety_lead_id", sa.Integer(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erase_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["safety_lead_id"], ["agents.id"], name=op.f("fk_events_events_safety_lead_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_events_events_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events_events")),
        sa.UniqueConstraint("code", name=op.f("uq_events_events_code")),
        sa.UniqueConstraint("subject_id", name=op.f("uq_events_events_subject_id")),
    )
    op.create_index(
        "ix_events_events_erasure", "events_events", ["erased_at", "erase_after"], unique=False
    )
    op.create_index("ix_events_events_starts", "events_events", ["starts_at"], unique=False)
    op.create_table(
        "events_attendees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("order_code", sa.String(length=40), nullable=False),
        sa.Column("ticket_type", sa.String(length=60), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events_events.id"],
            name=op.f("fk_events_attendees_event_id_events_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events_attendees")),
        sa.UniqueConstraint("event_id", "email", name=op.f("uq_events_attendees_event_id_email")),
    )
    op.create_index(
        "ix_events_attendees_event", "events_attendees", ["event_id", "name", "id"], unique=False
    )
    op.create_table(
        "events_incidents",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events_events.id"],
            name=op.f("fk_events_incidents_event_id_events_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_events_incidents_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_events_incidents")),
    )
    op.create_index(
        "ix_events_incidents_board",
        "events_incidents",
        ["event_id", "location", "reported_at"],
        unique=False,
    )
    op.create_table(
        "events_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("room", sa.String(length=120), nullable=False),
        sa.Column("speaker", sa.String(length=200), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events_events.id"],
            name=op.f("fk_events_sessions_event_id_events_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events_sessions")),
    )
    op.create_index(
        "ix_events_sessions_event", "events_sessions", ["event_id", "starts_at", "id"], unique=False
    )
    op.create_table(
        "events_vendors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("contract_ref", sa.String(length=60), nullable=False),
        sa.Column("contract_value", sa.Float(), nullable=True),
        sa.Column("budget_tolerance", sa.Float(), nullable=True),
        sa.Column("insurance_expires_on", sa.Date(), nullable=True),
        sa.Column("onsite_name", sa.String(length=200), nullable=False),
        sa.Column("onsite_phone", sa.String(length=40), nullable=False),
        sa.Column("onsite_email", sa.String(length=254), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("portal_token_hash", sa.String(length=64), nullable=True),
        sa.Column("portal_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events_events.id"],
            name=op.f("fk_events_vendors_event_id_events_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events_vendors")),
        sa.UniqueConstraint("event_id", "code", name=op.f("uq_events_vendors_event_id_code")),
        sa.UniqueConstraint("portal_token_hash", name=op.f("uq_events_vendors_portal_token_hash")),
    )
    op.create_index(
        "ix_events_vendors_event", "events_vendors", ["event_id", "name", "id"], unique=False
    )
    op.create_table(
        "events_access_needs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("attendee_id", sa.Integer(), nullable=True),
        sa.Column(
            "need_types",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["attendee_id"],
            ["events_attendees.id"],
            name=op.f("fk_events_access_needs_attendee_id_events_attendees"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events_events.id"],
            name=op.f("fk_events_access_needs_event_id_events_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_events_access_needs_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events_access_needs")),
        sa.UniqueConstraint("request_id", name=op.f("uq_events_access_needs_request_id")),
    )
    op.create_index(
        "ix_events_access_needs_event", "events_access_needs", ["event_id", "id"], unique=False
    )
    op.create_table(
        "events_deliverables",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("what", sa.String(length=300), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acceptance", sa.String(length=500), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["events_vendors.id"],
            name=op.f("fk_events_deliverables_vendor_id_events_vendors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events_deliverables")),
    )
    op.create_index(
        "ix_events_deliverables_vendor",
        "events_deliverables",
        ["vendor_id", "due_at", "id"],
        unique=False,
    )
    op.create_table(
        "events_request_links",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=True),
        sa.Column("attendee_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["attendee_id"],
            ["events_attendees.id"],
            name=op.f("fk_events_request_links_attendee_id_events_attendees"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events_events.id"],
            name=op.f("fk_events_request_links_event_id_events_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_events_request_links_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["events_vendors.id"],
            name=op.f("fk_events_request_links_vendor_id_events_vendors"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_events_request_links")),
    )
    op.create_index(
        "ix_events_request_links_event",
        "events_request_links",
        ["event_id", "request_id"],
        unique=False,
    )
    op.create_table(
        "events_need_sessions",
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("need_type", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["need_id"],
            ["events_access_needs.id"],
            name=op.f("fk_events_need_sessions_need_id_events_access_needs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["events_sessions.id"],
            name=op.f("fk_events_need_sessions_session_id_events_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "need_id", "session_id", "need_type", name=op.f("pk_events_need_sessions")
        ),
    )
    op.create_index(
        "ix_events_need_sessions_session",
        "events_need_sessions",
        ["session_id", "need_type"],
        unique=False,
    )
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


def downgrade() -> None:
    op.drop_index("ix_events_watches_due", table_name="events_watches")
    op.drop_table("events_watches")
    op.drop_index("ix_events_need_sessions_session", table_name="events_need_sessions")
    op.drop_table("events_need_sessions")
    op.drop_index("ix_events_request_links_event", table_name="events_request_links")
    op.drop_table("events_request_links")
    op.drop_index("ix_events_deliverables_vendor", table_name="events_deliverables")
    op.drop_table("events_deliverables")
    op.drop_index("ix_events_access_needs_event", table_name="events_access_needs")
    op.drop_table("events_access_needs")
    op.drop_index("ix_events_vendors_event", table_name="events_vendors")
    op.drop_table("events_vendors")
    op.drop_index("ix_events_sessions_event", table_name="events_sessions")
    op.drop_table("events_sessions")
    op.drop_index("ix_events_incidents_board", table_name="events_incidents")
    op.drop_table("events_incidents")
    op.drop_index("ix_events_attendees_event", table_name="events_attendees")
    op.drop_table("events_attendees")
    op.drop_index("ix_events_events_starts", table_name="events_events")
    op.drop_index("ix_events_events_erasure", table_name="events_events")
    op.drop_table("events_events")
