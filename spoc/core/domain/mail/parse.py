"""Reading an inbound mail: who sent it, what it answers, what it says, whether it is automatic.

Pure functions over the raw bytes (the standard library's ``email`` package with the modern
policy). The reply's new text is cut from quoted history and signatures by mail-parser-reply;
the original is kept whole, sealed, on the mail's row. HTML is sanitised with nh3 and turned
into plain text when the mail has no plain part.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr
from typing import Any

from mailparser_reply import EmailReplyParser

# Languages of the quoted-history headers the reply parser recognises ("On … wrote:",
# "Am … schrieb …:", …): those the bundled plugins' requesters write in.
REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pl", "sv"]
MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
AUTOMATIC_SENDERS = re.compile(
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?|auto-?reply)([+@-]|$)", re.I
)
BLOCKS = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h[1-6]|/blockquote)\b[^>]*>", re.I)
SAFE_TAGS = {
    "a", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "hr", "i",
    "li", "ol", "p", "pre", "span", "strong", "table", "tbody", "td", "th", "thead", "tr",
    "u", "ul",
}  # fmt: skip
MAX_TEXT = 20_000  # what a message on the timeline holds (RequestService.post_message)


@dataclass(frozen=True)
class MailPart:
    """A file that came with the mail."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class AuthResults:
    """SPF, DKIM and DMARC results from the receiving server's Authentication-Results."""

    spf: str | None = None
    dkim: str | None = None
    dmarc: str | None = None

    @property
    def failed(self) -> bool:
        """DMARC failed, or (without DMARC) SPF and DKIM both failed: the From is not shown
        to be the sender's."""
        if self.dmarc is not None:
            return self.dmarc == "fail"
        return self.spf in ("fail", "softfail") and self.dkim == "fail"

    def as_dict(self) -> dict[str, str]:
        return {
            k: v for k, v in (("spf", self.spf), ("dkim", self.dkim), ("dmarc", self.dmarc)) if v
        }


@dataclass(frozen=True)
class Bounce:
    """A delivery status notification: mail to ``recipient`` failed."""

    recipient: str
    reason: str
    original_message_id: str | None


@dataclass(frozen=True)
class ParsedMail:
    message_id: str | None
    digest: str
    sender: str  # the From address, lower case ("" when there is none)
    sender_name: str
    recipients: tuple[str, ...]  # To and Cc, lower case
    cc: tuple[tuple[str, str], ...]  # Cc: (name, address lower case)
    subject: str
    in_reply_to: tuple[str, ...]  # In-Reply-To, then References, newest first
    text: str  # the whole plain text (from HTML when there is no plain part)
    reply: str  # the new text: quoted history and signature cut
    html: str | None  # sanitised
    attachments: tuple[MailPart, ...]
    automatic: str | None  # why it counts as automatic mail, or None
    bounce: Bounce | None
    auth: AuthResults
    headers: dict[str, str] = field(default_factory=dict)


def parse(raw: bytes, authserv_id: str | None = None) -> ParsedMail:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    name, sender = parseaddr(str(message.get("From", "")))
    text, html_body, attachments = _bodies(message)
    referenced = _ids(str(message.get("In-Reply-To", ""))) + list(
        reversed(_ids(str(message.get("References", ""))))
    )
    return ParsedMail(
        message_id=_first_id(str(message.get("Message-ID", ""))),
        digest=hashlib.sha256(raw).hexdigest(),
        sender=sender.strip().lower(),
        sender_name=name.strip()[:200],
        recipients=tuple(
            a.strip().lower()
            for _, a in getaddresses(
                [str(v) for v in message.get_all("To", [])]
                + [str(v) for v in message.get_all("Cc", [])]
            )
            if a
        ),
        cc=tuple(
            (n.strip()[:200], a.strip().lower())
            for n, a in getaddresses([str(v) for v in message.get_all("Cc", [])])
            if "@" in a
        )[:20],
        subject=" ".join(str(message.get("Subject", "")).split())[:300],
        in_reply_to=tuple(dict.fromkeys(referenced)),
        text=text,
        reply=cut_reply(text),
        html=html_body,
        attachments=tuple(attachments),
        automatic=automatic_reason(message, sender),
        bounce=_bounce(message),
        auth=_auth_results(message, authserv_id),
        headers={
            k: str(message.get(k, ""))[:500]
            for k in ("Message-ID", "From", "To", "Cc", "Subject", "Date", "Auto-Submitted")
            if message.get(k) is not None
        },
    )


def _ids(value: str) -> list[str]:
    return [m.group(1) for m in MESSAGE_ID.finditer(value)]


def _first_id(value: str) -> str | None:
    found = _ids(value)
    return found[0][:300] if found else None


