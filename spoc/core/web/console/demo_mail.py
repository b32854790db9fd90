"""The demo's mailbox: every mail SPOC sent, as the recipient got it, and "reply as the
requester", which sends a real reply through the inbound path (LMTP)."""

from __future__ import annotations

import mailbox
import re
import smtplib
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from pathlib import Path

from flask import abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup, escape
from sqlalchemy import select
from werkzeug.wrappers import Response

from spoc.core.domain.models import Agent
from spoc.core.kernel.types import Role
from spoc.core.services import spoc_of
from spoc.core.web.console.auth import bp, role_required

PAGE = 20
LINK = re.compile(r"https?://[^\s<>\"]+")
KEY = re.compile(r"^[A-Za-z0-9._-]{1,200}$")
ARRIVAL = re.compile(r"^(\d+)\.M(\d+)")


def _box() -> tuple[mailbox.Maildir, Path]:
    folder = spoc_of().settings.demo_mailbox
    if folder is None:
        abort(404)  # only the demo has a mailbox
    return mailbox.Maildir(folder, create=True), folder


def _read(box: mailbox.Maildir, key: str) -> EmailMessage:
    if not KEY.match(key):
        abort(404)
    try:
        raw = box.get_bytes(key)
    except KeyError:
        abort(404)
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _arrival(key: str) -> tuple[int, int, str]:
    """Maildir names start with the second and microsecond of arrival ("1796408771.M6001...");
    the microseconds are not zero-padded, so they are compared as numbers."""
    found = ARRIVAL.match(key)
    return (int(found.group(1)), int(found.group(2)), key) if found else (0, 0, key)


def _linked(text: str) -> Markup:
    """The text, escaped, with its web links clickable."""
    parts: list[Markup] = []
    last = 0
    for found in LINK.finditer(text):
        parts.append(escape(text[last : found.start()]))
        parts.append(Markup('<a href="{0}">{0}</a>').format(found.group(0)))
        last = found.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


@bp.get("/demo/mail")
@role_required(Role.ADMIN)
def demo_mailbox() -> str:
    box, _ = _box()
    keys = sorted(box.keys(), key=_arrival, reverse=True)
    before = request.args.get("before")
    if before:
        keys = [k for k in keys if _arrival(k) < _arrival(before)]
    page, more = keys[:PAGE], len(keys) > PAGE
    with spoc_of().db.reader() as session:
        staff = set(session.scalars(select(Agent.email)))
    mails = []
    for key in page:
        message = _read(box, key)
        body = message.get_body(("plain",))
        to = parseaddr(str(message.get("To", "")))[1]
        mails.append(
            {
                "key": key,
                "to": str(message.get("To", "")),
                "from": str(message.get("From", "")),
                "subject": str(message.get("Subject", "")),
                "date": str(message.get("Date", "")),
                "body": _linked(body.get_content() if body is not None else ""),
                "replyable": bool(message.get("Reply-To")) and to not in staff,
            }
        )
    return render_template(
        "console/demo_mail.html", mails=mails, next_before=page[-1] if more else None
    )


@bp.post("/demo/mail/<key>/reply")
@role_required(Role.ADMIN)
def demo_reply(key: str) -> Response:
    box, _ = _box()
    original = _read(box, key)
    port = spoc_of().settings.demo_inbound_port
    reply_to = parseaddr(str(original.get("Reply-To", "")))[1]
    if port is None or not reply_to:
        abort(404)
    text = request.form.get("body", "").strip() or "Thank you, that helps."
    reply = EmailMessage()
    reply["From"] = str(original["To"])
    reply["To"] = reply_to
    reply["Subject"] = "Re: " + str(original.get("Subject", "")).removeprefix("Re: ")
    reply["Message-ID"] = make_msgid(domain="requester.demo.invalid")
    reply["In-Reply-To"] = str(original.get("Message-ID", ""))
    reply["References"] = f"{original.get('References', '')} {original.get('Message-ID', '')}"
    quoted = "\n".join(f"> {line}" for line in _plain(original).splitlines())
    reply.set_content(f"{text}\n\nOn {original.get('Date', '')}, SPOC wrote:\n{quoted}\n")
    upload = request.files.get("attachment")
    if upload is not None and upload.filename:
        data = upload.read()
        reply.add_attachment(
            data, maintype="application", subtype="octet-stream", filename=upload.filename
        )
    sender = parseaddr(str(original["To"]))[1]
    with smtplib.LMTP("127.0.0.1", port) as client:
        client.sendmail(sender, [reply_to], reply.as_bytes(policy=policy.SMTP))
    flash(f"Replied as {sender} by mail; it went through the inbound mail server.", "success")
    return redirect(url_for("console.demo_mailbox"), code=303)


def _plain(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    return body.get_content() if body is not None else ""
