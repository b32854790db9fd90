"""The search index's tables: one row per thing that can be found, and each database's own
full-text structure beside it (migration ``0016_search``).

``search_documents`` holds, for every request, contact, subject and article, what a hit shows
(its title and the text a snippet is cut from) and what the reader filter needs (its kind, the
row it stands for, whether it is private). The words themselves are indexed by the database:

* SQLite: the FTS5 table ``search_fts`` (``title``, ``body``; its rowid is the document's id),
  holding the folded words of :func:`spoc.core.domain.search.text.index_text`;
* PostgreSQL: the ``tsv`` column of ``search_documents`` (``to_tsvector('simple', ...)`` of the
  same folded words, the title weighted ``A`` and the body ``B``), with a GIN index.

These tables are deliberately not in ``Model.metadata``: their shape differs by dialect (a
virtual table, a ``tsvector`` column) and the ORM never maps them. The test that compares the
models with the migrations looks only at ``Model.metadata``'s tables, so it ignores them;
``SEARCH_METADATA`` describes what both dialects share, for the statements of this package.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, Text

SEARCH_METADATA = MetaData()

documents = Table(
    "search_documents",
    SEARCH_METADATA,
    Column("id", Integer, primary_key=True),
    # request, contact, subject or article
    Column("kind", String(16), nullable=False),
    # the row's id as text, or an article's key
    Column("key", String(200), nullable=False),
    # the row's id (requests, contacts, subjects); NULL for articles
    Column("ref_id", Integer),
    # a private request type or subject kind: only for readers responsible for it
    Column("private", Boolean, nullable=False),
    Column("title", String(300), nullable=False),
    Column("body", Text, nullable=False),
)

KINDS = ("request", "contact", "subject", "article")
TITLE_MAX = 300
BODY_MAX = 100_000
"""What a document keeps of its text (a long conversation's first 100,000 characters)."""
