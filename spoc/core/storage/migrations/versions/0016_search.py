"""Full-text search: the documents table, and each database's full-text index beside it.

SQLite gets an FTS5 virtual table (``search_fts``, rowid = document id); PostgreSQL a
``tsvector`` column with a GIN index. See ``spoc.core.domain.search.tables``. The index starts
empty: ``spoc search rebuild`` fills it from the existing rows.

Revision ID: 0016_search
Revises: 0015_mail
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_search"
down_revision = "0015_mail"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=True),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_documents")),
        sa.UniqueConstraint("kind", "key", name=op.f("uq_search_documents_kind")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE search_documents ADD COLUMN tsv tsvector NOT NULL")
        op.execute("CREATE INDEX ix_search_documents_tsv ON search_documents USING gin (tsv)")
    else:
        # Words come folded (spoc.core.domain.search.text); unicode61 only splits them.
        op.execute(
            "CREATE VIRTUAL TABLE search_fts USING fts5("
            "title, body, tokenize = 'unicode61 remove_diacritics 2')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE search_fts")
    op.drop_table("search_documents")
