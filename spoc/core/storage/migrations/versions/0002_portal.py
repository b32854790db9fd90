"""Portal links (tracking, subject intake, magic sign-in) and login lockout columns.

Revision ID: 0002_portal
Revises: 0001_core
Create Date: 2026-11-23 03:21:05.745205
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_portal"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "magic_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_magic_links_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_magic_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_magic_links_token_hash")),
    )
    with op.batch_alter_table("magic_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_magic_links_contact_id"), ["contact_id"], unique=False)

    op.create_table(
        "subject_intake_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subjects.id"],
            name=op.f("fk_subject_intake_links_subject_id_subjects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_intake_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_subject_intake_links_token_hash")),
    )
    with op.batch_alter_table("subject_intake_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subject_intake_links_subject_id"), ["subject_id"], unique=False
        )

    op.create_table(
        "tracking_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_tracking_tokens_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracking_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_tracking_tokens_token_hash")),
    )
    with op.batch_alter_table("tracking_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tracking_tokens_request_id"), ["request_id"], unique=False
        )

    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("last_login_at")
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_logins")

    with op.batch_alter_table("tracking_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracking_tokens_request_id"))

    op.drop_table("tracking_tokens")
    with op.batch_alter_table("subject_intake_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_intake_links_subject_id"))

    op.drop_table("subject_intake_links")
    with op.batch_alter_table("magic_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_magic_links_contact_id"))

    op.drop_table("magic_links")
