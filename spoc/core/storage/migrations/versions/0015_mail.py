"""Inbound mail: one row per received mail (deduplicated), and bouncing addresses on contacts.

Revision ID: 0015_mail
Revises: 0014_attachments
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015_mail"
down_revision = "0014_attachments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_mails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=320), nullable=False),
        sa.Column("message_id", sa.String(length=300), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("envelope_to", sa.String(length=320), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("sender_name", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("message_row_id", sa.Integer(), nullable=True),
        sa.Column(
            "auth",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_by_agent_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["handled_by_agent_id"],
            ["agents.id"],
            name=op.f("fk_inbound_mails_handled_by_agent_id_agents"),
        ),
        sa.ForeignKeyConstraint(
            ["message_row_id"],
            ["messages.id"],
            name=op.f("fk_inbound_mails_message_row_id_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_inbound_mails_request_id_requests"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_mails")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_inbound_mails_dedupe_key")),
    )
    op.create_index("ix_inbound_outcome", "inbound_mails", ["outcome", "id"])
    op.create_index("ix_inbound_request", "inbound_mails", ["request_id", "id"])
    op.create_index("ix_inbound_sender", "inbound_mails", ["sender", "received_at"])
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("mail_bounced_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("mail_bounce_reason", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("mail_bounce_reason")
        batch.drop_column("mail_bounced_at")
    op.drop_index("ix_inbound_sender", table_name="inbound_mails")
    op.drop_index("ix_inbound_request", table_name="inbound_mails")
    op.drop_index("ix_inbound_outcome", table_name="inbound_mails")
    op.drop_table("inbound_mails")
