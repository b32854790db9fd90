"""The contract between the ways mail comes in (IMAP fetch, the LMTP server) and the code that
turns a mail into a request or a reply: a receiver takes the raw message and says what became
of it. Both sides import it from here, so neither depends on the other."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Receipt:
    """What the receiver did with one message, once its transaction has committed.

    * ``accepted``: the message is filed (a new request, a reply, a bounce recorded...).
    * ``duplicate``: the message had been received before (same Message-ID and digest) and
      nothing was written this time; the channel treats it as done.
    * neither: refused for good (too large, not mail at all); ``reason`` says why, and the
      channel must not offer it again (IMAP moves it to the failed folder, LMTP answers 5xx).

    A receiver that cannot decide now (the database is away) raises instead: the channel
    keeps the message and offers it again later.
    """

    accepted: bool
    duplicate: bool = False
    reason: str = ""

    @property
    def done(self) -> bool:
        """The message needs no further delivery: filed now, or filed before."""
        return self.accepted or self.duplicate


class MailReceiver(Protocol):
    """Takes one raw RFC 5322 message. ``envelope_to`` are the addresses it was delivered to
    (RCPT TO for LMTP; the mailbox's configured address for IMAP); ``source`` names the
    channel (``"lmtp"``, ``"imap:<mailbox name>"``) for the timeline and the logs."""

    def receive(self, raw: bytes, *, envelope_to: Sequence[str], source: str) -> Receipt: ...
