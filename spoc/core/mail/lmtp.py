"""``spoc mail serve``: an LMTP server (or SMTP, on request) that the organisation's mail server
delivers to, built on aiosmtpd.

The answer to DATA waits for :meth:`MailService.receive` to commit: ``250`` means the mail is
stored (filed, threaded, held or recorded), so the delivering server may forget it; a database
failure answers ``451`` and the delivering server tries again later (a retry of a mail that
was stored is recognised and answered ``250`` without acting twice); a mail over
``SPOC_MAIL_MAX_BYTES`` is answered ``552`` with the reason, which the delivering server puts
in its bounce. LMTP answers once per recipient, as RFC 2033 asks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from functools import partial
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from spoc.core.kernel.mail import MailReceiver, Receipt

log = logging.getLogger(__name__)
TEMPORARY = "451 4.3.0 Temporary failure, please try again later"


class DeliveryHandler:
    """aiosmtpd's handler: each mail to ``receiver``, off the event loop (its database work
    blocks)."""

    def __init__(self, receiver: MailReceiver, source: str) -> None:
        self.receiver = receiver
        self.source = source

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        recipients: Sequence[str] = [str(r) for r in envelope.rcpt_tos]
        receive = partial(
            self.receiver.receive,
            raw,
            envelope_to=recipients,
            source=self.source,
            bounce=False,  # our refusal is the delivering server's bounce
        )
        try:
            receipt: Receipt = await asyncio.get_running_loop().run_in_executor(None, receive)
        except Exception:
            log.exception("mail from %s not stored; the sender's server will retry", session.peer)
            status = TEMPORARY
        else:
            status = (
                "250 2.0.0 OK" if receipt.accepted else f"552 5.3.4 {_one_line(receipt.reason)}"
            )
        if isinstance(server, LMTP):
            return "\r\n".join([status] * max(1, len(recipients)))
        return status


def _one_line(text: str) -> str:
    """A reply line: one line of ASCII, as SMTP replies must be."""
    plain = text.replace("\u2014", "-").encode("ascii", "replace").decode("ascii")
    return " ".join(plain.split())[:400] or "Message refused"


def mail_server(
    receiver: MailReceiver,
    *,
    host: str = "127.0.0.1",
    port: int = 8024,
    smtp: bool = False,
    max_bytes: int,
) -> Controller:
    """A started-on-demand server (``.start()`` / ``.stop()``) on ``host:port``.

    aiosmtpd refuses mails over twice ``max_bytes`` while they arrive (memory stays bounded);
    between the two, SPOC reads the headers and answers ``552`` with a clear reason."""
    handler = DeliveryHandler(receiver, f"{'smtp' if smtp else 'lmtp'}:{port}")
    server_class: Any = SMTP if smtp else LMTP
    kwargs: dict[str, Any] = {"data_size_limit": 2 * max_bytes, "decode_data": False}

    class _Controller(Controller):
        def factory(self) -> SMTP:
            return server_class(self.handler, **kwargs)  # type: ignore[no-any-return]

    return _Controller(handler, hostname=host, port=port)
