"""Request relations: merges, parent and child, related links; CCs and watchers; a CC's own
tracking link.

Revision ID: 0018_relations
Revises: 0017_knowledge
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_relations"
down_revision = "0017_knowledge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "request_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_request_id", sa.Integer(), nullable=False),
        sa.Column("to_request_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_agent_id", sa.Integer(), nullable=True),
        sa.Column("survivor_token", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_agent_id"],
            ["agents.id"],
            name=op.f("fk_request_links_created_by_agent_id_agents"),
        ),
        sa.ForeignKeyConstraint(
            ["from_request_id"],
            ["requests.id"],
            name=op.f("fk_request_links_from_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_request_id"],
            ["requests.id"],
            name=op.f("fk_request_links_to_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_links")),
        sa.UniqueConstraint(
            "from_request_id",
            "to_request_id",
            "kind",
            name=op.f("uq_request_links_from_request_id_to_request_id_kind"),
        ),
    )
    op.create_index("ix_request_links_from", "request_links", ["from_request_id", "kind"])
    op.create_index(
        "ix_request_links_to", "request_links", ["to_request_id", "kind", "from_request_id"]
    )
    op.create_table(
        "request_ccs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("added_by", sa.String(length=200), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_request_ccs_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_request_ccs_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_ccs")),
        sa.UniqueConstraint(
            "request_id", "contact_id", name=op.f("uq_request_ccs_request_id_contact_id")
        ),
    )
    op.create_index("ix_request_ccs_contact", "request_ccs", ["contact_id", "request_id"])
    op.create_table(
        "request_watchers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_request_watchers_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_request_watchers_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_watchers")),
        sa.UniqueConstraint(
            "request_id", "agent_id", name=op.f("uq_request_watchers_request_id_agent_id")
        ),
    )
    op.create_index("ix_request_watchers_agent", "request_watchers", ["agent_id", "request_id"])
    with op.batch_alter_table("tracking_tokens") as batch:
        batch.add_column(sa.Column("contact_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_tracking_tokens_contact_id_contacts"),
            "contacts",
            ["contact_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("tracking_tokens") as batch:
        batch.drop_constraint(op.f("fk_tracking_tokens_contact_id_contacts"), type_="foreignkey")
        batch.drop_column("contact_id")
    op.drop_index("ix_request_watchers_agent", table_name="request_watchers")
    op.drop_table("request_watchers")
    op.drop_index("ix_request_ccs_contact", table_name="request_ccs")
    op.drop_table("request_ccs")
    op.drop_index("ix_request_links_to", table_name="request_links")
    op.drop_index("ix_request_links_from", table_name="request_links")
    op.drop_table("request_links")
