"""Reports: facts per request and per escalation, digest subscriptions, article views, and
on PostgreSQL a read-only view for BI tools (``spoc_report_requests``, see docs/reports.md).

The facts start empty: ``spoc reports rebuild`` fills them from the timeline.

Revision ID: 0022_reports
Revises: 0021_absences_start
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022_reports"
down_revision = "0021_absences_start"
branch_labels = None
depends_on = None

VIEW = """
CREATE VIEW spoc_report_requests AS
SELECT f.request_id, f.type_key, f.plugin, f.private, f.channel, f.priority, f.status,
       f.is_open, f.owner_agent_id, f.owner_team_id, f.subject_id, f.created_at,
       f.created_day, f.resolved_at, f.resolved_day, f.first_response_seconds,
       f.first_response_target, f.first_response_breached, f.resolution_seconds,
       f.resolution_target, f.resolution_breached, f.escalations, f.max_level,
       f.specialist_seconds, f.reopens, f.first_contact, f.rating, f.rated_day,
       t.name AS owner_team_name
FROM report_request_facts f
LEFT JOIN teams t ON t.id = f.owner_team_id
"""
# The join also makes the view read-only: PostgreSQL updates through single-table views only.


def upgrade() -> None:
    op.create_table(
        "report_request_facts",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("type_key", sa.String(length=100), nullable=False),
        sa.Column("plugin", sa.String(length=64), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=4), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("owner_agent_id", sa.Integer(), nullable=True),
        sa.Column("owner_team_id", sa.Integer(), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_day", sa.Date(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_day", sa.Date(), nullable=True),
        sa.Column("ever_resolved", sa.Boolean(), nullable=False),
        sa.Column("first_response_seconds", sa.Integer(), nullable=True),
        sa.Column("first_response_target", sa.Integer(), nullable=True),
        sa.Column("first_response_breached", sa.Boolean(), nullable=False),
        sa.Column("resolution_seconds", sa.Integer(), nullable=True),
        sa.Column("resolution_target", sa.Integer(), nullable=True),
        sa.Column("resolution_breached", sa.Boolean(), nullable=False),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.Column("max_level", sa.Integer(), nullable=False),
        sa.Column("specialist_seconds", sa.Integer(), nullable=True),
        sa.Column("reopens", sa.Integer(), nullable=False),
        sa.Column("staff_replies", sa.Integer(), nullable=False),
        sa.Column("first_contact", sa.Boolean(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("rated_day", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["requests.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("request_id"),
    )
    op.create_index(
        "ix_report_request_facts_created", "report_request_facts", ["created_day", "request_id"]
    )
    op.create_index(
        "ix_report_request_facts_resolved", "report_request_facts", ["resolved_day", "request_id"]
    )
    op.create_index(
        "ix_report_request_facts_open", "report_request_facts", ["is_open", "created_at"]
    )
    op.create_index(
        "ix_report_request_facts_open_owner", "report_request_facts", ["is_open", "owner_agent_id"]
    )
    op.create_index(
        "ix_report_request_facts_first_response",
        "report_request_facts",
        [
            "created_day",
            "priority",
            "first_response_seconds",
            "first_response_target",
            "first_response_breached",
        ],
    )
    op.create_index(
        "ix_report_request_facts_resolution",
        "report_request_facts",
        [
            "resolved_day",
            "priority",
            "resolution_seconds",
            "resolution_target",
            "resolution_breached",
        ],
    )
    op.create_index(
        "ix_report_request_facts_rated", "report_request_facts", ["rated_day", "request_id"]
    )
    op.create_table(
        "report_escalation_facts",
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("trigger", sa.String(length=100), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_day", sa.Date(), nullable=False),
        sa.Column("handed_back_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("open_seconds", sa.Integer(), nullable=True),
        sa.Column("ola_target", sa.Integer(), nullable=True),
        sa.Column("ola_breached", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["escalation_id"], ["escalations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["request_id"], ["requests.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("escalation_id"),
    )
    op.create_index(
        "ix_report_escalation_facts_opened",
        "report_escalation_facts",
        ["opened_day", "escalation_id"],
    )
    op.create_index("ix_report_escalation_facts_request", "report_escalation_facts", ["request_id"])
    op.create_table(
        "report_digest_subscriptions",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("subscribed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_week", sa.String(length=8), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("agent_id"),
    )
    with op.batch_alter_table("article_feedback_days") as batch:
        batch.add_column(sa.Column("views", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("article_feedback_days") as batch:
        batch.alter_column("views", server_default=None)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(VIEW)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP VIEW IF EXISTS spoc_report_requests")
    with op.batch_alter_table("article_feedback_days") as batch:
        batch.drop_column("views")
    op.drop_table("report_digest_subscriptions")
    op.drop_table("report_escalation_facts")
    op.drop_table("report_request_facts")
