"""What the knowledge base's service takes and answers: an author's draft, an article as the
console shows it, a published article as the portal and the search index read it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from spoc.core.kernel.types import KnowledgeArticle

PREFIX = "kb."  # an article's portal key is kb.<slug>


@dataclass(frozen=True)
class ArticleDraft:
    """What an author writes: the text of a version and the article's settings."""

    title: str
    summary: str
    body: str
    request_types: tuple[str, ...] = ()
    plugin: str | None = None
    order: int = 100


@dataclass(frozen=True)
class VersionLine:
    id: int
    number: int
    title: str
    created_at: datetime
    published_at: datetime | None
    live: bool  # what the portal shows now


@dataclass(frozen=True)
class ArticleLine:
    """An article as the console shows it: the latest version's text, and its history."""

    id: int
    key: str
    slug: str
    language: str
    plugin: str | None
    order: int
    request_types: tuple[str, ...]
    title: str
    summary: str
    body: str
    draft: bool  # the latest version is not published yet
    published: bool  # the portal shows some version
    versions: tuple[VersionLine, ...]


@dataclass(frozen=True)
class PublishedArticle:
    """A published article as the portal (and the search index) reads it: ``html`` is the
    sanitised rendering of ``body`` (Markdown)."""

    id: int
    key: str
    language: str
    title: str
    summary: str
    body: str
    html: str
    request_types: tuple[str, ...]
    plugin: str | None
    order: int
    published_at: datetime
    languages: tuple[str, ...] = ()  # every language this key is published in

    def as_knowledge_article(self) -> KnowledgeArticle:
        """The plugins' article type, so one list shows both kinds."""
        return KnowledgeArticle(
            key=self.key,
            title=self.title,
            summary=self.summary,
            body=self.body,
            request_types=self.request_types,
            order=self.order,
        )
