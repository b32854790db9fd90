"""Full-text search over requests, contacts, subjects and articles (see ``docs/search.md``).

:class:`SearchService` answers queries (``spoc.search.query(reader, "invoice")``);
:class:`SearchIndex` keeps the index current inside each write (``spoc.search.index``), and is
what another part of the core calls to index what it owns (``put_article``).
"""

from spoc.core.domain.search.index import Document, SearchIndex
from spoc.core.domain.search.query import SearchHit, SearchPage, SearchService, clean_query
from spoc.core.domain.search.tables import KINDS
from spoc.core.domain.search.text import Snippet

__all__ = [
    "KINDS",
    "Document",
    "SearchHit",
    "SearchIndex",
    "SearchPage",
    "SearchService",
    "Snippet",
    "clean_query",
]
