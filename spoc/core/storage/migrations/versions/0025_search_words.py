"""SQLite's search vocabulary: every indexed word once, to expand a word prefix.

FTS5 answers a prefix query ("refund"*) by merging every matching word's whole posting list
before it can return the first row: 50-100 ms when the words are common. A query for the
words themselves ("refund" OR "refunds") is merged lazily and stops at the page. This table
lists the words (a B-tree on the word, no rowid), so a prefix is expanded by a range scan.
It is filled here from the index already built, then kept by every index write. PostgreSQL's
GIN index needs nothing of the kind.

Revision ID: 0025_search_words
Revises: 0024_import_jobs
"""

from __future__ import annotations

from alembic import op

revision = "0025_search_words"
down_revision = "0024_import_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        return
    op.execute("CREATE TABLE search_words (word TEXT PRIMARY KEY) WITHOUT ROWID")
    op.execute(
        "CREATE VIRTUAL TABLE temp.search_vocabulary USING fts5vocab(main, search_fts, 'row')"
    )
    op.execute("INSERT INTO search_words (word) SELECT term FROM temp.search_vocabulary")
    op.execute("DROP TABLE temp.search_vocabulary")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TABLE search_words")
