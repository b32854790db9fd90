"""Saved replies, and the knowledge base written in the console: articles, their versions,
and the counts of "did this answer your question?"."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from spoc.core.storage.db import Model, UTCDateTime


class SavedReply(Model):
    """A reply an agent inserts instead of typing it: a team's (``team_id``), or one agent's
    own (``owner_agent_id``), never both. ``body`` is a template (see
    :mod:`spoc.core.domain.knowledge.templates`); ``uses`` counts the messages sent with it."""

    __tablename__ = "saved_replies"
    __table_args__ = (
        CheckConstraint("(team_id IS NULL) <> (owner_agent_id IS NULL)", name="team_or_owner"),
        # An agent's own replies, and a team's, by title (the pickers and the lists).
        Index("ix_saved_replies_owner", "owner_agent_id", "title", "id"),
        Index("ix_saved_replies_team", "team_id", "title", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    owner_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KbArticle(Model):
    """An article written in the console, in one language. Translations share ``slug``: the
    portal's key is ``kb.<slug>`` and shows the language the reader asks for.
    ``published_version_id`` is what the portal shows (``None``: not on the portal)."""

    __tablename__ = "kb_articles"
    __table_args__ = (
        # The portal finds an article by its key's slug, then the reader's language. Lists
        # of articles page by id (the primary key): an organisation writes hundreds, not
        # millions.
        UniqueConstraint("slug", "language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16))
    plugin: Mapped[str | None] = mapped_column(String(64))
    order: Mapped[int] = mapped_column("sort_order", Integer, default=100)
    # No foreign key: the two tables would point at each other. Only the service writes it,
    # with a version of this article, in the transaction that publishes.
    published_version_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KbArticleVersion(Model):
    """One version of an article: a draft until published (``published_at``), kept after a
    later version replaces it, so the history shows what the portal said when."""

    __tablename__ = "kb_article_versions"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)  # Markdown, as written
    author_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL")
    )


class KbArticleRequestType(Model):
    """The request types an article may answer (shown on their forms and request pages)."""

    __tablename__ = "kb_article_request_types"
    __table_args__ = (
        # The articles of one request type.
        Index("ix_kb_article_request_types_type", "type_key", "article_id"),
    )

    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), primary_key=True
    )
    type_key: Mapped[str] = mapped_column(String(100), primary_key=True)


class ArticleFeedbackDay(Model):
    """ "Did this answer your question?": the views, and the yes and no answers, one article
    (a plugin's or the console's, by portal key) got on one day (UTC)."""

    __tablename__ = "article_feedback_days"

    article_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    yes: Mapped[int] = mapped_column(Integer, default=0)
    no: Mapped[int] = mapped_column(Integer, default=0)
    views: Mapped[int] = mapped_column(Integer, default=0)  # the portal showed it (reports)
