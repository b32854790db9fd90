"""Assist: vectors of requests and articles per semantic engine, and the requests to embed.

Revision ID: 0027_assist
Revises: 0025_search_words
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027_assist"
down_revision = "0025_search_words"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assist_vectors",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("engine", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("text_hash", sa.String(64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.UniqueConstraint("engine", "kind", "key", name="uq_assist_vectors_key"),
    )
    op.create_index("ix_assist_vectors_load", "assist_vectors", ["engine", "kind", "id"])
    op.create_index("ix_assist_vectors_ref", "assist_vectors", ["ref_id"])
    op.create_table(
        "assist_pending",
        sa.Column(
            "request_id",
            sa.Integer(),
            sa.ForeignKey("requests.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("token", sa.String(32), nullable=False),
    )
    # Every request filed before this revision is embedded by the worker's first passes.
    op.execute("INSERT INTO assist_pending (request_id, token) SELECT id, 'migrated' FROM requests")


def downgrade() -> None:
    op.drop_table("assist_pending")
    op.drop_index("ix_assist_vectors_ref", table_name="assist_vectors")
    op.drop_index("ix_assist_vectors_load", table_name="assist_vectors")
    op.drop_table("assist_vectors")
