"""The outbox: notifications written with their cause, delivered later, never lost.

Writers call :func:`enqueue` inside their own transaction; bodies are sealed at rest (they carry
working tracking and sign-in links; see :class:`~spoc.core.storage.db.SealedText`).
:class:`Deliverer` claims one due row at a time (``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
under SQLite's write lock), leases it for ``SPOC_OUTBOX_LEASE_SECONDS``, sends it through its
channel and marks it sent; a failure is retried with exponential backoff and, after
``SPOC_OUTBOX_MAX_ATTEMPTS``, dead-lettered for an admin to retry.

The guarantee is at least once, with the idempotency key (the mail's Message-ID, the webhook's
Idempotency-Key) for receivers to drop a duplicate. A worker that dies holds only the one
message it was sending: every other message is still pending and goes out with the next worker
at once; the one in flight is sent again, with the same key, when its lease runs out. So a
crash duplicates at most one message per dead process, and delays only that one.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import smtplib
import ssl
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment
from sqlalchemy import Text, or_, select, type_coerce, update
from sqlalchemy.orm import Session

from spoc.core.domain.models import Contact, OutboxMessage
from spoc.core.kernel.clock import Clock
from spoc.core.platform.settings import Settings
from spoc.core.storage.bulk import insert_rows
from spoc.core.storage.db import UNREADABLE, Database
from spoc.core.storage.keys import SEALED

PENDING, SENDING, SENT, DEAD = "pending", "sending", "sent", "dead"
MAGIC_LINK_CHANNEL = "magic_link"
MAGIC_LINK_PATH = "/my/"  # the portal's sign-in route, for links made outside a web request
SEAL_LABEL = "spoc/outbox/v1"  # the key that seals bodies at rest, derived from SPOC_SECRET_KEY
log = logging.getLogger(__name__)


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


def outbox_row(
    *,
    channel: str,
    recipient: str,
    body_text: str,
    now: datetime,
    subject: str = "",
    body_html: str | None = None,
    headers: Mapping[str, Any] | None = None,
    request_id: int | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    """The columns of one pending message, for :func:`enqueue_rows` (a pass queuing
    thousands of mails at once writes them in one statement)."""
    return {
        "request_id": request_id,
        "channel": channel,
        "recipient": recipient,
        "subject": subject[:300],
        "body_text": body_text,
        "body_html": body_html,
        "headers": dict(headers or {}),
        "idempotency_key": key or f"ntf-{uuid.uuid4().hex}",
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def enqueue_rows(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Add the messages :func:`outbox_row` made to the caller's transaction, in one write
    (``COPY`` on PostgreSQL); bodies are sealed as by :func:`enqueue`."""
    insert_rows(session, OutboxMessage.__table__, rows)  # type: ignore[arg-type]


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
    row = outbox_row(
        channel=channel,
        recipient=recipient,
        body_text=body_text,
        now=now,
        subject=subject,
        body_html=body_html,
        headers=headers,
        key=key,
    )
    del row["request_id"]
    message = OutboxMessage(**row)
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
    """Delivers the outbox: claims due messages and sends them through their channel."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Clock,
        issue_magic_link: Callable[[str], tuple[Contact, str] | None],
        mail_templates: Environment,
        plugin_channels: Sequence[tuple[str, Sequence[NotificationChannel]]],
        mail_domain: str = "spoc.invalid",
    ) -> None:
        self.mail_domain = mail_domain  # of the Message-IDs of mails made at delivery
        self.db = db
        self.settings = settings
        self.clock = clock
        self.issue_magic_link = issue_magic_link  # made at delivery, so no row holds it
        self.mail_templates = mail_templates
        self._local = threading.local()
        self.channels: dict[str, Callable[[Outgoing], None]] = {
            "email": self._send_email,
            "webhook": self._send_webhook,
            MAGIC_LINK_CHANNEL: self._send_magic_link,
        }
        for plugin, channels in plugin_channels:
            for channel in channels:
                if channel.name in self.channels:
                    raise ValueError(f"plugin {plugin!r}: channel {channel.name!r} exists already")
                self.channels[channel.name] = channel.send

    # --- claiming and delivering ----------------------------------------------------------

    def claim_one(self, report: DeliveryReport | None = None) -> Outgoing | None:
        """Lease the next due message to this worker, or ``None`` when nothing is due.

        One at a time, so a worker that dies holds one message, not a batch: the rest stay
        claimable by any other worker at once.
        """
        with self.db.transaction() as session:
            return self._claim(session, report or DeliveryReport(), leases_first=True)

    def _claim(
        self, session: Session, report: DeliveryReport, *, leases_first: bool
    ) -> Outgoing | None:
        now = self.clock.now()
        lease = timedelta(seconds=self.settings.outbox_lease_seconds)
        # Expired leases (a dead worker's message) are rare: looked for at the start of a
        # pass, and whenever nothing is pending.
        expired = (OutboxMessage.status == SENDING, OutboxMessage.claimed_until < now)
        pending = (OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now)
        order = (expired, pending) if leases_first else (pending, expired)
        while True:
            row = self._take(session, order[0], now + lease) or self._take(
                session, order[1], now + lease
            )
            if row is None:
                return None
            if UNREADABLE not in (row.body_text, row.body_html):
                return Outgoing(
                    row.id,
                    row.channel,
                    row.recipient,
                    row.subject,
                    row.body_text,
                    row.body_html,
                    dict(row.headers),
                    row.idempotency_key,
                )
            # Its body opens with no key here (SPOC_SECRET_KEY changed, or the row was
            # altered): it can never be sent. Dead-letter it and take the next one.
            error = "its body cannot be opened: sealed with another SPOC_SECRET_KEY"
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(status=DEAD, claimed_until=None, last_error=error)
            )
            report.dead += 1
            report.errors.append(f"{row.idempotency_key}: {error}")

    @staticmethod
    def _take(session: Session, due: tuple[Any, ...], until: datetime) -> OutboxMessage | None:
        """Lease the oldest row matching ``due`` in one statement (UPDATE … WHERE id = the
        first such row, skipping rows other workers hold, RETURNING it). Its subquery is a
        plain scan of ix_outbox_due in index order: it stops at the first live row, and lets
        PostgreSQL mark the dead entries every status change leaves behind, so a claim stays
        cheap however many messages went before."""
        first = (
            select(OutboxMessage.id)
            .where(*due)
            .order_by(OutboxMessage.status, OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        return session.scalars(
            update(OutboxMessage)
            .where(OutboxMessage.id == first)
            .values(status=SENDING, claimed_until=until, attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage),
            execution_options={"synchronize_session": False},
        ).one_or_none()

    def deliver_due(self, limit: int = 100) -> DeliveryReport:
        """Send up to ``limit`` due messages, each claimed just before it is sent.

        Marking one message done and claiming the next share a transaction: one commit per
        message. A process that dies between the send and that commit leaves exactly the
        message it sent leased, to be sent again (same key) when the lease runs out.
        """
        report = DeliveryReport()
        try:
            message = self.claim_one(report)
            while message is not None:
                report.claimed += 1
                error = self._send(message)
                with self.db.transaction() as session:
                    self._record(session, message, error, report)
                    message = (
                        self._claim(session, report, leases_first=False)
                        if report.claimed < limit
                        else None
                    )
        finally:
            self._close_smtp()
        return report

    def _send(self, message: Outgoing) -> str | None:
        """Send through the message's channel; the error, or ``None`` when it went out."""
        send = self.channels.get(message.channel)
        try:
            if send is None:
                raise DeliveryError(f"no channel {message.channel!r} is enabled")
            send(message)
        except Exception as exc:  # any failure of a channel means: try again later
            self._close_smtp()
            return f"{type(exc).__name__}: {exc}"
        return None

    def _record(
        self, session: Session, message: Outgoing, error: str | None, report: DeliveryReport
    ) -> None:
        now = self.clock.now()
        if error is None:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message.id, OutboxMessage.status == SENDING)
                .values(status=SENT, sent_at=now, claimed_until=None, last_error=None)
            )
            report.sent += 1
            return
        report.errors.append(f"{message.idempotency_key}: {error}")
        row = session.get(OutboxMessage, message.id, with_for_update=True)
        if row is None or row.status != SENDING:
            return
        settings = self.settings
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

    def seal_stored_bodies(self, batch: int = 500) -> int:
        """Seal bodies stored in clear before sealing existed (``spoc db upgrade`` runs this);
        returns how many rows it sealed. Idempotent: sealed rows are left alone."""
        raw_text = type_coerce(OutboxMessage.body_text, Text)
        raw_html = type_coerce(OutboxMessage.body_html, Text)
        sealed, after = 0, 0
        while True:
            with self.db.transaction() as session:
                rows = session.execute(
                    select(OutboxMessage.id, OutboxMessage.body_text, OutboxMessage.body_html)
                    .where(
                        OutboxMessage.id > after,
                        or_(
                            raw_text.not_like(SEALED + "%"),
                            raw_html.is_not(None) & raw_html.not_like(SEALED + "%"),
                        ),
                    )
                    .order_by(OutboxMessage.id)
                    .limit(batch)
                ).all()
                if rows:
                    session.execute(
                        update(OutboxMessage),
                        [{"id": i, "body_text": text, "body_html": html} for i, text, html in rows],
                    )
            sealed += len(rows)
            if len(rows) < batch:
                return sealed
            after = rows[-1].id

    def retry(self, message_id: int) -> bool:
        """An admin sends a dead message again (attempts start over)."""
        with self.db.transaction() as session:
            row = session.get(OutboxMessage, message_id)
            if row is None or row.status != DEAD:
                return False
            row.status, row.attempts = PENDING, 0
            row.next_attempt_at, row.last_error = self.clock.now(), None
            return True

    # --- channels ---------------------------------------------------------------------

    def _smtp(self) -> smtplib.SMTP:
        """This thread's SMTP session for the current delivery pass (one per pass, not one
        per mail); closed at the end of the pass and after any failure."""
        smtp: smtplib.SMTP | None = getattr(self._local, "smtp", None)
        if smtp is not None:
            return smtp
        settings = self.settings
        assert settings.smtp_host is not None
        mode = settings.smtp_mode
        # Certificates are always checked: against SPOC_SMTP_CA_FILE, else the system's CAs.
        ca_file = str(settings.smtp_ca_file) if settings.smtp_ca_file else None
        tls = ssl.create_default_context(cafile=ca_file)
        smtp = (
            smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=10, context=tls)
            if mode == "tls"
            else smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10)
        )
        try:
            if mode == "starttls":
                smtp.starttls(context=tls)
            if settings.smtp_username and settings.smtp_password:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
        except BaseException:
            smtp.close()
            raise
        self._local.smtp = smtp
        return smtp

    def _close_smtp(self) -> None:
        smtp: smtplib.SMTP | None = getattr(self._local, "smtp", None)
        self._local.smtp = None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()

    def _send_email(self, message: Outgoing) -> None:
        settings = self.settings
        if not settings.smtp_host:
            if not settings.is_development:
                raise DeliveryError("no SMTP server is configured (set SPOC_SMTP_HOST)")
            # Recipient and subject only: bodies hold working links, and logs are not sealed.
            log.info("mail to %s: %s", message.recipient, message.subject)
            return
        email = EmailMessage()
        headers = dict(message.headers)
        email["From"] = headers.pop("From", None) or settings.mail_from
        email["To"] = message.recipient
        email["Subject"] = message.subject
        # The time it is sent, as mail clients sort by it (RFC 5322 requires it).
        email["Date"] = formatdate(self.clock.now().timestamp(), usegmt=True)
        for name, value in headers.items():
            email[name] = value
        email.set_content(message.body_text)
        if message.body_html:
            email.add_alternative(message.body_html, subtype="html")
        self._smtp().send_message(email)

    def _send_magic_link(self, message: Outgoing) -> None:
        """ "Email me a link to my requests", queued alike for every address: only here is it
        decided whether anyone has the address, and the link made (so no row holds it)."""
        issued = self.issue_magic_link(message.recipient)
        if issued is None:
            return  # nobody has that address: nothing to send, the row just counts as done
        contact, token = issued
        link = self.settings.base_url.rstrip("/") + MAGIC_LINK_PATH + token
        env = self.mail_templates
        context = {"name": contact.name, "link": link}
        self._send_email(
            replace(
                message,
                channel="email",
                body_text=env.get_template("mail/magic_link.txt").render(**context),
                body_html=env.get_template("mail/magic_link.html").render(**context),
                headers={
                    "Message-ID": f"<{message.idempotency_key}@{self.mail_domain}>",
                    "Auto-Submitted": "auto-generated",
                },
            )
        )

    def _send_webhook(self, message: Outgoing) -> None:
        secret = self.settings.webhook_secret
        if secret is None:
            raise DeliveryError("SPOC_WEBHOOK_SECRET is not set")
        body = message.body_text.encode("utf-8")
        timestamp = str(int(self.clock.now().timestamp()))
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
