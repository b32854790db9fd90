"""What staff see of a request's mail, and what they do with a held one.

A mail from someone who is not the requester (or whose domain disowns it, DMARC) is held on
the request: the owner accepts it (it becomes an internal note quoting the mail, for the owner
to act on), files it as a new request of the sender's, or dismisses it. Each is done once: the
row is claimed with ``handled_at IS NULL`` in the same transaction.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from spoc.core.domain.mail.parse import parse
from spoc.core.domain.models import Contact, InboundMail
from spoc.core.domain.requests import RequestService
from spoc.core.domain.requests.fields import STAFF
from spoc.core.domain.writes import ServiceBase
from spoc.core.kernel.errors import IllegalTransition, NotFoundError
from spoc.core.kernel.mail import MailOutcome, Receipt
from spoc.core.kernel.types import Actor, Role

HELD_SHOWN = 50  # held mails listed on a request page (the oldest first); more wait their turn


@dataclass(frozen=True)
class MailLine:
    id: int
    sender: str
    sender_name: str
    subject: str
    received_at: datetime
    outcome: str
    reason: str
    auth: Mapping[str, str]
    text: str


@dataclass(frozen=True)
class RequestMail:
    """A request's mail, for staff who may read the request."""

    held: tuple[MailLine, ...]
    by_message: Mapping[int, MailLine]  # the mail each message came in, by message id
    bounced_at: datetime | None
    bounce_reason: str | None


class HeldMail(ServiceBase):
    """The staff side of :class:`~spoc.core.domain.mail.service.MailService`."""

    requests: RequestService

    # Filing a mail as a new request is MailService's (service.py), which this class is part of.
    _file: Callable[..., Receipt]

    def _type_for(self, address: str) -> str:
        """The request type mail to ``address`` files (SPOC_MAIL_ADDRESSES, else the default)."""
        return self.settings.mail_addresses.get(address, self.settings.mail_default_type)

    def for_request(self, request_id: int, actor: Actor) -> RequestMail:
        """The held mails of a request, the mail behind each mailed message, and whether
        mail to the requester bounces. The caller has shown ``actor`` may read it."""
        with self.db.reader() as session:
            request = self.load_visible(session, request_id, actor)
            rows = list(
                session.scalars(
                    select(InboundMail)
                    .where(InboundMail.request_id == request_id)
                    .where(
                        (InboundMail.message_row_id.is_not(None))
                        | (
                            (InboundMail.outcome == MailOutcome.HELD)
                            & InboundMail.handled_at.is_(None)
                        )
                    )
                    .order_by(InboundMail.id)
                    .limit(500)
                )
            )
            contact = session.get(Contact, request.contact_id)
        held = tuple(_line(r) for r in rows if r.outcome == MailOutcome.HELD)[:HELD_SHOWN]
        by_message = {r.message_row_id: _line(r) for r in rows if r.message_row_id is not None}
        return RequestMail(
            held=held,
            by_message=by_message,
            bounced_at=contact.mail_bounced_at if contact else None,
            bounce_reason=contact.mail_bounce_reason if contact else None,
        )

    def original(self, mail_id: int, actor: Actor) -> tuple[InboundMail, bytes]:
        """A mail as it came, for staff who may read its request (admins: any mail)."""
        with self.db.reader() as session:
            row = session.get(InboundMail, mail_id)
            if row is None:
                raise NotFoundError("no such mail")
            if row.request_id is not None:
                self.load_visible(session, row.request_id, actor)
            elif actor.role is not Role.ADMIN:
                raise NotFoundError("no such mail")
            session.expunge(row)
        raw = base64.b64decode(row.raw) if row.raw else b""
        return row, raw

    def accept_held(self, mail_id: int, actor: Actor) -> int:
        """Post the held mail as an internal note on its request; returns the request id."""
        row = self._claim(mail_id, actor, "accepted")
        mail = parse(base64.b64decode(row.raw or ""))
        who = f"{mail.sender_name} <{mail.sender}>" if mail.sender_name else mail.sender
        assert row.request_id is not None
        self.requests.post_message(
            row.request_id,
            actor,
            f"Mail from {who}, accepted by {actor.name}:\n\n{mail.reply or '(empty)'}",
            internal=True,
        )
        return row.request_id

    def file_held(self, mail_id: int, actor: Actor) -> int:
        """File the held mail as a new request of its sender's; returns the new request id."""
        row = self._claim(mail_id, actor, "filed as a new request")
        raw = base64.b64decode(row.raw or "")
        fresh = InboundMail(
            dedupe_key=f"held:{row.id}",
            message_id=None,
            digest=row.digest,
            source=f"held:{row.id}",
            envelope_to=row.envelope_to,
            sender=row.sender,
            sender_name=row.sender_name,
            subject=row.subject,
            outcome="",
            reason="",
            auth=dict(row.auth),
            size=row.size,
            raw=row.raw,
            text=row.text,
            html=row.html,
            received_at=self.clock.now(),
        )
        receipt = self._file(parse(raw), fresh, self._type_for(row.envelope_to), closed=None)
        if receipt.request_id is None:
            raise IllegalTransition(f"the mail cannot be filed: {receipt.reason}")
        return int(receipt.request_id)

    def dismiss_held(self, mail_id: int, actor: Actor) -> int:
        """Set the held mail aside (kept, not posted); returns the request id."""
        row = self._claim(mail_id, actor, "dismissed")
        assert row.request_id is not None
        return row.request_id

    def _claim(self, mail_id: int, actor: Actor, what: str) -> InboundMail:
        self.require_staff(actor, "handle held mail", STAFF)
        with self.db.transaction() as session:
            row = session.get(InboundMail, mail_id)
            if row is None or row.request_id is None or row.outcome != MailOutcome.HELD:
                raise NotFoundError("no such held mail")
            self.load_visible(session, row.request_id, actor)
            claimed = session.execute(
                update(InboundMail)
                .where(InboundMail.id == mail_id, InboundMail.handled_at.is_(None))
                .values(
                    handled_at=self.clock.now(),
                    handled_by_agent_id=actor.id,
                    reason=f"{what} by {actor.name}"[:500],
                )
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                raise IllegalTransition("someone has handled this mail already")
            session.refresh(row)
            session.expunge(row)
        return row


def _line(row: InboundMail) -> MailLine:
    return MailLine(
        id=row.id,
        sender=row.sender,
        sender_name=row.sender_name,
        subject=row.subject,
        received_at=row.received_at,
        outcome=row.outcome,
        reason=row.reason,
        auth=dict(row.auth),
        text=(row.text or "")[:2000],
    )
