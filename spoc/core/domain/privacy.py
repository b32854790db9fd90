"""Privacy for every contact: export everything held about a person, or erase it.

Export (subject access, portability) gathers the contact row, their requests with fields,
every message on them (public and internal), feedback, tracking-link metadata (never a token),
magic-link metadata and the outbox rows addressed to them. Erasure anonymises and keeps for
statistics: counts, times, types, priorities, statuses, clocks and escalations stay; name,
email, phone, attributes and every free text go; tracking and magic links are revoked.

Both are for admins only and both go to the admin audit trail. Erasure works in batches, each
its own transaction, and marks the contact erased last, so a run cut short is finished by
running it again.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from spoc.core.domain.audit import AuditAction, record_admin_change
from spoc.core.domain.erasure import strip_requests
from spoc.core.domain.models import (
    Contact,
    Feedback,
    MagicLink,
    Message,
    OutboxMessage,
    Request,
    TimelineEvent,
    TrackingToken,
    Visibility,
)
from spoc.core.domain.writes import ServiceBase
from spoc.core.kernel.errors import NotFoundError, ValidationFailed
from spoc.core.kernel.types import Actor, Role

BATCH = 200
ERASED_DOMAIN = "anonymised.invalid"
MIN_REASON = 10


def erased_email(contact_id: int) -> str:
    return f"anonymised-{contact_id}@{ERASED_DOMAIN}"


class ContactPrivacyService(ServiceBase):
    def find_contact(self, email: str) -> Contact:
        """The contact with this email address (case-insensitive)."""
        address = email.strip().lower()
        if "@" not in address:
            raise ValidationFailed("invalid contact", {"email": "not an email address"})
        with self.db.reader() as session:
            contact = session.scalar(select(Contact).where(func.lower(Contact.email) == address))
        if contact is None:
            raise NotFoundError(f"no contact with the address {address}")
        return contact

    def export_contact(self, actor: Actor, contact_id: int) -> dict[str, Any]:
        """Everything held about a contact as plain JSON; logged in the admin audit trail."""
        self.require_staff(actor, "export a contact's data", (Role.ADMIN,))
        with self.db.transaction() as session:
            contact = session.get(Contact, contact_id)
            if contact is None:
                raise NotFoundError(f"no contact {contact_id}")
            document = {
                "contact": {
                    "id": contact.id,
                    "name": contact.name,
                    "email": contact.email,
                    "phone": contact.phone,
                    "language": contact.language,
                    "attributes": contact.attributes,
                    "created_at": _iso(contact.created_at),
                },
                "requests": self._export_requests(session, contact.id),
                "magic_links": [
                    {"created_at": _iso(link.created_at), "expires_at": _iso(link.expires_at)}
                    for link in session.scalars(
                        select(MagicLink)
                        .where(MagicLink.contact_id == contact.id)
                        .order_by(MagicLink.id)
                    )
                ],
                "notifications": [
                    _outbox_json(row)
                    for row in session.scalars(
                        select(OutboxMessage)
                        .where(OutboxMessage.recipient == contact.email)
                        .order_by(OutboxMessage.id)
                    )
                ],
            }
            record_admin_change(
                session,
                actor,
                AuditAction.CONTACT_EXPORTED,
                "contact",
                contact.id,
                f"Exported the data held about contact {contact.id}",
                at=self.clock.now(),
                after={"requests": len(document["requests"])},
            )
        return document

    def _export_requests(self, session: Session, contact_id: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        after = 0
        while True:
            rows = list(
                session.scalars(
                    select(Request)
                    .where(Request.contact_id == contact_id, Request.id > after)
                    .order_by(Request.id)
                    .limit(BATCH)
                )
            )
            for row in rows:
                out.append(_request_json(session, row, self.reference(row.id)))
            if len(rows) < BATCH:
                return out
            after = rows[-1].id

    def erase_contact(self, actor: Actor, contact_id: int, *, reason: str) -> int:
        """Anonymise a contact and everything they said; keep the figures. Idempotent: run it
        again after an interruption and it finishes. Returns the number of requests erased."""
        self.require_staff(actor, "erase a contact", (Role.ADMIN,))
        reason = reason.strip()
        if len(reason) < MIN_REASON:
            raise ValidationFailed(
                "a reason is required", {"reason": f"at least {MIN_REASON} characters"}
            )
        with self.db.reader() as session:
            contact = session.get(Contact, contact_id)
            if contact is None:
                raise NotFoundError(f"no contact {contact_id}")
            email = contact.email
        done, after = 0, 0
        while True:
            with self.db.transaction() as session:
                batch = list(
                    session.scalars(
                        select(Request)
                        .where(Request.contact_id == contact_id, Request.id > after)
                        .order_by(Request.id)
                        .limit(BATCH)
                    )
                )
                if not batch:
                    break
                ids = [r.id for r in batch]
                strip_requests(session, batch, self.deps.files, self.deps.search)
                session.execute(
                    update(Feedback).where(Feedback.request_id.in_(ids)).values(comment="")
                )
                done += len(batch)
                after = ids[-1]
        with self.db.transaction() as session:
            # Messages the contact wrote on requests filed by someone else, and mails to them.
            session.execute(
                update(Message)
                .where(Message.author_contact_id == contact_id)
                .values(body="[removed]")
            )
            session.execute(
                update(TimelineEvent)
                .where(
                    TimelineEvent.message_id.in_(
                        select(Message.id).where(Message.author_contact_id == contact_id)
                    )
                )
                .values(summary=TimelineEvent.kind, actor_name="[removed]", data={})
            )
            if not email.endswith("@" + ERASED_DOMAIN):
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.recipient == email)
                    .values(recipient="[removed]", subject="", body_text="", body_html=None)
                )
            session.execute(delete(MagicLink).where(MagicLink.contact_id == contact_id))
            contact = session.get(Contact, contact_id)
            assert contact is not None
            before = {"erased": contact.email.endswith("@" + ERASED_DOMAIN)}
            contact.name = "Anonymised"
            contact.email = erased_email(contact_id)
            contact.phone = None
            contact.attributes = {}
            if self.deps.search is not None:
                # Its name and address, and what it wrote on others' requests, leave the index.
                self.deps.search.index_contacts(session, [contact])
                self.deps.search.reindex_requests(
                    session,
                    session.scalars(
                        select(Message.request_id)
                        .where(Message.author_contact_id == contact_id)
                        .distinct()
                    ),
                )
            record_admin_change(
                session,
                actor,
                AuditAction.CONTACT_ERASED,
                "contact",
                contact_id,
                f"Erased contact {contact_id}: {reason}"[:500],
                at=self.clock.now(),
                before=before,
                after={"erased": True, "requests": done, "reason": reason[:300]},
            )
        return done


def _request_json(session: Session, row: Request, reference: str) -> dict[str, Any]:
    messages = session.scalars(
        select(Message).where(Message.request_id == row.id).order_by(Message.id)
    )
    feedback = session.scalars(
        select(Feedback).where(Feedback.request_id == row.id).order_by(Feedback.id)
    )
    links = session.scalars(
        select(TrackingToken).where(TrackingToken.request_id == row.id).order_by(TrackingToken.id)
    )
    return {
        "reference": reference,
        "type": row.type_key,
        "summary": row.summary,
        "status": row.status.value,
        "priority": row.priority.value,
        "created_at": _iso(row.created_at),
        "resolved_at": _iso(row.resolved_at),
        "closed_at": _iso(row.closed_at),
        "fields": row.fields,
        "messages": [
            {
                "at": _iso(m.created_at),
                "visibility": m.visibility.value,
                "internal": m.visibility is not Visibility.PUBLIC,
                "author": m.author_kind.value,
                "body": m.body,
            }
            for m in messages
        ],
        "feedback": [
            {"at": _iso(f.created_at), "rating": f.rating, "comment": f.comment} for f in feedback
        ],
        "tracking_links": [
            {"created_at": _iso(t.created_at), "expires_at": _iso(t.expires_at)} for t in links
        ],
    }


def _outbox_json(row: OutboxMessage) -> dict[str, Any]:
    return {
        "channel": row.channel,
        "subject": row.subject,
        "status": row.status,
        "created_at": _iso(row.created_at),
        "sent_at": _iso(row.sent_at),
    }


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None