def _bodies(message: EmailMessage) -> tuple[str, str | None, list[MailPart]]:
    plain, rich = message.get_body(("plain",)), message.get_body(("html",))
    html_text = _content(rich) if rich is not None else None
    # Imported here, as in html_to_text: the sanitiser loads at the first HTML mail, not at
    # start-up.
    import nh3

    sanitised = nh3.clean(html_text, tags=SAFE_TAGS) if html_text else None
    if plain is not None:
        text = _content(plain)
    elif html_text:
        text = html_to_text(html_text)
    else:
        text = ""
    parts: list[MailPart] = []
    for part in message.iter_attachments():
        if part.get_content_type() in ("message/delivery-status", "text/rfc822-headers"):
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):  # a forwarded message: kept as its own bytes
            inner = part.get_payload(0) if part.is_multipart() else None
            data = inner.as_bytes() if isinstance(inner, Message) else b""
        filename = part.get_filename() or f"attachment-{len(parts) + 1}"
        parts.append(MailPart(filename, part.get_content_type(), data))
    return text.replace("\r\n", "\n").strip(), sanitised, parts


def _content(part: Message) -> str:
    try:
        value: Any = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, UnicodeError, AttributeError):
        payload = part.get_payload(decode=True)
        value = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return value if isinstance(value, str) else ""


def html_to_text(markup: str) -> str:
    """The text of an HTML body: block ends become line breaks, every tag goes (nh3 with no
    tag allowed keeps the text and drops scripts and styles with their content)."""
    # Imported here: see _bodies.
    import nh3

    stripped = nh3.clean(BLOCKS.sub("\n", markup), tags=set())
    lines = (" ".join(line.split()) for line in html.unescape(stripped).splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def cut_reply(text: str) -> str:
    """The reply's new text, without the quoted history below it or the signature."""
    if not text.strip():
        return ""
    try:
        parsed = EmailReplyParser(languages=REPLY_LANGUAGES).read(text)
        reply = parsed.replies[0].body if parsed.replies else text
    except Exception:  # the parser's regular expressions must never lose a mail
        reply = text
    return (reply.strip() or text.strip())[:MAX_TEXT]


def automatic_reason(message: Message, sender: str) -> str | None:
    """Why this mail must never be answered (RFC 3834), or ``None`` for a person's mail."""
    auto = str(message.get("Auto-Submitted", "no")).split(";")[0].strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence in ("bulk", "list", "junk", "auto_reply"):
        return f"Precedence: {precedence}"
    for header in ("List-Id", "List-Unsubscribe", "X-Autoreply", "X-Autorespond"):
        if message.get(header) is not None:
            return f"{header} header"
    suppress = str(message.get("X-Auto-Response-Suppress", "")).lower()
    if "all" in suppress or "autoreply" in suppress:
        return "X-Auto-Response-Suppress"
    if not sender or AUTOMATIC_SENDERS.match(sender):
        return f"sent by {sender or 'nobody'}"
    if message.get_content_type() == "multipart/report":
        return "a delivery report"
    return None


def _bounce(message: EmailMessage) -> Bounce | None:
    """A DSN (RFC 3464): a multipart/report of report-type delivery-status whose action is
    failed. Delayed and delivered notices are not bounces."""
    if message.get_content_type() != "multipart/report":
        return None
    if message.get_param("report-type", "").lower() != "delivery-status":  # type: ignore[union-attr]
        return None
    recipient = reason = action = ""
    original: str | None = None
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            for block in part.get_payload():
                if isinstance(block, Message):
                    action = action or str(block.get("Action", "")).strip().lower()
                    final = str(block.get("Final-Recipient", block.get("Original-Recipient", "")))
                    recipient = recipient or final.partition(";")[2].strip().lower()
                    reason = reason or " ".join(
                        str(block.get("Diagnostic-Code", block.get("Status", ""))).split()
                    )
        elif kind in ("message/rfc822", "text/rfc822-headers") and original is None:
            original = _original_id(part)
    if action != "failed" or not recipient:
        return None
    return Bounce(recipient, reason[:500] or "delivery failed", original)


def _original_id(part: Message) -> str | None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        return _first_id(str(payload[0].get("Message-ID", "")))
    if isinstance(payload, str):
        found = re.search(r"^Message-ID:\s*<([^<>\s]+)>", payload, re.I | re.M)
        return found.group(1) if found else None
    return None


def _auth_results(message: Message, authserv_id: str | None) -> AuthResults:
    """The results of the topmost Authentication-Results header (the one our own server
    added), or of the first whose authserv-id is ``authserv_id`` when that is set: a header
    further down may have been written by the sender and proves nothing."""
    for header in message.get_all("Authentication-Results", []):
        value = str(header)
        server, _, rest = value.partition(";")
        if authserv_id is not None and server.strip().split()[0:1] != [authserv_id]:
            continue
        found = {m.group(1).lower(): m.group(2).lower() for m in _RESULT.finditer(rest)}
        return AuthResults(found.get("spf"), found.get("dkim"), found.get("dmarc"))
    return AuthResults()


_RESULT = re.compile(r"\b(spf|dkim|dmarc)\s*=\s*([a-z]+)", re.I)
