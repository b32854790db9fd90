"""A fetch pass in its own process, for the crash test: after filing ``stall_after``
messages (committed, not yet moved), the receiver says so on stdout and waits on stdin, which
the test never writes: it kills the process there.

Usage: python -m tests.core.mail.stalling_fetch MAILBOX_JSON RECORDS_PATH STALL_AFTER
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from spoc.core.kernel.mail import Receipt
from spoc.core.mail.imap import MailboxReader
from spoc.core.platform.mailboxes import ImapMailbox
from tests.core.mail.receivers import RecordingReceiver


class StallingReceiver(RecordingReceiver):
    def __init__(self, path: Path, stall_after: int) -> None:
        super().__init__(path)
        self.stall_after = stall_after

    def receive(self, raw: bytes, *, envelope_to: Sequence[str], source: str) -> Receipt:
        receipt = super().receive(raw, envelope_to=envelope_to, source=source)
        print(f"filed {self.calls[-1][0]}", flush=True)
        if len(self.calls) >= self.stall_after:
            sys.stdin.read()
        return receipt


def main() -> None:
    mailbox = ImapMailbox.model_validate_json(sys.argv[1])
    receiver = StallingReceiver(Path(sys.argv[2]), int(sys.argv[3]))
    MailboxReader(mailbox, receiver).fetch_once()


if __name__ == "__main__":
    main()
