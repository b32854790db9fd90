"""How requests relate to each other and to the people who follow them: merges, parent and
child, related links; CCs (contacts copied on a request) and watchers (agents)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from spoc.core.storage.db import Model, SealedText, UTCDateTime

MERGED_INTO = "merged_into"  # from: the duplicate; to: the request that survives
CHILD_OF = "child_of"  # from: the child; to: the parent (a major incident)
RELATED = "related"  # stored once, from the lower id to the higher


class RequestLink(Model):
    __tablename__ = "request_links"
    __table_args__ = (
        UniqueConstraint("from_request_id", "to_request_id", "kind"),
        # A request merged once, and a child with one parent: the write checks, the index
        # serves "which request did this one go to".
        Index("ix_request_links_from", "from_request_id", "kind"),
        # A parent's children, a survivor's merged duplicates, by id (keyset).
        Index("ix_request_links_to", "to_request_id", "kind", "from_request_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    from_request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    to_request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    # For a merge: the survivor's tracking link for the duplicate's requester, sealed, so the
    # duplicate's old link can redirect to it (tracking secrets are otherwise never kept).
    survivor_token: Mapped[str | None] = mapped_column(SealedText("request_links.survivor_token"))


class RequestCc(Model):
    """A contact copied on a request: gets its public replies, may answer."""

    __tablename__ = "request_ccs"
    __table_args__ = (
        UniqueConstraint("request_id", "contact_id"),
        Index("ix_request_ccs_contact", "contact_id", "request_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    added_by: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RequestWatcher(Model):
    """An agent following a request's internal events too."""

    __tablename__ = "request_watchers"
    __table_args__ = (
        UniqueConstraint("request_id", "agent_id"),
        Index("ix_request_watchers_agent", "agent_id", "request_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id", ondelete="CASCADE"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
