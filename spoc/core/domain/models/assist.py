"""Assist's vectors: one per request or article and engine, stored beside their rows, and the
queue of requests whose text changed since their vector was computed (migration ``0027``)."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from spoc.core.storage.db import Model


class AssistVector(Model):
    """What a semantic engine made of one request's or article's text: ``vector`` is
    ``dimensions`` little-endian float32, unit length. ``key`` is the request's id as text or
    the article's search key (``generic.reset_password``, ``console:7``); ``ref_id`` the
    request's id. ``private`` follows :func:`spoc.core.domain.access.private_request`, so the
    nearest-neighbour search can leave private requests out before it asks the database who
    may read the rest. A request's rows go with its text (erasure deletes them)."""

    __tablename__ = "assist_vectors"
    __table_args__ = (
        UniqueConstraint("engine", "kind", "key", name="uq_assist_vectors_key"),
        # Loading an engine's vectors of one kind, and only those written since the last load.
        Index("ix_assist_vectors_load", "engine", "kind", "id"),
        # Erasure: every engine's vectors of these requests.
        Index("ix_assist_vectors_ref", "ref_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    engine: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(200))
    ref_id: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(16))
    private: Mapped[bool] = mapped_column(Boolean)
    text_hash: Mapped[str] = mapped_column(String(64))
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class AssistPending(Model):
    """A request whose text changed since its vector was computed: the worker embeds it.
    ``token`` changes on every mark, so a worker that read an older text leaves the row for
    the next pass instead of deleting a newer mark."""

    __tablename__ = "assist_pending"

    request_id: Mapped[int] = mapped_column(
        ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(String(32))
