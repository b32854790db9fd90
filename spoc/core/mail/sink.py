"""The demo's mail sink: a real SMTP server in the process that keeps every mail SPOC sends in
a Maildir (``SPOC_DEMO_MAILBOX``), so a newcomer can read them on the console and follow
their links. Never used outside the demo: it delivers nothing anywhere."""

from __future__ import annotations

import mailbox
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class MaildirSink:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        mailbox.Maildir(folder, create=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        mailbox.Maildir(self.folder, create=True).add(raw)
        return "250 2.0.0 Kept in the demo mailbox"


def mail_sink(folder: Path, port: int, host: str = "127.0.0.1") -> Controller:
    """The sink on ``host:port`` (``.start()`` / ``.stop()``)."""
    return Controller(MaildirSink(folder), hostname=host, port=port)
