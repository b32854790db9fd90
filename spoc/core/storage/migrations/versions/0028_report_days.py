"""Reports' daily roll-ups: one row per day, cohort and combination of the dimensions
reports narrow by, and the log of days whose roll-up is out of date.

Every day that already has facts is logged as out of date here, so the worker builds their
roll-ups on its next passes; until then reports read those days from the facts, as before.

Revision ID: 0028_report_days
Revises: 0027_assist
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028_report_days"
down_revision = "0027_assist"
branch_labels = None
depends_on = None

NARROWING = ("type_key", "plugin", "channel", "priority", "owner_team_id", "subject_id")
COUNTS = (
    "n", "open_n", "escalated_n", "resolved_n", "reopened_n", "first_contact_n", "met",
    "targeted", "breached", "ended_n", "on_time_n", "rated_1", "rated_2", "rated_3", "rated_4",
    "rated_5",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "report_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("cohort", sa.String(length=10), nullable=False),
        sa.Column("type_key", sa.String(length=100), nullable=False),
        sa.Column("plugin", sa.String(length=64), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=4), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(length=100), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.Column("seconds", sa.LargeBinary(), nullable=False),
        sa.Column("extra", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_report_days_cohort_day", "report_days", ["cohort", "day", "type_key"])
    op.create_table(
        "report_dirty_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_report_dirty_days_day", "report_dirty_days", ["day"])
    op.create_index(
        "ix_report_request_facts_owner_day",
        "report_request_facts",
        ["owner_agent_id", "created_day"],
    )
    op.create_index(
        "ix_report_request_facts_subject_day", "report_request_facts", ["subject_id", "created_day"]
    )
    # The open requests' indexes also carry the columns reports narrow by (index-only reads).
    for name, leading in (
        ("ix_report_request_facts_open", "created_at"),
        ("ix_report_request_facts_open_owner", "owner_agent_id"),
    ):
        op.drop_index(name, table_name="report_request_facts")
        op.create_index(name, "report_request_facts", ["is_open", leading, *NARROWING])
    op.execute(
        "INSERT INTO report_dirty_days (day) "
        "SELECT created_day FROM report_request_facts "
        "UNION SELECT resolved_day FROM report_request_facts WHERE resolved_day IS NOT NULL "
        "UNION SELECT rated_day FROM report_request_facts WHERE rated_day IS NOT NULL "
        "UNION SELECT opened_day FROM report_escalation_facts"
    )


def downgrade() -> None:
    for name, leading in (
        ("ix_report_request_facts_open", "created_at"),
        ("ix_report_request_facts_open_owner", "owner_agent_id"),
    ):
        op.drop_index(name, table_name="report_request_facts")
        op.create_index(name, "report_request_facts", ["is_open", leading])
    op.drop_index("ix_report_request_facts_subject_day", table_name="report_request_facts")
    op.drop_index("ix_report_request_facts_owner_day", table_name="report_request_facts")
    op.drop_table("report_dirty_days")
    op.drop_table("report_days")
