"""Mails as a mail client writes them, and an organisation that receives them."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import select

from spoc.core.domain.models import InboundMail, OutboxMessage
from spoc.core.kernel.mail import Receipt
from spoc.core.services import Spoc


def compose(
    sender: str = "Maria Anders <maria@example.com>",
    to: str = "help@example.org",
    subject: str = "Where is my invoice?",
    body: str = "I have not received the invoice for March.",
    *,
    headers: dict[str, str] | None = None,
    html: str | None = None,
    message_id: str | None = None,
) -> bytes:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = subject
    mail["Message-ID"] = message_id or make_msgid(domain="client.example.com")
    for name, value in (headers or {}).items():
        mail[name] = value
    if body:
        mail.set_content(body)
    if html is not None:
        if body:
            mail.add_alternative(html, subtype="html")
        else:
            mail.set_content(html, subtype="html")
    return mail.as_bytes(policy=policy.SMTP)  # CRLF line ends, as on the wire


def outbox(spoc: Spoc, to: str | None = None) -> list[OutboxMessage]:
    with spoc.db.reader() as session:
        query = select(OutboxMessage).where(OutboxMessage.channel == "email")
        if to is not None:
            query = query.where(OutboxMessage.recipient == to)
        return list(session.scalars(query.order_by(OutboxMessage.id)))


def inbound(spoc: Spoc) -> list[InboundMail]:
    with spoc.db.reader() as session:
        return list(session.scalars(select(InboundMail).order_by(InboundMail.id)))


def receive(spoc: Spoc, raw: bytes, to: str = "help@example.org") -> Receipt:
    return spoc.mail.receive(raw, envelope_to=[to], source="test")
