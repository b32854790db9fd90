"""healthcare: appointments, referrals, watches, contact attempts, the access log

Revision ID: h001_healthcare
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "h001_healthcare"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("healthcare",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "healthcare_access_chain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_healthcare_access_chain")),
    )
    op.create_table(
        "healthcare_access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("agent_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("what", sa.String(length=60), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("break_glass", sa.Boolean(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_healthcare_access_log")),
    )
    op.create_index(
        "ix_healthcare_access_log_agent", "healthcare_access_log", ["agent_id", "id"], unique=False
    )
    op.create_index(
        "ix_healthcare_access_log_flagged",
        "healthcare_access_log",
        ["break_glass", "id"],
        unique=False,
    )
    op.create_index(
        "ix_healthcare_access_log_subject",
        "healthcare_access_log",
        ["subject_id", "id"],
        unique=False,
    )
    op.create_table(
        "healthcare_appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("service", sa.String(length=120), nullable=False),
        sa.Column("provider", sa.String(length=120), nullable=False),
        sa.Column("location", sa.String(length=120), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("cancelled_by", sa.String(length=200), nullable=True),
        sa.Column("cancelled_by_kind", sa.String(length=20), nullable=True),
        sa.Column("cancel_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["subjects.id"],
            name=op.f("fk_healthcare_appointments_patient_id_subjects"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_healthcare_appointments_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_healthcare_appointments")),
    )
    op.create_index(
        "ix_healthcare_appointments_patient",
        "healthcare_appointments",
        ["patient_id", "start_at"],
        unique=False,
    )
    op.create_index(
        "ix_healthcare_appointments_request",
        "healthcare_appointments",
        ["request_id"],
        unique=False,
    )
    op.create_table(
        "healthcare_contact_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_healthcare_contact_attempts_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_healthcare_contact_attempts_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_healthcare_contact_attempts")),
    )
    op.create_index(
        "ix_healthcare_contact_attempts",
        "healthcare_contact_attempts",
        ["request_id", "id"],
        unique=False,
    )
    op.create_table(
        "healthcare_referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("receiving_organisation", sa.String(length=200), nullable=False),
        sa.Column("authored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["subjects.id"],
            name=op.f("fk_healthcare_referrals_patient_id_subjects"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_healthcare_referrals_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_healthcare_referrals")),
        sa.UniqueConstraint("request_id", name=op.f("uq_healthcare_referrals_request_id")),
    )
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
    op.create_table(
        "healthcare_appointment_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_kind", sa.String(length=20), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["healthcare_appointments.id"],
            name=op.f("fk_healthcare_appointment_changes_appointment_id_healthcare_appointments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_healthcare_appointment_changes")),
    )
    op.create_index(
        "ix_healthcare_appointment_changes",
        "healthcare_appointment_changes",
        ["appointment_id", "id"],
        unique=False,
    )
    op.create_table(
        "healthcare_request_appointments",
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["healthcare_appointments.id"],
            name=op.f("fk_healthcare_request_appointments_appointment_id_healthcare_appointments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_healthcare_request_appointments_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_healthcare_request_appointments")),
    )
    op.create_index(
        op.f("ix_healthcare_request_appointments_appointment_id"),
        "healthcare_request_appointments",
        ["appointment_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_healthcare_request_appointments_appointment_id"),
        table_name="healthcare_request_appointments",
    )
    op.drop_table("healthcare_request_appointments")
    op.drop_index("ix_healthcare_appointment_changes", table_name="healthcare_appointment_changes")
    op.drop_table("healthcare_appointment_changes")
    op.drop_index("ix_healthcare_watches_due", table_name="healthcare_watches")
    op.drop_table("healthcare_watches")
    op.drop_table("healthcare_referrals")
    op.drop_index("ix_healthcare_contact_attempts", table_name="healthcare_contact_attempts")
    op.drop_table("healthcare_contact_attempts")
    op.drop_index("ix_healthcare_appointments_request", table_name="healthcare_appointments")
    op.drop_index("ix_healthcare_appointments_patient", table_name="healthcare_appointments")
    op.drop_table("healthcare_appointments")
    op.drop_index("ix_healthcare_access_log_subject", table_name="healthcare_access_log")
    op.drop_index("ix_healthcare_access_log_flagged", table_name="healthcare_access_log")
    op.drop_index("ix_healthcare_access_log_agent", table_name="healthcare_access_log")
    op.drop_table("healthcare_access_log")
    op.drop_table("healthcare_access_chain")
