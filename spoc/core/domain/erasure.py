"""Anonymising requests: what a subject's or a contact's erasure does to the requests about
them (the counts, times and types stay; what people said goes)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from spoc.core.domain.assist.vectors import forget_requests
from spoc.core.domain.attachments import erase_attachments
from spoc.core.domain.models import Message, OutboxMessage, Request, TimelineEvent, TrackingToken
from spoc.core.storage.files import FileStore

if TYPE_CHECKING:
    from spoc.core.domain.search.index import SearchIndex


def strip_requests(
    session: Session,
    batch: Sequence[Request],
    files: FileStore,
    search: SearchIndex | None,
) -> None:
    """What people said and sent goes: fields, summaries, messages, timeline texts, tracking
    links, mail bodies, and attachments (rows and, once no row names it, the stored file);
    and with them the words the search index held for these requests and every assist
    engine's vectors of them."""
    ids = [r.id for r in batch]
    erase_attachments(session, ids, files)
    for request in batch:
        request.fields = {}
        request.summary = "Anonymised request"
    session.execute(update(Message).where(Message.request_id.in_(ids)).values(body="[removed]"))
    session.execute(
        update(TimelineEvent)
        .where(TimelineEvent.request_id.in_(ids))
        .values(summary=TimelineEvent.kind, actor_name="[removed]", data={})
    )
    session.execute(delete(TrackingToken).where(TrackingToken.request_id.in_(ids)))
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.request_id.in_(ids))
        .values(recipient="[removed]", subject="", body_text="", body_html=None)
    )
    forget_requests(session, ids)
    if search is not None:
        search.index_requests(session, batch)
