"""What the mail channel's parts share: a receiver's receipt, and what plugins see of a mail.

The servers that take mail in (``spoc mail serve`` over LMTP or SMTP, ``spoc mail fetch`` over
IMAP) hand each raw message to a :class:`MailReceiver` and act on its :class:`Receipt`: the
LMTP server answers with it, the IMAP fetcher moves the message to the processed folder (or to
the failed one) only after the receiver returned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Receipt:
    """What became of one inbound mail.

    ``accepted``: it is stored (filed, threaded, held, or recorded and ignored), so the sender's
    server may forget it. ``duplicate``: it had been received before (same Message-ID, or the
    same bytes when it has none) and nothing was done twice. Not accepted: refused for good
    (too large, unreadable); ``reason`` says why in words the sender's server passes on.
    ``outcome`` names what happened (:class:`MailOutcome`)."""

    accepted: bool
    duplicate: bool = False
    reason: str = ""
    outcome: str = ""
    request_id: int | None = None

    @property
    def done(self) -> bool:
        """The message needs no further delivery: taken now, or taken before. Neither means
        refused for good: IMAP moves it to the failed folder, LMTP answers 5xx."""
        return self.accepted or self.duplicate


class MailReceiver(Protocol):
    """Takes raw mails in (``spoc.mail``). ``bounce=False`` when the caller refuses a mail to
    its sender itself (an LMTP answer becomes the delivering server's bounce)."""

    def receive(
        self, raw: bytes, *, envelope_to: Sequence[str], source: str, bounce: bool = True
    ) -> Receipt: ...


class MailOutcome(StrEnum):
    """What SPOC did with an inbound mail (stored on its row in ``inbound_mails``)."""

    FILED = "filed"  # a new request
    THREADED = "threaded"  # a message on the request it answers
    HELD = "held"  # for the owner to accept: a sender who is not the requester
    IGNORED = "ignored"  # automatic mail (auto-replies, lists, bulk), stored and not answered
    BOUNCE = "bounce"  # a delivery status notification: the address is marked as bouncing
    LIMITED = "limited"  # over the sender's hourly limit: stored, not filed or answered
    CLAIMED = "claimed"  # a plugin took it (a carrier's notice became a tracking event)
    REFUSED = "refused"  # not taken: too large, or a plugin refused the mail channel


class MailAction(StrEnum):
    CLAIM = "claim"
    FILE_AS = "file_as"
    REFUSE = "refuse"


@dataclass(frozen=True)
class InboundMail:
    """A received mail as plugins see it in ``spoc_inbound_mail``.

    ``request_id`` and ``request_type`` name the request it answers, when threading found one;
    ``request_type`` is otherwise the type its receiving address files."""

    message_id: str
    sender: str
    sender_name: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    headers: Mapping[str, str]
    attachment_names: tuple[str, ...] = ()
    request_id: int | None = None
    request_type: str | None = None


@dataclass(frozen=True)
class MailVerdict:
    """A plugin's answer to ``spoc_inbound_mail``.

    * ``MailVerdict.claim(apply)``: the plugin handles the mail; ``apply(session)`` runs in the
      transaction that records the mail, so its effect happens exactly once.
    * ``MailVerdict.file_as("logistics.claim")``: file a new request of this type.
    * ``MailVerdict.refuse(reason)``: the mail's content is not stored; the sender is answered
      ``reason`` (no detail of the request), and the owner is told that a mail came.
    """

    action: MailAction
    type_key: str | None = None
    reason: str = ""
    apply: Callable[[Session], None] | None = field(default=None, compare=False)
    data: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def claim(cls, apply: Callable[[Session], None], reason: str = "") -> MailVerdict:
        return cls(MailAction.CLAIM, apply=apply, reason=reason)

    @classmethod
    def file_as(cls, type_key: str) -> MailVerdict:
        return cls(MailAction.FILE_AS, type_key=type_key)

    @classmethod
    def refuse(cls, reason: str) -> MailVerdict:
        return cls(MailAction.REFUSE, reason=reason)
