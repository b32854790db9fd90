"""Receivers for the IMAP tests: they stand in for the mail processing, which files each
message once (by Message-ID and digest) and commits before it returns."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from email import message_from_bytes
from pathlib import Path

from spoc.core.kernel.mail import Receipt


def message_key(raw: bytes) -> str:
    message_id = message_from_bytes(raw).get("Message-ID", "")
    return f"{message_id}:{hashlib.sha256(raw).hexdigest()}"


class RecordingReceiver:
    """Files in a SQLite table (committed before it answers); says duplicate the second time.
    ``refuse`` lists subjects it refuses for good; ``fail`` makes every call raise."""

    def __init__(self, path: Path, *, refuse: Sequence[str] = (), fail: bool = False) -> None:
        self.path = path
        self.refuse = set(refuse)
        self.fail = fail
        self.calls: list[tuple[str, tuple[str, ...], str]] = []
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE IF NOT EXISTS filed (key TEXT PRIMARY KEY, subject TEXT)")

    def receive(self, raw: bytes, *, envelope_to: Sequence[str], source: str) -> Receipt:
        subject = str(message_from_bytes(raw).get("Subject", ""))
        self.calls.append((subject, tuple(envelope_to), source))
        if self.fail:
            raise ConnectionError("database is away")
        if subject in self.refuse:
            return Receipt(accepted=False, reason="not a mail we take")
        with sqlite3.connect(self.path) as db:
            added = db.execute(
                "INSERT OR IGNORE INTO filed VALUES (?, ?)", (message_key(raw), subject)
            ).rowcount
        return Receipt(accepted=bool(added), duplicate=not added)

    def filed(self) -> list[str]:
        with sqlite3.connect(self.path) as db:
            return [row[0] for row in db.execute("SELECT subject FROM filed ORDER BY rowid")]


def mail(subject: str, number: int = 1) -> bytes:
    return (
        f"From: Ann <ann@example.org>\r\nTo: support@example.org\r\nSubject: {subject}\r\n"
        f"Message-ID: <{number}.{subject.replace(' ', '-')}@example.org>\r\n\r\n"
        f"Mail number {number}.\r\n"
    ).encode()
