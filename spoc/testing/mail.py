"""Captured outgoing mail: a real SMTP server in the test process."""

from __future__ import annotations

import email.policy
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import EmailMessage


class Mailbox:
    """What the SMTP server received, oldest first; ``port`` is where it listens."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        raw = envelope.content  # type: ignore[attr-defined]
        self.messages.append(message_from_bytes(raw, policy=email.policy.default))
        return "250 Message accepted for delivery"

    def link(self, index: int = -1) -> str:
        """The path of the first link in message ``index`` (default: the latest)."""
        body = self.messages[index].get_body(("plain",)).get_content()  # type: ignore[union-attr]
        found = re.search(r"http://\S+", body)
        assert found, "no link in the message"
        return found.group(0).removeprefix("http://127.0.0.1:5000")

    def to(self, address: str) -> list[EmailMessage]:
        """The messages sent to ``address``."""
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    """A TCP port of 127.0.0.1 nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """A real SMTP server on a free port of 127.0.0.1 for as long as the block runs."""
    # Imported here to keep start-up light: aiosmtpd is a test dependency (``spoc[testing]``)
    # that only a test wanting mail needs, so the kit loads where it is not installed.
    from aiosmtpd.controller import Controller

    mailbox = Mailbox(free_port())
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()
