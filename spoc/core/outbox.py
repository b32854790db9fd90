"""The outbox: notifications written with their cause, delivered later, never lost.

Writers call :func:`enqueue` inside their own transaction. :class:`Deliverer` claims due rows
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, under SQLite's write lock), leases them, sends them
through their channel and marks them sent; a failure is retried with exponential backoff and,
after ``SPOC_OUTBOX_MAX_ATTEMPTS``, dead-lettered for an admin to retry. A worker that dies
after sending but before marking sent leaves the row leased; when the lease runs out it is sent
again with the same idempotency key, so receivers can drop the duplicate.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import smtplib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from spoc.core.models import OutboxMessage

if TYPE_CHECKING:
    from spoc.core.app import Spoc

PENDING, SENDING, SENT, DEAD = "pending", "sending", "sent", "dead"
LEASE = timedelta(minutes=5)
MAGIC_LINK_CHANNEL = "magic_link"
MAGIC_LINK_PATH = "/my/"  # the portal's sign-in route, for links made outside a web request


class DeliveryError(Exception):
    """The channel could not deliver; the message will be retried."""


@dataclass(frozen=True)
class Outgoing:
    """What a channel gets to send: a read-only copy of the outbox row."""

    id: int
    channel: str
    recipient: str
    subject: str
    body_text: str
    body_html: str | None
    headers: Mapping[str, Any]
    idempotency_key: str


@dataclass(frozen=True)
class NotificationChannel:
    """A way to deliver messages, contributed by a plugin through ``spoc_notification_channels``.

    ``send`` raises on failure (the message is retried); it must be idempotent per
    ``Outgoing.idempotency_key``.
    """

    name: str
    send: Callable[[Outgoing], None]


def enqueue(
    session: Session,
    *,
    channel: str,
    recipient: str,
    body_text: str,
    now: datetime,
    subject: str = "",
    body_html: str | None = None,
    headers: Mapping[str, Any] | None = None,
    request: Any = None,
    key: str | None = None,
) -> OutboxMessage:
    """Add a message to the caller's transaction (no flush: safe inside write observers)."""
    message = OutboxMessage(
        channel=channel,
        recipient=recipient,
        subject=subject[:300],
        body_text=body_text,
        body_html=body_html,
        headers=dict(headers or {}),
        idempotency_key=key or f"ntf-{uuid.uuid4().hex}",
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    if request is not None:
        message.request = request  # resolved at flush, also for a request not yet inserted
    session.add(message)
    return message


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"claimed {self.claimed}, sent {self.sent}, retried {self.retried}, dead {self.dead}"


class Deliverer:
    def __init__(self, spoc: Spoc) -> None:
        self.spoc = spoc
        self.channels: dict[str, Callable[[Outgoing], None]] = {
            "email": self._send_email,
            "webhook": self._send_webhook,
            MAGIC_LINK_CHANNEL: self._send_magic_link,
        }
        for plugin, channels in spoc.host.call_each("spoc_notification_channels"):
            for channel in channels:
                if channel.name in self.channels:
                    raise ValueError(f"plugin {plugin!r}: channel {channel.name!r} exists already")
                self.channels[channel.name] = channel.send

    # --- claiming ---------------------------------------------------------------------

    def claim(self, limit: int) -> list[Outgoing]:
        now = self.spoc.clock.now()
        with self.spoc.db.transaction() as session:
            rows = list(
                session.scalars(
                    select(OutboxMessage)
                    .where(
                        or_(
                            (OutboxMessage.status == PENDING)
                            & (OutboxMessage.next_attempt_at <= now),
                            (OutboxMessage.status == SENDING) & (OutboxMessage.claimed_until < now),
                        )
                    )
                    .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            )
            for row in rows:
                row.status, row.claimed_until = SENDING, now + LEASE
                row.attempts += 1
            return [
                Outgoing(
                    r.id,
                    r.channel,
                    r.recipient,
                    r.subject,
                    r.body_text,
                    r.body_html,
                    dict(r.headers),
                    r.idempotency_key,
                )
                for r in rows
            ]

    def deliver_due(self, limit: int = 100) -> DeliveryReport:
        report = DeliveryReport()
        batch = self.claim(limit)
        report.claimed = len(batch)
        for message in batch:
            send = self.channels.get(message.channel)
            try:
                if send is None:
                    raise DeliveryError(f"no channel {message.channel!r} is enabled")
                send(message)
            except Exception as exc:  # any failure of a channel means: try again later
                self._failed(message, f"{type(exc).__name__}: {exc}", report)
            else:
                self._sent(message, report)
        return report

    def _sent(self, message: Outgoing, report: DeliveryReport) -> None:
        with self.spoc.db.transaction() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message.id, OutboxMessage.status == SENDING)
                .values(
                    status=SENT, sent_at=self.spoc.clock.now(), claimed_until=None, last_error=None
                )
            )
        report.sent += 1

    def _failed(self, message: Outgoing, error: str, report: DeliveryReport) -> None:
        settings = self.spoc.settings
        now = self.spoc.clock.now()
        with self.spoc.db.transaction() as session:
            row = session.get(OutboxMessage, message.id)
            if row is None or row.status != SENDING:
                return
            row.last_error, row.claimed_until = error[:2000], None
            if row.attempts >= settings.outbox_max_attempts:
                row.status = DEAD
                report.dead += 1
            else:
                delay = min(
                    settings.outbox_backoff_seconds * 2 ** (row.attempts - 1),
                    settings.outbox_backoff_cap_seconds,
                )
                row.status, row.next_attempt_at = PENDING, now + timedelta(seconds=delay)
                report.retried += 1
        report.errors.append(f"{message.idempotency_key}: {error}")

    def retry(self, message_id: int) -> bool:
        """An admin sends a dead message again (attempts start over)."""
        with self.spoc.db.transaction() as session:
            row = session.get(OutboxMessage, message_id)
            if row is None or row.status != DEAD:
                return False
            row.status, row.attempts = PENDING, 0
            row.next_attempt_at, row.last_error = self.spoc.clock.now(), None
            return True

    # --- channels ---------------------------------------------------------------------

    def _send_email(self, message: Outgoing) -> None:
        settings = self.spoc.settings
        if not settings.smtp_host:
            if not settings.is_development:
                raise DeliveryError("no SMTP server is configured (set SPOC_SMTP_HOST)")
            import logging

            logging.getLogger(__name__).info("mail to %s: %s", message.recipient, message.subject)
            return
        email = EmailMessage()
        email["From"] = settings.mail_from
        email["To"] = message.recipient
        email["Subject"] = message.subject
        for name, value in message.headers.items():
            email[name] = value
        email.set_content(message.body_text)
        if message.body_html:
            email.add_alternative(message.body_html, subtype="html")
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username and settings.smtp_password:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            smtp.send_message(email)

    def _send_magic_link(self, message: Outgoing) -> None:
        """ "Email me a link to my requests", queued alike for every address: only here is it
        decided whether anyone has the address, and the link made (so no row holds it)."""
        issued = self.spoc.links.issue_magic_link(message.recipient)
        if issued is None:
            return  # nobody has that address: nothing to send, the row just counts as done
        contact, token = issued
        link = self.spoc.settings.base_url.rstrip("/") + MAGIC_LINK_PATH + token
        env = self.spoc.notifier.env
        context = {"name": contact.name, "link": link}
        host = urlsplit(self.spoc.settings.base_url).hostname or "spoc.invalid"
        self._send_email(
            replace(
                message,
                channel="email",
                body_text=env.get_template("mail/magic_link.txt").render(**context),
                body_html=env.get_template("mail/magic_link.html").render(**context),
                headers={"Message-ID": f"<{message.idempotency_key}@{host}>"},
            )
        )

    def _send_webhook(self, message: Outgoing) -> None:
        secret = self.spoc.settings.webhook_secret
        if secret is None:
            raise DeliveryError("SPOC_WEBHOOK_SECRET is not set")
        body = message.body_text.encode("utf-8")
        timestamp = str(int(self.spoc.clock.now().timestamp()))
        signature = sign(secret.get_secret_value(), timestamp, body)
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": message.idempotency_key,
            "X-Spoc-Signature": f"t={timestamp},v1={signature}",
        }
        url = urlsplit(message.recipient)
        connection_class = (
            http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_class(url.netloc, timeout=10)
        try:
            connection.request("POST", url.path or "/", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
        finally:
            connection.close()
        if not 200 <= response.status < 300:
            raise DeliveryError(f"webhook answered {response.status}")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over ``timestamp + "." + body``, hex: what a receiver recomputes."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def webhook_body(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"))
