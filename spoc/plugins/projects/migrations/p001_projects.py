"""projects: portfolio structure, reporting periods, updates, chases, risks, decisions, reports

Revision ID: p001_projects
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "p001_projects"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("projects",)
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "projects_milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workstream_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("baseline", sa.Date(), nullable=False),
        sa.Column("forecast", sa.Date(), nullable=True),
        sa.Column("actual", sa.Date(), nullable=True),
        sa.Column("slip_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workstream_id"],
            ["subjects.id"],
            name=op.f("fk_projects_milestones_workstream_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects_milestones")),
        sa.UniqueConstraint(
            "workstream_id", "name", name=op.f("uq_projects_milestones_workstream_id_name")
        ),
    )
    op.create_table(
        "projects_people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["subjects.id"],
            name=op.f("fk_projects_people_project_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects_people")),
    )
    op.create_index(
        "ix_projects_people_project", "projects_people", ["project_id", "role", "id"], unique=False
    )
    op.create_table(
        "projects_portfolios",
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("rag", sa.String(length=8), nullable=True),
        sa.Column("rag_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_projects_portfolios_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_projects_portfolios")),
    )
    op.create_table(
        "projects_projects",
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("portfolio_id", sa.Integer(), nullable=False),
        sa.Column("cadence", sa.String(length=12), nullable=False),
        sa.Column("deadline_days", sa.Integer(), nullable=False),
        sa.Column("sponsor_team", sa.String(length=64), nullable=False),
        sa.Column("next_period_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["portfolio_id"],
            ["subjects.id"],
            name=op.f("fk_projects_projects_portfolio_id_subjects"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_projects_projects_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_projects_projects")),
    )
    op.create_index(
        "ix_projects_projects_next_period", "projects_projects", ["next_period_on"], unique=False
    )
    op.create_index(
        "ix_projects_projects_portfolio",
        "projects_projects",
        ["portfolio_id", "subject_id"],
        unique=False,
    )
    op.create_table(
        "projects_workstreams",
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("lead_name", sa.String(length=200), nullable=False),
        sa.Column("lead_email", sa.String(length=320), nullable=False),
        sa.Column("owner_team", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["subjects.id"],
            name=op.f("fk_projects_workstreams_project_id_subjects"),
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_projects_workstreams_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subject_id", name=op.f("pk_projects_workstreams")),
    )
    op.create_index(
        "ix_projects_workstreams_project",
        "projects_workstreams",
        ["project_id", "subject_id"],
        unique=False,
    )
    op.create_table(
        "projects_agenda",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["subjects.id"],
            name=op.f("fk_projects_agenda_project_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_projects_agenda_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects_agenda")),
        sa.UniqueConstraint("request_id", name=op.f("uq_projects_agenda_request_id")),
    )
    op.create_index(
        "ix_projects_agenda_project", "projects_agenda", ["project_id", "id"], unique=False
    )
    op.create_table(
        "projects_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("summary", sa.String(length=200), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("needed_by", sa.Date(), nullable=False),
        sa.Column("decider", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["subjects.id"],
            name=op.f("fk_projects_decisions_project_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_projects_decisions_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects_decisions")),
        sa.UniqueConstraint("request_id", name=op.f("uq_projects_decisions_request_id")),
    )
    op.create_index(
        "ix_projects_decisions_project", "projects_decisions", ["project_id", "id"], unique=False
    )
    op.create_table(
        "projects_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=10), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("escalate_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("report_request_id", sa.Integer(), nullable=False),
        sa.Column("computed_rag", sa.String(length=8), nullable=True),
        sa.Column("override_rag", sa.String(length=8), nullable=True),
        sa.Column("override_justification", sa.Text(), nullable=True),
        sa.Column("override_by", sa.String(length=200), nullable=True),
        sa.Column("override_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rollup_stale", sa.Boolean(), nullable=False),
        sa.Column("chased_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["subjects.id"],
            name=op.f("fk_projects_periods_project_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["report_request_id"],
            ["requests.id"],
            name=op.f("fk_projects_periods_report_request_id_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects_periods")),
        sa.UniqueConstraint(
            "project_id", "label", name=op.f("uq_projects_periods_project_id_label")
        ),
    )
    op.create_index(
        "ix_projects_periods_chase", "projects_periods", ["chased_at", "closes_at"], unique=False
    )
    op.create_index(
        "ix_projects_periods_project", "projects_periods", ["project_id", "starts_on"], unique=False
    )
    op.create_index("ix_projects_periods_stale", "projects_periods", ["rollup_stale"], unique=False)
    op.create_table(
        "projects_risks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("summary", sa.String(length=200), nullable=False),
        sa.Column("probability", sa.Integer(), nullable=False),
        sa.Column("impact", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("proximity", sa.Date(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("response", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["subjects.id"],
            name=op.f("fk_projects_risks_project_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_projects_risks_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects_risks")),
        sa.UniqueConstraint("request_id", name=op.f("uq_projects_risks_request_id")),
    )
    op.create_index(
        "ix_projects_risks_project", "projects_risks", ["project_id", "score", "id"], unique=False
    )
    op.create_table(
        "projects_watches",
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
            name=op.f("fk_projects_watches_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects_watches")),
        sa.UniqueConstraint(
            "request_id", "cause", name=op.f("uq_projects_watches_request_id_cause")
        ),
    )
    op.create_index(
        "ix_projects_watches_due", "projects_watches", ["settled_at", "due_at"], unique=False
    )
    op.create_table(
        "projects_chases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workstream_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("remind_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["projects_periods.id"],
            name=op.f("fk_projects_chases_period_id_projects_periods"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_projects_chases_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workstream_id"],
            ["subjects.id"],
            name=op.f("fk_projects_chases_workstream_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects_chases")),
        sa.UniqueConstraint("request_id", name=op.f("uq_projects_chases_request_id")),
        sa.UniqueConstraint(
            "workstream_id", "period_id", name=op.f("uq_projects_chases_workstream_id_period_id")
        ),
    )
    op.create_index(
        "ix_projects_chases_open", "projects_chases", ["received_at", "remind_at"], unique=False
    )
    op.create_index(
        "ix_projects_chases_remind",
        "projects_chases",
        ["reminded_at", "received_at", "remind_at"],
        unique=False,
    )
    op.create_table(
        "projects_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["projects_periods.id"],
            name=op.f("fk_projects_reports_period_id_projects_periods"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["subjects.id"],
            name=op.f("fk_projects_reports_project_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects_reports")),
        sa.UniqueConstraint(
            "period_id", "version", name=op.f("uq_projects_reports_period_id_version")
        ),
    )
    op.create_index(
        "ix_projects_reports_project", "projects_reports", ["project_id", "id"], unique=False
    )
    op.create_table(
        "projects_updates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("workstream_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("overall", sa.String(length=8), nullable=False),
        sa.Column("dimensions", JSON, nullable=False),
        sa.Column("percent_complete", sa.Integer(), nullable=False),
        sa.Column("milestones", JSON, nullable=False),
        sa.Column("done", sa.Text(), nullable=False),
        sa.Column("next", sa.Text(), nullable=False),
        sa.Column("blockers", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["projects_periods.id"],
            name=op.f("fk_projects_updates_period_id_projects_periods"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_projects_updates_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workstream_id"],
            ["subjects.id"],
            name=op.f("fk_projects_updates_workstream_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects_updates")),
        sa.UniqueConstraint("request_id", name=op.f("uq_projects_updates_request_id")),
    )
    op.create_index(
        "ix_projects_updates_workstream",
        "projects_updates",
        ["workstream_id", "period_id", "id"],
        unique=False,
    )
    op.create_table(
        "projects_workstream_status",
        sa.Column("workstream_id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("rag", sa.String(length=8), nullable=False),
        sa.Column("missing", sa.Boolean(), nullable=False),
        sa.Column("update_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["projects_periods.id"],
            name=op.f("fk_projects_workstream_status_period_id_projects_periods"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workstream_id"],
            ["subjects.id"],
            name=op.f("fk_projects_workstream_status_workstream_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "workstream_id", "period_id", name=op.f("pk_projects_workstream_status")
        ),
    )
    op.create_index(
        "ix_projects_workstream_status_period",
        "projects_workstream_status",
        ["period_id"],
        unique=False,
    )
    op.create_table(
        "projects_share_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["projects_reports.id"],
            name=op.f("fk_projects_share_links_report_id_projects_reports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects_share_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_projects_share_links_token_hash")),
    )
    op.create_index(
        "ix_projects_share_links_report", "projects_share_links", ["report_id", "id"], unique=False
    )


def downgrade() -> None:
    for table in (
        "projects_share_links",
        "projects_workstream_status",
        "projects_updates",
        "projects_reports",
        "projects_chases",
        "projects_watches",
        "projects_risks",
        "projects_periods",
        "projects_decisions",
        "projects_agenda",
        "projects_workstreams",
        "projects_projects",
        "projects_portfolios",
        "projects_people",
        "projects_milestones",
    ):
        op.drop_table(table)
