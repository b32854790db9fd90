"""``spoc mail fetch``: read IMAP mailboxes and hand each message to the mail receiver.

A message leaves the mailbox's folder only after the receiver has returned, that is after its
transaction committed: to ``processed_folder`` when it was filed (now or before), to
``failed_folder`` when the receiver refused it for good. When the receiver raises (the
database is away), the message stays where it is and the next pass offers it again. A process
killed in the middle of a batch therefore loses nothing: what it had not moved is fetched again,
and the receiver knows what it has already filed (Message-ID and digest).
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from imapclient import IMAPClient

from spoc.core.kernel.mail import MailReceiver, Receipt
from spoc.core.platform.mailboxes import ImapMailbox

log = logging.getLogger(__name__)

# RFC 2177: a server may end an IDLE after 30 minutes; clients should re-issue it before.
IDLE_RENEWAL = timedelta(minutes=25)
# How often a long-running fetch looks at a server without IDLE, and retries after an error.
POLL_INTERVAL = timedelta(minutes=1)
# How long one wait on the IDLE socket lasts before looking whether to stop.
STOP_CHECK_SECONDS = 5.0
DELETED = rb"\Deleted"
BODY = b"BODY[]"


@dataclass
class FetchReport:
    """What one pass over one mailbox did."""

    mailbox: str
    received: int = 0
    duplicates: int = 0
    refused: int = 0
    kept: int = 0
    more: bool = False

    @property
    def hurry(self) -> bool:
        """Take the next batch without waiting: more is there, and the receiver is working
        (while it fails, going on at once would only fail faster)."""
        return self.more and not self.kept

    def __str__(self) -> str:
        text = (
            f"mailbox {self.mailbox}: {self.received} received, {self.duplicates} duplicate, "
            f"{self.refused} refused, {self.kept} kept for the next pass"
        )
        return text + (" (more waiting)" if self.more else "")


def connect(mailbox: ImapMailbox) -> IMAPClient:
    """A signed-in connection: implicit TLS, STARTTLS before sign-in, or plain (loopback only,
    which the settings enforce). Certificates are verified, against ``ca_file`` when set."""
    context = ssl.create_default_context(cafile=str(mailbox.ca_file) if mailbox.ca_file else None)
    port = mailbox.server_port
    timeout = mailbox.timeout_seconds
    if mailbox.security == "tls":
        client = IMAPClient(mailbox.host, port, ssl=True, ssl_context=context, timeout=timeout)
    else:
        client = IMAPClient(mailbox.host, port, ssl=False, timeout=timeout)
    try:
        if mailbox.security == "starttls":
            client.starttls(context)
        client.login(mailbox.username, mailbox.secret())
    except BaseException:
        # What went wrong is the error to see, not a failure to close what it broke.
        with contextlib.suppress(OSError, IMAPClient.Error):
            client.shutdown()
        raise
    return client


def disconnect(client: IMAPClient) -> None:
    try:
        client.logout()
    except (IMAPClient.Error, OSError):
        with contextlib.suppress(OSError, IMAPClient.Error):
            client.shutdown()


class MailboxReader:
    """Reads one mailbox into ``receiver``: :meth:`fetch_once` for a pass (cron, ``spoc
    worker``), :meth:`run` to stay connected and wait with IDLE."""

    def __init__(self, mailbox: ImapMailbox, receiver: MailReceiver, *, batch: int = 50) -> None:
        self.mailbox = mailbox
        self.receiver = receiver
        self.batch = batch
        # UIDs whose receipt raised in this process: tried after the others, so a message
        # that keeps failing does not hold back the batches behind it.
        self._kept: set[tuple[int, int]] = set()
        self._validity = 0

    def fetch_once(self) -> FetchReport:
        """Connect, take one batch, disconnect."""
        client = connect(self.mailbox)
        try:
            self.open(client)
            return self.take(client)
        finally:
            disconnect(client)

    def open(self, client: IMAPClient) -> None:
        """Make the processed and failed folders if missing; select the folder read."""
        for folder in (self.mailbox.processed_folder, self.mailbox.failed_folder):
            ensure_folder(client, folder)
        selected = client.select_folder(self.mailbox.folder)
        # UIDs name messages only within one UIDVALIDITY (RFC 3501 2.3.1.1).
        self._validity = int(selected.get(b"UIDVALIDITY", 0))

    def take(self, client: IMAPClient) -> FetchReport:
        """One batch from the selected folder, one message at a time."""
        report = FetchReport(self.mailbox.name)
        validity = self._validity
        criteria = ["UNSEEN"] if self.mailbox.search == "unseen" else ["ALL"]
        waiting = sorted(
            client.search(criteria), key=lambda uid: ((validity, uid) in self._kept, uid)
        )
        report.more = len(waiting) > self.batch
        for uid in waiting[: self.batch]:
            # PEEK: fetching must not mark the message read (``search: unseen`` would skip a
            # message whose pass was interrupted).
            raw = client.fetch([uid], ["BODY.PEEK[]"]).get(uid, {}).get(BODY)
            if raw is None:
                continue  # another worker moved it meanwhile
            try:
                receipt = self.receiver.receive(
                    raw, envelope_to=[str(self.mailbox.address)], source=self.mailbox.source
                )
            except Exception:
                log.exception(
                    "mailbox %s: message uid %s was not received; it stays for the next pass",
                    self.mailbox.name,
                    uid,
                )
                self._kept.add((validity, uid))
                report.kept += 1
                continue
            self._kept.discard((validity, uid))
            self._file(client, uid, receipt, report)
        return report

    def _file(self, client: IMAPClient, uid: int, receipt: Receipt, report: FetchReport) -> None:
        if receipt.done:
            move(client, uid, self.mailbox.processed_folder)
            if receipt.duplicate:
                report.duplicates += 1
            else:
                report.received += 1
            return
        log.warning(
            "mailbox %s: message uid %s refused (%s); moved to %s",
            self.mailbox.name,
            uid,
            receipt.reason or "no reason given",
            self.mailbox.failed_folder,
        )
        move(client, uid, self.mailbox.failed_folder)
        report.refused += 1

    def wait_for_mail(
        self, client: IMAPClient, timeout: float, stop: threading.Event | None = None
    ) -> bool:
        """Wait (IDLE) until the server reports new mail, ``timeout`` seconds pass or ``stop``
        is set; True when new mail came. Without IDLE on the server, waits ``timeout`` and
        answers False: the caller polls."""
        stop = stop or threading.Event()
        if not client.has_capability("IDLE"):
            stop.wait(timeout)
            return False
        deadline = time.monotonic() + timeout
        client.idle()
        try:
            while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
                for response in client.idle_check(timeout=min(left, STOP_CHECK_SECONDS)):
                    if len(response) > 1 and response[1] in (b"EXISTS", b"RECENT"):
                        return True
            return False
        finally:
            client.idle_done()

    def run(self, stop: threading.Event) -> None:
        """Until ``stop`` is set: take what is there, then IDLE (renewed every 25 minutes) or
        poll each minute; reconnect after an error, a minute later."""
        while not stop.is_set():
            try:
                client = connect(self.mailbox)
                try:
                    self.open(client)
                    while not stop.is_set():
                        report = self.take(client)
                        if report.received or report.duplicates or report.refused or report.kept:
                            log.info("%s", report)
                        if not report.hurry:
                            wait = IDLE_RENEWAL if client.has_capability("IDLE") else POLL_INTERVAL
                            self.wait_for_mail(client, wait.total_seconds(), stop)
                finally:
                    disconnect(client)
            except Exception:
                log.exception(
                    "mailbox %s: fetch failed; retrying in %s",
                    self.mailbox.name,
                    POLL_INTERVAL,
                )
                stop.wait(POLL_INTERVAL.total_seconds())


def ensure_folder(client: IMAPClient, folder: str) -> None:
    if client.folder_exists(folder):
        return
    try:
        client.create_folder(folder)
    except IMAPClient.Error:
        if not client.folder_exists(folder):  # another worker may have made it just now
            raise


def move(client: IMAPClient, uid: int, folder: str) -> None:
    """MOVE (RFC 6851), or COPY, flag \\Deleted and expunge where the server lacks it; the
    expunge is by UID where the server has UIDPLUS, else a plain EXPUNGE of the folder."""
    if client.has_capability("MOVE"):
        client.move([uid], folder)
        return
    client.copy([uid], folder)
    client.add_flags([uid], [DELETED], silent=True)
    if client.has_capability("UIDPLUS"):
        client.uid_expunge([uid])
    else:
        client.expunge()


def fetch_pass(
    mailboxes: Sequence[ImapMailbox], receiver: MailReceiver, *, batch: int = 50
) -> Callable[[], bool]:
    """One pass over every mailbox, as ``spoc worker`` runs it each round: a mailbox that fails
    is logged and tried again next pass, the others go on. Answers whether more is waiting."""
    readers = [MailboxReader(mailbox, receiver, batch=batch) for mailbox in mailboxes]

    def run_pass() -> bool:
        more = False
        for reader in readers:
            try:
                report = reader.fetch_once()
            except Exception:
                log.exception(
                    "mailbox %s: fetch failed; the next pass retries", reader.mailbox.name
                )
                continue
            more = more or report.hurry
        return more

    return run_pass
