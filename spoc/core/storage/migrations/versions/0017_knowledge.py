"""Saved replies, the knowledge base written in the console (articles, versions, request
types) and the daily counts of "did this answer your question?".

Revision ID: 0017_knowledge
Revises: 0016_search
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_knowledge"
down_revision = "0016_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("owner_agent_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(team_id IS NULL) <> (owner_agent_id IS NULL)",
            name=op.f("ck_saved_replies_team_or_owner"),
        ),
        sa.ForeignKeyConstraint(
            ["owner_agent_id"],
            ["agents.id"],
            name=op.f("fk_saved_replies_owner_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_saved_replies_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_replies")),
    )
    op.create_index("ix_saved_replies_owner", "saved_replies", ["owner_agent_id", "title", "id"])
    op.create_index("ix_saved_replies_team", "saved_replies", ["team_id", "title", "id"])
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("plugin", sa.String(length=64), nullable=True),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("published_version_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_articles")),
        sa.UniqueConstraint("slug", "language", name=op.f("uq_kb_articles_slug_language")),
    )
    op.create_table(
        "kb_article_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author_agent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by_agent_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_articles.id"],
            name=op.f("fk_kb_article_versions_article_id_kb_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_agent_id"],
            ["agents.id"],
            name=op.f("fk_kb_article_versions_author_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["published_by_agent_id"],
            ["agents.id"],
            name=op.f("fk_kb_article_versions_published_by_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_article_versions")),
        sa.UniqueConstraint(
            "article_id", "number", name=op.f("uq_kb_article_versions_article_id_number")
        ),
    )
    op.create_table(
        "kb_article_request_types",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("type_key", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_articles.id"],
            name=op.f("fk_kb_article_request_types_article_id_kb_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", "type_key", name=op.f("pk_kb_article_request_types")),
    )
    op.create_index(
        "ix_kb_article_request_types_type",
        "kb_article_request_types",
        ["type_key", "article_id"],
    )
    op.create_table(
        "article_feedback_days",
        sa.Column("article_key", sa.String(length=100), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("yes", sa.Integer(), nullable=False),
        sa.Column("no", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("article_key", "day", name=op.f("pk_article_feedback_days")),
    )


def downgrade() -> None:
    op.drop_table("article_feedback_days")
    op.drop_index("ix_kb_article_request_types_type", table_name="kb_article_request_types")
    op.drop_table("kb_article_request_types")
    op.drop_table("kb_article_versions")
    op.drop_table("kb_articles")
    op.drop_index("ix_saved_replies_team", table_name="saved_replies")
    op.drop_index("ix_saved_replies_owner", table_name="saved_replies")
    op.drop_table("saved_replies")
